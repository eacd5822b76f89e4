"""Reads for planning. Every read takes the workspace."""

from __future__ import annotations

from django.db.models import QuerySet

from liveops.planning.models import LiveSession, Room
from liveops.workspaces.models import Workspace


def session_list(*, workspace: Workspace, status: str | None = None) -> QuerySet[LiveSession]:
    qs = LiveSession.objects.filter(workspace=workspace).select_related("account")
    if status:
        qs = qs.filter(status=status)
    return qs


def session_get(*, workspace: Workspace, pk: int) -> LiveSession | None:
    return (
        LiveSession.objects.select_related("account", "workspace")
        .filter(workspace=workspace, pk=pk)
        .first()
    )


def room_list(*, workspace: Workspace) -> QuerySet[Room]:
    return Room.objects.filter(workspace=workspace)
