"""Commerce, promotion, returning viewers, segments and top lists of one session's
computation for :mod:`liveops.analytics.runner` (audience and timeline: ``shaping``)."""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

import pyarrow as pa  # type: ignore[import-untyped]

from liveops.analytics import metrics as m
from liveops.analytics.results import (
    ChannelResult,
    FunnelStep,
    ProductResult,
    SegmentResult,
    SegmentSpec,
    SourceShare,
    TopViewer,
)
from liveops.analytics.shaping import (
    Audience,
    Number,
    Run,
    Tables,
    Timeline,
    money,
    money_ratio,
    ratio,
    to_dt,
    to_ms,
)

_ZERO: Final = Decimal(0)
_FROM_STATS: Final = "{what} come from imported minute stats; {needs} needs {kind} events"


def _int(value: Any) -> int:
    return 0 if value is None else int(value)


def _dec(value: Any) -> Decimal:
    return _ZERO if value is None else Decimal(value)


# --------------------------------------------------------------------------------------------
# Commerce and rates
# --------------------------------------------------------------------------------------------


def commerce(
    run: Run,
    t: Tables,
    aud: Audience,
    tl: Timeline,
    gift_rates: Mapping[str, Decimal],
    stats: list[dict[str, Any]] | None,
    impressions: int | None,
) -> int | None:
    """GMV-derived figures, gift revenue, follow and entry rates; returns fully refunded
    buyers (for the funnel's *paid* step) or None when money is not available."""
    uv = aud.uv
    if tl.count_grains["comments"] == "minute_stats":
        reason = _FROM_STATS.format(what="comments", needs="this", kind="comment")
        for key in ("commenters", "comment_rate"):
            run.na(key, reason)
    if tl.count_grains["orders"] == "minute_stats":
        reason = _FROM_STATS.format(what="orders", needs="this", kind="order")
        for key in ("buyers", "conversion_rate", "aov"):
            run.na(key, reason)
    gmv = tl.gmv
    grain = tl.gmv_grain
    buyers = run.summary.get("buyers")
    if gmv is None:
        reason = run.unavailable["gmv"]
        for key in ("uv_value", "aov", "gpm"):
            run.na(key, reason)
    else:
        run.set("uv_value", money_ratio(gmv, uv), grain)
        run.set("gpm", money_ratio(gmv, tl.pv, 1000), grain)
        if isinstance(buyers, int):
            run.set("aov", money_ratio(gmv, buyers), grain)
    follows = run.summary.get("follows")
    run.set("follow_rate", ratio(follows if isinstance(follows, int) else None, uv), "events")
    _gift_revenue(run, t, gift_rates)
    _entry_rate(run, tl, stats, impressions)
    if gmv is None or tl.gmv_grain != "events":
        return None
    return _int(run.one(m.buyer_counts(t.buyers)).get("fully_refunded"))


def _gift_revenue(run: Run, t: Tables, rates: Mapping[str, Decimal]) -> None:
    total = _ZERO
    problems: list[str] = []
    for row in run.rows(m.gift_units(t.commerce)):
        if _int(row["valueless"]):
            problems.append(f"{_int(row['valueless'])} gifts carry no value")
        amount = _dec(row["amount"])
        code, platform = row["currency"], row["platform"]
        if code == run.currency:
            total += amount
        elif code is None:
            rate = _rate(rates, platform)
            if rate is None:
                problems.append(f"no rate for {platform or 'unknown platform'} gift units")
            else:
                total += amount * rate
        else:
            problems.append(f"gifts in {code} cannot be converted to {run.currency}")
    if problems:
        run.na("gift_revenue", "; ".join(problems))
    else:
        run.set("gift_revenue", money(total), "events")


def _rate(rates: Mapping[str, Decimal], platform: str | None) -> Decimal | None:
    if platform is None:
        return None
    rate = rates.get(platform, rates.get(platform.lower()))
    return None if rate is None else Decimal(rate)


def _entry_rate(
    run: Run, tl: Timeline, stats: list[dict[str, Any]] | None, impressions: int | None
) -> None:
    grain = "input"
    if impressions is None and stats:
        values = [r["impressions"] for r in stats if r.get("impressions") is not None]
        if values:
            impressions, grain = sum(int(v) for v in values), "minute_stats"
    if impressions is None:
        run.na("entry_rate", "needs imported impressions of the live room")
    else:
        run.set("entry_rate", ratio(tl.pv, impressions), grain)


def funnel(run: Run, aud: Audience, fully_refunded: int | None) -> tuple[FunnelStep, ...]:
    """entered (UV) → stayed > 1 min → clicked a product → ordered → paid (ordered minus
    buyers whose refunds cover their orders). Each step counts viewers who did it; the
    ratio is to the previous step."""
    buyers = run.summary.get("buyers")
    ordered = buyers if isinstance(buyers, int) else None
    paid = None if ordered is None or fully_refunded is None else ordered - fully_refunded
    counts = (
        ("entered", aud.uv),
        ("stayed_1min", aud.stayed),
        ("clicked_product", aud.clickers),
        ("ordered", ordered),
        ("paid", paid),
    )
    steps: list[FunnelStep] = []
    previous: int | None = None
    for i, (step, count) in enumerate(counts):
        steps.append(FunnelStep(step, count, None if i == 0 else ratio(count, previous)))
        previous = count
    return tuple(steps)


# --------------------------------------------------------------------------------------------
# Sources, products, channels, returning viewers
# --------------------------------------------------------------------------------------------


def answers(run: Run, t: Tables) -> None:
    """``answered_60s_rate``: questions in the window answered by a host reply in chat within
    60 s — not available without the account's id (its replies cannot be told apart) or
    without questions."""
    if not t.host_known:
        run.na(
            "answered_60s_rate",
            "the platform account's id is not set, so the host's replies in chat cannot be "
            "told apart (Settings → Platform accounts)",
        )
        return
    row = run.one(m.answered_questions(t.questions, t.host, t.window))
    asked = _int(row.get("questions"))
    if asked == 0:
        run.na("answered_60s_rate", "no comment asked a question")
        return
    run.set("answered_60s_rate", ratio(_int(row.get("answered")), asked), "events")


def sources(run: Run, t: Tables) -> tuple[SourceShare, ...]:
    """Entries by traffic source, largest first (``source_share``)."""
    counts: dict[str, int] = {}
    for row in run.rows(m.entry_sources(t.sources, t.outside_sources, t.window)):
        key = row["source"] if row["source"] is not None else "unknown"
        counts[key] = counts.get(key, 0) + _int(row["entries"])
    total = sum(counts.values())
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    run.grains["source_share"] = "events"
    return tuple(SourceShare(s, n, n / total) for s, n in ordered)


def products(run: Run, t: Tables, tl: Timeline) -> tuple[ProductResult, ...]:
    """Clicks, orders, buyers, GMV and GPM per product (orders first)."""
    out = []
    for row in run.rows(m.product_table(t.commerce, run.currency)):
        gmv = (
            money(_dec(row["ordered"]) - _dec(row["refunded"]))
            if tl.money_ok and _int(row["foreign"]) == 0
            else None
        )
        out.append(
            ProductResult(
                product_id=str(row["product_id"]),
                clicks=_int(row["clicks"]),
                clickers=_int(row["clickers"]),
                orders=_int(row["orders"]),
                buyers=_int(row["buyers"]),
                gmv=gmv,
                gpm=money_ratio(gmv, tl.pv, 1000),
            )
        )
    out.sort(key=lambda p: (-p.orders, -p.clicks, p.product_id))
    return tuple(out)


def channels(
    run: Run,
    t: Tables,
    tl: Timeline,
    given: Mapping[str, Decimal | None] | Sequence[str] | None,
) -> tuple[ChannelResult, ...]:
    """Attributed viewers, GMV, cost per viewer and ROI per channel code."""
    codes: list[str] | None = None
    costs: dict[str, Decimal] = {}
    if given is not None:
        codes = list(given)
        if isinstance(given, Mapping):
            costs = {k: Decimal(v) for k, v in given.items() if v is not None}
    rows = run.rows(m.attribution(t.viewers, t.buyers, t.window, codes))
    by_code = {str(r["source"]): r for r in rows}
    results = []
    for code in codes if codes is not None else sorted(by_code):
        row = by_code.get(code, {})
        viewers = _int(row.get("viewers"))
        gmv = (
            money(_dec(row.get("ordered")) - _dec(row.get("refunded")))
            if tl.money_ok and _int(row.get("foreign")) == 0
            else None
        )
        cost = costs.get(code)
        roi = None if gmv is None or not cost else float(gmv / cost)
        results.append(ChannelResult(code, viewers, gmv, cost, money_ratio(cost, viewers), roi))
    run.set("attributed_viewers", sum(r.attributed_viewers for r in results), "events")
    costed = [r for r in results if r.cost is not None]
    if not costed:
        for key in ("cost_per_viewer", "channel_roi"):
            run.na(key, "no channel costs given")
    else:
        cost = sum((r.cost for r in costed if r.cost is not None), _ZERO)
        run.set(
            "cost_per_viewer",
            money_ratio(cost, sum(r.attributed_viewers for r in costed)),
            "events",
        )
        if any(r.gmv is None for r in costed):
            run.na("channel_roi", "GMV is not available")
        else:
            gmv = sum((r.gmv for r in costed if r.gmv is not None), _ZERO)
            run.set("channel_roi", float(gmv / cost) if cost else None, "events")
    return tuple(results)


def returning(
    run: Run,
    t: Tables,
    aud: Audience,
    prior_files: Sequence[str] | None,
    next_files: Sequence[str] | None,
) -> None:
    """``new_viewers`` / ``returning_viewers`` and ``return_rate_next``."""
    if prior_files is None:
        for key in ("new_viewers", "returning_viewers"):
            run.na(key, "the earlier sessions of the account were not given")
    else:
        prior = run.engine.events(list(prior_files))
        seen = _int(run.one(m.viewers_seen_in(t.viewers, prior)).get("viewers"))
        run.set("returning_viewers", seen, "events")
        run.set("new_viewers", aud.uv - seen, "events")
    if next_files is None:
        run.na("return_rate_next", "the series has no next session (yet)")
    else:
        following = run.engine.events(list(next_files))
        seen = _int(run.one(m.viewers_seen_in(t.viewers, following)).get("viewers"))
        run.set("return_rate_next", ratio(seen, aud.uv), "events")


# --------------------------------------------------------------------------------------------
# Segments
# --------------------------------------------------------------------------------------------


def segments(
    run: Run, t: Tables, aud: Audience, tl: Timeline, specs: Sequence[SegmentSpec]
) -> tuple[SegmentResult, ...]:
    """Per run-of-show segment: online at start/end, Δ, average online, retention within,
    comments/likes per minute, orders, GMV, planned and actual durations."""
    window = t.window
    bounds: dict[int, tuple[int, int]] = {}
    for idx, spec in enumerate(specs):
        start = spec.actual_start or spec.planned_start
        end = spec.actual_end or spec.planned_end
        if start is None or end is None or not run.has_window:
            continue
        lo, hi = max(to_ms(start), window.start_ms), min(to_ms(end), window.end_ms)
        if hi >= lo:
            bounds[idx] = (lo, hi)
    presence: dict[int, dict[str, Any]] = {}
    if bounds and aud.has_watch:
        table = run.engine.table(
            pa.table(
                {
                    "idx": pa.array(list(bounds), type=pa.int64()),
                    "start_ms": pa.array([b[0] for b in bounds.values()], type=pa.int64()),
                    "end_ms": pa.array([b[1] for b in bounds.values()], type=pa.int64()),
                }
            )
        )
        presence = {int(r["idx"]): r for r in run.rows(m.segment_presence(t.intervals, table))}
    return tuple(
        _segment(spec, bounds.get(idx), presence.get(idx, {}), aud, tl, window)
        for idx, spec in enumerate(specs)
    )


def _duration(start: Any, end: Any) -> float | None:
    if start is None or end is None:
        return None
    return (to_ms(end) - to_ms(start)) / 1000


def _segment(
    spec: SegmentSpec,
    bounds: tuple[int, int] | None,
    presence: dict[str, Any],
    aud: Audience,
    tl: Timeline,
    window: m.Window,
) -> SegmentResult:
    planned = _duration(spec.planned_start, spec.planned_end)
    actual = _duration(spec.actual_start, spec.actual_end)
    if bounds is None:
        return SegmentResult(
            spec.key, spec.title, None, None, planned, actual,
            None, None, None, None, None, None, None, None, None, None, None, None,
        )  # fmt: skip
    lo, hi = bounds
    length = hi - lo
    grain = tl.online_grain
    online_start: Number | None = None
    online_end: Number | None = None
    avg: float | None = None
    if grain == "events":
        online_start, online_end = _int(presence.get("at_start")), _int(presence.get("at_end"))
        avg = ratio(_int(presence.get("watch_ms")), length)
    elif grain == "snapshots":
        online_start, online_end = _snapshot_at(tl, lo), _snapshot_at(tl, hi)
        avg = _snapshot_average(tl, lo, hi)
    elif grain == "minute_stats":
        online_start, online_end = _stats_at(tl, lo, window), _stats_at(tl, hi, window)
        avg = _stats_average(tl, lo, hi)
    retention = (
        ratio(_int(presence.get("retained")), _int(presence.get("at_start")))
        if aud.has_watch
        else None
    )
    first_s = lo // 1000
    stop_s = hi // 1000 + (1 if hi == window.end_ms else 0)
    minutes = length / 60_000

    def count(key: str, column: str) -> int | None:
        if tl.count_grains[key] != "events":
            return None
        return tl.sum(column, first_s, stop_s)

    comments, likes = count("comments", "comments"), count("likes", "likes")
    gmv = (
        money(tl.gmv_between(first_s, stop_s)) if tl.money_ok and tl.gmv_grain == "events" else None
    )
    return SegmentResult(
        key=spec.key,
        title=spec.title,
        start=to_dt(lo),
        end=to_dt(hi),
        planned_duration_s=planned,
        actual_duration_s=actual,
        online_start=online_start,
        online_end=online_end,
        online_delta=(
            None if online_start is None or online_end is None else online_end - online_start
        ),
        avg_online=avg,
        retention=retention,
        comments=comments,
        likes=likes,
        comments_per_min=ratio(comments, minutes),
        likes_per_min=ratio(likes, minutes),
        orders=count("orders", "orders"),
        gmv=gmv,
        online_grain=grain,
    )


def _snapshot_at(tl: Timeline, instant: int) -> int | None:
    i = bisect.bisect_right(tl.snapshots, (instant, float("inf"))) - 1
    return tl.snapshots[i][1] if i >= 0 else None


def _snapshot_average(tl: Timeline, lo: int, hi: int) -> float | None:
    """Time-weighted average of the snapshot step function over [lo, hi]."""
    if hi <= lo:
        return None
    i = bisect.bisect_right(tl.snapshots, (lo, float("inf"))) - 1
    value = tl.snapshots[i][1] if i >= 0 else None
    at, total, covered = lo, 0, 0
    for ts, nxt in tl.snapshots[i + 1 :]:
        if ts >= hi:
            break
        if value is not None:
            total += value * (ts - at)
            covered += ts - at
        at, value = ts, nxt
    if value is not None:
        total += value * (hi - at)
        covered += hi - at
    return ratio(total, covered)


def _stats_at(tl: Timeline, instant: int, window: m.Window) -> int | None:
    minute = min(instant, max(window.end_ms - 1, window.start_ms)) // 60_000
    return tl.stats_online.get(minute)


def _stats_average(tl: Timeline, lo: int, hi: int) -> float | None:
    total, covered = 0, 0
    for minute in range(lo // 60_000, (max(hi - 1, lo)) // 60_000 + 1):
        overlap = min((minute + 1) * 60_000, hi) - max(minute * 60_000, lo)
        value = tl.stats_online.get(minute)
        if value is not None and overlap > 0:
            total += value * overlap
            covered += overlap
    return ratio(total, covered)


# --------------------------------------------------------------------------------------------
# Top viewers
# --------------------------------------------------------------------------------------------


def top_viewers(
    run: Run, t: Tables, aud: Audience, tl: Timeline, limit: int
) -> dict[str, tuple[TopViewer, ...]]:
    """Top ``limit`` viewers by watch time, by comments and by spend, with display names."""
    lists: dict[str, list[tuple[str, Number | Decimal]]] = {}
    if aud.has_watch:
        lists["watch"] = [
            (r["viewer_id"], _int(r["watch_ms"]) / 1000)
            for r in run.rows(m.top_viewers(t.viewers, "watch_ms", limit))
        ]
    lists["comments"] = [
        (r["viewer_id"], _int(r["comments"]))
        for r in run.rows(m.top_viewers(t.viewers, "comments", limit))
    ]
    if tl.money_ok:
        lists["spend"] = [
            (r["viewer_id"], money(_dec(r["spend"])))
            for r in run.rows(m.top_spenders(t.buyers, limit))
        ]
    ids = sorted({viewer for entries in lists.values() for viewer, _ in entries})
    names: dict[str, str] = {}
    if ids:
        names = {
            r["viewer_id"]: r["viewer_name"]
            for r in run.rows(m.viewer_names(t.digest_viewers, ids))
        }
    return {
        key: tuple(TopViewer(v, names.get(v), value) for v, value in entries)
        for key, entries in lists.items()
    }
