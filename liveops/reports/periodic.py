"""Periodic reports (weekly, monthly, per series) from materialised session results.

Counts and money add up over sessions (Σ PV, Σ orders, Σ GMV; Σ UV is the sum of each
session's viewers, not distinct people across sessions — labelled so); rates and times are
medians over the sessions (a median is what an operator compares a session with). The
trend points group sessions by ISO week and by month in the workspace's time zone.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from liveops.analytics import selectors as analytics
from liveops.analytics.models import SessionResult
from liveops.planning.models import Series
from liveops.reports import formatting as fmt
from liveops.reports.catalog import CATALOG
from liveops.reports.review import Figure, Number, PeriodReport, PeriodRow, TrendPoint, Unit
from liveops.workspaces.models import Workspace

Kind = Literal["week", "month", "series"]

#: The session table's columns (METRICS.md keys), in order.
COLUMNS = (
    "uv", "pcu", "avg_watch_s", "stay_1min_rate", "interaction_rate", "follows", "orders",
    "gmv", "conversion_rate", "gpm",
)  # fmt: skip
#: Totals: summed keys; every other column is a median.
SUMMED = frozenset({"uv", "pv", "comments", "likes", "follows", "orders", "gmv"})


def period_bounds(kind: Kind, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of the ISO week or month containing ``day``, in the workspace's zone."""
    if kind == "week":
        first = day - timedelta(days=day.weekday())
        last = first + timedelta(days=7)
    else:
        first = day.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1)
    return (
        datetime.combine(first, time.min, tzinfo=zone),
        datetime.combine(last, time.min, tzinfo=zone),
    )


def _aggregate(values: list[Any], key: str) -> Number | None:
    if not values:
        return None
    if key in SUMMED:
        return sum(values, Decimal(0)) if key == "gmv" else sum(int(v) for v in values)
    return statistics.median(float(v) for v in values)


def _points(results: list[SessionResult], label_of: Callable[[datetime], str]) -> list[TrendPoint]:
    groups: dict[str, list[SessionResult]] = {}
    for result in results:
        if result.start is not None:
            groups.setdefault(label_of(result.start), []).append(result)
    points = []
    for label, members in sorted(groups.items()):
        figures = {
            key: _aggregate(
                [v for r in members if (v := analytics.summary_value(r, key)) is not None], key
            )
            for key in COLUMNS
        }
        points.append(TrendPoint(period=label, sessions=len(members), figures=figures))
    return points


def period_build(
    *,
    workspace: Workspace,
    kind: Kind,
    day: date | None = None,
    series: Series | None = None,
    language: str = "zh-hans",
) -> PeriodReport:
    """The report of a week or month (containing ``day``) or of a whole series."""
    zone = ZoneInfo(workspace.time_zone)
    with override(language):
        if kind == "series":
            if series is None:
                raise ValueError("a series report needs the series")
            results = list(
                SessionResult.objects.filter(workspace=workspace, session__series=series)
                .select_related("session__account")
                .order_by("start")
            )
            starts = [r.start for r in results if r.start is not None]
            now = timezone.now()
            start, end = (min(starts), max(starts)) if starts else (now, now)
            title = _("Series report: %(title)s") % {"title": series.title}
        else:
            start, end = period_bounds(kind, day or timezone.localdate(), zone)
            results = list(analytics.results_between(workspace=workspace, start=start, end=end))
            if kind == "week":
                year, week, _d = start.isocalendar()
                title = _("Weekly report %(period)s") % {"period": f"{year}-W{week:02d}"}
            else:
                title = _("Monthly report %(period)s") % {"period": start.strftime("%Y-%m")}
        return _report(workspace, kind, title, start, end, results, language, zone)


def _report(
    workspace: Workspace,
    kind: Kind,
    title: str,
    start: datetime,
    end: datetime,
    results: list[SessionResult],
    language: str,
    zone: ZoneInfo,
) -> PeriodReport:
    currency = results[0].currency if results else workspace.currency
    columns: list[tuple[str, str, Unit]] = [(k, str(CATALOG[k][0]), CATALOG[k][1]) for k in COLUMNS]
    rows = [
        PeriodRow(
            session_id=r.session_id,
            title=r.session.title,
            start=r.start,
            platform=r.session.account.get_platform_display(),
            figures={k: analytics.summary_value(r, k) for k in COLUMNS},
        )
        for r in results
    ]
    totals = []
    for key in COLUMNS:
        label, unit, definition = CATALOG[key]
        value = _aggregate(
            [v for r in results if (v := analytics.summary_value(r, key)) is not None], key
        )
        how = _("sum over sessions") if key in SUMMED else _("median over sessions")
        totals.append(
            Figure(
                key=key,
                label=f"{label} ({how})",
                unit=unit,
                value=value,
                display=fmt.display(value, unit, language=language, currency=currency),
                definition=str(definition),
            )
        )

    def week_of(moment: datetime) -> str:
        year, week, _d = moment.astimezone(zone).isocalendar()
        return f"{year}-W{week:02d}"

    return PeriodReport(
        language=language,
        workspace_name=workspace.name,
        title=title,
        kind=kind,
        start=start,
        end=end,
        time_zone=workspace.time_zone,
        currency=currency,
        generated_at=timezone.now(),
        columns=columns,
        sessions=rows,
        totals=totals,
        weekly=_points(results, week_of),
        monthly=_points(results, lambda m: m.astimezone(zone).strftime("%Y-%m")),
        findings=[],
    )
