"""Assemble a :class:`~liveops.reports.review.Review` from materialised results and the plan.

Reads through selectors only (analytics results, planning, events for the comment list);
the renderers then never query. Figures carry their comparisons: the session's KPI target,
the previous session of its series and the workspace's trailing 30-day median.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext_lazy, override

from liveops.analytics import selectors as analytics
from liveops.analytics.models import SessionResult
from liveops.analytics.services import session_result, simulcast_result
from liveops.events import selectors as events
from liveops.planning.models import LiveSession, Segment, SegmentKind
from liveops.reports import findings as rules
from liveops.reports import formatting as fmt
from liveops.reports.catalog import CARD_KEYS, CATALOG
from liveops.reports.review import (
    ActionItemRow,
    CommentRow,
    CueMark,
    Figure,
    FunnelStep,
    MinuteSeries,
    PlatformBreakdown,
    ProductRow,
    Review,
    SegmentBand,
    SourceRow,
    ViewerRow,
    WordCount,
)

#: Rows of the Comments sheet (the review is read by people; the raw data stays in the store).
COMMENT_ROWS = 50_000
FUNNEL_LABELS = {
    "entered": gettext_lazy("Entered"),
    "stayed_1min": gettext_lazy("Stayed > 1 min"),
    "clicked_product": gettext_lazy("Clicked a product"),
    "ordered": gettext_lazy("Ordered"),
    "paid": gettext_lazy("Paid"),
}
#: Traffic sources as platforms and the generator name them; tracking codes keep their code.
SOURCE_LABELS = {
    "recommendation": gettext_lazy("Recommendation"),
    "followers": gettext_lazy("Followers"),
    "search": gettext_lazy("Search"),
    "short_video": gettext_lazy("Short video"),
    "unknown": gettext_lazy("Unknown"),
}
SOURCE_PREFIXES = {
    "ads:": gettext_lazy("Ads"),
    "link:": gettext_lazy("Promotion link"),
    "passphrase:": gettext_lazy("Passphrase"),
}


def source_label(source: str) -> str:
    """ "recommendation" → 推荐; "link:wechat_group" → 推广链接 wechat_group."""
    if source in SOURCE_LABELS:
        return str(SOURCE_LABELS[source])
    for prefix, label in SOURCE_PREFIXES.items():
        if source.startswith(prefix):
            return f"{label} {source[len(prefix) :]}"
    return source


def _dt(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _num(value: Any) -> int | float | Decimal | None:
    if value is None:
        return None
    if isinstance(value, int | float | Decimal):
        return value
    return Decimal(str(value))


def _figure(
    key: str,
    result: SessionResult,
    *,
    language: str,
    target: Any,
    previous: SessionResult | None,
    median: Any,
) -> Figure:
    label, unit, definition = CATALOG[key]
    value = analytics.summary_value(result, key)
    prev = analytics.summary_value(previous, key) if previous is not None else None
    target_value = _num(target)
    return Figure(
        key=key,
        label=str(label),
        unit=unit,
        value=value,
        display=fmt.display(value, unit, language=language, currency=result.currency),
        definition=str(definition),
        grain=result.grains.get(key),
        target=target_value,
        previous=prev,
        median_30d=median,
        vs_target=fmt.change(value, target_value),
        vs_previous=fmt.change(value, prev),
        vs_median=fmt.change(value, median),
    )


def _series(minutes: Iterable[Any]) -> MinuteSeries:
    """Minute rows (stored ``SessionMinute`` s or unsaved ones of a simulcast)."""
    rows = list(minutes)
    return MinuteSeries(
        minutes=[r.minute for r in rows],
        online=[None if r.online is None else round(r.online) for r in rows],
        entries=[r.entries or 0 for r in rows],
        exits=[r.exits or 0 for r in rows],
        comments=[r.comments or 0 for r in rows],
        likes=[r.likes or 0 for r in rows],
        gifts=[r.gifts for r in rows],
        orders=[r.orders or 0 for r in rows],
        gmv=[r.gmv or Decimal(0) for r in rows],
        host_replies=(
            [r.host_replies or 0 for r in rows]
            if rows and all(r.host_replies is not None for r in rows)
            else []
        ),
    )


def _segments(session: LiveSession, figures: Iterable[Any]) -> list[SegmentBand]:
    kinds = dict(SegmentKind.choices)
    plan = {s.pk: s for s in Segment.objects.filter(session=session)}
    bands = []
    for row in figures:
        f = row.figures
        seg = plan.get(row.segment_id) if row.segment_id else None
        start, end = _dt(row.start), _dt(row.end)
        if start is None or end is None:
            continue
        planned = f.get("planned_duration_s")
        actual = f.get("actual_duration_s")
        bands.append(
            SegmentBand(
                position=row.position,
                title=row.title,
                kind=str(kinds.get(seg.kind, "")) if seg is not None else "",
                planned_start=start,
                planned_end=end,
                planned_s=int(planned or (end - start).total_seconds()),
                actual_s=None if actual is None or planned is None else int(actual),
                online_start=f.get("online_start"),
                online_end=f.get("online_end"),
                delta_online=f.get("online_delta"),
                avg_online=f.get("avg_online"),
                retention=f.get("retention"),
                comments_per_min=f.get("comments_per_min"),
                likes_per_min=f.get("likes_per_min"),
                orders=int(f.get("orders") or 0),
                gmv=Decimal(str(f.get("gmv") or 0)),
            )
        )
    return bands


def _cues(session: LiveSession, start: datetime | None) -> list[CueMark]:
    if start is None:
        return []
    marks = []
    for seg in Segment.objects.filter(session=session).prefetch_related("cues"):
        for cue in seg.cues.all():
            at = start + timedelta(seconds=seg.offset_s + cue.at_s)
            marks.append(CueMark(at=at, label=f"{cue.get_kind_display()}: {cue.description}"))
    return sorted(marks, key=lambda c: c.at)


def _funnel(result: SessionResult) -> list[FunnelStep]:
    steps = []
    first: int | None = None
    for item in result.funnel:
        count = item.get("count")
        if count is None:
            continue
        first = count if first is None else first
        steps.append(
            FunnelStep(
                key=item["step"],
                label=str(FUNNEL_LABELS.get(item["step"], item["step"])),
                count=int(count),
                of_previous=item.get("ratio"),
                of_first=(count / first) if first else None,
            )
        )
    return steps


def _products(session: LiveSession, result: SessionResult) -> list[ProductRow]:
    names = {p.sku: p.name for p in session.products.all() if p.sku}
    rows = []
    for p in result.products:
        gpm = p.get("gpm")
        rows.append(
            ProductRow(
                product_id=p["product_id"],
                name=names.get(p["product_id"], p["product_id"]),
                clicks=int(p.get("clicks") or 0),
                orders=int(p.get("orders") or 0),
                buyers=int(p.get("buyers") or 0),
                gmv=Decimal(str(p.get("gmv") or 0)),
                gpm=None if gpm is None else Decimal(str(gpm)),
            )
        )
    return rows


def _viewers(result: SessionResult) -> list[ViewerRow]:
    merged: dict[str, dict[str, Any]] = {}
    for list_name, field in (("watch", "watch_s"), ("comments", "comments"), ("spend", "spend")):
        for v in result.top_viewers.get(list_name, []):
            row = merged.setdefault(
                v["viewer_id"], {"name": v.get("viewer_name") or v["viewer_id"]}
            )
            row[field] = v["value"]
    rows = [
        ViewerRow(
            viewer_id=vid,
            name=str(r["name"]),
            watch_s=int(float(r.get("watch_s") or 0)),
            comments=int(float(r.get("comments") or 0)),
            likes=0,
            orders=0,
            spend=Decimal(str(r.get("spend") or 0)),
        )
        for vid, r in merged.items()
    ]
    return sorted(rows, key=lambda r: (-r.watch_s, -r.comments, r.viewer_id))


def _comment_rows(sessions: list[LiveSession]) -> tuple[list[Any], int]:
    """The comment rows of one session, or of a simulcast's sessions in time order."""
    if len(sessions) == 1:
        return events.comment_rows(session=sessions[0], limit=COMMENT_ROWS)
    rows: list[Any] = []
    total = 0
    for member in sessions:
        part, count = events.comment_rows(session=member, limit=COMMENT_ROWS)
        rows.extend(part)
        total += count
    rows.sort(key=lambda row: row[0])
    return rows[:COMMENT_ROWS], total


def review_build(
    *, session: LiveSession, language: str = "zh-hans", with_comments: bool = True
) -> Review:
    """The review of one session in ``language`` (results computed first if stale).

    ``with_comments=False`` leaves the comment list empty (the web page shows top questions
    and hot words, not the comments; the Excel and PDF files need them).
    """
    result = session_result(session=session)
    with override(language):
        return _build(
            session,
            result,
            language,
            with_comments,
            minutes=analytics.minute_list(session=session),
            segment_rows=analytics.segment_figures_list(session=session),
        )


#: The figures of each platform in a simulcast's breakdown.
PLATFORM_KEYS = (
    "uv",
    "pv",
    "pcu",
    "acu",
    "avg_watch_s",
    "stay_1min_rate",
    "comments",
    "interaction_rate",
    "follows",
    "orders",
    "gmv",
    "gpm",
)


def simulcast_review_build(
    *, session: LiveSession, language: str = "zh-hans", with_comments: bool = True
) -> Review | None:
    """The combined review of ``session``'s simulcast — every platform's session of the
    event as one, with a breakdown per platform — or None when it has no simulcast."""
    combined = simulcast_result(session=session)
    if combined is None:
        return None
    with override(language):
        review = _build(
            combined.main,
            combined.result,
            language,
            with_comments,
            minutes=combined.minutes,
            segment_rows=combined.segments,
            members=[m for m, _ in combined.members],
        )
        per_platform = [
            PlatformBreakdown(
                platform=member.account.get_platform_display(),
                session_title=f"{member.title} · {member.account.name}",
                figures=[
                    _figure(key, result, language=language, target=None, previous=None, median=None)
                    for key in PLATFORM_KEYS
                    if key in result.summary
                ],
            )
            for member, result in combined.members
        ]
    return dataclasses.replace(review, per_platform=per_platform)


def _build(
    session: LiveSession,
    result: SessionResult,
    language: str,
    with_comments: bool,
    *,
    minutes: Iterable[Any],
    segment_rows: Iterable[Any],
    members: list[LiveSession] | None = None,
) -> Review:
    """The review of ``session`` from ``result``; a simulcast passes its ``members`` (main
    first): comments of all, no comparisons with single sessions."""
    zone = ZoneInfo(session.workspace.time_zone)
    previous = analytics.previous_in_series(session=session) if members is None else None
    start = result.start or session.actual_start or session.scheduled_start
    medians = (
        analytics.trailing_median(workspace=session.workspace, before=start, keys=list(CATALOG))
        if start is not None and members is None
        else {}
    )
    targets = dict(session.kpi_targets or {})
    figures = [
        _figure(
            key,
            result,
            language=language,
            target=targets.get(key),
            previous=previous,
            median=medians.get(key),
        )
        for key in CATALOG
        if key in result.summary
    ]
    by_key = {f.key: f for f in figures}
    series = _series(minutes)
    segments = _segments(session, segment_rows)
    sources = [
        SourceRow(
            source=source_label(s["source"]), entries=int(s["entries"]), share=float(s["share"])
        )
        for s in result.sources
    ]
    products = _products(session, result)
    questions = [WordCount(word=str(q), count=int(n)) for q, n in result.questions]
    previous_gpm = (
        {p["product_id"]: Decimal(str(p["gpm"])) for p in previous.products if p.get("gpm")}
        if previous is not None
        else {}
    )
    previous_sources = (
        {s["source"]: float(s["share"]) for s in previous.sources} if previous else {}
    )
    found = rules.all_findings(
        figures=by_key,
        series=series,
        segments=segments,
        products=products,
        previous_gpm=previous_gpm,
        sources=sources,
        previous_sources=previous_sources,
        questions=questions,
        zone=zone,
    )
    actions = list(analytics.action_item_list(session=session))
    made = {a.finding_key: a.title for a in actions if a.finding_key}
    found = [dataclasses.replace(f, action_item=made.get(f.key)) for f in found]
    comment_rows, comments_total = (
        _comment_rows(members or [session])
        if with_comments
        else ([], int(result.summary.get("comments") or 0))
    )
    return Review(
        language=language,
        workspace_name=session.workspace.name,
        title=session.title,
        platforms=[m.account.platform for m in members or [session]],
        account=" / ".join(m.account.name for m in members or [session]),
        series=session.series.title if session.series is not None else None,
        start=result.start,
        end=result.end,
        time_zone=session.workspace.time_zone,
        currency=result.currency,
        generated_at=timezone.now(),
        computed_at=result.computed_at,
        kpis=[by_key[k] for k in CARD_KEYS if k in by_key],
        figures=figures,
        series_data=series,
        retention=list(result.retention or []),
        segments=segments,
        cues=_cues(session, start),
        funnel=_funnel(result),
        sources=sources,
        products=products,
        viewers=_viewers(result),
        comments=[
            CommentRow(
                ts=ts if ts.tzinfo else ts.replace(tzinfo=UTC),
                viewer_name=name,
                text=text,
                is_question=analytics.is_question(text),
            )
            for ts, name, text in comment_rows
        ],
        comments_total=comments_total,
        hot_words=[WordCount(word=str(w), count=int(n)) for w, n in result.hot_words],
        questions=questions,
        findings=found,
        actions=[
            ActionItemRow(
                title=a.title,
                owner=a.owner.display_name if a.owner else "",
                due=datetime.combine(a.due, datetime.min.time(), tzinfo=zone) if a.due else None,
                status=a.get_status_display(),
                finding_key=a.finding_key or None,
            )
            for a in actions
        ],
        notes=list(result.notes),
    )
