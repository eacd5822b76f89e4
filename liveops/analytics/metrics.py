"""Metric definitions of ../shared/METRICS.md, written once as Ibis expressions.

Every function here takes Ibis tables and returns an Ibis table (nothing is executed), so the
same definitions run on DuckDB and on Spark (``analytics.engine``); ``analytics.runner``
executes them and turns the small results into the figures of a session. This module must
never import Django (an import-linter contract in pyproject.toml enforces it).

The event table
    :data:`EVENT_COLUMNS`: the columns of the event store's ARROW_SCHEMA that the
    definitions read, with its types, plus ``ts_ms``: ``ts`` as UTC epoch milliseconds
    (int64), which :meth:`Engine.events` adds with the engine's native function (portable
    ``epoch_seconds()`` arithmetic is 5× slower on DuckDB and truncates on Spark). All time
    arithmetic is on these integers: no timestamp subtraction (Spark drops milliseconds),
    no time zones (minutes are UTC minutes: a DST change or midnight changes nothing).

Structure: the session digest first, then small tables
    The definitions read the session's digest (``analytics.digest``: per-viewer and
    per-second counts, the commerce events and snapshots, the paired watch intervals of
    viewers with several visits — built as the events arrive, window-independent), never
    the raw events: a count inside the live's window is the digest's count minus the
    digest of the events outside the window (None when there are none).
    :func:`viewer_activity` applies the window per viewer; :func:`complex_intervals` closes
    and clips the stored intervals; :func:`viewer_table` (one row per viewer of the UV) is
    what every audience figure aggregates — distinct counts are counts of its rows
    (``count(DISTINCT …) FILTER`` is slow on DuckDB), conditional counts are ``sum(CASE
    WHEN … THEN 1 ELSE 0 END)`` (DuckDB's ``FILTER`` clause is slower still); minute rows
    and run-of-show segments are sums of the digest's seconds.

Units (METRICS.md): rates are fractions, times seconds — ``hours_watched`` too, despite its
name —, money Decimals in the session currency.

Decisions where METRICS.md is silent
    * The live window is ``[start, end]`` (both inclusive). Events outside it are ignored by
      every count and sum; enter/leave events outside it still shape the watch intervals,
      which are then clipped to the window (a viewer who entered before the start watches
      from the start). UV counts viewers with an event in the window or a clipped watch
      interval longer than zero.
    * Watch intervals: an enter pairs with the viewer's next leave strictly after it (a
      leave and an enter in the same millisecond are a reconnect, not a zero-length
      visit). An enter with no later leave closes at ``min(viewer's last event + 60 s,
      end)``. Overlapping intervals (enter, enter, leave) are merged, so watch time is the
      length of their union. A leave with no enter before
      it opens nothing; viewers with no enter event have no watch time (they still count
      in UV) — on platforms that sample enter events this lowers stay rates, which is why
      the watch-time metrics say their grain.
    * online(t) from events is the *average* number of open intervals during minute t
      (so Σ online(t)·Δt equals the hours watched exactly and ACU = hours watched ÷
      duration holds); from snapshots it is the last snapshot in the minute, carried
      forward through minutes without one.
    * Money is the session currency. Order/refund amounts without a currency are in it;
      amounts in another currency cannot be converted, so the money figures become "not
      available" rather than silently leaving them out. Gift amounts without a currency are
      in the platform's unit and convert with the caller's per-platform rate.

Metric → definition (keys of METRICS.md; the runner turns these tables into figures)

===================== =================================================================
key                   computed from
===================== =================================================================
duration_s            the window (:class:`Window`)
online_series, pcu,   :func:`online_snapshots` / :func:`interval_edges` /
acu, hours_watched    :func:`minute_stats_rows`
uv, avg_watch_s,      :func:`audience_counts` over :func:`viewer_table`
stay_1min_rate,
bounce_rate,
commenters,
interaction_rate,
comment_rate,
conversion_rate
retention_curve       :func:`watch_histogram`
pv, comments, likes,  :func:`activity_per_second` (``comments_series`` too)
shares, follows,
orders
gmv, uv_value, aov,   :func:`money_per_second`, :func:`buyer_table`
gpm, buyers, funnel
gift_revenue          :func:`gift_units`
source_share          :func:`entry_sources`
attributed_viewers,   :func:`attribution`
cost_per_viewer,
channel_roi
new/returning,        :func:`viewers_seen_in`
return_rate_next
answered_60s_rate     :func:`answered_questions` (questions: :func:`is_question`; answers:
                      the host account's own chat replies)
entry_rate            PV ÷ imported impressions
segments              :func:`segment_presence` and the per-second tables
===================== =================================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import ibis  # type: ignore[import-untyped]
import ibis.expr.datatypes as dt  # type: ignore[import-untyped]

__all__ = [
    "ANSWER_MS",
    "BOUNCE_MS",
    "EVENT_COLUMNS",
    "MINUTE_MS",
    "NO_LEAVE_CLOSE_MS",
    "QUESTION_HINTS",
    "RETENTION_MINUTES",
    "SECOND_COLUMNS",
    "STAY_MS",
    "VIEWER_COUNTS",
    "Window",
    "activity_per_second",
    "answered_questions",
    "attribution",
    "audience_counts",
    "buyer_counts",
    "buyer_table",
    "commerce_events",
    "complex_intervals",
    "entry_sources",
    "gift_units",
    "has_kind",
    "host_replies_per_minute",
    "interval_edges",
    "is_question",
    "minute_stats_rows",
    "money_per_second",
    "online_snapshots",
    "product_table",
    "segment_presence",
    "top_spenders",
    "top_viewers",
    "viewer_activity",
    "viewer_names",
    "viewer_table",
    "viewers_seen_in",
    "watch_histogram",
    "watch_intervals",
]

#: The event columns the definitions read, typed as in the event store's ARROW_SCHEMA
#: (``liveops.events.schema``; analytics reads the files, not that module: app boundaries),
#: plus ``ts_ms``, which the engine adds.
EVENT_COLUMNS: Final = ibis.schema(
    {
        "ts": dt.Timestamp(timezone="UTC", scale=6),
        "kind": dt.string,
        "viewer_id": dt.string,
        "viewer_name": dt.string,
        "text": dt.string,
        "quantity": dt.int64,
        "amount": dt.Decimal(18, 4),
        "currency": dt.string,
        "product_id": dt.string,
        "source": dt.string,
        "platform": dt.string,
        "ts_ms": dt.int64,
    }
)

#: Ibis ships no type information; these aliases say what a value is meant to be.
Table = Any
Expr = Any

SECOND_MS: Final = 1_000
MINUTE_MS: Final = 60_000
#: An enter with no leave closes this long after the viewer's last event (METRICS.md).
NO_LEAVE_CLOSE_MS: Final = 60_000
#: stay_1min_rate counts watch time > 60 s; bounce_rate counts watch time < 10 s.
STAY_MS: Final = 60_000
BOUNCE_MS: Final = 10_000
#: The retention curve r(t) runs over t = 1 … 60 minutes.
RETENTION_MINUTES: Final = 60

INTERACTION_KINDS: Final = ("comment", "like", "share", "follow", "gift")
#: A reply within this long answers a question (METRICS.md ``answered_60s_rate``).
ANSWER_MS: Final = 60_000
#: A comment asks something when its trimmed, lower-cased text (2+ characters) contains one
#: of these (punctuation, Chinese and English question words).
QUESTION_HINTS: Final = (
    "?", "？", "吗", "么", "多少", "怎么", "什么", "哪", "几", "是否", "能不能", "有没有",
    "可不可以",
    "how ", "what ", "when ", "where ", "why ", "which ", "can ", "is it", "does ",
)  # fmt: skip
COMMERCE_KINDS: Final = ("order", "refund", "gift", "product_click")


@dataclass(frozen=True, slots=True)
class Window:
    """The live, ``[start_ms, end_ms]`` in UTC epoch milliseconds, both ends inclusive."""

    start_ms: int
    end_ms: int

    def __post_init__(self) -> None:
        if self.end_ms < self.start_ms:
            raise ValueError("the live ends before it starts")

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


def _lit(value: int) -> Expr:
    return ibis.literal(value, type="int64")


def _count(condition: Expr) -> Expr:
    """Σ 1 where ``condition`` — a conditional count without DuckDB's slow FILTER clause."""
    return ibis.ifelse(condition, 1, 0).sum()


def _sum_if(condition: Expr, value: Expr) -> Expr:
    return ibis.ifelse(condition, value, 0).sum()


def _in_window(ts_ms: Expr, window: Window) -> Expr:
    return (ts_ms >= _lit(window.start_ms)) & (ts_ms <= _lit(window.end_ms))


def _in_currency(currency_column: Expr, currency: str) -> Expr:
    """Amounts in the session currency: its code, or no code (orders and refunds)."""
    return currency_column.isnull() | (currency_column == currency)


# --------------------------------------------------------------------------------------------
# Per viewer
# --------------------------------------------------------------------------------------------


#: Bit of each kind in ``viewer_activity``'s ``kinds`` (kinds seen in the window);
#: any other kind sets OTHER_BIT, so ``kinds != 0`` means "an event in the window".
KIND_BITS: Final[dict[str, int]] = {
    "enter": 1,
    "leave": 2,
    "comment": 4,
    "like": 8,
    "share": 16,
    "follow": 32,
    "gift": 64,
    "product_click": 128,
    "order": 256,
    "refund": 512,
}
OTHER_BIT: Final = 1024
#: The per-viewer event count columns of the session digest (``analytics.digest``): column
#: → kind.
VIEWER_COUNTS: Final[dict[str, str]] = {
    "n_enter": "enter",
    "n_leave": "leave",
    "n_comment": "comment",
    "n_like": "like",
    "n_share": "share",
    "n_follow": "follow",
    "n_gift": "gift",
    "n_click": "product_click",
    "n_order": "order",
    "n_refund": "refund",
}
#: Per-second count columns of :func:`activity_per_second`.
SECOND_COLUMNS: Final = (
    "entries",
    "exits",
    "comments",
    "likes",
    "shares",
    "follows",
    "gifts",
    "clicks",
    "orders",
)


def is_question(text: Expr) -> Expr:
    """Whether a comment's ``text`` asks something (:data:`QUESTION_HINTS`); the same test as
    ``analytics.words.is_question`` for Python strings."""
    lowered = text.strip().lower()
    hit = ibis.literal(False)
    for hint in QUESTION_HINTS:
        hit = hit | lowered.contains(hint)
    return (lowered.length() >= 2) & hit


def has_kind(kinds: Expr, *names: str) -> Expr:
    """Whether a ``kinds`` bit mask has any of the bits of ``names``."""
    mask = 0
    for name in names:
        mask |= KIND_BITS[name]
    return (kinds & mask) != 0


def viewer_activity(viewers: Table, outside: Table | None) -> Table:
    """One row per viewer id of the digest (``analytics.digest``), the live's window applied.

    Columns: ``last_ms`` (the viewer's last event at any time — the no-leave heuristic),
    ``kinds`` (bit mask of the kinds of the viewer's events in the window,
    :data:`KIND_BITS`; 0 = no event in the window), ``enters`` / ``leaves`` (at any time),
    ``comments`` (in the window), ``first_enter_ms``, ``last_leave_ms`` and
    ``first_enter_source`` (names stay in the digest: few are shown). A count in the
    window is the digest's count minus the count of the viewer's events outside it
    (``outside``: the digest of those events, None when there are none).
    """
    v = viewers
    if outside is not None:
        o = outside.select(
            "viewer_id",
            **{f"o_{column}": outside[column] for column in ("n_events", *VIEWER_COUNTS)},
        )
        v = v.left_join(o, "viewer_id")

    def inside(column: str) -> Expr:
        if outside is None:
            return v[column]
        return v[column] - ibis.coalesce(v[f"o_{column}"], _lit(0))

    kinds: Expr = _lit(0)
    counted: Expr = _lit(0)
    for column, kind in VIEWER_COUNTS.items():
        n = inside(column)
        kinds = kinds + ibis.ifelse(n > 0, _lit(KIND_BITS[kind]), _lit(0))
        counted = counted + n
    kinds = kinds + ibis.ifelse(inside("n_events") > counted, _lit(OTHER_BIT), _lit(0))
    return v.select(
        "viewer_id",
        "last_ms",
        kinds=kinds,
        first_enter_ms=v.first_enter_ms,
        last_leave_ms=v.last_leave_ms,
        enters=v.n_enter,
        leaves=v.n_leave,
        comments=inside("n_comment"),
        first_enter_source=v.first_enter_source.nullif(""),
    )


def _is_simple(activity: Table) -> Expr:
    """One enter and at most one leave: the interval follows from the per-viewer row."""
    return (activity.enters == 1) & (activity.leaves <= 1)


def _no_leave_close(last_ms: Expr, window: Window) -> Expr:
    return ibis.least(last_ms + _lit(NO_LEAVE_CLOSE_MS), _lit(window.end_ms))


def complex_intervals(pairs: Table, viewers: Table, window: Window) -> Table:
    """Watch intervals of viewers with several enters or leaves: (viewer_id, start_ms, end_ms).

    METRICS.md *watch intervals*: ``pairs`` (the digest's; ``viewers``: its viewers, for
    their last event) hold each enter with the
    viewer's next leave strictly after it, nested ones merged; an enter with no later leave
    closes at ``min(last event + 60 s, end)``; then each is clipped to the window. An
    enter's end is non-decreasing in its start (a later enter's next leave cannot be
    earlier), so intervals that share a clipped end are nested and the others are disjoint
    or touch at one instant — grouping by the clipped end and taking the earliest start
    gives the union's length. Zero-length results are dropped.
    """
    closed = pairs.filter(pairs.leave_ms.notnull()).select(
        "viewer_id", "enter_ms", end_ms=pairs.leave_ms
    )
    last = viewers.select("viewer_id", "last_ms")
    open_ = pairs.filter(pairs.leave_ms.isnull()).inner_join(last, "viewer_id")
    open_ = open_.select("viewer_id", "enter_ms", end_ms=_no_leave_close(open_.last_ms, window))
    both = closed.union(open_, distinct=False)
    clipped = both.select(
        "viewer_id",
        start_ms=ibis.greatest(both.enter_ms, _lit(window.start_ms)),
        end_ms=ibis.least(both.end_ms, _lit(window.end_ms)),
    )
    merged = clipped.group_by(["viewer_id", "end_ms"]).aggregate(start_ms=clipped.start_ms.min())
    return merged.filter(merged.end_ms > merged.start_ms).select("viewer_id", "start_ms", "end_ms")


def _simple_bounds(activity: Table, window: Window) -> tuple[Expr, Expr]:
    has_leave = (activity.leaves == 1) & (activity.last_leave_ms > activity.first_enter_ms)
    end = ibis.ifelse(has_leave, activity.last_leave_ms, _no_leave_close(activity.last_ms, window))
    start = ibis.greatest(activity.first_enter_ms, _lit(window.start_ms))
    return start, ibis.least(end, _lit(window.end_ms))


def viewer_table(activity: Table, intervals_of_complex: Table, window: Window) -> Table:
    """The per-viewer table of the session's UV: activity plus ``watch_ms``.

    METRICS.md *UV* (``uv``): viewers with an event in the window, or a watch interval
    inside it. ``watch_ms`` is the length of the union of the viewer's clipped watch
    intervals (0 without an enter). Also ``simple_start_ms`` / ``simple_end_ms``: the one
    interval of viewers with one enter and at most one leave (null otherwise).
    """
    start, end = _simple_bounds(activity, window)
    simple = _is_simple(activity) & (end > start)
    with_bounds = activity.mutate(
        simple_start_ms=ibis.ifelse(simple, start, ibis.null("int64")),
        simple_end_ms=ibis.ifelse(simple, end, ibis.null("int64")),
    )
    watched = intervals_of_complex.group_by("viewer_id").aggregate(
        complex_watch_ms=(intervals_of_complex.end_ms - intervals_of_complex.start_ms).sum()
    )
    joined = with_bounds.left_join(watched, "viewer_id")
    watch = ibis.coalesce(
        joined.complex_watch_ms,
        joined.simple_end_ms - joined.simple_start_ms,
        _lit(0),
    )
    table = joined.select(
        *[name for name in with_bounds.columns],
        watch_ms=watch,
    )
    return table.filter((table.kinds != 0) | (table.watch_ms > 0))


def watch_intervals(viewers: Table, intervals_of_complex: Table) -> Table:
    """All merged watch intervals of the session: (viewer_id, start_ms, end_ms)."""
    simple = viewers.filter(viewers.simple_start_ms.notnull()).select(
        "viewer_id", start_ms=viewers.simple_start_ms, end_ms=viewers.simple_end_ms
    )
    return simple.union(intervals_of_complex, distinct=False)


# --------------------------------------------------------------------------------------------
# Audience
# --------------------------------------------------------------------------------------------


def audience_counts(viewers: Table) -> Table:
    """One row of viewer counts; the runner divides them (METRICS.md keys in brackets).

    * ``uv`` — rows of :func:`viewer_table` [``uv``];
    * ``watch_ms`` — Σ watch time [``hours_watched`` events grain; ``avg_watch_s`` =
      watch_ms ÷ 1000 ÷ uv];
    * ``stayed`` — watch > 60 s [``stay_1min_rate`` = stayed ÷ uv; funnel *stayed*];
    * ``bounced`` — watch < 10 s [``bounce_rate`` = bounced ÷ uv];
    * ``with_enter`` — viewers with an enter event (0 ⇒ watch metrics not available);
    * ``commenters`` [``commenters``; ``comment_rate`` = commenters ÷ uv];
    * ``interactors`` — commented, liked, shared, followed or gifted
      [``interaction_rate`` = interactors ÷ uv];
    * ``clickers`` — clicked a product [funnel *clicked_product*];
    * ``buyers`` — placed an order [``buyers``; ``conversion_rate`` = buyers ÷ uv].
    """
    v = viewers
    return v.aggregate(
        uv=v.count(),
        watch_ms=v.watch_ms.sum(),
        stayed=_count(v.watch_ms > STAY_MS),
        bounced=_count(v.watch_ms < BOUNCE_MS),
        with_enter=_count(v.enters > 0),
        commenters=_count(v.comments > 0),
        interactors=_count(has_kind(v.kinds, *INTERACTION_KINDS)),
        clickers=_count(has_kind(v.kinds, "product_click")),
        buyers=_count(has_kind(v.kinds, "order")),
    )


def watch_histogram(viewers: Table) -> Table:
    """Viewers per whole minute of watch time, capped at 60: (``minutes``, ``viewers``).

    METRICS.md *in-session retention curve* (``retention_curve``): r(t) = viewers whose
    watch time ≥ t min ÷ UV = Σ_{minutes ≥ t} viewers ÷ UV, t = 1 … 60.
    """
    minutes = ibis.least(viewers.watch_ms // MINUTE_MS, _lit(RETENTION_MINUTES))
    binned = viewers.select(minutes=minutes)
    return binned.group_by("minutes").aggregate(viewers=binned.count())


def top_viewers(viewers: Table, by: str, limit: int) -> Table:
    """The ``limit`` viewers with the most ``by`` (``watch_ms`` or ``comments``); ties by id."""
    v = viewers.filter(viewers[by] > 0)
    return (
        v.order_by([ibis.desc(v[by]), v.viewer_id])
        .limit(limit)
        .select("viewer_id", "watch_ms", "comments")
    )


def viewer_names(viewers: Table, viewer_ids: Sequence[str]) -> Table:
    """Display name of each of ``viewer_ids`` (digest viewers): the name on their latest
    event that has one."""
    t = viewers.filter(viewers.viewer_id.isin(list(viewer_ids)) & viewers.viewer_name.notnull())
    return t.select("viewer_id", "viewer_name")


def viewers_seen_in(viewers: Table, other_events: Table) -> Table:
    """Viewers of this session also seen in ``other_events`` (one row: ``viewers``).

    METRICS.md *new / returning viewers* (``returning_viewers``; ``new_viewers`` = uv −
    returning) with the events of the workspace account's earlier sessions within 30 days,
    and *cross-session retention* (``return_rate_next`` = this ÷ uv) with the events of the
    series' next session. Seen = any event with the viewer's id.
    """
    seen = other_events.filter(other_events.viewer_id.notnull()).select("viewer_id").distinct()
    both = viewers.select("viewer_id").semi_join(seen, "viewer_id")
    return both.aggregate(viewers=both.count())


# --------------------------------------------------------------------------------------------
# Online
# --------------------------------------------------------------------------------------------


def interval_edges(intervals: Table) -> Table:
    """Watch-interval starts and ends per UTC minute, for online(t) from events.

    Columns ``edge`` (0 start, 1 end), ``minute`` (epoch minute), ``n``, ``offset_ms``
    (Σ of the edges' milliseconds into their minute). With F(x) = Σ_{starts<x} (x − s) −
    Σ_{ends<x} (x − e) (watch time before x), METRICS.md *online(t)* (``online_series``,
    events grain) is (F(minute end) − F(minute start)) ÷ the minute's length inside the
    live — the average number of viewers watching during minute t; *PCU* (``pcu``) is its
    maximum and *ACU* (``acu``) = Σ watch ÷ duration.
    """
    starts = intervals.select(
        edge=ibis.literal(0, type="int8"),
        minute=intervals.start_ms // MINUTE_MS,
        offset_ms=intervals.start_ms % MINUTE_MS,
    )
    ends = intervals.select(
        edge=ibis.literal(1, type="int8"),
        minute=intervals.end_ms // MINUTE_MS,
        offset_ms=intervals.end_ms % MINUTE_MS,
    )
    edges = starts.union(ends, distinct=False)
    return edges.group_by(["edge", "minute"]).aggregate(
        n=edges.count(), offset_ms=edges.offset_ms.sum()
    )


def online_snapshots(snapshots: Table, window: Window) -> Table:
    """The platform's online-count snapshots (the digest's) in the window: (``ts_ms``,
    ``online``).

    METRICS.md *online(t)* (``online_series``, snapshots grain): the last value in minute t.
    A simulcast's snapshots carry their ``stream`` (platform session): online(t) is then
    the sum over the streams.
    """
    columns = ["ts_ms", "online", *(["stream"] if "stream" in snapshots.columns else [])]
    return snapshots.filter(_in_window(snapshots.ts_ms, window)).select(*columns)


def minute_stats_rows(stats: Table, window: Window) -> Table:
    """Imported per-minute platform statistics of the live's minutes, in time order.

    ``stats`` has ``minute_ms`` (UTC epoch ms of the minute's start) and any of
    ``online``, ``entries``, ``exits``, ``comments``, ``likes``, ``new_follows``,
    ``orders``, ``gmv``, ``impressions`` (nulls allowed). Used for a metric only when the
    events lack its grain (METRICS.md *data grains*).
    """
    first_minute = window.start_ms - window.start_ms % MINUTE_MS
    t = stats.filter(
        (stats.minute_ms >= _lit(first_minute)) & (stats.minute_ms <= _lit(window.end_ms))
    )
    return t.order_by("minute_ms")


# --------------------------------------------------------------------------------------------
# Activity over time
# --------------------------------------------------------------------------------------------


def activity_per_second(seconds: Table, outside: Table | None, window: Window) -> Table:
    """Event counts per UTC second of the window (``second`` = epoch second), from the
    digest's seconds minus the seconds of the events outside the window (``outside``).

    ``entries`` (enter events: METRICS.md *PV* ``pv``), ``exits``, ``comments``
    (``comments``, ``comments_series``), ``likes`` (Σ like counts, a missing count is 1:
    ``likes``), ``shares`` (``shares``), ``follows`` (``follows``), ``gifts`` (Σ gift
    counts), ``clicks`` (product clicks), ``orders`` (``orders``).
    """
    first_s, last_s = window.start_ms // SECOND_MS, window.end_ms // SECOND_MS
    s = seconds.filter((seconds.second >= _lit(first_s)) & (seconds.second <= _lit(last_s)))
    if outside is None:
        return s.select("second", *SECOND_COLUMNS)
    o = outside.filter((outside.second >= _lit(first_s)) & (outside.second <= _lit(last_s))).select(
        "second", *[(-outside[c]).name(c) for c in SECOND_COLUMNS]
    )
    both = s.select("second", *SECOND_COLUMNS).union(o, distinct=False)
    return both.group_by("second").aggregate(**{c: both[c].sum() for c in SECOND_COLUMNS})


def commerce_events(commerce: Table, window: Window) -> Table:
    """Orders, refunds, gifts and product clicks in the window (the digest's commerce)."""
    return commerce.filter(_in_window(commerce.ts_ms, window))


def money_per_second(commerce: Table, currency: str) -> Table:
    """Order and refund amounts per UTC second: ``ordered``, ``refunded`` (session currency)
    and ``foreign`` (orders/refunds in another currency: money then not available).

    METRICS.md *GMV* (``gmv``) = Σ ordered − Σ refunded over the window.
    """
    t = commerce.filter(commerce.kind.isin(["order", "refund"]))
    own = _in_currency(t.currency, currency)
    amount = ibis.coalesce(t.amount, ibis.literal(0, type="decimal(18, 4)"))
    return t.group_by(second=t.ts_ms // SECOND_MS).aggregate(
        ordered=_sum_if(own & (t.kind == "order"), amount),
        refunded=_sum_if(own & (t.kind == "refund"), amount),
        foreign=_count(~own),
    )


def buyer_table(commerce: Table, currency: str) -> Table:
    """Per viewer with an order or refund: ``orders``, ``ordered``, ``refunded``, ``foreign``.

    Feeds METRICS.md *funnel* (``funnel``: *paid* = buyers whose refunds do not cover their
    orders, i.e. ordered minus fully refunded buyers), top spenders and *channel ROI*.
    """
    t = commerce.filter(commerce.kind.isin(["order", "refund"]) & commerce.viewer_id.notnull())
    own = _in_currency(t.currency, currency)
    amount = ibis.coalesce(t.amount, ibis.literal(0, type="decimal(18, 4)"))
    return t.group_by("viewer_id").aggregate(
        orders=_count(t.kind == "order"),
        ordered=_sum_if(own & (t.kind == "order"), amount),
        refunded=_sum_if(own & (t.kind == "refund"), amount),
        foreign=_count(~own),
    )


def buyer_counts(buyers: Table) -> Table:
    """One row: ``buyers`` (viewers with an order) and ``fully_refunded`` (buyers whose
    refunds cover their orders). METRICS.md *funnel* (``funnel``): *ordered* = buyers,
    *paid* = buyers − fully_refunded."""
    b = buyers.filter(buyers.orders > 0)
    return b.aggregate(
        buyers=b.count(),
        fully_refunded=_count((b.ordered > 0) & (b.refunded >= b.ordered)),
    )


def top_spenders(buyers: Table, limit: int) -> Table:
    """The ``limit`` viewers with the highest spend = ordered − refunded (ties by id)."""
    b = buyers.mutate(spend=buyers.ordered - buyers.refunded)
    b = b.filter(b.spend > 0)
    return b.order_by([ibis.desc(b.spend), b.viewer_id]).limit(limit).select("viewer_id", "spend")


def product_table(commerce: Table, currency: str) -> Table:
    """Per product: ``clicks``, ``clickers``, ``orders``, ``buyers``, ``ordered``,
    ``refunded``, ``foreign`` — grouped by (product, viewer) first, then by product; clicks
    and money separately (the clicks are the bulk and need no amounts).

    Product GMV = ordered − refunded (refunds carry the product id); product GPM = product
    GMV × 1000 ÷ session PV (METRICS.md *GPM* per product).
    """
    t = commerce.filter(commerce.product_id.notnull())
    c = t.filter(t.kind == "product_click")
    per_clicker = c.group_by(["product_id", "viewer_id"]).aggregate(clicks=c.count())
    clicks = per_clicker.group_by("product_id").aggregate(
        clicks=per_clicker.clicks.sum(),
        clickers=_count(per_clicker.viewer_id.notnull()),
    )
    o = t.filter(t.kind.isin(["order", "refund"]))
    own = _in_currency(o.currency, currency)
    amount = ibis.coalesce(o.amount, ibis.literal(0, type="decimal(18, 4)"))
    per_buyer = o.group_by(["product_id", "viewer_id"]).aggregate(
        orders=_count(o.kind == "order"),
        ordered=_sum_if(own & (o.kind == "order"), amount),
        refunded=_sum_if(own & (o.kind == "refund"), amount),
        foreign=_count(~own),
    )
    p = per_buyer
    money = p.group_by("product_id").aggregate(
        orders=p.orders.sum(),
        buyers=_count(p.viewer_id.notnull() & (p.orders > 0)),
        ordered=p.ordered.sum(),
        refunded=p.refunded.sum(),
        foreign=p.foreign.sum(),
    )
    both = clicks.outer_join(money, "product_id")
    zero, no_money = _lit(0), ibis.literal(0, type="decimal(18, 4)")
    return both.select(
        product_id=ibis.coalesce(both.product_id, both.product_id_right),
        clicks=ibis.coalesce(both.clicks, zero),
        clickers=ibis.coalesce(both.clickers, zero),
        orders=ibis.coalesce(both.orders, zero),
        buyers=ibis.coalesce(both.buyers, zero),
        ordered=ibis.coalesce(both.ordered, no_money),
        refunded=ibis.coalesce(both.refunded, no_money),
        foreign=ibis.coalesce(both.foreign, zero),
    )


def gift_units(commerce: Table) -> Table:
    """Gift values by (``platform``, ``currency``): ``amount``, ``gifts`` (events),
    ``valueless`` (events without an amount).

    METRICS.md *gift revenue* (``gift_revenue``): amounts in the session currency count as
    they are; a null currency is the platform's unit (diamonds, gold), converted with the
    workspace's rate for that platform; anything else is not convertible.
    """
    t = commerce.filter(commerce.kind == "gift")
    return t.group_by(["platform", "currency"]).aggregate(
        amount=t.amount.sum(),
        gifts=t.count(),
        valueless=_count(t.amount.isnull()),
    )


# --------------------------------------------------------------------------------------------
# Traffic and promotion
# --------------------------------------------------------------------------------------------


def entry_sources(sources: Table, outside: Table | None, window: Window) -> Table:
    """Entries per traffic source in the window: (``source``, ``entries``); null source is
    returned as null. METRICS.md *traffic source share* (``source_share``). From the
    digest's entries per (second, source), minus those outside the window."""
    first_s, last_s = window.start_ms // SECOND_MS, window.end_ms // SECOND_MS

    def within(t: Table) -> Table:
        return t.filter((t.second >= _lit(first_s)) & (t.second <= _lit(last_s)))

    t = within(sources).select("source", "entries")
    if outside is not None:
        o = within(outside)
        t = t.union(o.select("source", entries=-o.entries), distinct=False)
    counts = t.group_by("source").aggregate(entries=t.entries.sum())
    return counts.filter(counts.entries > 0)


def channel_source(source: Expr, codes: Sequence[str] | None) -> Expr:
    """Whether an entry's ``source`` is a promotion channel's tracking code or passphrase:
    one of ``codes``, or by default any ``link:…`` / ``passphrase:…`` source."""
    if codes is not None:
        return source.isin(list(codes))
    return source.startswith("link:") | source.startswith("passphrase:")


def attribution(
    viewers: Table,
    buyers: Table,
    window: Window,
    codes: Sequence[str] | None,
) -> Table:
    """Per channel code: ``viewers`` whose first entry carries it, and their ``ordered`` /
    ``refunded`` / ``foreign`` money.

    METRICS.md *attributed viewers* (``attributed_viewers``), *channel cost per viewer*
    (``cost_per_viewer`` = cost ÷ viewers) and *channel ROI* (``channel_roi`` = (ordered −
    refunded) ÷ cost). The first entry is the viewer's earliest enter event, if it is not
    after the end of the live (an entry before the start counts: the viewer was there at
    the start).
    """
    source = viewers.first_enter_source
    attributed = viewers.filter(
        (viewers.first_enter_ms <= _lit(window.end_ms))
        & source.notnull()
        & channel_source(source, codes)
    ).select("viewer_id", source=source)
    money = attributed.left_join(buyers, "viewer_id")
    zero = ibis.literal(0, type="decimal(18, 4)")
    return money.group_by("source").aggregate(
        viewers=money.count(),
        ordered=ibis.coalesce(money.ordered, zero).sum(),
        refunded=ibis.coalesce(money.refunded, zero).sum(),
        foreign=ibis.coalesce(money.foreign, _lit(0)).sum(),
    )


# --------------------------------------------------------------------------------------------
# Questions and answers
# --------------------------------------------------------------------------------------------


def answered_questions(questions: Table, host: Table, window: Window) -> Table:
    """One row: ``questions`` asked in the window and how many were ``answered`` — a host
    reply strictly after the question and at most 60 s later.

    METRICS.md *questions answered within 60 s* (``answered_60s_rate`` = answered ÷
    questions). ``questions``: the digest's question comments (``ts_ms``); ``host``: the
    host account's own comments (``ts_ms``), its replies in chat. Each question's next
    reply is a reverse running minimum over both, time-ordered (a reply in the question's
    own millisecond does not answer it).
    """
    asked = questions.filter(_in_window(questions.ts_ms, window)).select(
        "ts_ms", is_reply=ibis.literal(0, type="int64")
    )
    replies = host.select("ts_ms", is_reply=ibis.literal(1, type="int64"))
    both = asked.union(replies, distinct=False)
    order = ibis.cumulative_window(order_by=[ibis.desc(both.ts_ms), both.is_reply])
    next_reply = ibis.ifelse(both.is_reply == 1, both.ts_ms, ibis.null("int64")).min().over(order)
    paired = both.mutate(next_reply=next_reply).filter(lambda t: t.is_reply == 0)
    answered = paired.next_reply.notnull() & (paired.next_reply - paired.ts_ms <= ANSWER_MS)
    return paired.aggregate(questions=paired.count(), answered=_count(answered))


def host_replies_per_minute(host: Table, window: Window) -> Table:
    """The host's chat replies per UTC minute of the window: (``minute``, ``replies``)."""
    t = host.filter(_in_window(host.ts_ms, window))
    return t.group_by(minute=t.ts_ms // MINUTE_MS).aggregate(replies=t.count())


# --------------------------------------------------------------------------------------------
# Segments
# --------------------------------------------------------------------------------------------


def segment_presence(intervals: Table, segments: Table) -> Table:
    """Per run-of-show segment (``segments``: ``idx``, ``start_ms``, ``end_ms``), events grain.

    ``watch_ms`` (Σ watch inside the segment: average online = watch_ms ÷ length),
    ``at_start`` / ``at_end`` (viewers present at the segment's start / end instant) and
    ``retained`` (present at both): METRICS.md *segments* — retention within the segment
    = retained ÷ at_start. Presence is per viewer (a viewer's intervals may touch at an
    instant: a reconnect), from the few intervals that contain a boundary.
    """
    s = segments.select(idx="idx", seg_start="start_ms", seg_end="end_ms")
    j = intervals.cross_join(s)
    j = j.filter((j.start_ms <= j.seg_end) & (j.end_ms >= j.seg_start))
    at_start = (j.start_ms <= j.seg_start) & (j.end_ms >= j.seg_start)
    at_end = (j.start_ms <= j.seg_end) & (j.end_ms >= j.seg_end)
    overlap = ibis.least(j.end_ms, j.seg_end) - ibis.greatest(j.start_ms, j.seg_start)
    totals = j.group_by("idx").aggregate(watch_ms=overlap.sum())
    marks = j.filter(at_start | at_end).mutate(
        s=ibis.ifelse(at_start, 1, 0), e=ibis.ifelse(at_end, 1, 0)
    )
    per_viewer = marks.group_by(["idx", "viewer_id"]).aggregate(s=marks.s.max(), e=marks.e.max())
    present = per_viewer.group_by("idx").aggregate(
        at_start=per_viewer.s.sum(),
        at_end=per_viewer.e.sum(),
        retained=_count((per_viewer.s == 1) & (per_viewer.e == 1)),
    )
    out = totals.left_join(present, "idx")
    zero = _lit(0)
    return out.select(
        "idx",
        "watch_ms",
        at_start=ibis.coalesce(out.at_start, zero),
        at_end=ibis.coalesce(out.at_end, zero),
        retained=ibis.coalesce(out.retained, zero),
    )
