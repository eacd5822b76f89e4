"""METRICS.md figures of small hand-computed sessions, on DuckDB.

Each test writes a few events to Parquet (the event store's hive layout) under tmp_path,
runs ``compute_session`` and checks the figures against arithmetic done in the comments.
Times are seconds after T0 unless said otherwise; the live is [T0, T0 + 10 min] by default.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from liveops.analytics.engine import Engine, open_engine
from liveops.analytics.metrics import EVENT_COLUMNS
from liveops.analytics.results import SegmentSpec, SessionMetrics
from liveops.analytics.runner import SUMMARY_KEYS, compute_session

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
END = T0 + timedelta(minutes=10)
#: What the event store writes to a session's files: the columns analytics reads plus
#: others it ignores (the partition columns are in the directory names).
FILE_SCHEMA = pa.schema(
    [
        pa.field("event_id", pa.string()),
        *[f for f in EVENT_COLUMNS.to_pyarrow() if f.name != "ts_ms"],
        pa.field("raw", pa.string()),
        pa.field("ingested_at", pa.timestamp("us", tz="UTC")),
    ]
)
_ids = itertools.count()


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def ev(kind: str, t: float | datetime, viewer: str | None = None, **fields: Any) -> dict[str, Any]:
    """One event; ``t`` is seconds after T0 or an aware datetime."""
    ts = t if isinstance(t, datetime) else at(t)
    row: dict[str, Any] = {
        "event_id": f"e{next(_ids)}",
        "ts": ts.astimezone(UTC),
        "kind": kind,
        "viewer_id": viewer,
        "viewer_name": f"name-{viewer}" if viewer else None,
        "platform": "douyin",
        "raw": "{}",
        "ingested_at": ts.astimezone(UTC),
    }
    if kind == "like":
        row["quantity"] = 1
    row.update(fields)
    if row.get("amount") is not None:
        row["amount"] = Decimal(str(row["amount"]))
    return row


def write(root: Path, events: Sequence[dict[str, Any]], *, session: int = 1) -> list[str]:
    """The events as one Parquet file of the event store's layout; returns its path."""
    folder = root / "events" / "workspace_id=1" / f"session_id={session}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"part-{next(_ids)}.parquet"
    columns = {f.name: [e.get(f.name) for e in events] for f in FILE_SCHEMA}
    pq.write_table(pa.table(columns, schema=FILE_SCHEMA), path)
    return [str(path)]


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    with open_engine("duckdb") as e:
        yield e


def compute(
    engine: Engine,
    root: Path,
    events: Sequence[dict[str, Any]],
    *,
    start: datetime | None = T0,
    end: datetime | None = END,
    **kw: Any,
) -> SessionMetrics:
    files = write(root, events) if events else []
    kw.setdefault("currency", "CNY")
    return compute_session(engine, events_files=files, start=start, end=end, **kw)


def minute_online(result: SessionMetrics) -> list[Any]:
    return [row.online for row in result.minutes]


# --------------------------------------------------------------------------------------------
# Watch intervals
# --------------------------------------------------------------------------------------------


def test_no_leave_events_close_a_minute_after_the_last_event(
    engine: Engine, tmp_path: Path
) -> None:
    r = compute(
        engine,
        tmp_path,
        [
            ev("enter", 0, "a"),
            ev("comment", 30, "a", text="hi"),
            ev("like", 90, "a"),  # a's last event: a closes at 90 + 60 = 150 s
            ev("enter", 100, "b"),  # b's only event: closes at 160 s → 60 s
            ev("comment", 200, "c", text="?"),  # no enter: in UV, no watch time
        ],
    )
    s = r.summary
    assert s["uv"] == 3 and s["pv"] == 2
    assert s["avg_watch_s"] == pytest.approx((150 + 60 + 0) / 3)  # 70 s, per viewer
    assert s["hours_watched"] == 210.0  # seconds: Σ watch
    assert s["acu"] == pytest.approx(210 / 600)
    assert s["stay_1min_rate"] == pytest.approx(1 / 3)  # only a (> 60 s; b is exactly 60)
    assert s["bounce_rate"] == pytest.approx(1 / 3)  # c (< 10 s)
    # r(1): a, b watched ≥ 60 s; r(2): a (150 ≥ 120); r(3): nobody (150 < 180)
    assert r.retention is not None
    assert r.retention[:3] == pytest.approx((2 / 3, 1 / 3, 0.0))
    assert len(r.retention) == 60
    # minute 0: a 60 s → 1; minute 1: a 60 s + b 20 s → 80/60; minute 2: a 30 + b 40 → 70/60
    assert minute_online(r)[:4] == pytest.approx([1.0, 80 / 60, 70 / 60, 0.0])
    assert s["pcu"] == pytest.approx(80 / 60)
    assert r.grains["pcu"] == "events" and r.grains["avg_watch_s"] == "events"
    assert s["comments"] == 2 and s["commenters"] == 2 and s["likes"] == 1
    assert s["comment_rate"] == pytest.approx(2 / 3)
    assert s["interaction_rate"] == pytest.approx(2 / 3)  # a (comment, like), c (comment)
    assert r.top_viewers["watch"][0].viewer_id == "a"
    assert r.top_viewers["watch"][0].value == 150.0
    assert r.top_viewers["watch"][0].viewer_name == "name-a"


def test_reentries_add_up_and_a_late_reentry_without_leave_closes_by_the_heuristic(
    engine: Engine, tmp_path: Path
) -> None:
    r = compute(
        engine,
        tmp_path,
        [
            ev("enter", 0, "a"),
            ev("leave", 60, "a"),
            ev("enter", 120, "a"),
            ev("leave", 180, "a"),  # a: [0, 60] + [120, 180] = 120 s
            ev("enter", 0, "b"),
            ev("leave", 60, "b"),
            ev("enter", 300, "b"),  # b's last event: [300, 360] → 60 + 60 = 120 s
        ],
    )
    s = r.summary
    assert s["uv"] == 2 and s["pv"] == 4  # PV counts re-entries
    assert s["avg_watch_s"] == pytest.approx(120.0)
    # minute 0: a + b → 2; minute 1: nobody; minute 2: a → 1; minute 5: b → 1
    assert minute_online(r)[:7] == pytest.approx([2.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0])
    assert [row.entries for row in r.minutes[:6]] == [2, 0, 1, 0, 0, 1]
    assert [row.exits for row in r.minutes[:4]] == [0, 2, 0, 1]  # leaves at 60 s fall in minute 1


def test_overlapping_intervals_are_merged(engine: Engine, tmp_path: Path) -> None:
    r = compute(
        engine,
        tmp_path,
        [
            ev("enter", 0, "a"),
            ev("enter", 20, "a"),
            ev("leave", 100, "a"),  # both enters run to 100 → union [0, 100] = 100 s
            ev("enter", 0, "b"),
            ev("enter", 20, "b"),
            ev("comment", 50, "b", text="x"),  # no leave: both close at 110 → [0, 110]
            ev("enter", 200, "c"),
            ev("leave", 250, "c"),
            ev("leave", 260, "c"),  # a second leave: the enter pairs with the first
        ],
    )
    top = {v.viewer_id: v.value for v in r.top_viewers["watch"]}
    assert top == {"a": 100.0, "b": 110.0, "c": 50.0}
    assert r.summary["hours_watched"] == 260.0
    # minute 0: a, b → 2; minute 1: a 40 s + b 50 s → 1.5
    assert minute_online(r)[:2] == pytest.approx([2.0, 1.5])


def test_a_reconnect_in_the_same_millisecond_keeps_the_viewer(
    engine: Engine, tmp_path: Path
) -> None:
    r = compute(
        engine,
        tmp_path,
        [
            ev("enter", 0, "a"),
            ev("leave", 60, "a"),
            ev("enter", 60, "a"),  # same millisecond as the leave: a reconnect
            ev("leave", 120, "a"),  # a: [0, 60] + [60, 120] = 120 s
            ev("enter", 30, "b"),
            ev("leave", 30, "b"),  # a leave at the enter's millisecond is not its leave:
        ],  # b closes a minute after its last event → 60 s
        segments=[("s", "S", at(60), at(100), None, None)],
    )
    top = {v.viewer_id: v.value for v in r.top_viewers["watch"]}
    assert top == {"a": 120.0, "b": 60.0}
    (seg,) = r.segments
    assert (seg.online_start, seg.online_end) == (2, 1)  # a counted once at 60; b until 90
    assert seg.retention == 0.5  # a stays, b has left by 100


def test_events_outside_the_live_are_ignored_and_intervals_clipped(
    engine: Engine, tmp_path: Path
) -> None:
    r = compute(
        engine,
        tmp_path,
        [
            ev("enter", 500, "a"),
            ev("leave", 700, "a"),  # after the end (600): a watches [500, 600] = 100 s
            ev("comment", 650, "a", text="late"),  # ignored
            ev("order", 610, "a", amount="10", currency="CNY"),  # ignored
            ev("comment", 620, "b", text="late"),  # b only after the end: not a viewer
            ev("enter", -30, "c"),
            ev("leave", 30, "c"),  # c entered before the start: [0, 30] = 30 s
            ev("enter", -100, "d"),
            ev("leave", -50, "d"),  # d left before the start: not a viewer
            ev("enter", -10, "e"),  # e: closes at -10 + 60 = 50 → [0, 50]; no event inside,
        ],  # but watch time inside the live: a viewer
    )
    s = r.summary
    assert s["uv"] == 3  # a, c, e
    assert s["pv"] == 1  # only a's enter is inside the live
    assert s["comments"] == 0 and s["orders"] == 0 and s["gmv"] == Decimal("0")
    assert s["hours_watched"] == 180.0  # 100 + 30 + 50
    assert s["avg_watch_s"] == pytest.approx(60.0)


def test_empty_session_counts_zero_and_rates_are_not_available(
    engine: Engine, tmp_path: Path
) -> None:
    r = compute(engine, tmp_path, [])
    s = r.summary
    assert set(SUMMARY_KEYS) == set(s)
    for key in ("uv", "pv", "comments", "commenters", "likes", "shares", "follows", "orders"):
        assert s[key] == 0, key
    assert s["gmv"] == Decimal("0") and s["gift_revenue"] == Decimal("0")
    for key in ("interaction_rate", "comment_rate", "follow_rate", "conversion_rate"):
        assert s[key] is None, key
    for key in ("uv_value", "aov", "gpm", "avg_watch_s", "stay_1min_rate", "bounce_rate"):
        assert s[key] is None, key
    for key in ("pcu", "acu", "hours_watched"):  # no snapshots, enters or minute stats
        assert s[key] is None and key in r.unavailable, key
    assert s["duration_s"] == 600.0
    assert r.retention is None
    assert len(r.minutes) == 10
    assert all(m.online is None and m.comments == 0 for m in r.minutes)
    assert [(f.step, f.count, f.ratio) for f in r.funnel][:2] == [
        ("entered", 0, None),
        ("stayed_1min", None, None),
    ]
    assert r.sources == () and r.products == () and r.segments == ()


def test_empty_session_without_times_has_no_duration_and_no_minutes(
    engine: Engine, tmp_path: Path
) -> None:
    r = compute(engine, tmp_path, [], start=None, end=None)
    assert r.summary["duration_s"] is None and r.start is None
    assert r.minutes == ()
    assert r.summary["uv"] == 0


def test_answered_within_60s_is_not_available_with_a_reason(engine: Engine, tmp_path: Path) -> None:
    r = compute(engine, tmp_path, [ev("comment", 5, "a", text="?")])
    assert r.summary["answered_60s_rate"] is None
    assert "account's id" in r.unavailable["answered_60s_rate"]  # whose replies are the host's?
    quiet = compute(engine, tmp_path / "q", [ev("comment", 5, "a", text="好看")], host_id="me")
    assert "no comment asked" in quiet.unavailable["answered_60s_rate"]


def test_questions_answered_by_a_host_reply_within_60s(engine: Engine, tmp_path: Path) -> None:
    events = [
        ev("comment", 10, "a", text="多少钱？"),  # answered 30 s later
        ev("comment", 40, "me", text="99 元"),
        ev("comment", 100, "b", text="How much is it"),  # next reply at 161 s: too late
        ev("comment", 161, "me", text="link in the cart"),
        ev("comment", 200, "c", text="有没有小样"),  # a reply in the same millisecond is not
        ev("comment", 200, "me", text="有"),  # ... an answer to it
        ev("comment", 230, "d", text="  ?  "),  # a question too: "?" once trimmed... 1 char
        ev("comment", 300, "e", text="主播好"),  # not a question
        ev("comment", 330, "f", text="what size?"),  # answered exactly 60 s later
        ev("comment", 390, "me", text="M"),
        ev("comment", 30, "me", text="欢迎"),  # host comments are not questions to answer
    ]
    r = compute(engine, tmp_path, events, host_id="me")
    # questions: a, b, c, f (d's text is one character once trimmed); answered: a, f
    assert r.summary["answered_60s_rate"] == pytest.approx(2 / 4)
    assert r.grains["answered_60s_rate"] == "events"
    replies = [m.host_replies for m in r.minutes]
    assert replies[:7] == [2, 0, 1, 1, 0, 0, 1]


def test_one_viewer_watching_the_whole_live(engine: Engine, tmp_path: Path) -> None:
    r = compute(
        engine,
        tmp_path,
        [ev("enter", 0, "a"), ev("comment", 100, "a", text="hi"), ev("leave", 600, "a")],
    )
    s = r.summary
    assert (s["uv"], s["avg_watch_s"], s["stay_1min_rate"], s["bounce_rate"]) == (1, 600, 1, 0)
    assert s["pcu"] == 1.0 and s["acu"] == 1.0 and s["hours_watched"] == 600.0
    assert minute_online(r) == [1.0] * 10
    assert r.retention is not None
    assert r.retention[:10] == (1.0,) * 10 and r.retention[10] == 0.0  # r(11) = 0


def test_start_and_end_from_the_events_when_the_session_has_none(
    engine: Engine, tmp_path: Path
) -> None:
    r = compute(
        engine, tmp_path, [ev("enter", 10, "a"), ev("leave", 130, "a")], start=None, end=None
    )
    assert r.start == at(10) and r.end == at(130)
    assert r.summary["duration_s"] == 120.0 and r.grains["duration_s"] == "events"
    assert r.summary["acu"] == 1.0


# --------------------------------------------------------------------------------------------
# Time: UTC minutes across midnight and DST
# --------------------------------------------------------------------------------------------


def test_a_session_crossing_midnight_keeps_utc_minutes(engine: Engine, tmp_path: Path) -> None:
    start = datetime(2025, 12, 31, 23, 58, tzinfo=UTC)
    r = compute(
        engine,
        tmp_path,
        [
            ev("enter", start + timedelta(seconds=90), "a"),  # 23:59:30
            ev("leave", start + timedelta(seconds=150), "a"),  # 00:00:30 next year
        ],
        start=start,
        end=start + timedelta(minutes=5),
    )
    assert [m.minute for m in r.minutes] == [start + timedelta(minutes=i) for i in range(5)]
    assert r.minutes[2].minute == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    # 30 s in 23:59 and 30 s in 00:00
    assert minute_online(r) == pytest.approx([0.0, 0.5, 0.5, 0.0, 0.0])
    assert [m.entries for m in r.minutes] == [0, 1, 0, 0, 0]
    assert [m.exits for m in r.minutes] == [0, 0, 1, 0, 0]


def test_a_dst_change_does_not_stretch_the_live(engine: Engine, tmp_path: Path) -> None:
    berlin = ZoneInfo("Europe/Berlin")  # 2025-03-30 02:00 CET → 03:00 CEST
    start = datetime(2025, 3, 30, 1, 50, tzinfo=berlin)  # 00:50 UTC
    end = datetime(2025, 3, 30, 3, 10, tzinfo=berlin)  # 01:10 UTC: 20 minutes later
    r = compute(
        engine,
        tmp_path,
        [
            ev("enter", datetime(2025, 3, 30, 1, 59, tzinfo=berlin), "a"),  # 00:59 UTC
            ev("leave", datetime(2025, 3, 30, 3, 1, tzinfo=berlin), "a"),  # 01:01 UTC
        ],
        start=start,
        end=end,
    )
    assert r.summary["duration_s"] == 1200.0
    assert r.start == datetime(2025, 3, 30, 0, 50, tzinfo=UTC)
    assert [m.minute for m in r.minutes] == [
        datetime(2025, 3, 30, 0, 50, tzinfo=UTC) + timedelta(minutes=i) for i in range(20)
    ]
    assert r.summary["avg_watch_s"] == 120.0  # 00:59 → 01:01 UTC, not an hour more
    assert minute_online(r)[9:12] == [1.0, 1.0, 0.0]


# --------------------------------------------------------------------------------------------
# Grains
# --------------------------------------------------------------------------------------------


def test_snapshots_are_preferred_for_online(engine: Engine, tmp_path: Path) -> None:
    r = compute(
        engine,
        tmp_path,
        [
            ev("enter", 0, "a"),
            ev("leave", 180, "a"),
            ev("online_count", 10, quantity=5),
            ev("online_count", 50, quantity=7),  # minute 0: last value 7
            # minute 1: no snapshot, 7 carries forward
            ev("online_count", 130, quantity=3),  # minute 2: 3
        ],
        end=at(180),
    )
    s = r.summary
    assert minute_online(r) == [7, 7, 3]
    assert s["pcu"] == 7 and r.grains["pcu"] == "snapshots"
    assert s["hours_watched"] == (7 + 7 + 3) * 60  # Σ online(t)·Δt, seconds
    assert s["acu"] == pytest.approx(17 / 3)
    assert r.grains["online_series"] == "snapshots"
    assert s["avg_watch_s"] == 180.0 and r.grains["avg_watch_s"] == "events"


def test_minute_stats_fill_the_grains_events_lack(engine: Engine, tmp_path: Path) -> None:
    stats = pa.table(
        {
            "minute": [T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)],
            "online": [10, None, 30],
            "entries": [4, 5, 6],
            "likes": [100, 200, None],
            "comments": [9, 9, 9],  # the events have comments: these are not used
            "orders": [1, 0, 2],
            "shares": [1, None, 2],
            "gmv": ["10.5", "0", "20"],
        }
    )
    r = compute(
        engine,
        tmp_path,
        [ev("comment", 10, "a", text="hi"), ev("comment", 70, "b", text="yo")],
        end=at(180),
        minute_stats=stats,
    )
    s, g = r.summary, r.grains
    assert minute_online(r) == [10, None, 30]
    assert (s["pcu"], g["pcu"]) == (30, "minute_stats")
    assert s["acu"] == pytest.approx(20.0)  # (10·60 + 30·60) ÷ the 120 s with a value
    assert (s["pv"], g["pv"]) == (15, "minute_stats")
    assert (s["likes"], g["likes"]) == (300, "minute_stats")
    assert (s["comments"], g["comments"]) == (2, "events")
    assert (s["orders"], g["orders"]) == (3, "minute_stats")
    assert (s["shares"], g["shares"]) == (3, "minute_stats")
    assert (s["gmv"], g["gmv"]) == (Decimal("30.5000"), "minute_stats")
    assert s["buyers"] is None and "minute stats" in r.unavailable["buyers"]
    assert s["gpm"] == Decimal("2033.3333")  # 30.5 × 1000 ÷ 15
    assert s["avg_watch_s"] is None and "enter" in r.unavailable["avg_watch_s"]
    assert [m.likes for m in r.minutes] == [100, 200, None]
    assert [m.comments for m in r.minutes] == [1, 1, 0]


# --------------------------------------------------------------------------------------------
# Money
# --------------------------------------------------------------------------------------------


def test_gifts_convert_with_the_platform_rate(engine: Engine, tmp_path: Path) -> None:
    events = [
        ev("gift", 10, "a", quantity=1, amount="10"),  # 10 diamonds
        ev("gift", 20, "b", quantity=5, amount="5"),  # 5 diamonds
        ev("gift", 30, "c", quantity=1, amount="2", currency="CNY"),  # already in CNY
    ]
    r = compute(engine, tmp_path, events, gift_rates={"douyin": Decimal("0.1")})
    assert r.summary["gift_revenue"] == Decimal("3.5000")  # (10 + 5) × 0.1 + 2
    assert r.minutes[0].gifts == 7  # Σ gift counts
    no_rate = compute(engine, tmp_path, events)
    assert no_rate.summary["gift_revenue"] is None
    assert "douyin" in no_rate.unavailable["gift_revenue"]


def test_a_gift_without_a_value_makes_gift_revenue_unavailable(
    engine: Engine, tmp_path: Path
) -> None:
    r = compute(
        engine,
        tmp_path,
        [ev("gift", 10, "a", quantity=3), ev("gift", 11, "a", quantity=1, amount="1")],
        gift_rates={"douyin": Decimal("0.1")},
    )
    assert r.summary["gift_revenue"] is None
    assert "no value" in r.unavailable["gift_revenue"]


def test_refunds_reduce_gmv_and_fully_refunded_buyers_did_not_pay(
    engine: Engine, tmp_path: Path
) -> None:
    r = compute(
        engine,
        tmp_path,
        [
            ev("enter", 0, "a"),
            ev("enter", 0, "b"),
            ev("enter", 0, "c", source="link:wechat"),
            ev("product_click", 5, "a", product_id="p1"),
            ev("product_click", 6, "b", product_id="p2"),
            ev("order", 10, "a", amount="100", currency="CNY", product_id="p1", quantity=1),
            ev("order", 70, "b", amount="50", product_id="p2", quantity=1),  # no code: CNY
            ev("refund", 80, "b", amount="50", currency="CNY", product_id="p2"),  # all of b's
            ev("refund", 90, "a", amount="20", currency="CNY", product_id="p1"),  # part of a's
        ],
    )
    s = r.summary
    assert s["gmv"] == Decimal("80.0000")  # 100 + 50 − 50 − 20
    assert (s["orders"], s["buyers"]) == (2, 2)
    assert s["conversion_rate"] == pytest.approx(2 / 3)
    assert s["uv_value"] == Decimal("26.6667")  # 80 ÷ 3
    assert s["aov"] == Decimal("40.0000")  # 80 ÷ 2
    assert s["gpm"] == Decimal("26666.6667")  # 80 × 1000 ÷ 3 entries
    funnel = {f.step: f.count for f in r.funnel}
    assert funnel == {
        "entered": 3,
        "stayed_1min": 2,  # no leaves: a closes at 150 s, b at 140 s, c at exactly 60 s
        "clicked_product": 2,
        "ordered": 2,
        "paid": 1,  # b's refunds cover b's orders
    }
    assert [f.ratio for f in r.funnel] == pytest.approx([None, 2 / 3, 1.0, 1.0, 0.5])
    assert [m.gmv for m in r.minutes[:2]] == [Decimal("100.0000"), Decimal("-20.0000")]
    products = {p.product_id: p for p in r.products}
    assert products["p1"].gmv == Decimal("80.0000") and products["p1"].clickers == 1
    assert products["p2"].gmv == Decimal("0.0000") and products["p2"].buyers == 1
    assert products["p1"].gpm == Decimal("26666.6667")
    assert [(v.viewer_id, v.value) for v in r.top_viewers["spend"]] == [("a", Decimal("80.0000"))]


def test_orders_in_another_currency_make_money_unavailable(engine: Engine, tmp_path: Path) -> None:
    r = compute(
        engine,
        tmp_path,
        [
            ev("order", 10, "a", amount="100", currency="CNY"),
            ev("order", 20, "b", amount="5", currency="USD"),
        ],
    )
    assert r.summary["orders"] == 2
    for key in ("gmv", "uv_value", "aov", "gpm"):
        assert r.summary[key] is None, key
    assert "USD" not in r.unavailable["gmv"] and "CNY" in r.unavailable["gmv"]


# --------------------------------------------------------------------------------------------
# Traffic, viewers across sessions
# --------------------------------------------------------------------------------------------


def test_sources_attribution_and_channel_roi(engine: Engine, tmp_path: Path) -> None:
    r = compute(
        engine,
        tmp_path,
        [
            ev("enter", 0, "a", source="link:wechat"),  # a's first entry: the link
            ev("leave", 10, "a"),
            ev("enter", 20, "a", source="recommendation"),
            ev("enter", 5, "b", source="recommendation"),  # b came by recommendation first
            ev("enter", 30, "b", source="link:wechat"),
            ev("enter", 40, "c", source="passphrase:福利"),
            ev("enter", 50, "d"),  # no source: unknown
            ev("order", 60, "a", amount="30", currency="CNY"),
        ],
        channels={"link:wechat": Decimal("15"), "passphrase:福利": None},
    )
    assert [(x.source, x.entries) for x in r.sources] == [
        ("link:wechat", 2),
        ("recommendation", 2),
        ("passphrase:福利", 1),
        ("unknown", 1),
    ]
    assert r.sources[0].share == pytest.approx(2 / 6)
    channels = {c.code: c for c in r.channels}
    assert channels["link:wechat"].attributed_viewers == 1  # a only
    assert channels["link:wechat"].gmv == Decimal("30.0000")
    assert channels["link:wechat"].cost_per_viewer == Decimal("15.0000")
    assert channels["link:wechat"].roi == pytest.approx(2.0)  # 30 ÷ 15
    assert channels["passphrase:福利"].attributed_viewers == 1
    assert channels["passphrase:福利"].roi is None
    assert r.summary["attributed_viewers"] == 2
    assert r.summary["cost_per_viewer"] == Decimal("15.0000")  # channels with a cost only
    assert r.summary["channel_roi"] == pytest.approx(2.0)


def test_default_channels_are_link_and_passphrase_sources(engine: Engine, tmp_path: Path) -> None:
    r = compute(
        engine,
        tmp_path,
        [
            ev("enter", 0, "a", source="link:x"),
            ev("enter", 0, "b", source="ads:qianchuan"),
            ev("enter", 0, "c", source="passphrase:y"),
        ],
    )
    assert sorted((c.code, c.attributed_viewers) for c in r.channels) == [
        ("link:x", 1),
        ("passphrase:y", 1),
    ]
    assert r.summary["cost_per_viewer"] is None and r.summary["entry_rate"] is None


def test_new_returning_and_next_session_viewers(engine: Engine, tmp_path: Path) -> None:
    prior = write(
        tmp_path, [ev("comment", -86_400, "a", text="old"), ev("like", -3600, "x")], session=2
    )
    following = write(tmp_path, [ev("enter", 86_400, "b"), ev("enter", 86_400, "y")], session=3)
    events = [ev("enter", 0, v) for v in ("a", "b", "c", "d")]
    r = compute(
        engine,
        tmp_path,
        events,
        prior_viewer_files=prior,
        next_session_files=following,
        impressions=40,
    )
    s = r.summary
    assert (s["returning_viewers"], s["new_viewers"]) == (1, 3)  # a was seen before
    assert s["return_rate_next"] == pytest.approx(1 / 4)  # b came back
    assert s["entry_rate"] == pytest.approx(4 / 40)
    first = compute(engine, tmp_path, events, prior_viewer_files=[])
    assert (first.summary["returning_viewers"], first.summary["new_viewers"]) == (0, 4)
    assert (
        first.summary["return_rate_next"] is None
        and "next" in first.unavailable["return_rate_next"]
    )


def test_follow_and_interaction_counts(engine: Engine, tmp_path: Path) -> None:
    r = compute(
        engine,
        tmp_path,
        [
            ev("enter", 0, "a"),
            ev("enter", 0, "b"),
            ev("enter", 0, "c"),
            ev("enter", 0, "d"),
            ev("follow", 10, "a"),
            ev("share", 20, "b"),
            ev("like", 30, "c", quantity=25),
            ev("like", 31, "c", quantity=5),
        ],
    )
    s = r.summary
    assert (s["follows"], s["shares"], s["likes"]) == (1, 1, 30)
    assert s["follow_rate"] == pytest.approx(1 / 4)
    assert s["interaction_rate"] == pytest.approx(3 / 4)  # a, b, c; d only watched


# --------------------------------------------------------------------------------------------
# Segments
# --------------------------------------------------------------------------------------------


def test_segments(engine: Engine, tmp_path: Path) -> None:
    r = compute(
        engine,
        tmp_path,
        [
            ev("enter", 0, "a"),
            ev("leave", 300, "a"),  # a: [0, 300]
            ev("enter", 100, "b"),
            ev("leave", 200, "b"),  # b: [100, 200]
            ev("enter", 250, "c"),
            ev("leave", 600, "c"),  # c: [250, 600]
            ev("comment", 70, "a", text="1"),
            ev("comment", 179, "b", text="2"),
            ev("comment", 180, "b", text="3"),  # at 180: segment 2
            ev("like", 190, "a", quantity=11),
            ev("order", 300, "c", amount="9.9", currency="CNY"),
        ],
        segments=[
            ("s1", "Opening", at(60), at(180), None, None),
            SegmentSpec("s2", "Product", at(200), at(400), at(180), at(400)),
            ("s3", "Not planned", None, None, None, None),
        ],
    )
    s1, s2, s3 = r.segments
    # s1 [60, 180]: at 60 only a; at 180 a and b; watch a 120 + b 80 = 200 s over 120 s
    assert (s1.online_start, s1.online_end, s1.online_delta) == (1, 2, 1)
    assert s1.avg_online == pytest.approx(200 / 120)
    assert s1.retention == 1.0  # a was there at 60 and still at 180
    assert (s1.comments, s1.likes) == (2, 0)  # seconds 60 … 179
    assert s1.comments_per_min == pytest.approx(1.0)  # 2 over 2 minutes
    assert (s1.planned_duration_s, s1.actual_duration_s) == (120.0, None)
    # s2 uses the actual times [180, 400]: at 180 a, b; at 400 c;
    # watch a 120 + b 20 + c 150 = 290 s over 220 s; nobody of {a, b} is left at 400
    assert (s2.start, s2.end) == (at(180), at(400))
    assert (s2.online_start, s2.online_end, s2.online_delta) == (2, 1, -1)
    assert s2.avg_online == pytest.approx(290 / 220)
    assert s2.retention == 0.0
    assert (s2.comments, s2.likes, s2.orders, s2.gmv) == (1, 11, 1, Decimal("9.9000"))
    assert s2.likes_per_min == pytest.approx(11 / (220 / 60))
    assert (s2.planned_duration_s, s2.actual_duration_s) == (200.0, 220.0)
    assert s2.online_grain == "events"
    assert s3.start is None and s3.avg_online is None and s3.comments is None


def test_segments_with_snapshots(engine: Engine, tmp_path: Path) -> None:
    r = compute(
        engine,
        tmp_path,
        [
            ev("online_count", 0, quantity=10),
            ev("online_count", 30, quantity=20),
            ev("online_count", 90, quantity=40),
        ],
        segments=[("s", "S", at(15), at(75), None, None)],
    )
    (seg,) = r.segments
    assert (seg.online_start, seg.online_end, seg.online_delta) == (10, 20, 10)
    # [15, 30) at 10 and [30, 75) at 20: (150 + 900) ÷ 60
    assert seg.avg_online == pytest.approx(17.5)
    assert seg.retention is None and seg.online_grain == "snapshots"


def test_segments_with_minute_stats(engine: Engine, tmp_path: Path) -> None:
    stats = pa.table({"minute": [T0, T0 + timedelta(minutes=1)], "online": [10, 40]})
    r = compute(
        engine,
        tmp_path,
        [ev("comment", 5, "a", text="hi")],
        end=at(120),
        minute_stats=stats,
        segments=[("s", "S", at(30), at(90), None, None)],
    )
    (seg,) = r.segments
    assert (seg.online_start, seg.online_end, seg.online_delta) == (10, 40, 30)
    assert seg.avg_online == pytest.approx(25.0)  # 30 s at 10, 30 s at 40
    assert seg.online_grain == "minute_stats" and seg.retention is None


def test_segment_inputs_must_be_aware(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="aware"):
        compute(engine, tmp_path, [], start=datetime(2025, 6, 1, 12), end=END)


# --------------------------------------------------------------------------------------------
# Window edge cases and the engine
# --------------------------------------------------------------------------------------------


def test_a_live_without_events_since_its_start_has_zero_length(
    engine: Engine, tmp_path: Path
) -> None:
    # started at T0 (no end yet); the only events are from the warm-up before it
    r = compute(
        engine, tmp_path, [ev("enter", -120, "a"), ev("comment", -60, "a", text="hi")], end=None
    )
    assert r.summary["duration_s"] == 0.0 and r.minutes == ()
    assert r.summary["uv"] == 0 and r.summary["comments"] == 0


def test_the_end_before_the_start_is_an_error(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ends before"):
        compute(engine, tmp_path, [], start=END, end=T0)


def test_file_uris_and_unknown_engines(engine: Engine, tmp_path: Path) -> None:
    files = write(tmp_path, [ev("enter", 0, "a"), ev("leave", 30, "a")])
    r = compute_session(
        engine, events_files=["file://" + f for f in files], start=T0, end=END, currency="CNY"
    )
    assert r.summary["uv"] == 1 and r.summary["hours_watched"] == 30.0
    with pytest.raises(ValueError, match="unknown analytics engine"):
        open_engine("clickhouse")


def test_spark_paths() -> None:
    from liveops.analytics.engine import _base_path, _hadoop_uri

    uri = "s3://bucket/lake/events/workspace_id=3/session_id=9/part-1.parquet"
    assert _hadoop_uri(uri) == "s3a://bucket/lake/events/workspace_id=3/session_id=9/part-1.parquet"
    assert _base_path([_hadoop_uri(uri)]) == "s3a://bucket/lake/events/"
    assert _base_path(["/data/x.parquet"]) is None
