"""The review and the periodic reports as A4 PDFs (WeasyPrint, matplotlib SVG charts).

``render_review(review) -> bytes`` and ``render_period_report(report) -> bytes``: plain
Python, no Django, no queries. The document is HTML built from escaped strings
(:mod:`.pdf_template`), so user text is always text; charts come from :mod:`.charts`.
Every page carries the workspace name and "第 N 页 / 共 M 页" (or "Page N of M").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from weasyprint import HTML  # type: ignore[import-untyped]

from liveops.reports import formatting
from liveops.reports.render import (
    NOT_AVAILABLE,
    charts,
    fmt_datetime,
    fmt_signed_rate,
    fmt_time,
    fmt_value,
    is_zh,
    local_naive,
    text,
    zone,
)
from liveops.reports.render.pdf_template import document, e, svg_img, table
from liveops.reports.review import (
    Figure,
    Finding,
    Number,
    PeriodReport,
    Review,
    TrendPoint,
    Unit,
)

# A lower value is the better one for these metrics (colours of the comparisons).
LOWER_IS_BETTER = frozenset({"bounce_rate", "cost_per_viewer", "aov_refund_rate"})
TOP_VIEWERS = 20
TOP_PRODUCTS = 15
TOP_WORDS = 30
MAX_CUES_LISTED = 40


class _Doc:
    """Wording and formatting of one document, in the reader's language."""

    def __init__(self, language: str, labels: dict[str, str], tz: ZoneInfo, currency: str):
        self.language = language
        self.labels = labels
        self.tz = tz
        self.currency = currency

    def t(self, key: str, **values: object) -> str:
        return text(self.labels, self.language, key, **values)

    def value(self, unit: Unit, value: Number | None) -> str:
        return fmt_value(unit, value, language=self.language, currency=self.currency)

    def short(self, unit: Unit, value: Number | None) -> str:
        """A comparison on a KPI card: money shortened like counts (¥77.1万, $1.2M)."""
        if unit != "money" or value is None or abs(float(value)) < 10_000:
            return self.value(unit, value)
        symbol = formatting.SYMBOLS.get(self.currency, self.currency + " ")
        number = float(value)
        if is_zh(self.language):
            return symbol + formatting.count(round(number), self.language)
        if abs(number) >= 1_000_000:
            return f"{symbol}{number / 1_000_000:.1f}M"
        return f"{symbol}{number / 1_000:.1f}K"

    def count(self, value: Number | None) -> str:
        return formatting.count(value, self.language)

    def money(self, value: Number | None) -> str:
        return formatting.money(value, self.currency)

    def axis_count(self, value: float) -> str:
        return formatting.count(round(value), self.language)

    def axis_money(self, value: float) -> str:
        symbol = formatting.SYMBOLS.get(self.currency, "")
        return symbol + formatting.count(round(value), self.language)

    def local(self, value: datetime) -> datetime:
        return local_naive(value, self.tz)


def _write_pdf(html_text: str) -> bytes:
    pdf = HTML(string=html_text).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf


# ------------------------------------------------------------------ shared pieces


def _change(doc: _Doc, key: str, change: float | None) -> str:
    """``▲ +4.8%`` coloured good/bad (green/red) by the metric's direction."""
    if change is None:
        return f'<span class="d flat">{NOT_AVAILABLE}</span>'
    if abs(change) < 0.0005:
        return f'<span class="d flat">{e(fmt_signed_rate(change))}</span>'
    better = (change < 0) if key in LOWER_IS_BETTER else (change > 0)
    arrow = "▲" if change > 0 else "▼"
    css = "good" if better else "bad"
    return f'<span class="d {css}">{arrow} {e(fmt_signed_rate(change))}</span>'


def _card(doc: _Doc, fig: Figure, *, previous_key: str = "previous") -> str:
    rows = []
    comparisons = (
        ("target", fig.target, fig.vs_target),
        (previous_key, fig.previous, fig.vs_previous),
        ("median_30d", fig.median_30d, fig.vs_median),
    )
    for key, base, change in comparisons:
        if base is None and change is None:
            continue
        rows.append(
            f'<div class="cmp"><span>{e(doc.t(key))} {e(doc.short(fig.unit, base))}</span>'
            f"{_change(doc, fig.key, change)}</div>"
        )
    return (
        f'<div class="kpi"><div class="label">{e(fig.label)}</div>'
        f'<div class="value">{e(fig.display)}</div>{"".join(rows)}</div>'
    )


def _findings(doc: _Doc, findings: Sequence[Finding]) -> str:
    if not findings:
        return ""
    parts = [f"<h2>{e(doc.t('findings'))}</h2>"]
    for f in findings:
        evidence = "".join(
            f'<span class="chip"><span class="label">{e(label)}</span> <b>{e(value)}</b></span>'
            for label, value in f.evidence
        )
        action = (
            f'<p><span class="label">{e(doc.t("action_item"))}:</span> {e(f.action_item)}</p>'
            if f.action_item
            else ""
        )
        parts.append(
            f'<div class="finding {e(f.severity)}">'
            f'<h3><span class="badge {e(f.severity)}">{e(doc.t("severity_" + f.severity))}</span>'
            f"{e(f.title)}</h3>"
            f"<p>{e(f.detail)}</p>"
            f'<p><span class="label">{e(doc.t("suggestion"))}:</span> {e(f.suggestion)}</p>'
            f'{action}<div class="chips">{evidence}</div></div>'
        )
    return "".join(parts)


def _meta(items: Sequence[tuple[str, str | None]]) -> str:
    cells = "".join(
        f"<div><b>{e(label)}</b>{e(value)}</div>" for label, value in items if value is not None
    )
    return f'<div class="meta">{cells}</div>'


def _chart_block(title: str, svg: str, extra: str = "", css_class: str = "chart") -> str:
    return f'<div class="block"><h2>{e(title)}</h2>{svg_img(svg, css_class, title)}{extra}</div>'


def _half(title: str, svg: str) -> str:
    return f"<div><h3>{e(title)}</h3>{svg_img(svg, 'half', title)}</div>"


# ------------------------------------------------------------------ the review


def review_html(review: Review) -> str:
    """The review as the HTML WeasyPrint lays out (exposed for tests and debugging)."""
    doc = _Doc(review.language, review.labels, zone(review.time_zone), review.currency)
    empty = NOT_AVAILABLE
    parts: list[str] = []

    same_day = (
        review.start is not None
        and review.end is not None
        and doc.local(review.start).date() == doc.local(review.end).date()
    )
    period = (
        f"{fmt_datetime(review.start, doc.tz)} – {fmt_time(review.end, doc.tz)}"
        if same_day
        else f"{fmt_datetime(review.start, doc.tz)} – {fmt_datetime(review.end, doc.tz)}"
    )
    parts.append(
        f'<div class="kicker">{e(doc.t("review"))} · <span class="ws">'
        f"{e(review.workspace_name)}</span></div><h1>{e(review.title)}</h1>"
    )
    parts.append(
        _meta(
            [
                (doc.t("platforms"), " / ".join(review.platforms) or NOT_AVAILABLE),
                (doc.t("account"), review.account or NOT_AVAILABLE),
                (doc.t("series"), review.series),
                (doc.t("time"), f"{period} ({review.time_zone})"),
                (doc.t("generated_at"), fmt_datetime(review.generated_at, doc.tz)),
                (
                    doc.t("computed_at"),
                    fmt_datetime(review.computed_at, doc.tz) if review.computed_at else None,
                ),
            ]
        )
    )
    if review.kpis:
        cards = "".join(_card(doc, fig) for fig in review.kpis)
        parts.append(f'<div class="kpis">{cards}</div>')

    data = review.series_data
    minutes = [doc.local(m) for m in data.minutes]
    bands = [
        (doc.local(b.planned_start), doc.local(b.planned_end), b.position, b.kind)
        for b in review.segments
    ]
    cue_times = [doc.local(c.at) for c in review.cues]
    online_svg = charts.online_chart(
        minutes=minutes,
        online=data.online,
        bands=bands,
        cues=cue_times,
        series_label=doc.t("online"),
        cue_label=doc.t("cues"),
        fmt=doc.axis_count,
        empty=empty,
    )
    parts.append(_chart_block(doc.t("chart_online"), online_svg, _cue_list(doc, review)))
    parts.append(_findings(doc, review.findings))
    if review.actions:
        parts.append(f"<h2>{e(doc.t('actions'))}</h2>")
        parts.append(
            table(
                [doc.t("title"), doc.t("owner"), doc.t("due"), doc.t("status")],
                ((a.title, a.owner, fmt_datetime(a.due, doc.tz), a.status) for a in review.actions),
                widths=["52%", "18%", "18%", "12%"],
            )
        )

    parts.append(
        _chart_block(
            doc.t("chart_entries_exits"),
            charts.entries_exits_chart(
                minutes=minutes,
                entries=data.entries,
                exits=data.exits,
                entries_label=doc.t("entries"),
                exits_label=doc.t("exits"),
                fmt=doc.axis_count,
                empty=empty,
            ),
        )
    )
    parts.append(
        _chart_block(
            doc.t("chart_interaction"),
            charts.interaction_chart(
                minutes=minutes,
                comments=data.comments,
                gifts=data.gifts,
                likes=data.likes,
                comments_label=doc.t("comments"),
                gifts_label=doc.t("gifts"),
                likes_label=doc.t("likes"),
                fmt=doc.axis_count,
                empty=empty,
            ),
        )
    )
    retention = charts.retention_chart(
        retention=review.retention,
        x_label=doc.t("minutes_axis"),
        series_label=doc.t("retention_rate"),
        empty=empty,
    )
    funnel = charts.funnel_chart(
        steps=[(s.label, s.count, s.of_previous) for s in review.funnel],
        fmt=doc.count,
        empty=empty,
    )
    sources = charts.share_bars_chart(
        rows=[(s.source, s.share) for s in review.sources], empty=empty
    )
    deltas = charts.delta_bars_chart(
        rows=[
            (str(b.position), None if b.delta_online is None else float(b.delta_online))
            for b in review.segments
        ],
        fmt=doc.axis_count,
        empty=empty,
    )
    parts.append(
        f'<div class="two">{_half(doc.t("chart_retention"), retention)}'
        f"{_half(doc.t('chart_funnel'), funnel)}</div>"
    )
    parts.append(
        f'<div class="two">{_half(doc.t("chart_sources"), sources)}'
        f"{_half(doc.t('chart_segments'), deltas)}</div>"
    )
    parts.append(_segments_table(doc, review))
    parts.append(_products_table(doc, review))
    parts.append(_viewers_table(doc, review))
    parts.append(_words(doc, review))
    parts.append(_per_platform(doc, review))
    parts.append(_notes_and_definitions(doc, review.notes, review.figures))
    return document(
        language=review.language,
        title=review.title,
        footer=doc.t("page_footer"),
        body="".join(parts),
    )


def render_review(review: Review) -> bytes:
    """The post-live review as an A4 PDF."""
    return _write_pdf(review_html(review))


def _cue_list(doc: _Doc, review: Review) -> str:
    if not review.cues:
        return ""
    shown = review.cues[:MAX_CUES_LISTED]
    items = " · ".join(
        f'<span class="mark">▼</span> {e(fmt_time(c.at, doc.tz))} {e(c.label)}' for c in shown
    )
    more = f" … (+{len(review.cues) - len(shown)})" if len(review.cues) > len(shown) else ""
    return f'<p class="cues"><b>{e(doc.t("cues"))}:</b> {items}{e(more)}</p>'


def _per_min(value: float | None) -> str:
    return NOT_AVAILABLE if value is None else f"{value:,.1f}"


def _segments_table(doc: _Doc, review: Review) -> str:
    if not review.segments:
        return ""
    rows = []
    for b in review.segments:
        delta = NOT_AVAILABLE
        if b.delta_online is not None:
            css = "good" if b.delta_online >= 0 else "bad"
            delta = f'<span class="{css}">{e(f"{b.delta_online:+,}")}</span>'
        rows.append(
            (
                e(b.position),
                f'{e(b.title)}<br><span class="small">{e(b.kind)}</span>',
                e(fmt_time(b.planned_start, doc.tz)),
                f"{e(formatting.seconds(b.planned_s))}<br>"
                f'<span class="small">{e(formatting.seconds(b.actual_s))}</span>',
                f"{e(doc.count(b.online_start))} → {e(doc.count(b.online_end))}",
                delta,
                e(doc.count(None if b.avg_online is None else round(b.avg_online))),
                e(formatting.rate(b.retention)),
                e(_per_min(b.comments_per_min)),
                e(_per_min(b.likes_per_min)),
                e(doc.count(b.orders)),
                e(doc.money(b.gmv)),
            )
        )
    headers = [
        "#",
        doc.t("segment"),
        doc.t("planned_start"),
        f"{doc.t('planned_s')} / {doc.t('actual_s')}",
        doc.t("online_span"),
        doc.t("delta_online"),
        doc.t("avg_online"),
        doc.t("retention"),
        doc.t("comments_per_min"),
        doc.t("likes_per_min"),
        doc.t("orders"),
        doc.t("gmv"),
    ]
    return f"<h2>{e(doc.t('segments'))}</h2>" + table(
        headers,
        rows,
        widths=["4%", "16%", "7%", "8%", "14%", "7%", "7%", "7%", "8%", "8%", "5%", "9%"],
        numeric=[True, False, False, True, True, True, True, True, True, True, True, True],
        raw=True,
    )


def _products_table(doc: _Doc, review: Review) -> str:
    if not review.products:
        return ""
    rows = (
        (
            p.name,
            doc.count(p.clicks),
            doc.count(p.orders),
            doc.count(p.buyers),
            doc.money(p.gmv),
            doc.money(p.gpm),
        )
        for p in review.products[:TOP_PRODUCTS]
    )
    return f"<h2>{e(doc.t('products'))}</h2>" + table(
        [
            doc.t("product"),
            doc.t("clicks"),
            doc.t("orders"),
            doc.t("buyers"),
            doc.t("gmv"),
            doc.t("gpm"),
        ],
        rows,
        widths=["40%", "11%", "11%", "11%", "15%", "12%"],
        numeric=[False, True, True, True, True, True],
    )


def _viewers_table(doc: _Doc, review: Review) -> str:
    if not review.viewers:
        return ""
    rows = (
        (
            str(i),
            v.name,
            formatting.seconds(v.watch_s),
            doc.count(v.comments),
            doc.count(v.likes),
            doc.count(v.orders),
            doc.money(v.spend),
        )
        for i, v in enumerate(review.viewers[:TOP_VIEWERS], start=1)
    )
    return f"<h2>{e(doc.t('top_viewers'))}</h2>" + table(
        [
            "#",
            doc.t("viewer"),
            doc.t("watch_time"),
            doc.t("comments"),
            doc.t("likes"),
            doc.t("orders"),
            doc.t("spend"),
        ],
        rows,
        widths=["5%", "35%", "12%", "11%", "11%", "11%", "15%"],
        numeric=[True, False, True, True, True, True, True],
    )


def _words(doc: _Doc, review: Review) -> str:
    if not review.hot_words and not review.questions:
        return ""
    chips = "".join(
        f'<span class="chip">{e(w.word)} <b>{e(doc.count(w.count))}</b></span>'
        for w in review.hot_words[:TOP_WORDS]
    )
    questions = table(
        [doc.t("question"), doc.t("times")],
        ((q.word, doc.count(q.count)) for q in review.questions[:TOP_WORDS]),
        widths=["82%", "18%"],
        numeric=[False, True],
    )
    return (
        f'<div class="two block"><div class="words"><h2>{e(doc.t("hot_words"))}</h2>'
        f'<div class="chips">{chips}</div></div>'
        f"<div><h2>{e(doc.t('top_questions'))}</h2>{questions}</div></div>"
    )


def _per_platform(doc: _Doc, review: Review) -> str:
    if not review.per_platform:
        return ""
    keys: list[tuple[str, str]] = []
    seen: set[str] = set()
    for part in review.per_platform:
        for fig in part.figures:
            if fig.key not in seen:
                seen.add(fig.key)
                keys.append((fig.key, fig.label))
    by_platform = [{f.key: f.display for f in part.figures} for part in review.per_platform]
    rows = (
        (label, *(values.get(key, NOT_AVAILABLE) for values in by_platform)) for key, label in keys
    )
    headers = [doc.t("metric"), *(p.platform for p in review.per_platform)]
    label_width = 34
    each = f"{(100 - label_width) / len(review.per_platform):.1f}%"
    return f"<h2>{e(doc.t('per_platform'))}</h2>" + table(
        headers,
        rows,
        widths=[f"{label_width}%", *([each] * len(review.per_platform))],
        numeric=[False, *([True] * len(review.per_platform))],
    )


def _notes_and_definitions(doc: _Doc, notes: Sequence[str], figures: Sequence[Figure]) -> str:
    parts = []
    if notes:
        items = "".join(f"<li>{e(n)}</li>" for n in notes)
        parts.append(f'<h2>{e(doc.t("notes"))}</h2><ul class="notes">{items}</ul>')
    if figures:
        defs = "".join(
            f"<div><dt>{e(f.label)}</dt><dd>{e(f.definition)}"
            f"{' (' + e(f.grain) + ')' if f.grain else ''}</dd></div>"
            for f in figures
        )
        parts.append(f'<h2>{e(doc.t("definitions"))}</h2><dl class="defs">{defs}</dl>')
    return f'<div class="block">{"".join(parts)}</div>' if parts else ""


# ------------------------------------------------------------------ periodic reports


def period_report_html(report: PeriodReport) -> str:
    """A periodic report as the HTML WeasyPrint lays out."""
    doc = _Doc(report.language, report.labels, zone(report.time_zone), report.currency)
    parts = [
        f'<div class="kicker">{e(doc.t("period_report"))} · <span class="ws">'
        f"{e(report.workspace_name)}</span></div><h1>{e(report.title)}</h1>",
        _meta(
            [
                (
                    doc.t("period"),
                    f"{fmt_datetime(report.start, doc.tz)} – {fmt_datetime(report.end, doc.tz)}"
                    f" ({report.time_zone})",
                ),
                (doc.t("sessions"), doc.count(len(report.sessions))),
                (doc.t("generated_at"), fmt_datetime(report.generated_at, doc.tz)),
            ]
        ),
    ]
    if report.totals:
        cards = "".join(_card(doc, f, previous_key="previous_period") for f in report.totals)
        parts.append(f'<div class="kpis">{cards}</div>')
    for key, points in (("chart_weekly", report.weekly), ("chart_monthly", report.monthly)):
        if points:
            parts.append(_chart_block(doc.t(key), _trend_svg(doc, report, points)))
    parts.append(_findings(doc, report.findings))
    parts.append(_sessions_table(doc, report))
    return document(
        language=report.language,
        title=report.title,
        footer=doc.t("page_footer"),
        body="".join(parts),
    )


def render_period_report(report: PeriodReport) -> bytes:
    """A weekly, monthly or per-series report as an A4 PDF."""
    return _write_pdf(period_report_html(report))


def _trend_svg(doc: _Doc, report: PeriodReport, points: Sequence[TrendPoint]) -> str:
    """Bars of the first count metric (else sessions), a line of the first money metric."""
    count_col = next(((k, label) for k, label, u in report.columns if u == "count"), None)
    money_col = next(((k, label) for k, label, u in report.columns if u == "money"), None)
    if count_col is None:
        bars: list[float | None] = [float(p.sessions) for p in points]
        bar_label = doc.t("sessions")
    else:
        bars = [_float(p.figures.get(count_col[0])) for p in points]
        bar_label = count_col[1]
    line = [_float(p.figures.get(money_col[0])) for p in points] if money_col else None
    return charts.trend_chart(
        categories=[p.period for p in points],
        bars=bars,
        bar_label=bar_label,
        line=line,
        line_label=money_col[1] if money_col else "",
        bar_fmt=doc.axis_count,
        line_fmt=doc.axis_money,
        empty=NOT_AVAILABLE,
    )


def _float(value: Number | None) -> float | None:
    return None if value is None else float(value)


def _sessions_table(doc: _Doc, report: PeriodReport) -> str:
    if not report.sessions:
        return ""
    metric_headers = [label for _k, label, _u in report.columns]
    rows = (
        (
            s.title,
            fmt_datetime(s.start, doc.tz),
            s.platform,
            *(doc.value(unit, s.figures.get(key)) for key, _l, unit in report.columns),
        )
        for s in report.sessions
    )
    n = len(report.columns)
    each = f"{58 / max(1, n):.2f}%"
    wide = n > 6
    html_table = table(
        [doc.t("session"), doc.t("start"), doc.t("platform"), *metric_headers],
        rows,
        widths=["22%", "12%", "8%", *([each] * n)],
        numeric=[False, False, False, *([True] * n)],
    )
    css = "wide" if wide else ""
    return f'<div class="{css}"><h2>{e(doc.t("sheet_sessions"))}</h2>{html_table}</div>'


__all__ = ["period_report_html", "render_period_report", "render_review", "review_html"]
