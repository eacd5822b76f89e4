"""Shell pages: modules that have not been built yet, workspace landing, health check."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from liveops.workspaces.access import WorkspaceRequest, workspace_view

# module -> (title, what it will do). Shown instead of invented figures.
UPCOMING = {
    "promote": (
        _("Promote"),
        _(
            "Channels, campaigns and posts, tracking links and passphrases, "
            "channel results and attribution."
        ),
    ),
    "live": (
        _("Live"),
        _("Checklists, the live console with real-time figures, cues, lucky draws and polls."),
    ),
    "reports": (
        _("Reports"),
        _("The post-live review (复盘) and periodic reports as web page, PDF and Excel."),
    ),
    "audience": (
        _("Audience"),
        _("Viewer profiles and segments, question inbox, feedback tickets, surveys and FAQ."),
    ),
    "projects": (
        _("Projects"),
        _("Tasks from templates and findings, risks, progress, comments and mentions."),
    ),
}


def _upcoming(module: str):  # type: ignore[no-untyped-def]
    @workspace_view(module)
    def view(request: WorkspaceRequest) -> HttpResponse:
        title, description = UPCOMING[module]
        return render(
            request,
            "shell/upcoming.html",
            {"module": module, "title": title, "description": description},
        )

    return view


module_promote = _upcoming("promote")
module_live = _upcoming("live")
module_audience = _upcoming("audience")
module_projects = _upcoming("projects")


@workspace_view("plan")
def workspace_home(request: WorkspaceRequest) -> HttpResponse:
    return redirect("planning:session_list", ws=request.workspace.slug)


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: the app answers and the database is reachable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
