"""Writes for planning."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from liveops.core.audit import changed, snapshot
from liveops.planning.models import LiveSession, SessionStatus
from liveops.workspaces.models import PlatformAccount, User, Workspace
from liveops.workspaces.services import audit_record

SESSION_FIELDS = [
    "account",
    "title",
    "scheduled_start",
    "scheduled_end",
    "actual_start",
    "actual_end",
    "status",
]


def _validate(
    *,
    workspace: Workspace,
    account: PlatformAccount,
    title: str,
    scheduled_start: datetime | None,
    scheduled_end: datetime | None,
    actual_start: datetime | None,
    actual_end: datetime | None,
    status: str,
) -> None:
    errors: dict[str, str] = {}
    if account.workspace_id != workspace.pk:
        errors["account"] = _("This account belongs to another workspace.")
    if not title.strip():
        errors["title"] = _("A session needs a title.")
    if status not in SessionStatus.values:
        errors["status"] = _("Unknown status.")
    if scheduled_start and scheduled_end and scheduled_end <= scheduled_start:
        errors["scheduled_end"] = _("The scheduled end must be after the scheduled start.")
    if actual_start and actual_end and actual_end <= actual_start:
        errors["actual_end"] = _("The actual end must be after the actual start.")
    if status == SessionStatus.PLANNED and not scheduled_start:
        errors["scheduled_start"] = _("A planned session needs a scheduled start.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def session_create(
    *,
    workspace: Workspace,
    by: User | None,
    account: PlatformAccount,
    title: str,
    scheduled_start: datetime | None = None,
    scheduled_end: datetime | None = None,
    status: str = SessionStatus.DRAFT,
) -> LiveSession:
    _validate(
        workspace=workspace,
        account=account,
        title=title,
        scheduled_start=scheduled_start,
        scheduled_end=scheduled_end,
        actual_start=None,
        actual_end=None,
        status=status,
    )
    session = LiveSession.objects.create(
        workspace=workspace,
        account=account,
        title=title.strip(),
        scheduled_start=scheduled_start,
        scheduled_end=scheduled_end,
        status=status,
    )
    audit_record(
        workspace=workspace,
        actor=by,
        action="session.create",
        target=session,
        after=snapshot(session, SESSION_FIELDS),
    )
    return session


@transaction.atomic
def session_update(
    *,
    session: LiveSession,
    by: User | None,
    account: PlatformAccount,
    title: str,
    scheduled_start: datetime | None,
    scheduled_end: datetime | None,
    actual_start: datetime | None,
    actual_end: datetime | None,
    status: str,
) -> LiveSession:
    _validate(
        workspace=session.workspace,
        account=account,
        title=title,
        scheduled_start=scheduled_start,
        scheduled_end=scheduled_end,
        actual_start=actual_start,
        actual_end=actual_end,
        status=status,
    )
    before = snapshot(session, SESSION_FIELDS)
    session.account = account
    session.title = title.strip()
    session.scheduled_start, session.scheduled_end = scheduled_start, scheduled_end
    session.actual_start, session.actual_end = actual_start, actual_end
    session.status = status
    session.save()
    b, a = changed(before, snapshot(session, SESSION_FIELDS))
    if a:
        audit_record(
            workspace=session.workspace,
            actor=by,
            action="session.update",
            target=session,
            before=b,
            after=a,
        )
    return session
