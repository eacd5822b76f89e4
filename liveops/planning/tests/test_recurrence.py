"""RRULE expansion: local wall-clock time survives DST; runaway rules are refused."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from liveops.planning.recurrence import expand

NY = ZoneInfo("America/New_York")


def test_tue_thu_for_eight_weeks_gives_sixteen_sessions() -> None:
    starts = expand("FREQ=WEEKLY;BYDAY=TU,TH;COUNT=16", datetime(2026, 12, 1, 20, 0, tzinfo=NY), NY)
    assert len(starts) == 16
    assert {s.strftime("%a %H:%M") for s in starts} == {"Tue 20:00", "Thu 20:00"}


def test_spring_forward_keeps_20_local() -> None:
    # 2027-03-14: clocks go forward in New York.
    starts = expand("FREQ=WEEKLY;BYDAY=TU;COUNT=3", datetime(2027, 3, 9, 20, 0, tzinfo=NY), NY)
    assert [s.astimezone(NY).hour for s in starts] == [20, 20, 20]
    assert [s.astimezone(UTC).hour for s in starts] == [1, 0, 0]  # EST -5 then EDT -4


def test_fall_back_keeps_20_local() -> None:
    # 2026-11-01: clocks go back in New York.
    starts = expand("FREQ=DAILY;COUNT=3", datetime(2026, 10, 31, 20, 0, tzinfo=NY), NY)
    assert [s.astimezone(NY).strftime("%d %H:%M") for s in starts] == [
        "31 20:00",
        "01 20:00",
        "02 20:00",
    ]
    assert [s.astimezone(UTC).hour for s in starts] == [0, 1, 1]


def test_dtstart_given_in_utc_is_read_as_local_wall_time() -> None:
    starts = expand("FREQ=DAILY;COUNT=2", datetime(2027, 3, 14, 1, 0, tzinfo=UTC), NY)
    assert [s.astimezone(NY).strftime("%H:%M") for s in starts] == ["20:00", "20:00"]


def test_until_in_utc_is_honoured() -> None:
    starts = expand("FREQ=DAILY;UNTIL=20261203T235959Z", datetime(2026, 12, 1, 9, 0, tzinfo=NY), NY)
    assert len(starts) == 3


def test_more_than_500_is_refused() -> None:
    with pytest.raises(ValueError, match="more than 500"):
        expand("FREQ=DAILY;COUNT=501", datetime(2026, 1, 1, 20, tzinfo=NY), NY)
    assert len(expand("FREQ=DAILY;COUNT=500", datetime(2026, 1, 1, 20, tzinfo=NY), NY)) == 500


def test_endless_and_invalid_rules_are_explained() -> None:
    start = datetime(2026, 1, 1, 20, tzinfo=NY)
    with pytest.raises(ValueError, match="must end"):
        expand("FREQ=WEEKLY;BYDAY=TU", start, NY)
    with pytest.raises(ValueError, match="not a valid RRULE"):
        expand("FREQ=SOMETIMES;COUNT=2", start, NY)


def test_empty_rule_is_one_session() -> None:
    start = datetime(2026, 1, 1, 20, tzinfo=NY)
    assert expand("", start, NY) == [start]
