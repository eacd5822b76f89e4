"""The post-live review (复盘报告) as plain data: one ``Review``, rendered three ways.

``reports.builder`` fills a :class:`Review` from the materialised analytics results and the
plan; ``reports.render.html`` / ``pdf`` / ``xlsx`` turn it into a page, a PDF and a
workbook. Renderers never query anything: every label is already in the reader's language,
every figure already formatted for display *and* kept as a raw value (Excel writes the raw
value with a number format; the page and PDF show ``display``).

Conventions: times are aware datetimes in UTC (renderers show them in ``Review.time_zone``);
rates are fractions (0.25); durations in seconds; money is ``Decimal`` in ``Review.currency``;
``None`` means "not available" (its grain is missing) and is shown as "—", never as 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

Number = int | float | Decimal
Unit = Literal["count", "rate", "seconds", "money", "number"]


@dataclass(frozen=True, slots=True)
class Figure:
    """One KPI card / Summary row: a METRICS.md metric with its comparisons."""

    key: str  # METRICS.md key, e.g. "pcu"
    label: str  # in the reader's language, e.g. "最高在线人数 PCU"
    unit: Unit
    value: Number | None
    display: str  # value formatted for the reader ("1.2万", "25.0%", "12:05", "¥3,210.00", "—")
    definition: str  # the METRICS.md definition, for the hover / the Definitions column
    grain: str | None = None  # "events" | "snapshots" | "minute_stats" | None
    target: Number | None = None  # the session's KPI target, if set
    previous: Number | None = None  # the previous session of the series
    median_30d: Number | None = None  # the workspace's trailing 30-day median
    vs_target: float | None = None  # value ÷ target − 1
    vs_previous: float | None = None  # value ÷ previous − 1
    vs_median: float | None = None  # value ÷ median − 1


@dataclass(frozen=True, slots=True)
class MinuteSeries:
    """Per-minute series of the live (UTC minute starts), all lists of the same length."""

    minutes: list[datetime]
    online: list[int | None]
    entries: list[int]
    exits: list[int]
    comments: list[int]
    likes: list[int]
    gifts: list[int]
    orders: list[int]
    gmv: list[Decimal]
    #: The host's replies in chat per minute (empty: the account's id is not set).
    host_replies: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SegmentBand:
    """A run-of-show segment as a band on the time axis, with its figures."""

    position: int
    title: str
    kind: str  # label in the reader's language
    planned_start: datetime
    planned_end: datetime
    planned_s: int
    actual_s: int | None
    online_start: int | None
    online_end: int | None
    delta_online: int | None
    avg_online: float | None
    retention: float | None  # present at start and still at end ÷ present at start
    comments_per_min: float | None
    likes_per_min: float | None
    orders: int
    gmv: Decimal


@dataclass(frozen=True, slots=True)
class CueMark:
    at: datetime
    label: str  # "音乐: 开场曲"


@dataclass(frozen=True, slots=True)
class FunnelStep:
    key: str  # entered | stayed_1min | clicked_product | ordered | paid
    label: str
    count: int
    of_previous: float | None  # count ÷ previous step's count
    of_first: float | None  # count ÷ first step's count


@dataclass(frozen=True, slots=True)
class SourceRow:
    source: str  # label ("推荐 recommendation", a tracking code …)
    entries: int
    share: float


@dataclass(frozen=True, slots=True)
class ProductRow:
    product_id: str
    name: str
    clicks: int
    orders: int
    buyers: int
    gmv: Decimal
    gpm: Decimal | None


@dataclass(frozen=True, slots=True)
class ViewerRow:
    viewer_id: str
    name: str  # user text: escape in HTML, write as text in Excel
    watch_s: int
    comments: int
    likes: int
    orders: int
    spend: Decimal


@dataclass(frozen=True, slots=True)
class CommentRow:
    ts: datetime
    viewer_name: str  # user text
    text: str  # user text
    is_question: bool


@dataclass(frozen=True, slots=True)
class WordCount:
    word: str
    count: int


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule-based finding (发现问题和改进方案) with the figures that show it."""

    key: str  # stable id within the review, e.g. "steepest_drop"
    severity: Literal["high", "medium", "low"]
    title: str
    detail: str  # what happened, in one or two sentences
    suggestion: str  # what to change next time
    evidence: list[tuple[str, str]]  # (label, display value)
    chart: str  # anchor of the chart it comes from: "online", "segments", "interaction" …
    action_item: str | None = None  # title of the action item made from it, if any


@dataclass(frozen=True, slots=True)
class ActionItemRow:
    title: str
    owner: str
    due: datetime | None
    status: str
    finding_key: str | None


@dataclass(frozen=True, slots=True)
class PlatformBreakdown:
    """Simulcast: one platform's session within a combined review."""

    platform: str
    session_title: str
    figures: list[Figure]


@dataclass(frozen=True, slots=True)
class Review:
    """Everything a post-live review shows, ready to render."""

    language: str  # "zh-hans" | "en"
    workspace_name: str
    title: str  # session title (or the event's title for a simulcast)
    platforms: list[str]
    account: str
    series: str | None
    start: datetime | None
    end: datetime | None
    time_zone: str
    currency: str
    generated_at: datetime
    computed_at: datetime | None  # when the analytics results were materialised
    kpis: list[Figure]  # the cards, in display order
    figures: list[Figure]  # every metric (Summary sheet), cards included
    series_data: MinuteSeries
    retention: list[float | None]  # r(1)…r(60)
    segments: list[SegmentBand]
    cues: list[CueMark]
    funnel: list[FunnelStep]
    sources: list[SourceRow]
    products: list[ProductRow]
    viewers: list[ViewerRow]
    comments: list[CommentRow]  # for the Comments sheet (capped, newest last)
    comments_total: int
    hot_words: list[WordCount]
    questions: list[WordCount]  # top questions (text, times asked)
    findings: list[Finding]
    actions: list[ActionItemRow]
    per_platform: list[PlatformBreakdown] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # headers/titles in the language
    notes: list[str] = field(default_factory=list)  # e.g. "PCU from 1-minute samples"


@dataclass(frozen=True, slots=True)
class PeriodRow:
    """One session in a periodic report."""

    session_id: int
    title: str
    start: datetime | None
    platform: str
    figures: dict[str, Number | None]  # METRICS.md key → value


@dataclass(frozen=True, slots=True)
class TrendPoint:
    period: str  # "2026-W47" or "2026-11"
    sessions: int
    figures: dict[str, Number | None]  # totals (counts, GMV) and medians (rates, times)


@dataclass(frozen=True, slots=True)
class PeriodReport:
    """A weekly, monthly or per-series report: the sessions, totals and trends."""

    language: str
    workspace_name: str
    title: str  # "周报 2026-W47", "Monthly report 2026-11", "Series: 周五上新"
    kind: Literal["week", "month", "series"]
    start: datetime
    end: datetime
    time_zone: str
    currency: str
    generated_at: datetime
    columns: list[tuple[str, str, Unit]]  # (metric key, label, unit) of the session table
    sessions: list[PeriodRow]
    totals: list[Figure]
    weekly: list[TrendPoint]
    monthly: list[TrendPoint]
    findings: list[Finding]
    labels: dict[str, str] = field(default_factory=dict)
