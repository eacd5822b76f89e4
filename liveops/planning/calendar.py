"""Reads for the calendar, frequency planning and calendar feeds. Every read takes the
workspace (feeds are found by their secret token and carry their workspace).

``ics_render`` writes RFC 5545 text from plain data; it never queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from liveops.core.tokens import token_hash
from liveops.planning.conflicts import Slot
from liveops.planning.models import (
    CalendarFeed,
    FrequencyTarget,
    LiveSession,
    PlanningSettings,
    Room,
    Series,
    SessionStatus,
)
from liveops.workspaces.models import PlatformAccount, User, Workspace

# Sessions that are over no longer block anything.
_FINISHED = (SessionStatus.ENDED, SessionStatus.REVIEWED)


def min_gap(*, workspace: Workspace) -> timedelta:
    row = PlanningSettings.objects.filter(workspace=workspace).first()
    return timedelta(minutes=row.min_gap_minutes if row else 30)


def planning_settings_get(*, workspace: Workspace) -> PlanningSettings:
    row = PlanningSettings.objects.filter(workspace=workspace).first()
    return row or PlanningSettings(workspace=workspace)


def series_list(*, workspace: Workspace) -> QuerySet[Series]:
    return (
        Series.objects.filter(workspace=workspace)
        .select_related("room", "field_controller")
        .prefetch_related("accounts", "hosts")
    )


def series_get(*, workspace: Workspace, pk: int) -> Series | None:
    return Series.objects.select_related("workspace").filter(workspace=workspace, pk=pk).first()


def room_list(*, workspace: Workspace) -> QuerySet[Room]:
    return Room.objects.filter(workspace=workspace)


def people_list(*, workspace: Workspace) -> QuerySet[User]:
    return User.objects.filter(memberships__workspace=workspace).order_by("display_name")


def session_get(*, workspace: Workspace, pk: int) -> LiveSession | None:
    return (
        LiveSession.objects.select_related("account", "room", "workspace")
        .prefetch_related("hosts")
        .filter(workspace=workspace, pk=pk)
        .first()
    )


def calendar_sessions(
    *, workspace: Workspace, start: datetime, end: datetime
) -> QuerySet[LiveSession]:
    """Scheduled sessions of every account that touch [start, end), earliest first."""
    return (
        LiveSession.objects.filter(
            workspace=workspace, scheduled_start__lt=end, scheduled_start__gte=start - timedelta(1)
        )
        .filter(
            Q(scheduled_end__gt=start) | Q(scheduled_end__isnull=True, scheduled_start__gte=start)
        )
        .select_related("account", "room")
        .prefetch_related("hosts")
        .order_by("scheduled_start", "id")
    )


def _people(users: Iterable[User]) -> dict[int, str]:
    return {u.pk: u.display_name or u.email for u in users}


def slot_of(session: LiveSession) -> Slot:
    """A saved session as a conflict slot (reads its prefetched hosts)."""
    assert session.scheduled_start is not None
    hosts = list(session.hosts.all())
    people = _people(hosts)
    if session.field_controller_id and session.field_controller is not None:
        people.update(_people([session.field_controller]))
    return Slot(
        id=session.pk,
        title=session.title,
        start=session.scheduled_start,
        end=session.scheduled_end or session.scheduled_start,
        account_id=session.account_id,
        account_name=session.account.name,
        host_ids=frozenset(u.pk for u in hosts),
        field_controller_id=session.field_controller_id,
        room_id=session.room_id,
        room_name=session.room.name if session.room else "",
        series_id=session.series_id,
        people=people,
    )


def conflict_slots(*, workspace: Workspace, start: datetime, end: datetime) -> list[Slot]:
    """Scheduled, unfinished sessions near [start, end] (widened by a day for the gap rule)."""
    pad = timedelta(days=1)
    sessions = (
        LiveSession.objects.filter(
            workspace=workspace,
            scheduled_start__isnull=False,
            scheduled_start__lt=end + pad,
            scheduled_start__gt=start - pad - timedelta(days=2),
        )
        .exclude(status__in=_FINISHED)
        .select_related("account", "room", "field_controller")
        .prefetch_related("hosts")
    )
    return [slot_of(s) for s in sessions]


# Frequency planning -------------------------------------------------------------------


@dataclass(frozen=True)
class FrequencyCell:
    week: str  # ISO week, e.g. "2026-W48"
    monday: date
    planned: int
    target: int | None

    @property
    def short(self) -> bool:
        return self.target is not None and self.planned < self.target


@dataclass(frozen=True)
class FrequencyRow:
    account: PlatformAccount
    target: int | None
    cells: list[FrequencyCell]


def iso_monday(day: date) -> date:
    return day - timedelta(days=day.isoweekday() - 1)


def frequency_table(*, workspace: Workspace, first_monday: date, weeks: int) -> list[FrequencyRow]:
    """Per account, planned (not draft) lives per ISO week in the workspace time zone."""
    tz = timezone.get_current_timezone()
    start = datetime.combine(first_monday, datetime.min.time(), tzinfo=tz)
    end = datetime.combine(first_monday + timedelta(weeks=weeks), datetime.min.time(), tzinfo=tz)
    counts: dict[tuple[int, date], int] = defaultdict(int)
    rows = (
        LiveSession.objects.filter(
            workspace=workspace, scheduled_start__gte=start, scheduled_start__lt=end
        )
        .exclude(status=SessionStatus.DRAFT)
        .values_list("account_id", "scheduled_start")
    )
    for account_id, when in rows:
        counts[(account_id, iso_monday(timezone.localtime(when, tz).date()))] += 1
    targets = dict(
        FrequencyTarget.objects.filter(account__workspace=workspace).values_list(
            "account_id", "lives_per_week"
        )
    )
    mondays = [first_monday + timedelta(weeks=i) for i in range(weeks)]
    table = []
    for account in PlatformAccount.objects.filter(workspace=workspace):
        target = targets.get(account.pk)
        cells = [
            FrequencyCell(
                week="{}-W{:02d}".format(*m.isocalendar()[:2]),
                monday=m,
                planned=counts[(account.pk, m)],
                target=target,
            )
            for m in mondays
        ]
        table.append(FrequencyRow(account=account, target=target, cells=cells))
    return table


# Feeds --------------------------------------------------------------------------------


def feed_list(*, workspace: Workspace) -> QuerySet[CalendarFeed]:
    return CalendarFeed.objects.filter(workspace=workspace, revoked_at__isnull=True).select_related(
        "user"
    )


def feed_get(*, workspace: Workspace, pk: int) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(workspace=workspace, pk=pk).first()


def feed_get_by_token(*, slug: str, token: str) -> CalendarFeed | None:
    """The live feed behind a secret token in the workspace ``slug`` (None when revoked)."""
    return (
        CalendarFeed.objects.select_related("workspace", "user")
        .filter(token_hash=token_hash(token), workspace__slug=slug, revoked_at__isnull=True)
        .first()
    )


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    start: datetime
    end: datetime
    summary: str
    location: str
    description: str


def feed_events(*, feed: CalendarFeed) -> list[FeedEvent]:
    """Scheduled sessions from 30 days ago on; a host feed holds only their lives."""
    qs = (
        LiveSession.objects.filter(
            workspace=feed.workspace,
            scheduled_start__isnull=False,
            scheduled_start__gte=timezone.now() - timedelta(days=30),
        )
        .exclude(status=SessionStatus.DRAFT)
        .select_related("account", "room")
        .order_by("scheduled_start")
    )
    if feed.user_id:
        qs = qs.filter(Q(hosts=feed.user_id) | Q(field_controller=feed.user_id)).distinct()
    events = []
    for s in qs[:2000]:
        assert s.scheduled_start is not None
        events.append(
            FeedEvent(
                uid=f"session-{s.pk}@{feed.workspace.slug}.liveops",
                start=s.scheduled_start,
                end=s.scheduled_end or s.scheduled_start + timedelta(hours=2),
                summary=s.title,
                location=s.room.name if s.room else "",
                description=str(s.account),
            )
        )
    return events


def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _fold(line: str) -> str:
    """Fold a content line at 75 octets without splitting a UTF-8 character (RFC 5545 3.1)."""
    out: list[str] = []
    current, size, limit = "", 0, 75
    for ch in line:
        width = len(ch.encode())
        if size + width > limit:
            out.append(current)
            current, size, limit = " ", 1, 75
        current += ch
        size += width
    out.append(current)
    return "\r\n".join(out)


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def ics_render(*, name: str, events: Iterable[FeedEvent], now: datetime | None = None) -> str:
    stamp = _utc(now or timezone.now())
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//LiveOps//Planning//ZH",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_escape(name)}",
    ]
    for e in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{e.uid}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_utc(e.start)}",
            f"DTEND:{_utc(e.end)}",
            f"SUMMARY:{_escape(e.summary)}",
        ]
        if e.location:
            lines.append(f"LOCATION:{_escape(e.location)}")
        if e.description:
            lines.append(f"DESCRIPTION:{_escape(e.description)}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


# Calendar grid ------------------------------------------------------------------------

CALENDAR_VIEWS = ("month", "week", "day")


ACCOUNT_COLOURS = 8


@dataclass(frozen=True)
class CalendarItem:
    """One session as the calendar shows it (local times, plain data)."""

    pk: int
    title: str
    start: datetime
    end: datetime | None
    status: str
    status_label: str
    account_name: str
    platform: str
    colour: int  # index into the account palette
    hosts: str
    room: str
    movable: bool


@dataclass(frozen=True)
class CalendarDay:
    day: date
    in_range: bool
    today: bool
    sessions: list[CalendarItem]


@dataclass(frozen=True)
class CalendarGrid:
    view: str
    anchor: date
    first: date
    last: date  # inclusive
    weeks: list[list[CalendarDay]]
    prev: date
    next: date
    accounts: list[tuple[PlatformAccount, int]]


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def calendar_grid(*, workspace: Workspace, view: str, anchor: date) -> CalendarGrid:
    """Days of the month, week or day around ``anchor`` with their sessions (local time)."""
    tz = timezone.get_current_timezone()
    if view == "month":
        month_start = anchor.replace(day=1)
        month_end = _add_months(anchor, 1) - timedelta(days=1)
        first, last = iso_monday(month_start), iso_monday(month_end) + timedelta(days=6)
        in_range_from, in_range_to = month_start, month_end
        prev, nxt = _add_months(anchor, -1), _add_months(anchor, 1)
    elif view == "week":
        first = iso_monday(anchor)
        last = first + timedelta(days=6)
        in_range_from, in_range_to = first, last
        prev, nxt = anchor - timedelta(weeks=1), anchor + timedelta(weeks=1)
    else:
        first = last = in_range_from = in_range_to = anchor
        prev, nxt = anchor - timedelta(days=1), anchor + timedelta(days=1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=tz)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    accounts = list(PlatformAccount.objects.filter(workspace=workspace).order_by("pk"))
    colours = {a.pk: i % ACCOUNT_COLOURS for i, a in enumerate(accounts)}
    by_day: dict[date, list[CalendarItem]] = defaultdict(list)
    for s in calendar_sessions(workspace=workspace, start=start, end=end):
        assert s.scheduled_start is not None
        local = timezone.localtime(s.scheduled_start, tz)
        by_day[local.date()].append(
            CalendarItem(
                pk=s.pk,
                title=s.title,
                start=local,
                end=timezone.localtime(s.scheduled_end, tz) if s.scheduled_end else None,
                status=s.status,
                status_label=s.get_status_display(),
                account_name=s.account.name,
                platform=s.account.platform,
                colour=colours.get(s.account_id, 0),
                hosts="、".join(str(h) for h in s.hosts.all()),
                room=s.room.name if s.room else "",
                movable=s.status not in (*_FINISHED, SessionStatus.LIVE),
            )
        )
    today = timezone.localdate()
    days = [
        CalendarDay(
            day=d,
            in_range=in_range_from <= d <= in_range_to,
            today=d == today,
            sessions=by_day.get(d, []),
        )
        for d in (first + timedelta(days=i) for i in range((last - first).days + 1))
    ]
    weeks = [days[i : i + 7] for i in range(0, len(days), 7)]
    return CalendarGrid(
        view=view,
        anchor=anchor,
        first=first,
        last=last,
        weeks=weeks,
        prev=prev,
        next=nxt,
        accounts=[(a, colours[a.pk]) for a in accounts],
    )
