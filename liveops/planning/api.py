"""Live sessions over the HTTP API (API-key authenticated, scoped to the key's workspace)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from pydantic import AwareDatetime

from liveops.planning import selectors, services
from liveops.workspaces.models import ApiKey
from liveops.workspaces.selectors import account_get

router = Router(tags=["sessions"])


class SessionOut(Schema):
    id: int
    title: str
    status: str
    account_id: int
    platform: str
    scheduled_start: datetime | None
    scheduled_end: datetime | None
    actual_start: datetime | None
    actual_end: datetime | None

    @staticmethod
    def resolve_platform(obj: Any) -> str:
        return str(obj.account.platform)


class SessionIn(Schema):
    title: str
    account_id: int
    scheduled_start: AwareDatetime | None = None
    scheduled_end: AwareDatetime | None = None
    status: str = "draft"


def _key(request: HttpRequest) -> ApiKey:
    return request.auth  # type: ignore[attr-defined,no-any-return]


@router.get("/sessions", response=list[SessionOut], summary="List live sessions")
def session_list(request: HttpRequest, status: str | None = None) -> Any:
    return list(selectors.session_list(workspace=_key(request).workspace, status=status)[:1000])


@router.get("/sessions/{session_id}", response=SessionOut, summary="One live session")
def session_detail(request: HttpRequest, session_id: int) -> Any:
    session = selectors.session_get(workspace=_key(request).workspace, pk=session_id)
    if session is None:
        raise HttpError(404, "No such session in this workspace.")
    return session


@router.post("/sessions", response={201: SessionOut}, summary="Create a live session")
def session_create(request: HttpRequest, payload: SessionIn) -> Any:
    workspace = _key(request).workspace
    account = account_get(workspace=workspace, pk=payload.account_id)
    if account is None:
        raise HttpError(404, "No such platform account in this workspace.")
    try:
        session = services.session_create(
            workspace=workspace,
            by=None,
            account=account,
            title=payload.title,
            scheduled_start=payload.scheduled_start,
            scheduled_end=payload.scheduled_end,
            status=payload.status,
        )
    except ValidationError as exc:
        raise HttpError(
            400, "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        ) from exc
    return Status(201, session)
