"""Scheduling conflicts between sessions. Pure: plain dataclasses in, reasons out.

Rules, checked before anything is saved:

* a person (host or field controller) cannot be on two overlapping sessions;
* a room cannot hold two overlapping sessions;
* one account cannot have two overlapping sessions;
* sessions on the same account need at least ``min_gap`` between them (exactly the gap
  is fine).

Sessions of the same series starting at the same moment on different accounts are one
broadcast streamed to several accounts (a simulcast), so they share people and room.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Slot:
    """A session's place in time and what it occupies."""

    id: int | None
    title: str
    start: datetime
    end: datetime
    account_id: int
    account_name: str = ""
    host_ids: frozenset[int] = frozenset()
    field_controller_id: int | None = None
    room_id: int | None = None
    room_name: str = ""
    series_id: int | None = None
    people: Mapping[int, str] = field(default_factory=dict)  # user id -> display name

    def person_roles(self) -> dict[int, str]:
        roles = {pk: "host" for pk in self.host_ids}
        if self.field_controller_id is not None:
            roles.setdefault(self.field_controller_id, "field_controller")
        return roles


@dataclass(frozen=True)
class Conflict:
    kind: str  # host | field_controller | room | account | gap
    message: str
    other_id: int | None


def _when(slot: Slot) -> str:
    start, end = timezone.localtime(slot.start), timezone.localtime(slot.end)
    return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"


def _simulcast(a: Slot, b: Slot) -> bool:
    return a.series_id is not None and a.series_id == b.series_id and a.start == b.start


def find_conflicts(candidate: Slot, others: Iterable[Slot], min_gap: timedelta) -> list[Conflict]:
    """Every reason ``candidate`` cannot be scheduled next to ``others`` (itself is skipped)."""
    found: list[Conflict] = []
    mine = candidate.person_roles()
    for other in others:
        if candidate.id is not None and other.id == candidate.id:
            continue
        overlap = candidate.start < other.end and other.start < candidate.end
        # Zero-length slots (no end known) still collide with a session running at that time.
        if candidate.start == candidate.end or other.start == other.end:
            overlap = overlap or candidate.start == other.start
        label = {"title": other.title, "when": _when(other)}
        if overlap and not _simulcast(candidate, other):
            theirs = other.person_roles()
            for person in sorted(set(mine) & set(theirs)):
                name = candidate.people.get(person) or other.people.get(person) or f"#{person}"
                kind = mine[person]
                if kind == "host":
                    text = _("Host %(name)s is already on “%(title)s” (%(when)s).")
                else:
                    text = _("Field controller %(name)s is already on “%(title)s” (%(when)s).")
                found.append(Conflict(kind, text % {"name": name, **label}, other.id))
            if candidate.room_id is not None and candidate.room_id == other.room_id:
                room = candidate.room_name or other.room_name
                found.append(
                    Conflict(
                        "room",
                        _("Room %(room)s is booked for “%(title)s” (%(when)s).")
                        % {"room": room, **label},
                        other.id,
                    )
                )
        if other.account_id != candidate.account_id:
            continue
        account = candidate.account_name or other.account_name
        if overlap:
            found.append(
                Conflict(
                    "account",
                    _("Account %(account)s already has “%(title)s” at that time (%(when)s).")
                    % {"account": account, **label},
                    other.id,
                )
            )
            continue
        gap = max(other.start - candidate.end, candidate.start - other.end)
        if gap < min_gap:
            found.append(
                Conflict(
                    "gap",
                    _(
                        "Only %(gap)s min between this and “%(title)s” (%(when)s) on "
                        "%(account)s; the workspace needs at least %(min)s min."
                    )
                    % {
                        "gap": int(gap.total_seconds() // 60),
                        "min": int(min_gap.total_seconds() // 60),
                        "account": account,
                        **label,
                    },
                    other.id,
                )
            )
    return found
