"""Writes of the analytics app: materialise a session's results, action items.

``session_materialize`` runs the metric definitions (``analytics.runner``) over the event
store and writes the summary, the per-minute series and the per-segment figures to the app
database, so pages never scan raw events. It is idempotent and resumable: a fingerprint of
everything the figures depend on (the session's event files, its minute stats, its plan,
its times) is stored with the result; the same fingerprint means nothing to do, and a
crash mid-way leaves the previous result in place (one transaction). A late import changes
the files, so the next call recomputes.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, is_dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from liveops.analytics import digest as digests
from liveops.analytics import words as words_mod
from liveops.analytics.engine import Engine, open_engine
from liveops.analytics.models import (
    ActionItem,
    AnalyticsSettings,
    SegmentFigures,
    SessionMinute,
    SessionResult,
)
from liveops.analytics.results import SegmentSpec, SessionMetrics
from liveops.analytics.runner import compute_session
from liveops.events import selectors as event_selectors
from liveops.planning.models import LiveSession, Segment, SessionStatus

log = logging.getLogger(__name__)

#: new / returning viewers look this far back (METRICS.md).
RETURNING_WINDOW = timedelta(days=30)

_engine_lock = threading.Lock()
_engines: dict[str, Engine] = {}
_session_locks: dict[int, threading.Lock] = {}


@contextmanager
def _engine() -> Iterator[Engine]:
    """The process's engine of ``LIVEOPS_ANALYTICS_ENGINE``, one computation at a time.

    DuckDB uses both cores for one query, so running two sessions' computations at once
    only makes both slower; Spark sessions are expensive to start, so one is kept.
    """
    name = settings.LIVEOPS_ANALYTICS_ENGINE
    with _engine_lock:
        engine = _engines.get(name)
        if engine is None:
            engine = open_engine(
                name,
                spark_master=settings.LIVEOPS_SPARK_MASTER,
                threads=settings.LIVEOPS_ANALYTICS_THREADS or None,
            )
            _engines[name] = engine
        yield engine


def _jsonable(value: Any) -> Any:
    """Plain JSON values: Decimals as strings (exact), datetimes as ISO text."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _jsonable(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    return value


def _live_window(session: LiveSession) -> tuple[datetime | None, datetime | None]:
    start = session.actual_start or session.scheduled_start
    end = session.actual_end
    if end is None and session.status not in (SessionStatus.LIVE,):
        end = session.scheduled_end if session.actual_start is None else None
    return start, end


def _segment_specs(session: LiveSession, start: datetime | None) -> list[SegmentSpec]:
    if start is None:
        return []
    specs = []
    for segment in Segment.objects.filter(session=session).order_by("position", "id"):
        planned_start = start + timedelta(seconds=segment.offset_s)
        specs.append(
            SegmentSpec(
                key=str(segment.pk),
                title=segment.title,
                planned_start=planned_start,
                planned_end=planned_start + timedelta(seconds=segment.duration_s),
            )
        )
    return specs


def _related_files(session: LiveSession, start: datetime | None) -> tuple[list[str], list[str]]:
    """Event files of the account's sessions in the 30 days before, and of the series' next."""
    prior: list[str] = []
    following: list[str] = []
    if start is None:
        return prior, following
    earlier = LiveSession.objects.filter(
        workspace=session.workspace,
        account=session.account,
        scheduled_start__lt=start,
        scheduled_start__gte=start - RETURNING_WINDOW,
    ).exclude(pk=session.pk)
    for other in earlier:
        prior += event_selectors.session_event_files(session=other)
    if session.series_id is not None:
        nxt = (
            LiveSession.objects.filter(series_id=session.series_id, scheduled_start__gt=start)
            .order_by("scheduled_start")
            .first()
        )
        if nxt is not None:
            following = event_selectors.session_event_files(session=nxt)
    return prior, following


def _fingerprint(session: LiveSession, files: list[str], prior: list[str], nxt: list[str]) -> str:
    segments = Segment.objects.filter(session=session).aggregate(last=Max("updated_at"))
    parts = [
        "v2",
        session.account.external_id,
        settings.LIVEOPS_ANALYTICS_ENGINE,
        session.updated_at.isoformat(),
        str(segments["last"]),
        event_selectors.minute_stats_fingerprint(session=session),
        "|".join(sorted(files)),
        str(len(prior)),
        "|".join(sorted(nxt)),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _gift_rates(session: LiveSession) -> dict[str, Decimal]:
    found = AnalyticsSettings.objects.filter(workspace_id=session.workspace_id).first()
    if found is None:
        return {}
    return {str(k): Decimal(str(v)) for k, v in (found.gift_rates or {}).items()}


@dataclass(frozen=True, slots=True)
class _Inputs:
    """What a session's figures are computed from (read once per materialisation)."""

    start: datetime | None
    end: datetime | None
    files: list[str]
    prior: list[str]
    following: list[str]
    fingerprint: str


def _inputs(session: LiveSession) -> _Inputs:
    start, end = _live_window(session)
    files = event_selectors.session_event_files(session=session)
    prior, following = _related_files(session, start)
    return _Inputs(
        start, end, files, prior, following, _fingerprint(session, files, prior, following)
    )


def _digest_folder(session: LiveSession) -> Path:
    return (
        Path(settings.DATA_DIR)
        / "analytics"
        / "digests"
        / str(session.workspace_id)
        / str(session.pk)
    )


def session_digest(
    *, session: LiveSession, engine: Engine
) -> tuple[digests.Digest, list[str], bool]:
    """The session's digest (``analytics.digest``) brought up to date with the event store,
    the session's active event files at the version it covers, and whether it changed
    (then the caller saves it with :func:`_digest_save` once the figures are computed).

    The stored digest is advanced with the files appended since its version (work in
    proportion to what arrived — the live refresher does this every few seconds); it is
    built from all the session's files when there is none yet, or when the data changed in
    another way than by appends (an erasure, files vacuumed before the digest caught up).
    """
    folder = _digest_folder(session)
    host_id = (session.account.external_id or "").strip() or None
    base = digests.load(folder)
    if base is not None and base.host_id != host_id:
        base = None  # the account's id changed: its replies are other comments now
    if base is not None:
        changes = event_selectors.session_event_files_since(session=session, version=base.version)
        if changes is not None:
            version, added, files = changes
            if not added:
                return base, files, False
            return digests.advance(engine, base, added, version=version), files, True
    version, files = event_selectors.session_event_snapshot(session=session)
    return digests.build(engine, files, version=version, host_id=host_id), files, True


def _digest_save(session: LiveSession, digest: digests.Digest) -> None:
    digests.save(digest, _digest_folder(session))


def session_compute(
    *, session: LiveSession, inputs: _Inputs | None = None
) -> tuple[SessionMetrics, str]:
    """Compute a session's metrics now (no writes); also returns the inputs' fingerprint."""
    inputs = inputs or _inputs(session)
    stats = event_selectors.minute_stats_rows(session=session)
    minute_stats = None
    if stats:
        import pyarrow as pa  # type: ignore[import-untyped]

        minute_stats = pa.Table.from_pylist(stats)
    with _engine() as engine:
        digest, files, changed = session_digest(session=session, engine=engine)
        metrics = compute_session(
            engine,
            digest=digest,
            events_files=files,
            start=inputs.start,
            end=inputs.end,
            currency=session.account.currency,
            gift_rates=_gift_rates(session),
            segments=_segment_specs(session, inputs.start),
            minute_stats=minute_stats,
            prior_viewer_files=inputs.prior,
            next_session_files=inputs.following if session.series_id is not None else None,
        )
        if changed:
            _digest_save(session, digest)
    return metrics, inputs.fingerprint


def session_result(*, session: LiveSession) -> SessionResult:
    """The session's results for a page: the stored ones when nothing changed since they
    were computed (a few cheap queries: the ingest tally, the session, its segments), else
    freshly materialised."""
    from liveops.events.models import IngestTally

    result = SessionResult.objects.filter(session=session).first()
    if result is not None:
        changed = [
            IngestTally.objects.filter(session=session)
            .values_list("updated_at", flat=True)
            .first(),
            session.updated_at,
            Segment.objects.filter(session=session).aggregate(last=Max("updated_at"))["last"],
        ]
        if all(moment is None or moment <= result.computed_at for moment in changed):
            return result
    return session_materialize(session=session)


def session_materialize(*, session: LiveSession, force: bool = False) -> SessionResult:
    """Compute and store a session's results unless they are current (see module doc)."""
    lock = _session_locks.setdefault(session.pk, threading.Lock())
    with lock:
        # computed_at is when the inputs were read: data arriving during the computation is
        # newer than the result, so the next check recomputes
        as_of = timezone.now()
        inputs = _inputs(session)
        existing = SessionResult.objects.filter(session=session).first()
        if existing is not None and not force and existing.fingerprint == inputs.fingerprint:
            return existing
        began = time.perf_counter()
        metrics, fingerprint = session_compute(session=session, inputs=inputs)
        texts = event_selectors.comment_text_counts(session=session)
        words = (words_mod.hot_words(texts), words_mod.top_questions(texts))
        elapsed_ms = int((time.perf_counter() - began) * 1000)
        return _store(session, metrics, fingerprint, elapsed_ms, words, as_of)


def result_rows(
    session: LiveSession,
    metrics: SessionMetrics,
    fingerprint: str,
    elapsed_ms: int,
    words: tuple[list[tuple[str, int]], list[tuple[str, int]]],
    as_of: datetime,
) -> tuple[SessionResult, list[SessionMinute], list[SegmentFigures]]:
    """A computation as (unsaved) rows: the result, its minute rows, its segment figures."""
    result = SessionResult(
        session=session,
        workspace_id=session.workspace_id,
        computed_at=as_of,
        fingerprint=fingerprint,
        engine=metrics.engine,
        compute_ms=elapsed_ms,
        start=metrics.start,
        end=metrics.end,
        currency=metrics.currency,
        summary=_jsonable(metrics.summary),
        grains=dict(metrics.grains),
        unavailable=dict(metrics.unavailable),
        retention=None if metrics.retention is None else list(metrics.retention),
        funnel=_jsonable(list(metrics.funnel)),
        sources=_jsonable(list(metrics.sources)),
        products=_jsonable(list(metrics.products)),
        channels=_jsonable(list(metrics.channels)),
        top_viewers=_jsonable(metrics.top_viewers),
        hot_words=[list(w) for w in words[0]],
        questions=[list(q) for q in words[1]],
        notes=list(metrics.notes),
    )
    minutes = [
        SessionMinute(
            session=session,
            minute=row.minute,
            online=None if row.online is None else float(row.online),
            entries=row.entries,
            exits=row.exits,
            comments=row.comments,
            likes=row.likes,
            gifts=row.gifts,
            orders=row.orders,
            gmv=row.gmv,
            host_replies=row.host_replies,
        )
        for row in metrics.minutes
    ]
    known = set(Segment.objects.filter(session=session).values_list("pk", flat=True))
    segments = [
        SegmentFigures(
            session=session,
            segment_id=int(seg.key) if seg.key.isdigit() and int(seg.key) in known else None,
            position=i,
            title=seg.title[:200],
            start=seg.start,
            end=seg.end,
            figures=_jsonable({k: v for k, v in asdict(seg).items() if k not in ("key", "title")}),
        )
        for i, seg in enumerate(metrics.segments)
    ]
    return result, minutes, segments


@transaction.atomic
def _store(
    session: LiveSession,
    metrics: SessionMetrics,
    fingerprint: str,
    elapsed_ms: int,
    words: tuple[list[tuple[str, int]], list[tuple[str, int]]],
    as_of: datetime,
) -> SessionResult:
    fresh, minutes, segments = result_rows(session, metrics, fingerprint, elapsed_ms, words, as_of)
    values = {
        f.attname: getattr(fresh, f.attname)
        for f in SessionResult._meta.concrete_fields
        if not f.primary_key and f.attname != "session_id"
    }
    result, _ = SessionResult.objects.update_or_create(session=session, defaults=values)
    SessionMinute.objects.filter(session=session).delete()
    SessionMinute.objects.bulk_create(minutes, batch_size=1000)
    SegmentFigures.objects.filter(session=session).delete()
    SegmentFigures.objects.bulk_create(segments)
    return result


# --------------------------------------------------------------------------------------------
# Simulcast: one event on several platform accounts
# --------------------------------------------------------------------------------------------


def simulcast_members(*, session: LiveSession) -> list[LiveSession]:
    """The sessions of ``session``'s simulcast, the main one first; [] when it has none."""
    main = session.simulcast_of if session.simulcast_of_id is not None else session
    assert main is not None
    others = LiveSession.objects.filter(simulcast_of=main).select_related("account")
    members = [main, *others.order_by("pk")]
    return members if len(members) > 1 else []


@dataclass(frozen=True, slots=True)
class Simulcast:
    """A simulcast's combined figures (rows not saved) and each platform session's own."""

    main: LiveSession
    result: SessionResult
    minutes: list[SessionMinute]
    segments: list[SegmentFigures]
    members: list[tuple[LiveSession, SessionResult]]


_simulcasts: dict[int, tuple[str, Simulcast]] = {}


def _combined_words(lists: list[list[list[Any]]], limit: int) -> list[tuple[str, int]]:
    totals: dict[str, int] = {}
    for items in lists:
        for word, count in items:
            totals[str(word)] = totals.get(str(word), 0) + int(count)
    return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


def simulcast_result(*, session: LiveSession) -> Simulcast | None:
    """The combined review figures of ``session``'s simulcast (None when it has none).

    Each platform session is materialised as usual; the combination runs the same metric
    definitions over the members' digests put together (``analytics.digest.combine``):
    counts add up, viewers of different accounts stay different people, online counts add
    up per minute, the window runs from the first start to the last end, money is in the
    main session's currency (orders in another currency make GMV "not available", with the
    reason). New/returning viewers are not combined (not available). Kept in memory until
    a member's figures change.
    """
    members = simulcast_members(session=session)
    if not members:
        return None
    main = members[0]
    results = [session_result(session=m) for m in members]
    key = "|".join(f"{r.fingerprint}@{r.computed_at.isoformat()}" for r in results)
    cached = _simulcasts.get(main.pk)
    if cached is not None and cached[0] == key:
        return cached[1]
    as_of = timezone.now()
    began = time.perf_counter()
    windows = [_live_window(m) for m in members]
    starts = [w[0] for w in windows if w[0] is not None]
    ends = [w[1] for w in windows]
    start = min(starts) if starts else None
    end = None if not ends or any(e is None for e in ends) else max(e for e in ends if e)
    with _engine() as engine:
        parts = []
        for member in members:
            digest, files, changed = session_digest(session=member, engine=engine)
            if changed:
                _digest_save(member, digest)
            parts.append((f"{member.account.platform}:{member.pk}:", digest, files))
        metrics = compute_session(
            engine,
            digest=digests.combine(parts),
            events_files=[],
            start=start,
            end=end,
            currency=main.account.currency,
            gift_rates=_gift_rates(main),
            segments=_segment_specs(main, _live_window(main)[0]),
        )
    words = (
        _combined_words([r.hot_words for r in results], 50),
        _combined_words([r.questions for r in results], 20),
    )
    elapsed_ms = int((time.perf_counter() - began) * 1000)
    result, minutes, segments = result_rows(main, metrics, key, elapsed_ms, words, as_of)
    combined = Simulcast(main, result, minutes, segments, list(zip(members, results, strict=True)))
    _simulcasts[main.pk] = (key, combined)
    return combined


def sessions_refresh(*, now: datetime | None = None, limit: int = 20) -> int:
    """Bring stale results up to date: live sessions and sessions whose data changed.

    Called every few seconds by the web process's refresher (``analytics.runtime``) and by
    ``liveops metrics``/``review``; returns how many sessions were recomputed.
    """
    from liveops.events.models import IngestTally

    now = now or timezone.now()
    done = 0
    candidates = (
        IngestTally.objects.filter(updated_at__gte=now - timedelta(days=2))
        .select_related("session__account", "session__workspace")
        .order_by("-updated_at")[:limit]
    )
    for tally in candidates:
        session = tally.session
        result = SessionResult.objects.filter(session=session).only("computed_at").first()
        if result is not None and result.computed_at >= tally.updated_at:
            continue
        try:
            before = result.computed_at if result is not None else None
            fresh = session_materialize(session=session)
            done += int(fresh.computed_at != before)
        except Exception:  # one bad session must not stop the others
            log.exception("analytics: materialising session %s failed", session.pk)
    return done


def action_item_create(
    *,
    session: LiveSession,
    title: str,
    by: Any,
    finding_key: str = "",
    detail: str = "",
    owner: Any = None,
    due: date | None = None,
) -> ActionItem:
    """An action item for the next lives, usually from a review finding."""
    return ActionItem.objects.create(
        workspace_id=session.workspace_id,
        session=session,
        finding_key=finding_key[:60],
        title=title[:200],
        detail=detail,
        owner=owner,
        due=due,
        created_by=by,
    )


def action_item_set_status(*, item: ActionItem, status: str) -> ActionItem:
    item.status = status
    item.save(update_fields=["status", "updated_at"])
    return item
