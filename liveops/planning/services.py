"""Writes for planning."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from liveops.core.audit import changed, snapshot
from liveops.planning import calendar
from liveops.planning.conflicts import Slot
from liveops.planning.models import LiveSession, Room, SessionStatus
from liveops.planning.series_services import check_slot, conflicts_error
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
    "kpi_targets",
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


def _check_conflicts(
    *,
    workspace: Workspace,
    account: PlatformAccount,
    title: str,
    scheduled_start: datetime | None,
    scheduled_end: datetime | None,
    status: str,
    session: LiveSession | None = None,
    people: Staffing | None = None,
) -> None:
    """Refuse a schedule that double-books a person, room or account (see conflicts.py)."""
    if scheduled_start is None or status in (SessionStatus.ENDED, SessionStatus.REVIEWED):
        return
    end = scheduled_end if scheduled_end and scheduled_end > scheduled_start else scheduled_start
    base = calendar.slot_of(session) if session and session.scheduled_start else None
    if people is not None:
        base = people.slot(base)
    slot = Slot(
        id=session.pk if session else None,
        title=title,
        start=scheduled_start,
        end=end,
        account_id=account.pk,
        account_name=account.name,
        host_ids=base.host_ids if base else frozenset(),
        field_controller_id=base.field_controller_id if base else None,
        room_id=base.room_id if base else None,
        room_name=base.room_name if base else "",
        series_id=session.series_id if session else None,
        people=base.people if base else {},
    )
    conflicts = check_slot(workspace=workspace, slot=slot)
    if conflicts:
        raise conflicts_error(conflicts)


@dataclass(frozen=True)
class Staffing:
    """Who and where: the hosts, field controller and room of a session."""

    hosts: tuple[User, ...] = ()
    field_controller: User | None = None
    room: Room | None = None

    def slot(self, base: Slot | None) -> Slot:
        people = {u.pk: u.display_name or u.email for u in self.hosts}
        if self.field_controller is not None:
            fc = self.field_controller
            people[fc.pk] = fc.display_name or fc.email
        return Slot(
            id=base.id if base else None,
            title=base.title if base else "",
            start=base.start if base else timezone.now(),
            end=base.end if base else timezone.now(),
            account_id=base.account_id if base else 0,
            host_ids=frozenset(u.pk for u in self.hosts),
            field_controller_id=self.field_controller.pk if self.field_controller else None,
            room_id=self.room.pk if self.room else None,
            room_name=self.room.name if self.room else "",
            series_id=base.series_id if base else None,
            people=people,
        )

    def validate(self, workspace: Workspace) -> None:
        member_ids = set(workspace.memberships.values_list("user_id", flat=True))
        errors: dict[str, str] = {}
        if any(u.pk not in member_ids for u in self.hosts):
            errors["hosts"] = _("Hosts must be members of this workspace.")
        if self.field_controller is not None and self.field_controller.pk not in member_ids:
            errors["field_controller"] = _("The field controller must be a member.")
        if self.room is not None and self.room.workspace_id != workspace.pk:
            errors["room"] = _("This room belongs to another workspace.")
        if errors:
            raise ValidationError(errors)

    def apply(self, session: LiveSession) -> None:
        session.field_controller = self.field_controller
        session.room = self.room
        session.save(update_fields=["field_controller", "room", "updated_at"])
        session.hosts.set(self.hosts)


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
    people: Staffing | None = None,
    kpi_targets: dict[str, Any] | None = None,
) -> LiveSession:
    if people is not None:
        people.validate(workspace)
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
    _check_conflicts(
        workspace=workspace,
        account=account,
        title=title,
        scheduled_start=scheduled_start,
        scheduled_end=scheduled_end,
        status=status,
        people=people,
    )
    session = LiveSession.objects.create(
        workspace=workspace,
        account=account,
        title=title.strip(),
        scheduled_start=scheduled_start,
        scheduled_end=scheduled_end,
        status=status,
        kpi_targets=kpi_targets or {},
    )
    if people is not None:
        people.apply(session)
    audit_record(
        workspace=workspace,
        actor=by,
        action="session.create",
        target=session,
        after=snapshot(session, SESSION_FIELDS),
    )
    return session


@transaction.atomic
def session_set_simulcast(
    *, session: LiveSession, main: LiveSession | None, by: User | None
) -> LiveSession:
    """Mark ``session`` as the same event as ``main`` streamed on another platform account
    (a simulcast), or as its own event again (``main`` None).

    A group has one main session and the others point to it: pointing at a session that
    itself points elsewhere joins that group. Refused: another workspace, the session
    itself, a main session on the same platform account (one account streams one event
    once), and a session that other sessions already point to (unlink them first).
    """
    if main is not None and main.simulcast_of_id is not None:
        main = main.simulcast_of
    if main is not None:
        if main.workspace_id != session.workspace_id:
            raise ValidationError({"simulcast_of": _("Choose a session of this workspace.")})
        if main.pk == session.pk:
            raise ValidationError({"simulcast_of": _("A session cannot be a simulcast of itself.")})
        if main.account_id == session.account_id:
            raise ValidationError(
                {
                    "simulcast_of": _(
                        "Both sessions stream on the same platform account: a simulcast is "
                        "the same event on another account."
                    )
                }
            )
        if session.simulcasts.exists():
            raise ValidationError(
                {
                    "simulcast_of": _(
                        "Other sessions are simulcasts of this one: unlink them first, or "
                        "link them to the other session."
                    )
                }
            )
    if session.simulcast_of_id == (main.pk if main is not None else None):
        return session
    before = {"simulcast_of": session.simulcast_of_id}
    session.simulcast_of = main
    session.save(update_fields=["simulcast_of", "updated_at"])
    audit_record(
        workspace=session.workspace,
        actor=by,
        action="session.simulcast",
        target=session,
        before=before,
        after={"simulcast_of": session.simulcast_of_id},
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
    people: Staffing | None = None,
    kpi_targets: dict[str, Any] | None = None,
) -> LiveSession:
    if people is not None:
        people.validate(session.workspace)
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
    moved = (
        session.account_id != account.pk
        or session.scheduled_start != scheduled_start
        or session.scheduled_end != scheduled_end
        or session.status != status
        or people is not None
    )
    if moved:
        # Only a change of time, account or status is checked: an old clash must not
        # block fixing a typo in the title.
        _check_conflicts(
            workspace=session.workspace,
            account=account,
            title=title,
            scheduled_start=scheduled_start,
            scheduled_end=scheduled_end,
            status=status,
            session=session,
            people=people,
        )
    session.account = account
    session.title = title.strip()
    session.scheduled_start, session.scheduled_end = scheduled_start, scheduled_end
    session.actual_start, session.actual_end = actual_start, actual_end
    session.status = status
    if kpi_targets is not None:
        session.kpi_targets = kpi_targets
    session.save()
    if people is not None:
        people.apply(session)
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


@transaction.atomic
def session_mark_live(*, session: LiveSession, at: datetime) -> LiveSession:
    """The first live events arrived: a not-yet-started session becomes live.

    Called by the event pipeline when fresh events (timestamped within the last minutes)
    reach a draft, planned or ready session. The actual start is the first event's time.
    """
    locked = LiveSession.objects.select_for_update().get(pk=session.pk)
    if locked.status not in (SessionStatus.DRAFT, SessionStatus.PLANNED, SessionStatus.READY):
        return locked
    before = snapshot(locked, ["status", "actual_start"])
    locked.status = SessionStatus.LIVE
    locked.actual_start = locked.actual_start or at
    locked.save(update_fields=["status", "actual_start", "updated_at"])
    audit_record(
        workspace=locked.workspace,
        actor=None,
        action="session.live",
        target=locked,
        before=before,
        after=snapshot(locked, ["status", "actual_start"]),
    )
    return locked
