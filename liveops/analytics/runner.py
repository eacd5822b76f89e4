"""Compute every METRICS.md figure of one live session: :func:`compute_session`.

The runner executes the Ibis definitions of ``analytics.metrics`` on an ``analytics.engine``
and shapes the small results into a :class:`~liveops.analytics.results.SessionMetrics`.
It takes plain parameters (file lists, aware datetimes, dicts, Arrow tables) and imports
no Django, so services, the CLI and benchmarks call it alike.

How it stays fast (10 M events, 4 h: docs/scaling.md has the measurement)
    Three scans of the session's Parquet files, each reading only the columns it needs:
    the per-viewer aggregate, the per-second aggregate and the slice of events other than
    comments and likes. The per-viewer table, the slice and the intervals of viewers with
    several visits are materialised once (``Engine.cache``); every other query reads those
    smaller tables, and minute rows and segment counts are sums of per-second rows.

Grains (METRICS.md *data grains*)
    online(t), PCU, ACU and hours watched: snapshots (``online_count`` events) if the
    session has any, else watch intervals from enter/leave events, else the ``online``
    column of the imported minute stats, else not available. Counts (PV, comments, likes,
    shares, follows, orders, GMV): events when the session has events of that kind, else
    the minute stats column when it has values, else the events (a real 0). Per-viewer
    figures (commenters, buyers, rates over UV, watch times) need events; when their count
    came from minute stats they are not available.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

import pyarrow as pa  # type: ignore[import-untyped]

from liveops.analytics import digest as digests
from liveops.analytics import metrics as m
from liveops.analytics import sections
from liveops.analytics.digest import Digest
from liveops.analytics.engine import Engine
from liveops.analytics.results import SegmentSpec, SessionMetrics
from liveops.analytics.shaping import (
    SUMMARY_KEYS,
    Run,
    Tables,
    audience,
    money,
    timeline,
    to_dt,
    to_ms,
)

__all__ = ["STATS_COLUMNS", "SUMMARY_KEYS", "SegmentSpec", "SessionMetrics", "compute_session"]

#: Columns of the imported minute stats (any may be missing or null), besides ``minute``.
STATS_COLUMNS: Final = (
    "online",
    "entries",
    "exits",
    "comments",
    "likes",
    "shares",
    "new_follows",
    "orders",
    "gmv",
    "impressions",
)


def _spec(segment: SegmentSpec | Sequence[Any]) -> SegmentSpec:
    if isinstance(segment, SegmentSpec):
        return segment
    return SegmentSpec(*segment)


# --------------------------------------------------------------------------------------------
# Minute stats input
# --------------------------------------------------------------------------------------------


def _stats_table(stats: Any) -> pa.Table:
    """The caller's minute stats (Arrow, or anything with ``to_pyarrow``) normalised:
    ``minute_ms`` (start of the UTC minute) and every :data:`STATS_COLUMNS` column."""
    table: pa.Table = stats if isinstance(stats, pa.Table) else stats.to_pyarrow()
    if "minute" not in table.column_names:
        raise ValueError("minute stats need a 'minute' column (UTC timestamp of the minute)")
    minutes: list[int] = []
    for value in table.column("minute").to_pylist():
        if isinstance(value, datetime):
            ms = to_ms(value if value.tzinfo else value.replace(tzinfo=UTC))
        else:
            ms = int(value)
        minutes.append(ms - ms % m.MINUTE_MS)
    columns: dict[str, pa.Array] = {"minute_ms": pa.array(minutes, type=pa.int64())}
    for name in STATS_COLUMNS:
        values = table.column(name).to_pylist() if name in table.column_names else []
        values = values or [None] * table.num_rows
        if name == "gmv":
            columns[name] = pa.array(
                [None if v is None else money(Decimal(str(v))) for v in values],
                type=pa.decimal128(18, 4),
            )
        else:
            columns[name] = pa.array(
                [None if v is None else int(v) for v in values], type=pa.int64()
            )
    return pa.table(columns)


def compute_session(
    engine: Engine,
    *,
    events_files: Sequence[str],
    start: datetime | None,
    end: datetime | None,
    currency: str,
    gift_rates: Mapping[str, Decimal] | None = None,
    segments: Iterable[SegmentSpec | Sequence[Any]] = (),
    minute_stats: Any = None,
    prior_viewer_files: Sequence[str] | None = None,
    next_session_files: Sequence[str] | None = None,
    channels: Mapping[str, Decimal | None] | Sequence[str] | None = None,
    impressions: int | None = None,
    top_n: int = 20,
    digest: Digest | None = None,
    host_id: str | None = None,
) -> SessionMetrics:
    """All METRICS.md figures of one session.

    ``events_files``: the session's Parquet files (``EventStore.file_uris(ws, session)``).
    ``digest``: the session's digest (``analytics.digest``) covering exactly the events in
    ``events_files`` — kept current while the events arrive, it spares reading them; None
    → built from the files now. ``host_id``: the viewer id of the session's own account,
    whose comments are the host's replies (``answered_60s_rate``; a given digest carries
    its own).
    ``start``/``end``: the live (aware datetimes; None → first/last event). ``currency``:
    the session currency (ISO 4217). ``gift_rates``: session-currency value of one unit of
    a platform's gift currency, by platform (``{"douyin": Decimal("0.1")}``). ``segments``:
    run-of-show :class:`SegmentSpec` s or ``(key, title, planned_start, planned_end,
    actual_start, actual_end)`` tuples. ``minute_stats``: imported per-minute platform stats
    (Arrow table; ``minute`` + any of :data:`STATS_COLUMNS`). ``prior_viewer_files``: event
    files of the account's sessions in the 30 days before (None → new/returning not
    available; ``[]`` → everyone is new). ``next_session_files``: the series' next
    session (None → ``return_rate_next`` not available). ``channels``: the promotion
    channels' tracking codes/passphrases, optionally with their cost (None → every
    ``link:…`` / ``passphrase:…`` source, no costs). ``impressions``: imported live-room
    impressions (else the minute stats' ``impressions``) for ``entry_rate``.
    """
    run = Run(engine, currency)
    try:
        base = (
            digest if digest is not None else digests.build(engine, events_files, host_id=host_id)
        )
        window = run.window(base.span_ms(), start, end)
        out = digests.outside(engine, base, events_files, window) if run.has_window else None
        t = Tables.build(engine, base, out, window, currency)
        stats = (
            None
            if minute_stats is None
            else run.rows(m.minute_stats_rows(engine.table(_stats_table(minute_stats)), window))
        )
        aud = audience(run, t)
        tl = timeline(run, t, window, stats, aud)
        fully_refunded = sections.commerce(
            run, t, aud, tl, dict(gift_rates or {}), stats, impressions
        )
        sections.returning(run, t, aud, prior_viewer_files, next_session_files)
        channel_results = sections.channels(run, t, tl, channels)
        segment_results = sections.segments(run, t, aud, tl, [_spec(s) for s in segments])
        sections.answers(run, t)
        return SessionMetrics(
            start=to_dt(window.start_ms) if run.has_window else None,
            end=to_dt(window.end_ms) if run.has_window else None,
            currency=currency,
            engine=engine.name,
            summary=run.summary,
            grains=run.grains,
            unavailable=run.unavailable,
            minutes=tl.rows,
            retention=aud.retention,
            funnel=sections.funnel(run, aud, fully_refunded),
            sources=sections.sources(run, t),
            segments=segment_results,
            products=sections.products(run, t, tl),
            channels=channel_results,
            top_viewers=sections.top_viewers(run, t, aud, tl, top_n),
            notes=tuple(run.notes),
        )
    finally:
        engine.release()
