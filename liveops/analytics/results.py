"""What :func:`liveops.analytics.runner.compute_session` returns: frozen dataclasses of plain
Python values (ints, floats, Decimals, aware UTC datetimes, strings, None) — no Ibis or
engine objects — so services, renderers and the CLI can keep, compare and serialise them.

``None`` always means "not available" (the metric's grain is missing, or a ratio's
denominator is zero); a real zero is ``0``. Rates are fractions, times in seconds, money
Decimals in the session currency (``SessionMetrics.currency``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

__all__ = [
    "ChannelResult",
    "FunnelStep",
    "MinuteRow",
    "ProductResult",
    "SegmentResult",
    "SegmentSpec",
    "SessionMetrics",
    "SourceShare",
    "TopViewer",
]

Number = int | float


@dataclass(frozen=True, slots=True)
class SegmentSpec:
    """A run-of-show segment as the caller passes it (aware datetimes, any may be None).

    The computation uses the actual start/end where recorded, else the planned ones.
    """

    key: str
    title: str
    planned_start: datetime | None
    planned_end: datetime | None
    actual_start: datetime | None = None
    actual_end: datetime | None = None


@dataclass(frozen=True, slots=True)
class MinuteRow:
    """One UTC minute of the live. ``online`` follows ``grains["online_series"]``; the other
    columns the grain of their summary metric (events → 0 in a quiet minute; minute
    stats → None where the export has no value)."""

    minute: datetime
    online: Number | None
    entries: int | None
    exits: int | None
    comments: int | None
    likes: int | None
    gifts: int
    orders: int | None
    gmv: Decimal | None
    #: The host account's chat replies in the minute (None: its id is not known).
    host_replies: int | None = None


@dataclass(frozen=True, slots=True)
class FunnelStep:
    """A funnel step: viewers who did it, and ``ratio`` = count ÷ the previous step's."""

    step: str
    count: int | None
    ratio: float | None


@dataclass(frozen=True, slots=True)
class SourceShare:
    """Entries by traffic source; ``share`` of all entries (a null source is ``unknown``)."""

    source: str
    entries: int
    share: float


@dataclass(frozen=True, slots=True)
class ChannelResult:
    """A promotion channel's tracking code or passphrase and what it brought."""

    code: str
    attributed_viewers: int
    gmv: Decimal | None
    cost: Decimal | None
    cost_per_viewer: Decimal | None
    roi: float | None


@dataclass(frozen=True, slots=True)
class SegmentResult:
    """A run-of-show segment's figures (METRICS.md *Segments*).

    ``start``/``end`` are the times used (actual where recorded, else planned), clipped to
    the live. Online figures follow ``online_grain``; ``retention`` (viewers present at
    the start still present at the end ÷ present at the start) needs the events grain.
    Event counts use whole seconds: an event belongs to the segment when its second is
    in [start, end) (the live's last second included for a segment ending at the end).
    """

    key: str
    title: str
    start: datetime | None
    end: datetime | None
    planned_duration_s: float | None
    actual_duration_s: float | None
    online_start: Number | None
    online_end: Number | None
    online_delta: Number | None
    avg_online: float | None
    retention: float | None
    comments: int | None
    likes: int | None
    comments_per_min: float | None
    likes_per_min: float | None
    orders: int | None
    gmv: Decimal | None
    online_grain: str | None


@dataclass(frozen=True, slots=True)
class ProductResult:
    """A product's clicks and sales; ``gpm`` = product GMV × 1000 ÷ session PV."""

    product_id: str
    clicks: int
    clickers: int
    orders: int
    buyers: int
    gmv: Decimal | None
    gpm: Decimal | None


@dataclass(frozen=True, slots=True)
class TopViewer:
    """A viewer in a top list; ``value`` is what the list ranks by (watch seconds,
    comments, or spend = orders − refunds in the session currency)."""

    viewer_id: str
    viewer_name: str | None
    value: Number | Decimal


@dataclass(frozen=True, slots=True)
class SessionMetrics:
    """Everything :func:`~liveops.analytics.runner.compute_session` computes for a session.

    ``summary`` is keyed by METRICS.md keys (``SUMMARY_KEYS``); ``grains`` says which data
    grain each metric used — ``events``, ``snapshots``, ``minute_stats``, ``session`` (the
    recorded start/end), ``session+events`` (one of them from the events), ``input`` (a
    figure the caller passed, e.g. impressions) or ``unavailable`` — for the summary keys
    and ``online_series``, ``retention_curve``, ``source_share``; ``unavailable`` says why
    a metric is None. ``retention`` is r(1) … r(60) (None without watch times).
    ``top_viewers`` has the lists ``watch`` (needs enter events), ``comments`` and
    ``spend`` (needs money in the session currency). ``notes`` are caveats about the data
    (e.g. viewers without an enter event).
    """

    start: datetime | None
    end: datetime | None
    currency: str
    engine: str
    summary: dict[str, object]
    grains: dict[str, str]
    unavailable: dict[str, str]
    minutes: tuple[MinuteRow, ...]
    retention: tuple[float, ...] | None
    funnel: tuple[FunnelStep, ...]
    sources: tuple[SourceShare, ...]
    segments: tuple[SegmentResult, ...]
    products: tuple[ProductResult, ...]
    channels: tuple[ChannelResult, ...]
    top_viewers: dict[str, tuple[TopViewer, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
