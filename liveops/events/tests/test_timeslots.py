"""Time-slot recommendation: hand-computed small cases of the rules, the selector and the page."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from liveops.events import selectors
from liveops.events.models import MinuteStat
from liveops.events.timeslots import Cell, MinuteRow, Objective, compute
from liveops.planning.models import LiveSession
from liveops.workspaces.models import User, Workspace
from tests.factories import SessionFactory, WorkspaceFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


def minutes(
    session_id: int,
    start: datetime,
    count: int,
    *,
    online: int | None = 100,
    gmv: str | None = "10",
    follows: int | None = 1,
) -> list[MinuteRow]:
    return [
        MinuteRow(
            session_id=session_id,
            minute=start + timedelta(minutes=i),
            online=online,
            gmv=None if gmv is None else Decimal(gmv),
            new_follows=follows,
        )
        for i in range(count)
    ]


def cells_by_slot(cells: list[Cell]) -> dict[tuple[int, int], Cell]:
    return {(c.weekday, c.hour): c for c in cells}


# --- pure computation ------------------------------------------------------------------


def test_session_spanning_hours_contributes_to_each_hour_cell() -> None:
    # Wednesday 2026-11-25, 20:00–22:30 Shanghai: 60 + 60 + 30 minutes.
    start = datetime(2026, 11, 25, 20, 0, tzinfo=SHANGHAI)
    result = compute(minutes(1, start, 150), objective=Objective.GMV_PER_HOUR, tz=SHANGHAI)
    cells = cells_by_slot(result.cells)
    assert sorted(cells) == [(2, 20), (2, 21), (2, 22)]
    assert [cells[(2, h)].minutes for h in (20, 21, 22)] == [60, 60, 30]
    # 10 per minute is 600 per hour, whether the hour is full or half covered.
    assert {c.value for c in result.cells} == {600.0}
    assert all(c.sessions == 1 and c.too_little for c in result.cells)


def test_minutes_are_placed_in_the_workspace_time_zone() -> None:
    # 12:00 UTC is 20:00 in Shanghai.
    start = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    result = compute(minutes(1, start, 10), objective=Objective.AVG_ONLINE, tz=SHANGHAI)
    assert [(c.weekday, c.hour) for c in result.cells] == [(2, 20)]


def test_session_crossing_midnight_lands_in_two_weekdays() -> None:
    # Friday 2026-11-27 23:30 → Saturday 00:30 Shanghai.
    start = datetime(2026, 11, 27, 23, 30, tzinfo=SHANGHAI)
    result = compute(minutes(1, start, 60), objective=Objective.AVG_ONLINE, tz=SHANGHAI)
    cells = cells_by_slot(result.cells)
    assert sorted(cells) == [(4, 23), (5, 0)]
    assert cells[(4, 23)].minutes == 30 and cells[(5, 0)].minutes == 30


def test_dst_spring_forward_skips_the_missing_hour() -> None:
    # New York, Sunday 2026-03-08: 02:00 EST jumps to 03:00 EDT.
    # 06:30–07:29 UTC is 01:30–01:59 EST, then 03:00–03:29 EDT; no 02 cell.
    start = datetime(2026, 3, 8, 6, 30, tzinfo=UTC)
    result = compute(minutes(1, start, 60), objective=Objective.AVG_ONLINE, tz=NEW_YORK)
    cells = cells_by_slot(result.cells)
    assert sorted(cells) == [(6, 1), (6, 3)]
    assert cells[(6, 1)].minutes == 30 and cells[(6, 3)].minutes == 30


def test_dst_fall_back_puts_both_repeated_hours_in_one_cell() -> None:
    # New York, Sunday 2026-11-01: 01:00–01:59 happens twice (EDT, then EST).
    # 05:00–06:59 UTC is 120 minutes in the 01 cell: Σ 120 follows ÷ 2 hours = 60 per hour.
    start = datetime(2026, 11, 1, 5, 0, tzinfo=UTC)
    result = compute(minutes(1, start, 120), objective=Objective.FOLLOWS_PER_HOUR, tz=NEW_YORK)
    assert len(result.cells) == 1
    (cell,) = result.cells
    assert (cell.weekday, cell.hour, cell.minutes, cell.value) == (6, 1, 120, 60.0)


def test_average_online_is_the_mean_of_minute_values_ignoring_missing_ones() -> None:
    start = datetime(2026, 11, 25, 20, 0, tzinfo=SHANGHAI)
    rows = (
        minutes(1, start, 1, online=100)
        + minutes(2, start, 1, online=200)
        + minutes(3, start + timedelta(minutes=1), 1, online=None)
    )
    result = compute(rows, objective=Objective.AVG_ONLINE, tz=SHANGHAI)
    (cell,) = result.cells
    assert cell.value == 150.0
    assert cell.minutes == 2
    # Session 3 has no online value in the cell, so it is not behind this value.
    assert cell.sessions == 2
    assert result.sessions_total == 3


def test_gmv_per_hour_divides_by_hours_covered() -> None:
    # Two sessions in Wed 20:00: 30 min × 10 and 15 min × 20 → Σ 600 over 45 min = 800/h.
    start = datetime(2026, 11, 25, 20, 0, tzinfo=SHANGHAI)
    rows = minutes(1, start, 30, gmv="10") + minutes(2, start, 15, gmv="20")
    result = compute(rows, objective=Objective.GMV_PER_HOUR, tz=SHANGHAI)
    (cell,) = result.cells
    assert (cell.value, cell.minutes, cell.sessions, cell.too_little) == (800.0, 45, 2, False)


def test_no_division_by_zero_when_a_field_is_missing_or_zero() -> None:
    start = datetime(2026, 11, 25, 20, 0, tzinfo=SHANGHAI)
    rows = minutes(1, start, 30, gmv=None, follows=None) + minutes(
        2, start + timedelta(hours=2), 30, gmv="0", follows=0
    )
    gmv = compute(rows, objective=Objective.GMV_PER_HOUR, tz=SHANGHAI)
    # The 20:00 cell has no GMV at all: no cell rather than 0 ÷ 0; 22:00 really is 0.
    assert [(c.hour, c.value) for c in gmv.cells] == [(22, 0.0)]
    follows = compute(rows, objective=Objective.FOLLOWS_PER_HOUR, tz=SHANGHAI)
    assert [(c.hour, c.value) for c in follows.cells] == [(22, 0.0)]
    assert gmv.sessions_total == 2


def test_too_little_history_ranks_nothing() -> None:
    start = datetime(2026, 11, 25, 20, 0, tzinfo=SHANGHAI)
    rows = minutes(1, start, 60) + minutes(2, start + timedelta(days=7), 60)
    result = compute(rows, objective=Objective.AVG_ONLINE, tz=SHANGHAI)
    assert result.sessions_total == 2
    assert not result.enough_history
    assert result.ranking == []
    # The cell itself is still there, with its two sessions.
    assert [(c.hour, c.sessions, c.too_little) for c in result.cells] == [(20, 2, False)]


def test_empty_history() -> None:
    result = compute([], objective=Objective.AVG_ONLINE, tz=SHANGHAI)
    assert (result.sessions_total, result.cells, result.ranking) == (0, [], [])
    assert not result.enough_history


def test_ranking_orders_cells_with_enough_sessions_by_objective() -> None:
    wed20 = datetime(2026, 11, 25, 20, 0, tzinfo=SHANGHAI)
    thu19 = datetime(2026, 11, 26, 19, 0, tzinfo=SHANGHAI)
    sat10 = datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI)
    rows = (
        # Wed 20: sessions 1 and 2, online 300 and 500 → 400.
        minutes(1, wed20, 60, online=300)
        + minutes(2, wed20 + timedelta(days=7), 60, online=500)
        # Thu 19: sessions 3 and 4, online 600 → 600.
        + minutes(3, thu19, 60, online=600)
        + minutes(4, thu19 + timedelta(days=7), 60, online=600)
        # Sat 10: one session only, the highest value but too little data.
        + minutes(5, sat10, 60, online=9000)
    )
    result = compute(rows, objective=Objective.AVG_ONLINE, tz=SHANGHAI)
    assert result.enough_history
    assert [(c.weekday, c.hour, c.value, c.sessions) for c in result.ranking] == [
        (3, 19, 600.0, 2),
        (2, 20, 400.0, 2),
    ]
    sat = cells_by_slot(result.cells)[(5, 10)]
    assert sat.too_little and sat.value == 9000.0


def test_ranking_ties_prefer_more_sessions_and_keep_five() -> None:
    rows: list[MinuteRow] = []
    sid = 0
    # Six cells on Monday 10:00–15:00, equal values; the 15:00 cell has three sessions.
    for hour in range(10, 16):
        for week in range(3 if hour == 15 else 2):
            sid += 1
            start = datetime(2026, 11, 23, hour, 0, tzinfo=SHANGHAI) + timedelta(weeks=week)
            rows += minutes(sid, start, 10, online=100)
    result = compute(rows, objective=Objective.AVG_ONLINE, tz=SHANGHAI)
    assert [(c.hour, c.sessions) for c in result.ranking] == [
        (15, 3),
        (10, 2),
        (11, 2),
        (12, 2),
        (13, 2),
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, Objective.AVG_ONLINE),
        ("", Objective.AVG_ONLINE),
        ("gmv_per_hour", Objective.GMV_PER_HOUR),
        ("follows_per_hour", Objective.FOLLOWS_PER_HOUR),
        ("'; drop", Objective.AVG_ONLINE),
    ],
)
def test_objective_parse(raw: str | None, expected: Objective) -> None:
    assert Objective.parse(raw) is expected


# --- selector and page -----------------------------------------------------------------


def add_minutes(session: LiveSession, start: datetime, count: int, **values: object) -> None:
    MinuteStat.objects.bulk_create(
        MinuteStat(
            workspace=session.workspace,
            session=session,
            minute=start + timedelta(minutes=i),
            **values,
        )
        for i in range(count)
    )


def ended_session(workspace: Workspace, start: datetime, count: int = 90) -> LiveSession:
    session = SessionFactory(
        workspace=workspace,
        status="ended",
        scheduled_start=start,
        scheduled_end=start + timedelta(minutes=count),
        actual_start=start,
        actual_end=start + timedelta(minutes=count),
    )
    add_minutes(session, start, count, online=120, gmv=Decimal("5.50"), new_follows=2)
    return session


@pytest.mark.django_db
def test_timeslot_rows_only_ended_sessions_of_the_workspace(workspace: Workspace) -> None:
    start = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    ended = ended_session(workspace, start, 3)
    reviewed = ended_session(workspace, start + timedelta(days=1), 2)
    reviewed.status = "reviewed"
    reviewed.save()
    planned = SessionFactory(workspace=workspace, status="planned")
    add_minutes(planned, start, 5, online=1)
    ended_session(WorkspaceFactory(), start, 4)  # another workspace
    rows = selectors.timeslot_rows(workspace=workspace)
    assert sorted({r["session_id"] for r in rows}) == sorted([ended.pk, reviewed.pk])
    assert len(rows) == 5
    first = next(r for r in rows if r["session_id"] == ended.pk)
    assert first["online"] == 120 and first["gmv"] == Decimal("5.50") and first["new_follows"] == 2


@pytest.fixture
def owner(workspace: Workspace, member_factory: Any) -> Any:
    """The tests read English text: the owner's saved language wins over Accept-Language."""
    return member_factory(workspace, "owner", language="en").user


def page(client: Client, workspace: Workspace, **query: str) -> str:
    url = reverse("events:timeslots", kwargs={"ws": workspace.slug})
    response = client.get(url, query, headers={"accept-language": "en"})
    assert response.status_code == 200
    return response.content.decode()


def chart_data(html: str) -> dict[str, Any]:
    start = html.index('id="timeslot-data"')
    return dict(json.loads(html[html.index(">", start) + 1 : html.index("</script>", start)]))


@pytest.mark.django_db
def test_page_without_data_says_how_to_import(
    workspace: Workspace, owner: User, login: Callable[[User], Client]
) -> None:
    ended_session(WorkspaceFactory(), datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    html = page(login(owner), workspace)
    assert 'data-testid="timeslots-empty"' in html
    assert "CSV or XLSX" in html
    assert 'id="timeslot-data"' not in html  # no chart, no figures
    assert "timeslot-ranking" not in html


@pytest.mark.django_db
def test_page_with_too_little_history(
    workspace: Workspace, owner: User, login: Callable[[User], Client]
) -> None:
    ended_session(workspace, datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    ended_session(workspace, datetime(2026, 12, 2, 12, 0, tzinfo=UTC))
    html = page(login(owner), workspace)
    assert 'data-testid="timeslots-too-little"' in html
    assert "only 2 ended sessions" in html
    assert 'id="timeslot-data"' in html
    assert "timeslot-ranking" not in html


@pytest.mark.django_db
def test_page_ranks_slots_by_chosen_objective(
    workspace: Workspace, owner: User, login: Callable[[User], Client]
) -> None:
    # Three Wednesdays 20:00–21:30 Shanghai (12:00 UTC).
    for week in range(3):
        ended_session(workspace, datetime(2026, 11, 25, 12, 0, tzinfo=UTC) + timedelta(weeks=week))
    client = login(owner)
    html = page(client, workspace, objective="gmv_per_hour")
    assert "timeslots-too-little" not in html
    assert 'data-testid="timeslot-ranking"' in html
    chart = chart_data(html)
    # 5.50 a minute → 330 an hour, in Wed 20:00 and Wed 21:00, three sessions each.
    assert chart["cells"] == [[20, 2, 330.0, 3, False], [21, 2, 330.0, 3, False]]
    assert len(chart["weekdays"]) == 7
    assert html.count('<td class="num">3</td>') == 2
    follows = chart_data(page(client, workspace, objective="follows_per_hour"))
    assert [c[2] for c in follows["cells"]] == [120.0, 120.0]
