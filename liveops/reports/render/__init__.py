"""Renderers of a :class:`~liveops.reports.review.Review` (and ``PeriodReport``) into files.

``pdf`` and ``xlsx`` take the dataclass and return bytes; they never query. This module holds
what they share and stays plain Python (no Django, no matplotlib): the fallback zh/en
wording of headers and titles, time zones and the Excel money format. Display strings come
from :mod:`liveops.reports.formatting`, as on the web page.

Wording: a renderer asks :func:`text` for a key; the builder may override any key through
``Review.labels`` / ``PeriodReport.labels`` (already in the reader's language), else the
table below answers in ``zh-hans`` or ``en``. :data:`LABEL_KEYS` lists every key.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from liveops.reports import formatting
from liveops.reports.review import Number, Unit

NOT_AVAILABLE = "—"

# key → (zh-hans, en)
_TEXT: dict[str, tuple[str, str]] = {
    # documents
    "review": ("直播复盘报告", "Post-live review"),
    "period_report": ("周期报告", "Periodic report"),
    "workspace": ("工作区", "Workspace"),
    "platforms": ("平台", "Platforms"),
    "account": ("账号", "Account"),
    "series": ("系列", "Series"),
    "start": ("开始", "Start"),
    "end": ("结束", "End"),
    "time_zone": ("时区", "Time zone"),
    "currency": ("币种", "Currency"),
    "generated_at": ("生成时间", "Generated"),
    "computed_at": ("数据计算时间", "Figures computed"),
    "period": ("周期", "Period"),
    "page_footer": ("第 {page} 页 / 共 {pages} 页", "Page {page} of {pages}"),
    "notes": ("说明", "Notes"),
    "definitions": ("指标口径", "Metric definitions"),
    "none": ("无", "None"),
    # sheets (Excel: at most 31 characters, no []:*?/\)
    "sheet_summary": ("概览", "Summary"),
    "sheet_minutes": ("每分钟数据", "Minute series"),
    "sheet_segments": ("环节", "Segments"),
    "sheet_funnel": ("转化漏斗", "Funnel"),
    "sheet_retention": ("留存曲线", "Retention"),
    "sheet_viewers": ("观众", "Viewers"),
    "sheet_comments": ("评论", "Comments"),
    "sheet_sources": ("流量来源", "Sources"),
    "sheet_products": ("商品", "Products"),
    "sheet_words": ("热词与问题", "Words and questions"),
    "sheet_findings": ("发现与改进", "Findings"),
    "sheet_actions": ("行动项", "Action items"),
    "sheet_platforms": ("分平台", "Platforms"),
    "sheet_sessions": ("场次", "Sessions"),
    "sheet_totals": ("汇总", "Totals"),
    "sheet_weekly": ("按周", "Weekly"),
    "sheet_monthly": ("按月", "Monthly"),
    # Summary columns
    "key": ("指标键", "Key"),
    "metric": ("指标", "Metric"),
    "value": ("数值", "Value"),
    "target": ("目标", "Target"),
    "previous": ("上一场", "Previous"),
    "previous_period": ("上一周期", "Previous"),
    "median_30d": ("近30天中位数", "30-day median"),
    "vs_target": ("较目标", "vs target"),
    "vs_previous": ("较上一场", "vs previous"),
    "vs_median": ("较中位数", "vs median"),
    "grain": ("数据粒度", "Grain"),
    "definition": ("口径", "Definition"),
    # minute series
    "minute": ("时间", "Minute"),
    "online": ("在线人数", "Online"),
    "entries": ("进入", "Entries"),
    "exits": ("离开", "Exits"),
    "comments": ("评论", "Comments"),
    "likes": ("点赞", "Likes"),
    "gifts": ("礼物", "Gifts"),
    "orders": ("订单", "Orders"),
    "gmv": ("成交金额", "GMV"),
    "segment": ("环节", "Segment"),
    # segments
    "position": ("序号", "#"),
    "kind": ("类型", "Kind"),
    "planned_start": ("计划开始", "Planned start"),
    "planned_end": ("计划结束", "Planned end"),
    "planned_s": ("计划时长", "Planned"),
    "actual_s": ("实际时长", "Actual"),
    "online_start": ("开始在线", "Online at start"),
    "online_end": ("结束在线", "Online at end"),
    "online_span": ("在线 开始 → 结束", "Online start → end"),
    "delta_online": ("在线变化", "Δ online"),
    "avg_online": ("平均在线", "Avg online"),
    "retention": ("环节留存", "Retention"),
    "comments_per_min": ("评论/分钟", "Comments/min"),
    "likes_per_min": ("点赞/分钟", "Likes/min"),
    # funnel, retention
    "step": ("环节", "Step"),
    "count": ("人数", "Count"),
    "of_previous": ("较上一步", "Of previous"),
    "of_first": ("较首步", "Of first"),
    "watch_minutes": ("观看时长 ≥ t (分钟)", "Watch time ≥ t (min)"),
    "retention_rate": ("留存率", "Retained"),
    # viewers, comments
    "viewer_id": ("观众 ID", "Viewer ID"),
    "viewer": ("观众", "Viewer"),
    "watch_time": ("观看时长", "Watch time"),
    "spend": ("消费", "Spend"),
    "time": ("时间", "Time"),
    "text": ("内容", "Text"),
    "is_question": ("提问", "Question"),
    "yes": ("是", "yes"),
    "no": ("否", ""),
    "comments_capped": (
        "评论：前 {shown} 条，共 {total} 条",
        "Comments: first {shown} of {total}",
    ),
    "comments_all": ("评论：共 {total} 条", "Comments: all {total}"),
    # sources, products, words
    "source": ("来源", "Source"),
    "share": ("占比", "Share"),
    "product_id": ("商品 ID", "Product ID"),
    "product": ("商品", "Product"),
    "clicks": ("点击", "Clicks"),
    "buyers": ("成交人数", "Buyers"),
    "gpm": ("GPM", "GPM"),
    "word": ("热词", "Word"),
    "times": ("次数", "Times"),
    "question": ("问题", "Question"),
    "hot_words": ("热词", "Hot words"),
    "top_questions": ("高频问题", "Top questions"),
    "top_viewers": ("核心观众", "Top viewers"),
    # findings, actions
    "findings": ("发现问题和改进方案", "Findings and improvements"),
    "severity": ("严重程度", "Severity"),
    "severity_high": ("高", "High"),
    "severity_medium": ("中", "Medium"),
    "severity_low": ("低", "Low"),
    "title": ("标题", "Title"),
    "detail": ("情况", "What happened"),
    "suggestion": ("改进建议", "Suggestion"),
    "evidence": ("数据", "Evidence"),
    "chart": ("图表", "Chart"),
    "action_item": ("行动项", "Action item"),
    "actions": ("行动项", "Action items"),
    "owner": ("负责人", "Owner"),
    "due": ("截止", "Due"),
    "status": ("状态", "Status"),
    "finding": ("来自发现", "Finding"),
    "platform": ("平台", "Platform"),
    "session": ("场次", "Session"),
    "per_platform": ("分平台数据", "By platform"),
    # KPIs and charts
    "kpis": ("核心指标", "Key figures"),
    "segments": ("环节表现", "Segments"),
    "products": ("商品表现", "Products"),
    "cues": ("场控提示", "Cues"),
    "chart_online": ("实时在线人数", "Online viewers"),
    "chart_entries_exits": ("每分钟进入 / 离开", "Entries and exits per minute"),
    "chart_interaction": ("每分钟互动", "Interaction per minute"),
    "chart_retention": ("留存曲线", "Retention curve"),
    "chart_funnel": ("转化漏斗", "Conversion funnel"),
    "chart_sources": ("流量来源", "Traffic sources"),
    "chart_segments": ("各环节在线变化", "Δ online by segment"),
    "chart_sessions": ("各场次", "By session"),
    "chart_weekly": ("按周趋势", "Weekly trend"),
    "chart_monthly": ("按月趋势", "Monthly trend"),
    "chart_vs_previous": ("较上一周期", "vs previous period"),
    "minutes_axis": ("观看时长 (分钟)", "Watch time (min)"),
    "sessions": ("场次", "Sessions"),
    "session_id": ("场次 ID", "Session ID"),
}

LABEL_KEYS: frozenset[str] = frozenset(_TEXT)


def is_zh(language: str) -> bool:
    return language.lower().startswith("zh")


def text(labels: Mapping[str, str], language: str, key: str, **values: object) -> str:
    """The wording of ``key``: the builder's label if given, else the zh/en fallback."""
    template = labels.get(key)
    if template is None:
        zh, en = _TEXT[key]
        template = zh if is_zh(language) else en
    return template.format(**values) if values else template


def zone(name: str) -> ZoneInfo:
    """The review's time zone; an unknown name falls back to UTC rather than failing."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_naive(value: datetime, tz: ZoneInfo) -> datetime:
    """An aware (UTC) time as wall-clock time in ``tz``, without tzinfo (Excel, matplotlib)."""
    if value.tzinfo is None:  # the contract says aware; treat naive as UTC
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return value.astimezone(tz).replace(tzinfo=None)


def excel_money_format(currency: str) -> str:
    """The Excel number format of money in ``currency``, e.g. ``"¥"#,##0.00``."""
    symbol = formatting.SYMBOLS.get(currency.upper())
    if symbol:
        return f'"{symbol}"#,##0.00;-"{symbol}"#,##0.00'
    return f'#,##0.00 "{currency.upper()}"'


def fmt_datetime(value: datetime | None, tz: ZoneInfo) -> str:
    if value is None:
        return NOT_AVAILABLE
    return local_naive(value, tz).strftime("%Y-%m-%d %H:%M")


def fmt_time(value: datetime | None, tz: ZoneInfo) -> str:
    if value is None:
        return NOT_AVAILABLE
    return local_naive(value, tz).strftime("%H:%M")


def fmt_signed_rate(value: float | None) -> str:
    """A change as a signed percentage: ``+12.3%``, ``-4.0%``."""
    return NOT_AVAILABLE if value is None else f"{value * 100:+.1f}%"


def fmt_value(unit: Unit, value: Number | None, *, language: str, currency: str) -> str:
    """A raw value as the reader sees it — the same wording as ``Figure.display``."""
    return formatting.display(value, unit, language=language, currency=currency)


def as_float(value: Number | None) -> float | None:
    return None if value is None else float(value)


def duration_days(seconds: Number | None) -> float | None:
    """Seconds as an Excel duration (a fraction of a day)."""
    return None if seconds is None else float(seconds) / 86400.0
