"""Live data pages: per-session counts, quarantine, imports (upload with progress), connectors."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from liveops.events import selectors, services, timeslots
from liveops.events.forms import ImportForm
from liveops.planning.models import LiveSession
from liveops.planning.selectors import session_get, session_list
from liveops.workspaces.access import WorkspaceRequest, workspace_view


def _session(request: WorkspaceRequest, pk: int) -> LiveSession:
    session = session_get(workspace=request.workspace, pk=pk)
    if session is None:
        raise Http404
    return session


@workspace_view("analyze")
def session_list_view(request: WorkspaceRequest) -> HttpResponse:
    sessions = list(session_list(workspace=request.workspace).select_related("ingest_tally")[:300])
    return render(request, "events/session_list.html", {"sessions": sessions})


@workspace_view("analyze")
def session_data(request: WorkspaceRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    return render(
        request,
        "events/session_data.html",
        {
            "session": session,
            "tally": selectors.tally_get(session=session),
            "rejected": selectors.rejected_list(session=session, limit=50),
            "rejected_count": selectors.rejected_count(session=session),
            "jobs": selectors.import_job_list(session=session)[:20],
            "minute_stats": selectors.minute_stat_count(session=session),
            "connectors": session.connectors.all(),
            "form": ImportForm(),
            "ingest_url": request.build_absolute_uri(f"/api/v1/sessions/{session.pk}/events"),
        },
    )


@workspace_view("analyze", action="change")
@require_POST
def import_upload(request: WorkspaceRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("events:session_data", ws=request.workspace.slug, pk=session.pk)
    try:
        services.import_upload(
            session=session,
            upload=form.cleaned_data["file"],
            fmt=form.cleaned_data["format"] or None,
            options=form.options(),
            by=request.user,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    url = reverse("events:session_data", kwargs={"ws": request.workspace.slug, "pk": session.pk})
    return redirect(f"{url}#imports")


@workspace_view("analyze")
def import_status(request: WorkspaceRequest, pk: int, job: int) -> HttpResponse:
    session = _session(request, pk)
    found = selectors.import_job_get(session=session, pk=job)
    if found is None:
        raise Http404
    return render(request, "events/_import_row.html", {"job": found, "session": session})


def _objective_labels() -> dict[str, str]:
    return {
        timeslots.Objective.AVG_ONLINE: _("Average online"),
        timeslots.Objective.GMV_PER_HOUR: _("GMV per hour"),
        timeslots.Objective.FOLLOWS_PER_HOUR: _("New follows per hour"),
    }


@workspace_view("analyze")
def timeslots_view(request: WorkspaceRequest) -> HttpResponse:
    """Weekday × hour heat map of past sessions by an objective, with a ranking."""
    objective = timeslots.Objective.parse(request.GET.get("objective"))
    result = timeslots.compute(
        selectors.timeslot_rows(workspace=request.workspace),
        objective=objective,
        tz=ZoneInfo(request.workspace.time_zone),
    )
    labels = _objective_labels()
    weekdays = [str(WEEKDAYS_ABBR[i]) for i in range(7)]
    ranking = [
        {"cell": c, "weekday": weekdays[c.weekday], "start": c.hour, "end": c.hour + 1}
        for c in result.ranking
    ]
    chart = {
        "weekdays": weekdays,
        "objective": labels[objective],
        "cells": [[c.hour, c.weekday, c.value, c.sessions, c.too_little] for c in result.cells],
        "text": {
            "one": ngettext("%(n)s session", "%(n)s sessions", 1),
            "many": ngettext("%(n)s session", "%(n)s sessions", 2),
            "tooLittle": _("too little data"),
            "noData": _("no data"),
        },
    }
    return render(
        request,
        "events/timeslots.html",
        {
            "result": result,
            "objective": objective,
            "objectives": list(labels.items()),
            "objective_label": labels[objective],
            "ranking": ranking,
            "chart": chart,
            "min_sessions_total": timeslots.MIN_SESSIONS_TOTAL,
            "min_sessions_cell": timeslots.MIN_SESSIONS_PER_CELL,
        },
    )
