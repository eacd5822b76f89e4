"""Time-slot recommendation: which weekday × hour slots did best in past sessions.

Pure computation over plain rows (one per imported per-minute statistic of an ended
session); no database access. The rules:

* each minute is attributed to the weekday × hour cell of its timestamp in the workspace
  time zone (a session from 20:00 to 22:30 contributes to the 20, 21 and 22 cells; one
  crossing midnight lands in two weekdays; across a DST change the local clock decides);
* average online = mean of the minutes' ``online`` values in the cell;
* GMV per hour = Σ ``gmv`` in the cell ÷ hours covered by minutes that carry a ``gmv``
  value (minutes ÷ 60); new follows per hour likewise with ``new_follows``;
* minutes without a value for the objective are left out of both sides of the division;
  a cell without any such minute has no value (never a division by zero);
* each cell counts the distinct sessions behind its value; cells with fewer than
  ``MIN_SESSIONS_PER_CELL`` sessions are flagged “too little data” and not ranked;
* with fewer than ``MIN_SESSIONS_TOTAL`` sessions overall the result says there is too
  little history and ranks nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TypedDict
from zoneinfo import ZoneInfo

MIN_SESSIONS_TOTAL = 3
MIN_SESSIONS_PER_CELL = 2
RANKING_SIZE = 5


class Objective(StrEnum):
    AVG_ONLINE = "avg_online"
    GMV_PER_HOUR = "gmv_per_hour"
    FOLLOWS_PER_HOUR = "follows_per_hour"

    @classmethod
    def parse(cls, raw: str | None) -> Objective:
        """The objective named by ``raw``; average online when missing or unknown."""
        try:
            return cls(raw or cls.AVG_ONLINE)
        except ValueError:
            return cls.AVG_ONLINE


class MinuteRow(TypedDict):
    """One imported per-minute statistic of an ended session."""

    session_id: int
    minute: datetime  # aware
    online: int | None
    gmv: Decimal | None
    new_follows: int | None


@dataclass(frozen=True)
class Cell:
    weekday: int  # 0 = Monday … 6 = Sunday
    hour: int  # 0 … 23, local time
    value: float | None  # None: no minute in the cell carries the objective's field
    sessions: int  # distinct sessions behind ``value``
    minutes: int  # minutes behind ``value``

    @property
    def too_little(self) -> bool:
        return self.sessions < MIN_SESSIONS_PER_CELL


@dataclass(frozen=True)
class TimeslotResult:
    objective: Objective
    sessions_total: int  # ended sessions with at least one per-minute statistic
    cells: list[Cell] = field(default_factory=list)  # only cells with a value
    ranking: list[Cell] = field(default_factory=list)

    @property
    def enough_history(self) -> bool:
        return self.sessions_total >= MIN_SESSIONS_TOTAL


@dataclass
class _Acc:
    total: Decimal = Decimal(0)
    minutes: int = 0
    sessions: set[int] = field(default_factory=set)


def _field_value(row: MinuteRow, objective: Objective) -> Decimal | None:
    raw: int | Decimal | None
    if objective is Objective.AVG_ONLINE:
        raw = row["online"]
    elif objective is Objective.GMV_PER_HOUR:
        raw = row["gmv"]
    else:
        raw = row["new_follows"]
    return None if raw is None else Decimal(raw)


def _cell_value(acc: _Acc, objective: Objective) -> float | None:
    if acc.minutes == 0:
        return None
    if objective is Objective.AVG_ONLINE:
        value = acc.total / acc.minutes
    else:
        value = acc.total * 60 / acc.minutes  # Σ ÷ (minutes ÷ 60 hours)
    return float(round(value, 2))


def compute(rows: Iterable[MinuteRow], *, objective: Objective, tz: ZoneInfo) -> TimeslotResult:
    """Weekday × hour cells and a ranking of the best cells by ``objective``."""
    accs: dict[tuple[int, int], _Acc] = defaultdict(_Acc)
    sessions: set[int] = set()
    for row in rows:
        sessions.add(row["session_id"])
        value = _field_value(row, objective)
        if value is None:
            continue
        local = row["minute"].astimezone(tz)
        acc = accs[(local.weekday(), local.hour)]
        acc.total += value
        acc.minutes += 1
        acc.sessions.add(row["session_id"])
    cells = [
        Cell(
            weekday=weekday,
            hour=hour,
            value=_cell_value(acc, objective),
            sessions=len(acc.sessions),
            minutes=acc.minutes,
        )
        for (weekday, hour), acc in sorted(accs.items())
    ]
    ranking: list[Cell] = []
    if len(sessions) >= MIN_SESSIONS_TOTAL:
        rankable = [c for c in cells if c.value is not None and not c.too_little]
        rankable.sort(key=lambda c: (-(c.value or 0.0), -c.sessions, c.weekday, c.hour))
        ranking = rankable[:RANKING_SIZE]
    return TimeslotResult(
        objective=objective, sessions_total=len(sessions), cells=cells, ranking=ranking
    )
