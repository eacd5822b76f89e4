from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from liveops.core.forms import attach_service_errors
from liveops.planning import selectors, services
from liveops.planning.forms import SessionForm, split_people
from liveops.planning.kpi import kpi_initial
from liveops.planning.models import SessionStatus
from liveops.workspaces.access import WorkspaceRequest, workspace_view


@workspace_view("plan")
def session_list(request: WorkspaceRequest) -> HttpResponse:
    status = request.GET.get("status") or None
    if status not in SessionStatus.values:
        status = None
    sessions = selectors.session_list(workspace=request.workspace, status=status)[:500]
    return render(
        request,
        "planning/session_list.html",
        {"sessions": sessions, "statuses": SessionStatus.choices, "status": status},
    )


@workspace_view("plan", action="change")
def session_create(request: WorkspaceRequest) -> HttpResponse:
    form = SessionForm(request.POST or None, workspace=request.workspace, creating=True)
    if request.method == "POST" and form.is_valid():
        try:
            fields, people = split_people(form.cleaned_data)
            session = services.session_create(
                workspace=request.workspace, by=request.user, people=people, **fields
            )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("Session “%(title)s” created.") % {"title": session.title})
            return redirect("planning:session_list", ws=request.workspace.slug)
    return render(request, "planning/session_form.html", {"form": form, "session": None})


@workspace_view("plan")
def session_edit(request: WorkspaceRequest, pk: int) -> HttpResponse:
    session = selectors.session_get(workspace=request.workspace, pk=pk)
    if session is None:
        raise Http404
    initial = {
        "title": session.title,
        "account": session.account,
        "status": session.status,
        "scheduled_start": session.scheduled_start,
        "scheduled_end": session.scheduled_end,
        "actual_start": session.actual_start,
        "actual_end": session.actual_end,
        "hosts": list(session.hosts.all()),
        "field_controller": session.field_controller,
        "room": session.room,
        "simulcast_of": session.simulcast_of,
        **kpi_initial(session.kpi_targets),
    }
    form = SessionForm(
        request.POST or None,
        initial=initial,
        workspace=request.workspace,
        creating=False,
        session=session,
    )
    if request.method == "POST" and form.is_valid():
        try:
            fields, people = split_people(form.cleaned_data)
            with transaction.atomic():
                services.session_update(session=session, by=request.user, people=people, **fields)
                services.session_set_simulcast(
                    session=session, main=form.cleaned_data.get("simulcast_of"), by=request.user
                )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("Session saved."))
            return redirect("planning:session_list", ws=request.workspace.slug)
    return render(request, "planning/session_form.html", {"form": form, "session": session})
