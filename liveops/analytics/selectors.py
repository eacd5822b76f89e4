"""Reads of materialised analytics results (never raw events)."""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from liveops.analytics.models import ActionItem, SegmentFigures, SessionMinute, SessionResult
from liveops.analytics.words import is_question as is_question  # for the reports app
from liveops.planning.models import LiveSession
from liveops.workspaces.models import Workspace

#: Summary keys whose values are money (stored as exact decimal strings).
MONEY_KEYS = frozenset({"gmv", "uv_value", "aov", "gpm", "gift_revenue", "cost_per_viewer"})


def result_get(*, session: LiveSession) -> SessionResult | None:
    return SessionResult.objects.filter(session=session).first()


def minute_list(*, session: LiveSession) -> QuerySet[SessionMinute]:
    return SessionMinute.objects.filter(session=session).order_by("minute")


def segment_figures_list(*, session: LiveSession) -> QuerySet[SegmentFigures]:
    return SegmentFigures.objects.filter(session=session).order_by("position", "id")


def action_item_list(*, session: LiveSession) -> QuerySet[ActionItem]:
    return ActionItem.objects.filter(session=session).select_related("owner")


def summary_value(result: SessionResult, key: str) -> int | float | Decimal | None:
    """A summary figure as a number: money as Decimal, None when not available."""
    value = result.summary.get(key)
    if value is None:
        return None
    if key in MONEY_KEYS:
        return Decimal(str(value))
    if isinstance(value, int | float):
        return value
    return Decimal(str(value))


def metrics_document(*, session: LiveSession, result: SessionResult) -> dict[str, Any]:
    """The machine-readable metrics of a session, keyed by the METRICS.md ``key`` column.

    Scalars as numbers (money exact; ``null`` = not available), series as lists:
    ``online_series`` / ``comments_series`` ([UTC minute, value] pairs),
    ``retention_curve`` (r(1)…r(60)), ``funnel`` and ``source_share``.
    """
    doc: dict[str, Any] = {
        "session_id": session.pk,
        "title": session.title,
        "platform": session.account.platform,
        "currency": result.currency,
        "start": result.start.isoformat() if result.start else None,
        "end": result.end.isoformat() if result.end else None,
        "computed_at": result.computed_at.isoformat(),
        "engine": result.engine,
    }
    for key in result.summary:
        doc[key] = summary_value(result, key)
    minutes = list(minute_list(session=session).values_list("minute", "online", "comments"))
    doc["online_series"] = [[m.isoformat(), online] for m, online, _c in minutes]
    doc["comments_series"] = [[m.isoformat(), c] for m, _o, c in minutes]
    doc["retention_curve"] = result.retention
    doc["funnel"] = result.funnel
    doc["source_share"] = result.sources
    doc["grains"] = result.grains
    doc["unavailable"] = result.unavailable
    return doc


def previous_in_series(*, session: LiveSession) -> SessionResult | None:
    """The result of the series' session before this one (by scheduled start)."""
    if session.series_id is None or session.scheduled_start is None:
        return None
    before = (
        LiveSession.objects.filter(
            series_id=session.series_id, scheduled_start__lt=session.scheduled_start
        )
        .order_by("-scheduled_start")
        .values_list("pk", flat=True)
        .first()
    )
    if before is None:
        return None
    return SessionResult.objects.filter(session_id=before).first()


def trailing_median(
    *, workspace: Workspace, before: datetime, keys: list[str], days: int = 30
) -> dict[str, float | Decimal | None]:
    """Median of each summary key over the workspace's sessions of the ``days`` before."""
    results = SessionResult.objects.filter(
        workspace=workspace, start__lt=before, start__gte=before - timedelta(days=days)
    ).only("summary")
    values: dict[str, list[Any]] = {k: [] for k in keys}
    for result in results:
        for key in keys:
            value = summary_value(result, key)
            if value is not None:
                values[key].append(value)
    return {k: (statistics.median(v) if v else None) for k, v in values.items()}


def results_between(
    *, workspace: Workspace, start: datetime, end: datetime
) -> QuerySet[SessionResult]:
    return (
        SessionResult.objects.filter(workspace=workspace, start__gte=start, start__lt=end)
        .select_related("session__account")
        .order_by("start")
    )
