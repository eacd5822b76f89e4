"""Audience and timeline of one session's computation for :mod:`liveops.analytics.runner`
(commerce, promotion, segments and top lists: ``sections``): each part runs a few
``analytics.metrics`` queries on the materialised tables and turns their small results into
figures (ratios, minute rows, online). Plain Python values out; no Django."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from itertools import accumulate
from typing import Any, Final

from liveops.analytics import metrics as m
from liveops.analytics.digest import Digest
from liveops.analytics.engine import Engine
from liveops.analytics.results import MinuteRow

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MONEY: Final = Decimal("0.0001")
_ZERO: Final = Decimal(0)
_NO_WATCH: Final = "the session has no enter events, so no watch intervals"

#: Keys of ``SessionMetrics.summary``, in METRICS.md order.
SUMMARY_KEYS: Final = (
    "duration_s",
    "pcu",
    "acu",
    "uv",
    "pv",
    "avg_watch_s",
    "hours_watched",
    "stay_1min_rate",
    "bounce_rate",
    "new_viewers",
    "returning_viewers",
    "return_rate_next",
    "comments",
    "commenters",
    "likes",
    "shares",
    "follows",
    "interaction_rate",
    "comment_rate",
    "follow_rate",
    "answered_60s_rate",
    "gmv",
    "orders",
    "buyers",
    "conversion_rate",
    "uv_value",
    "aov",
    "gpm",
    "gift_revenue",
    "attributed_viewers",
    "cost_per_viewer",
    "channel_roi",
    "entry_rate",
)

Number = int | float


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def to_ms(value: datetime) -> int:
    """An aware datetime as UTC epoch milliseconds (exact; sub-millisecond part dropped)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetimes must be timezone-aware (UTC inside)")
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def to_dt(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def ratio(part: float | None, whole: float | None) -> float | None:
    """part ÷ whole; None when either is unknown or whole is 0."""
    if part is None or whole is None or whole == 0:
        return None
    return part / whole


def money(value: Decimal) -> Decimal:
    return value.quantize(_MONEY, rounding=ROUND_HALF_EVEN)


def money_ratio(part: Decimal | None, whole: int | None, scale: int = 1) -> Decimal | None:
    if part is None or whole is None or whole == 0:
        return None
    return money(part * scale / Decimal(whole))


def _int(value: Any) -> int:
    return 0 if value is None else int(value)


def _dec(value: Any) -> Decimal:
    return _ZERO if value is None else Decimal(value)


class Run:
    """One computation's state: the engine, the summary being filled, grains and reasons."""

    def __init__(self, engine: Engine, currency: str) -> None:
        self.engine = engine
        self.currency = currency
        self.summary: dict[str, object] = dict.fromkeys(SUMMARY_KEYS)
        self.grains: dict[str, str] = {}
        self.unavailable: dict[str, str] = {}
        self.notes: list[str] = []
        self.has_window = False

    def rows(self, expr: Any) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.engine.execute(expr).to_pylist()
        return result

    def columns(self, expr: Any, order_by: str) -> dict[str, list[Any]]:
        """The rows of ``expr`` sorted by ``order_by``, column by column (nulls kept)."""
        table = self.engine.execute(expr).sort_by(order_by)
        return {name: table.column(name).to_pylist() for name in table.column_names}

    def one(self, expr: Any) -> dict[str, Any]:
        rows = self.rows(expr)
        return rows[0] if rows else {}

    def set(self, key: str, value: object, grain: str) -> None:
        self.summary[key] = value
        self.grains[key] = grain
        self.unavailable.pop(key, None)

    def na(self, key: str, reason: str) -> None:
        self.summary[key] = None
        self.grains[key] = "unavailable"
        self.unavailable[key] = reason

    def window(
        self, span: tuple[int | None, int | None], start: datetime | None, end: datetime | None
    ) -> m.Window:
        """The live: the session's start/end, else the first/last event (``span``, UTC ms)
        (``duration_s``)."""
        start_ms = None if start is None else to_ms(start)
        end_ms = None if end is None else to_ms(end)
        grain = "session"
        if start_ms is None or end_ms is None:
            grain = "events" if start_ms is None and end_ms is None else "session+events"
            start_ms = span[0] if start_ms is None else start_ms
            end_ms = span[1] if end_ms is None else end_ms
        if start_ms is None or end_ms is None:
            self.na("duration_s", "no start/end recorded and no events")
            return m.Window(0, 0)
        if end_ms < start_ms and grain != "session":
            # a live that has started but has no events since: zero length so far
            start_ms, end_ms = (start_ms, start_ms) if start is not None else (end_ms, end_ms)
        self.has_window = True
        window = m.Window(int(start_ms), int(end_ms))
        self.set("duration_s", window.duration_ms / 1000, grain)
        return window


@dataclass(frozen=True, slots=True)
class Tables:
    """The session's digest (``analytics.digest``) as tables of the engine, the digest of
    its events outside the window (None when there are none), and the tables materialised
    once from them."""

    window: m.Window
    digest_viewers: Any
    seconds: Any
    sources: Any
    snapshots: Any
    outside_seconds: Any
    outside_sources: Any
    complex_intervals: Any
    viewers: Any
    intervals: Any
    commerce: Any
    buyers: Any
    questions: Any
    host: Any
    host_known: bool

    @classmethod
    def build(
        cls,
        engine: Engine,
        digest: Digest,
        outside: Digest | None,
        window: m.Window,
        currency: str,
    ) -> Tables:
        d = {name: engine.table(digest.tables[name]) for name in _DIGEST_TABLES}
        o = (
            None
            if outside is None
            else {name: engine.table(outside.tables[name]) for name in _OUTSIDE_TABLES}
        )
        activity = m.viewer_activity(d["viewers"], o and o["viewers"])
        complex_intervals = engine.cache(m.complex_intervals(d["pairs"], d["viewers"], window))
        viewers = engine.cache(m.viewer_table(activity, complex_intervals, window))
        commerce = m.commerce_events(d["commerce"], window)  # a filter: cheap to repeat
        return cls(
            window=window,
            digest_viewers=d["viewers"],
            seconds=d["seconds"],
            sources=d["sources"],
            snapshots=d["snapshots"],
            outside_seconds=o and o["seconds"],
            outside_sources=o and o["sources"],
            complex_intervals=complex_intervals,
            viewers=viewers,
            intervals=m.watch_intervals(viewers, complex_intervals),
            commerce=commerce,
            buyers=engine.cache(m.buyer_table(commerce, currency)),
            questions=d["questions"],
            host=d["host"],
            host_known=bool(digest.host_id),
        )


#: The digest tables a computation reads (its visits only serve merging).
_DIGEST_TABLES: Final = (
    "viewers",
    "seconds",
    "sources",
    "commerce",
    "snapshots",
    "pairs",
    "questions",
    "host",
)
_OUTSIDE_TABLES: Final = ("viewers", "seconds", "sources")


# --------------------------------------------------------------------------------------------
# Audience
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Audience:
    uv: int
    watch_ms: int
    has_watch: bool
    stayed: int | None
    clickers: int
    buyers: int
    retention: tuple[float, ...] | None


def audience(run: Run, t: Tables) -> Audience:
    """UV, watch-time figures, the retention curve and the per-viewer interaction rates."""
    c = run.one(m.audience_counts(t.viewers))
    uv = _int(c.get("uv"))
    run.set("uv", uv, "events")
    has_watch = _int(c.get("with_enter")) > 0
    watch_ms = _int(c.get("watch_ms"))
    retention: tuple[float, ...] | None = None
    stayed: int | None = None
    if has_watch:
        stayed = _int(c.get("stayed"))
        run.set("avg_watch_s", ratio(watch_ms / 1000, uv), "events")
        run.set("stay_1min_rate", ratio(stayed, uv), "events")
        run.set("bounce_rate", ratio(_int(c.get("bounced")), uv), "events")
        retention = _retention(run.rows(m.watch_histogram(t.viewers)), uv)
        run.grains["retention_curve"] = "events"
    else:
        for key in ("avg_watch_s", "stay_1min_rate", "bounce_rate", "retention_curve"):
            run.na(key, _NO_WATCH)
        run.summary.pop("retention_curve", None)
    commenters = _int(c.get("commenters"))
    run.set("commenters", commenters, "events")
    run.set("comment_rate", ratio(commenters, uv), "events")
    run.set("interaction_rate", ratio(_int(c.get("interactors")), uv), "events")
    without_enter = uv - _int(c.get("with_enter"))
    if has_watch and without_enter:
        run.notes.append(
            f"{without_enter} of {uv} viewers have no enter event (the platform may sample "
            "enters): their watch time counts as 0"
        )
    buyers = _int(c.get("buyers"))
    run.set("buyers", buyers, "events")
    run.set("conversion_rate", ratio(buyers, uv), "events")
    return Audience(uv, watch_ms, has_watch, stayed, _int(c.get("clickers")), buyers, retention)


def _retention(histogram: list[dict[str, Any]], uv: int) -> tuple[float, ...] | None:
    if uv == 0:
        return None
    per_minute = [0] * (m.RETENTION_MINUTES + 1)
    for row in histogram:
        per_minute[int(row["minutes"])] += int(row["viewers"])
    at_least = list(accumulate(reversed(per_minute)))[::-1]  # viewers watching ≥ k min
    return tuple(at_least[k] / uv for k in range(1, m.RETENTION_MINUTES + 1))


# --------------------------------------------------------------------------------------------
# Timeline: per-second counts, minute rows, online
# --------------------------------------------------------------------------------------------

_COUNT_COLUMNS: Final = m.SECOND_COLUMNS
#: summary key / minute column → (per-second column, minute stats column)
_COUNT_SOURCES: Final = {
    "pv": ("entries", "entries"),
    "exits": ("exits", "exits"),
    "comments": ("comments", "comments"),
    "likes": ("likes", "likes"),
    "shares": ("shares", "shares"),
    "follows": ("follows", "new_follows"),
    "orders": ("orders", "orders"),
}


@dataclass(slots=True)
class Timeline:
    """Per-second sums (for segments), the minute rows and the online grain."""

    seconds: list[int]
    prefix: dict[str, list[int]]
    money_seconds: list[int]
    money_prefix: list[Decimal]
    money_ok: bool
    gmv_grain: str
    count_grains: dict[str, str]
    online_grain: str | None
    snapshots: list[tuple[int, int]]
    stats_online: dict[int, int]
    rows: tuple[MinuteRow, ...]
    pv: int | None
    gmv: Decimal | None

    def sum(self, column: str, lo_s: int, hi_s: int) -> int:
        """Σ of a per-second count over seconds lo_s ≤ s < hi_s."""
        a = bisect.bisect_left(self.seconds, lo_s)
        b = bisect.bisect_left(self.seconds, hi_s)
        values = self.prefix[column]
        return values[b] - values[a]

    def gmv_between(self, lo_s: int, hi_s: int) -> Decimal:
        a = bisect.bisect_left(self.money_seconds, lo_s)
        b = bisect.bisect_left(self.money_seconds, hi_s)
        return self.money_prefix[b] - self.money_prefix[a]


def _minute_range(run: Run, window: m.Window) -> range:
    if not run.has_window or window.duration_ms == 0:
        return range(0)
    first = window.start_ms // m.MINUTE_MS
    last = (window.end_ms - 1) // m.MINUTE_MS
    return range(first, last + 1)


def _minute_length(minute: int, window: m.Window) -> int:
    lo = max(minute * m.MINUTE_MS, window.start_ms)
    hi = min((minute + 1) * m.MINUTE_MS, window.end_ms)
    return hi - lo


def timeline(
    run: Run,
    t: Tables,
    window: m.Window,
    stats: list[dict[str, Any]] | None,
    aud: Audience,
) -> Timeline:
    """Event counts and online(t) per minute; PV, comments, likes, shares, follows, orders,
    GMV; PCU, ACU, hours watched — each from its best grain."""
    raw = run.columns(m.activity_per_second(t.seconds, t.outside_seconds, window), "second")
    seconds: list[int] = raw["second"]
    counts = {c: [v or 0 for v in raw[c]] for c in _COUNT_COLUMNS}  # a null sum is 0
    money_rows = sorted(run.rows(m.money_per_second(t.commerce, run.currency)), key=_second)
    minutes = _minute_range(run, window)
    stats_by_minute = {int(r["minute_ms"]) // m.MINUTE_MS: r for r in stats or ()}

    def stats_has(column: str) -> bool:
        return any(r.get(column) is not None for r in stats_by_minute.values())

    totals = {c: sum(values) for c, values in counts.items()}
    count_grains: dict[str, str] = {}
    for key, (column, stats_column) in _COUNT_SOURCES.items():
        if totals[column] > 0 or not stats_has(stats_column):
            count_grains[key] = "events"
        else:
            count_grains[key] = "minute_stats"
    foreign = sum(_int(r["foreign"]) for r in money_rows)
    money_ok = foreign == 0
    gmv_grain = "events" if money_rows or not stats_has("gmv") else "minute_stats"

    # totals
    pv: int | None = None
    for key, (column, stats_column) in _COUNT_SOURCES.items():
        if count_grains[key] == "events":
            value: int | None = totals[column]
        else:
            value = sum(_int(r.get(stats_column)) for r in stats_by_minute.values())
        if key == "pv":
            pv = value
        if key != "exits":
            run.set(key, value, count_grains[key])
    gmv: Decimal | None
    if gmv_grain == "minute_stats":
        gmv = sum((_dec(r.get("gmv")) for r in stats_by_minute.values()), _ZERO)
        run.set("gmv", money(gmv), "minute_stats")
    elif money_ok:
        gmv = sum((_dec(r["ordered"]) - _dec(r["refunded"]) for r in money_rows), _ZERO)
        run.set("gmv", money(gmv), "events")
    else:
        gmv = None
        run.na("gmv", f"{foreign} orders/refunds are in a currency other than {run.currency}")

    # online
    snapshots = _snapshot_steps(run.rows(m.online_snapshots(t.snapshots, window)))
    if snapshots:
        online_grain: str | None = "snapshots"
        online = _online_from_snapshots(snapshots, minutes)
    elif aud.has_watch:
        online_grain = "events"
        online = _online_from_intervals(run.rows(m.interval_edges(t.intervals)), minutes, window)
    elif stats_has("online"):
        online_grain = "minute_stats"
        online = {mm: _opt_int(stats_by_minute.get(mm, {}).get("online")) for mm in minutes}
    else:
        online_grain = None
        online = dict.fromkeys(minutes)
    _online_summary(run, online_grain, online, window, aud)
    stats_online = {
        mm: int(r["online"]) for mm, r in stats_by_minute.items() if r.get("online") is not None
    }

    replies: dict[int, int] | None = None
    if t.host_known:
        replies = {
            int(r["minute"]): int(r["replies"])
            for r in run.rows(m.host_replies_per_minute(t.host, window))
        }
    rows = _minute_rows(
        minutes,
        seconds,
        counts,
        money_rows,
        stats_by_minute,
        online,
        count_grains,
        gmv_grain,
        money_ok,
        replies,
    )
    prefix = {c: [0, *accumulate(counts[c])] for c in ("comments", "likes", "orders")}
    money_seconds = [int(r["second"]) for r in money_rows]
    money_prefix = [
        _ZERO,
        *accumulate(_dec(r["ordered"]) - _dec(r["refunded"]) for r in money_rows),
    ]
    return Timeline(
        seconds=seconds,
        prefix=prefix,
        money_seconds=money_seconds,
        money_prefix=money_prefix,
        money_ok=money_ok,
        gmv_grain=gmv_grain,
        count_grains=count_grains,
        online_grain=online_grain,
        snapshots=snapshots,
        stats_online=stats_online,
        rows=rows,
        pv=pv,
        gmv=gmv,
    )


def _second(row: dict[str, Any]) -> int:
    return int(row["second"])


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _snapshot_steps(rows: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """Snapshots as one step series (time, online), in time order. A simulcast's rows carry
    their ``stream``: the series is then the sum of each stream's latest value, so every
    use of it (last value in a minute, online at an instant) adds the platforms up."""
    if not rows or "stream" not in rows[0]:
        return sorted((int(r["ts_ms"]), int(r["online"])) for r in rows)
    latest: dict[int, int] = {}
    steps: dict[int, int] = {}
    for r in sorted(rows, key=lambda r: (int(r["ts_ms"]), int(r["stream"]))):
        latest[int(r["stream"])] = int(r["online"])
        steps[int(r["ts_ms"])] = sum(latest.values())  # the last of a millisecond wins
    return sorted(steps.items())


def _online_from_snapshots(
    snapshots: list[tuple[int, int]], minutes: range
) -> dict[int, Number | None]:
    """Last snapshot in each minute, carried forward through minutes without one."""
    last_in_minute: dict[int, int] = {}
    for ts, value in snapshots:  # time order: the last one wins
        last_in_minute[ts // m.MINUTE_MS] = value
    online: dict[int, Number | None] = {}
    current: int | None = None
    for minute in minutes:
        current = last_in_minute.get(minute, current)
        online[minute] = current
    return online


def _online_from_intervals(
    edges: list[dict[str, Any]], minutes: range, window: m.Window
) -> dict[int, Number | None]:
    """Average open intervals per minute: (F(minute end) − F(minute start)) ÷ its length,
    F(x) = Σ_{starts<x}(x − s) − Σ_{ends<x}(x − e) (exact integer arithmetic)."""
    if not minutes:
        return {}
    sums: dict[tuple[int, int], tuple[int, int]] = {}  # (edge, minute) → (n, Σ ms)
    for row in edges:
        minute, n = int(row["minute"]), int(row["n"])
        sums[(int(row["edge"]), minute)] = (n, n * minute * m.MINUTE_MS + int(row["offset_ms"]))
    count = [0, 0]  # starts, ends before the current boundary
    total = [0, 0]  # Σ of their times (ms)

    def take(minute: int) -> None:
        for edge in (0, 1):
            n, ms = sums.get((edge, minute), (0, 0))
            count[edge] += n
            total[edge] += ms

    def watched_before(x: int) -> int:
        return (count[0] * x - total[0]) - (count[1] * x - total[1])

    for minute in sorted({mm for _, mm in sums if mm < minutes.start}):
        take(minute)
    online: dict[int, Number | None] = {}
    before = watched_before(minutes.start * m.MINUTE_MS)
    for minute in minutes:
        take(minute)
        after = watched_before((minute + 1) * m.MINUTE_MS)
        online[minute] = (after - before) / _minute_length(minute, window)
        before = after
    return online


def _online_summary(
    run: Run,
    grain: str | None,
    online: dict[int, Number | None],
    window: m.Window,
    aud: Audience,
) -> None:
    if grain is None:
        reason = "no online-count snapshots, enter events or imported online figures"
        for key in ("online_series", "pcu", "acu", "hours_watched"):
            run.na(key, reason)
        run.summary.pop("online_series", None)
        return
    run.grains["online_series"] = grain
    values = [v for v in online.values() if v is not None]
    run.set("pcu", max(values) if values else None, grain)
    if grain == "events":
        # the exact total watch time (the minute averages sum to it up to float rounding)
        run.set("hours_watched", aud.watch_ms / 1000, grain)
        run.set("acu", ratio(aud.watch_ms, window.duration_ms), grain)
        return
    covered = [(v, _minute_length(mm, window)) for mm, v in online.items() if v is not None]
    weighted = sum(v * length for v, length in covered)
    run.set("hours_watched", weighted / 1000 if covered else None, grain)
    run.set("acu", ratio(weighted, sum(length for _, length in covered)), grain)


def _minute_rows(
    minutes: range,
    seconds: list[int],
    per_second: dict[str, list[int]],
    money_rows: list[dict[str, Any]],
    stats_by_minute: dict[int, dict[str, Any]],
    online: dict[int, Number | None],
    count_grains: dict[str, str],
    gmv_grain: str,
    money_ok: bool,
    replies: dict[int, int] | None,
) -> tuple[MinuteRow, ...]:
    if not minutes:
        return ()
    first, last = minutes.start, minutes.stop - 1

    def minute_of(second: int) -> int:
        return min(max(second // 60, first), last)

    counts = {mm: dict.fromkeys(_COUNT_COLUMNS, 0) for mm in minutes}
    slots = [counts[minute_of(second)] for second in seconds]
    for c in _COUNT_COLUMNS:
        for slot, value in zip(slots, per_second[c], strict=True):
            slot[c] += value
    gmv = dict.fromkeys(minutes, _ZERO)
    for row in money_rows:
        gmv[minute_of(int(row["second"]))] += _dec(row["ordered"]) - _dec(row["refunded"])

    def pick(mm: int, key: str) -> int | None:
        column, stats_column = _COUNT_SOURCES[key]
        if count_grains[key] == "events":
            return counts[mm][column]
        return _opt_int(stats_by_minute.get(mm, {}).get(stats_column))

    rows = []
    for mm in minutes:
        if gmv_grain == "minute_stats":
            imported = stats_by_minute.get(mm, {}).get("gmv")
            minute_gmv: Decimal | None = None if imported is None else money(Decimal(imported))
        else:
            minute_gmv = money(gmv[mm]) if money_ok else None
        rows.append(
            MinuteRow(
                minute=to_dt(mm * m.MINUTE_MS),
                online=online.get(mm),
                entries=pick(mm, "pv"),
                exits=pick(mm, "exits"),
                comments=pick(mm, "comments"),
                likes=pick(mm, "likes"),
                gifts=counts[mm]["gifts"],
                orders=pick(mm, "orders"),
                gmv=minute_gmv,
                host_replies=None if replies is None else replies.get(mm, 0),
            )
        )
    return tuple(rows)
