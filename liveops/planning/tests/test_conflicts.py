"""Conflict rules, one by one, on plain slots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from liveops.planning.conflicts import Slot, find_conflicts

GAP = timedelta(minutes=30)
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def slot(pk: int | None, start_h: float, end_h: float, account: int, **kw: object) -> Slot:
    return Slot(
        id=pk,
        title=f"直播 {pk}",
        start=T0 + timedelta(hours=start_h),
        end=T0 + timedelta(hours=end_h),
        account_id=account,
        **kw,  # type: ignore[arg-type]
    )


def kinds(candidate: Slot, *others: Slot) -> list[str]:
    return [c.kind for c in find_conflicts(candidate, others, GAP)]


def test_host_booked_twice_on_other_account() -> None:
    other = slot(1, 0, 2, account=1, host_ids=frozenset({7}), people={7: "王小明"})
    found = find_conflicts(slot(None, 1, 3, account=2, host_ids=frozenset({7})), [other], GAP)
    assert [c.kind for c in found] == ["host"]
    assert "王小明" in found[0].message and "直播 1" in found[0].message
    assert found[0].other_id == 1


def test_field_controller_booked_twice_even_as_host_elsewhere() -> None:
    other = slot(1, 0, 2, account=1, host_ids=frozenset({8}))
    assert kinds(slot(None, 1, 3, account=2, field_controller_id=8), other) == ["field_controller"]


def test_room_booked_twice() -> None:
    other = slot(1, 0, 2, account=1, room_id=3, room_name="A棚")
    found = find_conflicts(slot(None, 1.5, 3, account=2, room_id=3), [other], GAP)
    assert [c.kind for c in found] == ["room"]
    assert "A棚" in found[0].message


def test_same_account_overlap() -> None:
    assert kinds(slot(None, 1, 3, account=1), slot(1, 0, 2, account=1)) == ["account"]


def test_gap_too_short_on_same_account() -> None:
    found = find_conflicts(slot(None, 2.25, 4, account=1), [slot(1, 0, 2, account=1)], GAP)
    assert [c.kind for c in found] == ["gap"]
    assert "15" in found[0].message and "30" in found[0].message


def test_exactly_the_gap_is_fine_and_one_minute_less_is_not() -> None:
    before = slot(1, 0, 2, account=1)
    assert kinds(slot(None, 2.5, 4, account=1), before) == []
    one_less = slot(None, 2.5 - 1 / 60, 4, account=1)
    assert kinds(one_less, before) == ["gap"]
    # Gap before the other session too.
    assert kinds(slot(None, -2.5, 0 - 0.5, account=1), before) == []
    assert kinds(slot(None, -2.5, -0.25, account=1), before) == ["gap"]


def test_back_to_back_with_no_gap_rule() -> None:
    before = slot(1, 0, 2, account=1)
    assert find_conflicts(slot(None, 2, 4, account=1), [before], timedelta(0)) == []


def test_different_accounts_and_people_do_not_conflict() -> None:
    other = slot(1, 0, 2, account=1, host_ids=frozenset({1}), room_id=1)
    assert kinds(slot(None, 0, 2, account=2, host_ids=frozenset({2}), room_id=2), other) == []


def test_a_session_never_conflicts_with_itself() -> None:
    assert kinds(slot(1, 0, 2, account=1), slot(1, 0, 2, account=1)) == []


def test_simulcast_of_one_series_shares_host_and_room() -> None:
    common = {"host_ids": frozenset({5}), "room_id": 1, "series_id": 9}
    assert kinds(slot(None, 0, 2, account=2, **common), slot(1, 0, 2, account=1, **common)) == []
