"""Writes for series, the calendar, frequency targets and calendar feeds.

Every function is keyword-only, transactional and leaves an audit row. Scheduling writes
check conflicts (``planning.conflicts``) before saving and raise ``ValidationError`` with
the reasons.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from liveops.core.audit import changed, snapshot
from liveops.core.tokens import new_token, token_hash
from liveops.planning import calendar
from liveops.planning.conflicts import Conflict, Slot, find_conflicts
from liveops.planning.models import (
    CalendarFeed,
    FrequencyTarget,
    LiveSession,
    PlanningSettings,
    Room,
    RunOfShowTemplate,
    Series,
    SeriesFormat,
    SessionStatus,
)
from liveops.planning.recurrence import expand
from liveops.planning.runofshow import template_apply
from liveops.workspaces.models import PlatformAccount, User, Workspace
from liveops.workspaces.services import audit_record

SERIES_FIELDS = [
    "title",
    "theme",
    "format",
    "kpi_targets",
    "rrule",
    "dtstart",
    "default_duration_min",
    "field_controller",
    "room",
]
MAX_LISTED_CONFLICTS = 5


def conflicts_error(
    conflicts: Sequence[Conflict], field: str = "scheduled_start"
) -> ValidationError:
    messages = [c.message for c in conflicts[:MAX_LISTED_CONFLICTS]]
    if len(conflicts) > MAX_LISTED_CONFLICTS:
        messages.append(
            _("…and %(n)s more conflicts.") % {"n": len(conflicts) - MAX_LISTED_CONFLICTS}
        )
    return ValidationError({field: messages})


def check_slot(*, workspace: Workspace, slot: Slot, extra: Iterable[Slot] = ()) -> list[Conflict]:
    """Conflicts of ``slot`` with the workspace's saved sessions (and ``extra`` unsaved ones)."""
    others = calendar.conflict_slots(workspace=workspace, start=slot.start, end=slot.end)
    return find_conflicts(slot, [*others, *extra], calendar.min_gap(workspace=workspace))


def _series_validate(
    *,
    workspace: Workspace,
    title: str,
    accounts: Sequence[PlatformAccount],
    hosts: Sequence[User],
    field_controller: User | None,
    room: Room | None,
    rrule: str,
    dtstart: datetime,
    default_duration_min: int,
    format: str,
) -> None:
    errors: dict[str, Any] = {}
    if not title.strip():
        errors["title"] = _("A series needs a title.")
    if not accounts:
        errors["accounts"] = _("Choose at least one platform account.")
    if any(a.workspace_id != workspace.pk for a in accounts):
        errors["accounts"] = _("This account belongs to another workspace.")
    members = set(calendar.people_list(workspace=workspace).values_list("pk", flat=True))
    if any(h.pk not in members for h in hosts):
        errors["hosts"] = _("Hosts must be members of this workspace.")
    if field_controller is not None and field_controller.pk not in members:
        errors["field_controller"] = _("The field controller must be a member of this workspace.")
    if room is not None and room.workspace_id != workspace.pk:
        errors["room"] = _("This room belongs to another workspace.")
    if default_duration_min < 1 or default_duration_min > 24 * 60:
        errors["default_duration_min"] = _("Between 1 and 1440 minutes.")
    if format not in SeriesFormat.values:
        errors["format"] = _("Unknown format.")
    try:
        expand(rrule, dtstart, ZoneInfo(workspace.time_zone))
    except ValueError as exc:
        errors["rrule"] = str(exc)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def series_create(
    *,
    workspace: Workspace,
    by: User | None,
    title: str,
    accounts: Sequence[PlatformAccount],
    dtstart: datetime,
    rrule: str = "",
    default_duration_min: int = 120,
    hosts: Sequence[User] = (),
    field_controller: User | None = None,
    room: Room | None = None,
    theme: str = "",
    format: str = SeriesFormat.ECOMMERCE,
    generate: bool = False,
    kpi_targets: dict[str, Any] | None = None,
    template: RunOfShowTemplate | None = None,
) -> Series:
    """A recurring programme. With ``generate`` its sessions are made in the same
    transaction, so a conflict leaves neither the series nor any session behind."""
    accounts, hosts = list(accounts), list(hosts)
    _series_validate(
        workspace=workspace,
        title=title,
        accounts=accounts,
        hosts=hosts,
        field_controller=field_controller,
        room=room,
        rrule=rrule,
        dtstart=dtstart,
        default_duration_min=default_duration_min,
        format=format,
    )
    series = Series.objects.create(
        workspace=workspace,
        title=title.strip(),
        theme=theme,
        format=format,
        rrule=rrule.strip(),
        dtstart=dtstart,
        default_duration_min=default_duration_min,
        field_controller=field_controller,
        room=room,
        kpi_targets=kpi_targets or {},
        template=_own_template(workspace, template),
    )
    series.accounts.set(accounts)
    series.hosts.set(hosts)
    after = snapshot(series, SERIES_FIELDS)
    after |= {"accounts": [a.pk for a in accounts], "hosts": [h.pk for h in hosts]}
    audit_record(workspace=workspace, actor=by, action="series.create", target=series, after=after)
    if generate:
        series_generate_sessions(series=series, by=by)
    return series


@transaction.atomic
def series_update(
    *,
    series: Series,
    by: User | None,
    title: str,
    accounts: Sequence[PlatformAccount],
    dtstart: datetime,
    rrule: str,
    default_duration_min: int,
    hosts: Sequence[User],
    field_controller: User | None,
    room: Room | None,
    theme: str,
    format: str,
    kpi_targets: dict[str, Any] | None = None,
    template: RunOfShowTemplate | None = None,
) -> Series:
    """Change a series; sessions already generated keep their own times and targets."""
    accounts, hosts = list(accounts), list(hosts)
    _series_validate(
        workspace=series.workspace,
        title=title,
        accounts=accounts,
        hosts=hosts,
        field_controller=field_controller,
        room=room,
        rrule=rrule,
        dtstart=dtstart,
        default_duration_min=default_duration_min,
        format=format,
    )
    before = snapshot(series, SERIES_FIELDS)
    before |= {
        "accounts": sorted(series.accounts.values_list("pk", flat=True)),
        "hosts": sorted(series.hosts.values_list("pk", flat=True)),
    }
    series.title, series.theme, series.format = title.strip(), theme, format
    series.rrule, series.dtstart = rrule.strip(), dtstart
    series.default_duration_min = default_duration_min
    series.field_controller, series.room = field_controller, room
    if kpi_targets is not None:
        series.kpi_targets = kpi_targets
    series.template = _own_template(series.workspace, template)
    series.save()
    series.accounts.set(accounts)
    series.hosts.set(hosts)
    after = snapshot(series, SERIES_FIELDS)
    after |= {"accounts": sorted(a.pk for a in accounts), "hosts": sorted(h.pk for h in hosts)}
    b, a = changed(before, after)
    if a:
        audit_record(
            workspace=series.workspace,
            actor=by,
            action="series.update",
            target=series,
            before=b,
            after=a,
        )
    return series


@transaction.atomic
def series_generate_sessions(
    *, series: Series, by: User | None, status: str = SessionStatus.PLANNED
) -> list[LiveSession]:
    """One session per occurrence and account, all or nothing.

    Occurrences already generated (same series, account and start) are skipped, so running
    it again after extending the rule only adds the new dates. Any conflict — with saved
    sessions or between the new ones — raises ValidationError and creates nothing.
    """
    workspace = series.workspace
    tz = ZoneInfo(workspace.time_zone)
    try:
        starts = expand(series.rrule, series.dtstart, tz)
    except ValueError as exc:
        raise ValidationError({"rrule": str(exc)}) from exc
    accounts = list(series.accounts.all())
    hosts = list(series.hosts.all())
    field_controller = series.field_controller
    existing = set(
        LiveSession.objects.filter(series=series).values_list("account_id", "scheduled_start")
    )
    duration = timedelta(minutes=series.default_duration_min)
    people = {u.pk: u.display_name or u.email for u in hosts}
    if field_controller is not None:
        people[field_controller.pk] = field_controller.display_name or field_controller.email
    planned: list[Slot] = []
    for start in starts:
        for account in accounts:
            if (account.pk, start) in existing:
                continue
            planned.append(
                Slot(
                    id=None,
                    title=f"{series.title} {timezone.localtime(start, tz):%m-%d}",
                    start=start,
                    end=start + duration,
                    account_id=account.pk,
                    account_name=account.name,
                    host_ids=frozenset(h.pk for h in hosts),
                    field_controller_id=series.field_controller_id,
                    room_id=series.room_id,
                    room_name=series.room.name if series.room else "",
                    series_id=series.pk,
                    people=people,
                )
            )
    if planned:
        saved = calendar.conflict_slots(
            workspace=workspace, start=planned[0].start, end=planned[-1].end
        )
        gap = calendar.min_gap(workspace=workspace)
        conflicts: list[Conflict] = []
        for i, slot in enumerate(planned):
            found = find_conflicts(slot, [*saved, *planned[:i]], gap)
            conflicts += [
                Conflict(
                    c.kind,
                    _("%(when)s: %(reason)s")
                    % {
                        "when": f"{timezone.localtime(slot.start, tz):%Y-%m-%d %H:%M}",
                        "reason": c.message,
                    },
                    c.other_id,
                )
                for c in found
            ]
        if conflicts:
            raise conflicts_error(conflicts, field="__all__")
    created = []
    for slot in planned:
        session = LiveSession.objects.create(
            workspace=workspace,
            account_id=slot.account_id,
            series=series,
            title=slot.title,
            scheduled_start=slot.start,
            scheduled_end=slot.end,
            status=status,
            field_controller=field_controller,
            room=series.room,
            kpi_targets=dict(series.kpi_targets),
        )
        session.hosts.set(hosts)
        if series.template is not None:
            # The series' default run-of-show; one that does not fit the session's length
            # is refused here, and the whole generation with it.
            template_apply(session=session, template=series.template, by=by, mode="replace")
        created.append(session)
    audit_record(
        workspace=workspace,
        actor=by,
        action="series.generate",
        target=series,
        after={"sessions": [s.pk for s in created]},
    )
    return created


def _own_template(
    workspace: Workspace, template: RunOfShowTemplate | None
) -> RunOfShowTemplate | None:
    if template is not None and template.workspace_id != workspace.pk:
        raise ValidationError({"template": _("This template belongs to another workspace.")})
    return template


@transaction.atomic
def session_reschedule(
    *, session: LiveSession, by: User | None, start: datetime, end: datetime | None = None
) -> LiveSession:
    """Move a session (keeping its length unless ``end`` is given), refusing conflicts."""
    if session.status in (SessionStatus.LIVE, SessionStatus.ENDED, SessionStatus.REVIEWED):
        raise ValidationError(
            {"scheduled_start": _("A session that is live or over cannot be moved.")}
        )
    if end is None:
        length = (
            session.scheduled_end - session.scheduled_start
            if session.scheduled_start and session.scheduled_end
            else timedelta(hours=2)
        )
        end = start + length
    if end <= start:
        raise ValidationError({"scheduled_end": _("The end must be after the start.")})
    moved = calendar.slot_of(session)
    candidate = Slot(**{**moved.__dict__, "start": start, "end": end})
    conflicts = check_slot(workspace=session.workspace, slot=candidate)
    if conflicts:
        raise conflicts_error(conflicts)
    before = snapshot(session, ["scheduled_start", "scheduled_end"])
    session.scheduled_start, session.scheduled_end = start, end
    session.save(update_fields=["scheduled_start", "scheduled_end", "updated_at"])
    audit_record(
        workspace=session.workspace,
        actor=by,
        action="session.reschedule",
        target=session,
        before=before,
        after=snapshot(session, ["scheduled_start", "scheduled_end"]),
    )
    return session


@transaction.atomic
def feed_create(
    *, workspace: Workspace, by: User | None, user: User | None = None
) -> tuple[CalendarFeed, str]:
    """A secret-token feed (of the workspace, or of one host). The token is returned once."""
    if (
        user is not None
        and not calendar.people_list(workspace=workspace).filter(pk=user.pk).exists()
    ):
        raise ValidationError({"user": _("Choose a member of this workspace.")})
    token = new_token("cal")
    feed = CalendarFeed.objects.create(workspace=workspace, user=user, token_hash=token_hash(token))
    audit_record(
        workspace=workspace,
        actor=by,
        action="feed.create",
        target=feed,
        after={"user": user.pk if user else None},
    )
    return feed, token


@transaction.atomic
def feed_revoke(*, feed: CalendarFeed, by: User | None) -> CalendarFeed:
    if feed.revoked_at is None:
        feed.revoked_at = timezone.now()
        feed.save(update_fields=["revoked_at", "updated_at"])
        audit_record(
            workspace=feed.workspace,
            actor=by,
            action="feed.revoke",
            target=feed,
            after={"revoked_at": feed.revoked_at.isoformat()},
        )
    return feed


@transaction.atomic
def frequency_target_set(
    *, account: PlatformAccount, by: User | None, lives_per_week: int | None
) -> FrequencyTarget | None:
    """Set (or with None/0, clear) how many lives a week ``account`` should have."""
    if lives_per_week is not None and not 0 <= lives_per_week <= 100:
        raise ValidationError({"lives_per_week": _("Between 0 and 100.")})
    current = FrequencyTarget.objects.filter(account=account).first()
    before = {"lives_per_week": current.lives_per_week if current else None}
    target: FrequencyTarget | None
    if not lives_per_week:
        if current:
            current.delete()
        target = None
    else:
        target, _created = FrequencyTarget.objects.update_or_create(
            account=account, defaults={"lives_per_week": lives_per_week}
        )
    after = {"lives_per_week": lives_per_week or None}
    if before != after:
        audit_record(
            workspace=account.workspace,
            actor=by,
            action="frequency_target.set",
            target=account,
            before=before,
            after=after,
        )
    return target


@transaction.atomic
def planning_settings_update(
    *, workspace: Workspace, by: User | None, min_gap_minutes: int
) -> PlanningSettings:
    if not 0 <= min_gap_minutes <= 24 * 60:
        raise ValidationError({"min_gap_minutes": _("Between 0 and 1440 minutes.")})
    row, _created = PlanningSettings.objects.get_or_create(workspace=workspace)
    before = {"min_gap_minutes": row.min_gap_minutes}
    row.min_gap_minutes = min_gap_minutes
    row.save()
    if before["min_gap_minutes"] != min_gap_minutes or _created:
        audit_record(
            workspace=workspace,
            actor=by,
            action="planning_settings.update",
            target=row,
            before=before,
            after={"min_gap_minutes": min_gap_minutes},
        )
    return row


@transaction.atomic
def room_create(*, workspace: Workspace, by: User | None, name: str) -> Room:
    """A studio or room; two sessions cannot use it at the same time."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("A room needs a name.")})
    if Room.objects.filter(workspace=workspace, name=name).exists():
        raise ValidationError({"name": _("This workspace already has a room with this name.")})
    room = Room.objects.create(workspace=workspace, name=name)
    audit_record(
        workspace=workspace, actor=by, action="room.create", target=room, after={"name": name}
    )
    return room
