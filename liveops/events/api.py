"""Ingest API: ``POST /api/v1/sessions/{id}/events`` (JSON array or NDJSON, gzip accepted).

Async, so many requests wait for the event store at once: the store groups concurrent
appends into one Delta commit (group commit). A request is answered only after its
events are committed and its rejected rows are in the quarantine. Too much waiting →
503 with Retry-After (never "200 then dropped").
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import orjson
from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from liveops.events import fastndjson, services
from liveops.events.ingest import (
    MAX_BODY_BYTES,
    MAX_ROWS,
    BodyError,
    outcome_of,
    parse_body,
    prepare,
)
from liveops.events.runtime import event_store, note_append
from liveops.events.schema import to_arrow
from liveops.planning.models import LiveSession
from liveops.planning.selectors import session_get
from liveops.workspaces.models import ApiKey

router = Router(tags=["events"])

#: Events accepted into memory but not yet committed, per process; beyond it → 503.
MAX_PENDING_EVENTS = 200_000
_pending = 0
_pending_lock = threading.Lock()


class Counts(Schema):
    sent: int
    accepted: int
    duplicate: int
    rejected: int
    by_kind: dict[str, int]


class ItemResult(Schema):
    index: int
    status: str
    event_id: str | None = None
    code: str | None = None
    field: str | None = None
    message: str | None = None


class IngestOut(Schema):
    counts: Counts
    results: list[ItemResult]


class ErrorOut(Schema):
    error: str
    message: str


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(orjson.dumps(payload), status=status, content_type="application/json")
    for k, v in (headers or {}).items():
        response[k] = v
    return response


def _reserve(n: int) -> bool:
    global _pending
    with _pending_lock:
        if _pending and _pending + n > MAX_PENDING_EVENTS:
            return False
        _pending += n
        return True


def _release(n: int) -> None:
    global _pending
    with _pending_lock:
        _pending -= n


#: Session lookups are cached briefly per process: a live sends many requests a second.
SESSION_CACHE_SECONDS = 5.0
_sessions: dict[tuple[int, int], tuple[float, LiveSession | None]] = {}


def _cached_session(key: ApiKey, session_id: int) -> tuple[bool, LiveSession | None]:
    """(hit, session) from the per-process cache, without touching the database."""
    hit = _sessions.get((key.workspace_id, session_id))
    if hit is not None and time.monotonic() - hit[0] < SESSION_CACHE_SECONDS:
        return True, hit[1]
    return False, None


def _session_for(key: ApiKey, session_id: int) -> LiveSession | None:
    found, session = _cached_session(key, session_id)
    if found:
        return session
    session = session_get(workspace=key.workspace, pk=session_id)
    if len(_sessions) > 10_000:
        _sessions.clear()
    _sessions[(key.workspace_id, session_id)] = (time.monotonic(), session)
    return session


@router.post(
    "/sessions/{session_id}/events",
    response={200: IngestOut, 400: ErrorOut, 404: ErrorOut, 413: ErrorOut, 503: ErrorOut},
    summary="Send live events",
    description=(
        f"A JSON array or NDJSON body (`Content-Encoding: gzip` accepted) of at most {MAX_ROWS} "
        f"events and {MAX_BODY_BYTES // (1024 * 1024)} MiB. The answer comes after the events "
        "are committed: per-item results say accepted, duplicate (already stored: safe to "
        "retry a batch) or rejected (with code, field and message; kept in the session's "
        "quarantine). accepted + duplicate + rejected = sent. `?results=errors` lists only "
        "duplicates and rejections. 503 with Retry-After when the server is saturated."
    ),
)
async def events_ingest(request: HttpRequest, session_id: int, results: str = "all") -> Any:
    key: ApiKey = request.auth  # type: ignore[attr-defined]
    found, session = _cached_session(key, session_id)  # a live's many requests: no hop
    if not found:
        session = await sync_to_async(_session_for)(key, session_id)
    if session is None:
        return _json(
            404, {"error": "not_found", "message": "No such session in this API key's workspace."}
        )
    content_type = request.headers.get("Content-Type", "")
    content_encoding = request.headers.get("Content-Encoding", "")
    workspace_id, platform = session.workspace_id, session.account.platform
    fast: fastndjson.FastBatch | None = None
    try:
        text = fastndjson.ndjson_text(
            request.body, content_type=content_type, content_encoding=content_encoding
        )
        if text is not None:
            fast = fastndjson.fast_prepare(
                text, workspace_id=workspace_id, session_id=session.pk, platform=platform
            )
        if fast is None:
            raws: list[str] = []
            rows = parse_body(
                request.body,
                content_type=content_type,
                content_encoding=content_encoding,
                raws=raws,
            )
            batch = prepare(
                rows,
                workspace_id=workspace_id,
                session_id=session.pk,
                platform=platform,
                raws=raws or None,
            )
    except BodyError as exc:
        return _json(exc.status, exc.to_dict())
    size = fast.size if fast is not None else len(batch.events)
    if not _reserve(size):
        return _json(
            503,
            {
                "error": "overloaded",
                "message": "The event store is saturated; retry this batch shortly.",
            },
            {"Retry-After": "1"},
        )
    try:
        accepted_ids: list[str] = []
        if size:
            table = fast.table if fast is not None else to_arrow(batch.events)
            result = await asyncio.to_thread(event_store().append, table)
            accepted_ids = result.accepted_ids
            note_append(session.workspace_id, session.pk)
        if fast is not None:
            outcome = fastndjson.outcome_of(fast, accepted_ids)
            tallied = services.Tallied(
                accepted=len(outcome.accepted),
                duplicate=len(outcome.duplicate),
                rejected=[(f"item {i}", r, raw) for i, r, raw in outcome.rejected],
                by_kind=dict(outcome.by_kind),
                first_ms=outcome.first_ts_ms,
                last_ms=outcome.last_ts_ms,
            )
        else:
            outcome = outcome_of(batch, accepted_ids)
            tallied = services.tallied_of(
                outcome, zip(batch.event_index, batch.events, strict=True)
            )
        await sync_to_async(services.batch_record)(session=session, origin="api", tallied=tallied)
    finally:
        _release(size)
    return _json(
        200,
        {"counts": outcome.counts(), "results": outcome.results(errors_only=results == "errors")},
    )
