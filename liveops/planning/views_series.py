"""Pages for series, the calendar, frequency planning and calendar feeds."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from liveops.core.forms import attach_service_errors
from liveops.planning import calendar, series_services
from liveops.planning.forms_series import (
    FeedCreateForm,
    FrequencyTargetForm,
    PlanningSettingsForm,
    RescheduleForm,
    RoomForm,
    SeriesForm,
)
from liveops.planning.kpi import kpi_initial, split_kpi
from liveops.planning.models import SessionStatus
from liveops.workspaces.access import WorkspaceRequest, workspace_view
from liveops.workspaces.selectors import account_get


def _anchor(raw: str | None) -> date:
    try:
        return date.fromisoformat(raw) if raw else timezone.localdate()
    except ValueError:
        return timezone.localdate()


# Series -------------------------------------------------------------------------------


@workspace_view("plan")
def series_list(request: WorkspaceRequest) -> HttpResponse:
    series = calendar.series_list(workspace=request.workspace)[:200]
    return render(request, "planning/series/series_list.html", {"series_list": series})


@workspace_view("plan", action="change")
def series_create(request: WorkspaceRequest) -> HttpResponse:
    form = SeriesForm(request.POST or None, workspace=request.workspace)
    if request.method == "POST" and form.is_valid():
        try:
            fields, targets = split_kpi(form.cleaned_data)
            series = series_services.series_create(
                workspace=request.workspace, by=request.user, kpi_targets=targets, **fields
            )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("Series “%(title)s” created.") % {"title": series.title})
            return redirect(
                f"{reverse('planning:calendar', kwargs={'ws': request.workspace.slug})}"
                f"?date={timezone.localtime(series.dtstart):%Y-%m-%d}"
            )
    return render(request, "planning/series/series_form.html", {"form": form})


@workspace_view("plan")
def series_edit(request: WorkspaceRequest) -> HttpResponse:
    """Edit a series (its id in ?series= or the POST body); generated sessions keep their times."""
    raw = request.POST.get("series") or request.GET.get("series") or ""
    series = (
        calendar.series_get(workspace=request.workspace, pk=int(raw)) if raw.isdigit() else None
    )
    if series is None:
        messages.error(request, _("Choose a series."))
        return redirect("planning:series_list", ws=request.workspace.slug)
    initial = {
        "title": series.title,
        "accounts": list(series.accounts.all()),
        "dtstart": series.dtstart,
        "rrule": series.rrule,
        "default_duration_min": series.default_duration_min,
        "hosts": list(series.hosts.all()),
        "field_controller": series.field_controller,
        "room": series.room,
        "format": series.format,
        "theme": series.theme,
        **kpi_initial(series.kpi_targets),
        "template": series.template,
    }
    form = SeriesForm(request.POST or None, initial=initial, workspace=request.workspace)
    del form.fields["generate"]
    if request.method == "POST" and form.is_valid():
        try:
            fields, targets = split_kpi(form.cleaned_data)
            series_services.series_update(
                series=series, by=request.user, kpi_targets=targets, **fields
            )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("Series saved."))
            return redirect("planning:series_list", ws=request.workspace.slug)
    return render(request, "planning/series/series_form.html", {"form": form, "series": series})


@require_POST
@workspace_view("plan")
def series_generate(request: WorkspaceRequest) -> HttpResponse:
    raw = request.POST.get("series", "")
    series = (
        calendar.series_get(workspace=request.workspace, pk=int(raw)) if raw.isdigit() else None
    )
    if series is None:
        messages.error(request, _("Choose a series."))
    else:
        try:
            created = series_services.series_generate_sessions(series=series, by=request.user)
        except ValidationError as exc:
            for text in exc.messages:
                messages.error(request, text)
        else:
            messages.success(request, _("%(n)s sessions created.") % {"n": len(created)})
    return redirect("planning:series_list", ws=request.workspace.slug)


# Calendar -----------------------------------------------------------------------------


@require_GET
@workspace_view("plan")
def calendar_view(request: WorkspaceRequest) -> HttpResponse:
    view = request.GET.get("view", "month")
    if view not in calendar.CALENDAR_VIEWS:
        view = "month"
    color = "status" if request.GET.get("color") == "status" else "account"
    grid = calendar.calendar_grid(
        workspace=request.workspace, view=view, anchor=_anchor(request.GET.get("date"))
    )
    return render(
        request,
        "planning/calendar/calendar.html",
        {
            "grid": grid,
            "color": color,
            "statuses": SessionStatus.choices,
            "views": [("month", _("Month")), ("week", _("Week")), ("day", _("Day"))],
        },
    )


@require_POST
@workspace_view("plan")
def calendar_reschedule(request: WorkspaceRequest) -> HttpResponse:
    """JSON for calendar.js: {ok, errors}. Refusals are answered 200 with the reasons."""
    form = RescheduleForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"ok": False, "errors": [_("Choose a session and a new start.")]})
    session = calendar.session_get(workspace=request.workspace, pk=form.cleaned_data["session"])
    if session is None:
        raise Http404
    try:
        series_services.session_reschedule(
            session=session, by=request.user, start=form.cleaned_data["start"]
        )
    except ValidationError as exc:
        return JsonResponse({"ok": False, "errors": exc.messages})
    return JsonResponse({"ok": True, "errors": []})


@require_POST
@workspace_view("plan")
def calendar_settings(request: WorkspaceRequest) -> HttpResponse:
    form = PlanningSettingsForm(request.POST)
    if form.is_valid():
        try:
            series_services.planning_settings_update(
                workspace=request.workspace, by=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            for text in exc.messages:
                messages.error(request, text)
        else:
            messages.success(request, _("Planning rules saved."))
    else:
        messages.error(request, _("Enter a number of minutes between 0 and 1440."))
    return redirect("planning:frequency", ws=request.workspace.slug)


# Frequency ----------------------------------------------------------------------------


@require_GET
@workspace_view("plan")
def frequency(request: WorkspaceRequest) -> HttpResponse:
    first = calendar.iso_monday(_anchor(request.GET.get("from")))
    rows = calendar.frequency_table(workspace=request.workspace, first_monday=first, weeks=6)
    settings_row = calendar.planning_settings_get(workspace=request.workspace)
    return render(
        request,
        "planning/calendar/frequency.html",
        {
            "rows": rows,
            "weeks": rows[0].cells if rows else [],
            "first": first,
            "prev": first - timedelta(weeks=6),
            "next": first + timedelta(weeks=6),
            "settings_form": PlanningSettingsForm(
                initial={"min_gap_minutes": settings_row.min_gap_minutes}
            ),
            "rooms": calendar.room_list(workspace=request.workspace),
            "room_form": RoomForm(),
        },
    )


@require_POST
@workspace_view("plan")
def calendar_room_create(request: WorkspaceRequest) -> HttpResponse:
    form = RoomForm(request.POST)
    if form.is_valid():
        try:
            room = series_services.room_create(
                workspace=request.workspace, by=request.user, name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            for text in exc.messages:
                messages.error(request, text)
        else:
            messages.success(request, _("Room “%(name)s” added.") % {"name": room.name})
    else:
        messages.error(request, _("A room needs a name."))
    return redirect("planning:frequency", ws=request.workspace.slug)


@require_POST
@workspace_view("plan")
def frequency_target(request: WorkspaceRequest) -> HttpResponse:
    form = FrequencyTargetForm(request.POST)
    account = (
        account_get(workspace=request.workspace, pk=form.cleaned_data["account"])
        if form.is_valid()
        else None
    )
    if account is None:
        messages.error(request, _("Choose an account and a number between 0 and 100."))
    else:
        try:
            series_services.frequency_target_set(
                account=account, by=request.user, lives_per_week=form.cleaned_data["lives_per_week"]
            )
        except ValidationError as exc:
            for text in exc.messages:
                messages.error(request, text)
        else:
            messages.success(request, _("Target saved."))
    return redirect("planning:frequency", ws=request.workspace.slug)


# Feeds --------------------------------------------------------------------------------


def _feed_page(request: WorkspaceRequest, form: FeedCreateForm, new_url: str = "") -> HttpResponse:
    feeds = calendar.feed_list(workspace=request.workspace)
    return render(
        request,
        "planning/calendar/feeds.html",
        {"feeds": feeds, "form": form, "new_url": new_url},
    )


@require_GET
@workspace_view("plan")
def feed_list(request: WorkspaceRequest) -> HttpResponse:
    return _feed_page(request, FeedCreateForm(workspace=request.workspace))


@require_POST
@workspace_view("plan")
def feed_create(request: WorkspaceRequest) -> HttpResponse:
    form = FeedCreateForm(request.POST, workspace=request.workspace)
    if form.is_valid():
        try:
            _feed, token = series_services.feed_create(
                workspace=request.workspace, by=request.user, user=form.cleaned_data["user"]
            )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            url = request.build_absolute_uri(
                reverse("planning:feed_ics", kwargs={"ws": request.workspace.slug, "token": token})
            )
            # The token is shown this once; only its hash is stored.
            return _feed_page(request, FeedCreateForm(workspace=request.workspace), url)
    return _feed_page(request, form)


@require_POST
@workspace_view("plan")
def feed_revoke(request: WorkspaceRequest) -> HttpResponse:
    raw = request.POST.get("feed", "")
    feed = calendar.feed_get(workspace=request.workspace, pk=int(raw)) if raw.isdigit() else None
    if feed is None:
        messages.error(request, _("Choose a feed."))
    else:
        series_services.feed_revoke(feed=feed, by=request.user)
        messages.success(request, _("Feed revoked. Calendars using it stop updating."))
    return redirect("planning:feed_list", ws=request.workspace.slug)


@require_GET
def feed_ics(request: HttpRequest, ws: str, token: str) -> HttpResponse:
    """The iCalendar feed. No login: the secret token in the URL is the credential, so this
    is the one planning view without ``workspace_view``. Unknown or revoked → 404."""
    feed = calendar.feed_get_by_token(slug=ws, token=token)
    if feed is None:
        raise Http404
    name = f"LiveOps · {feed.workspace.name}"
    if feed.user is not None:
        name += f" · {feed.user.display_name or feed.user.email}"
    body = calendar.ics_render(name=name, events=calendar.feed_events(feed=feed))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response
