"""Turning a request body or an importer's records into a batch ready for the event store.

No Django here: the API, the CLI importer, the replayer and benchmarks share it. The
steps are: read the body (JSON array or NDJSON, optionally gzip) within documented
limits, validate every row with ``schema.validate``, and keep, per row, what became of
it, so that accepted + duplicate + rejected = sent, exactly.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from liveops.events.schema import NormalizedEvent, Rejection, to_arrow, validate

#: Documented limits of ``POST /api/v1/sessions/{id}/events`` (docs/events.md).
MAX_BODY_BYTES: Final = 16 * 1024 * 1024  # as sent (compressed or not)
MAX_DECOMPRESSED_BYTES: Final = 64 * 1024 * 1024  # after gunzip
MAX_ROWS: Final = 10_000  # rows per request


class BodyError(Exception):
    """The request body as a whole is unusable. ``status`` is 400 or 413."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message}


def _gunzip(body: bytes) -> bytes:
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = decompressor.decompress(body, MAX_DECOMPRESSED_BYTES + 1)
    except zlib.error as exc:
        raise BodyError(400, "bad_gzip", f"the body is not valid gzip: {exc}.") from exc
    if len(out) > MAX_DECOMPRESSED_BYTES or decompressor.unconsumed_tail:
        raise BodyError(
            413,
            "body_too_large",
            f"the body unpacks to more than {MAX_DECOMPRESSED_BYTES} bytes; "
            f"send at most {MAX_ROWS} rows per request.",
        )
    return out


def parse_body(
    body: bytes,
    *,
    content_type: str = "",
    content_encoding: str = "",
    raws: list[str] | None = None,
) -> list[Any]:
    """The rows of a JSON-array or NDJSON body (gzip accepted), or BodyError.

    For NDJSON bodies, ``raws`` (if given) receives each row's line as sent, stripped.
    """
    if len(body) > MAX_BODY_BYTES:
        raise BodyError(
            413, "body_too_large", f"the body is {len(body)} bytes; the limit is {MAX_BODY_BYTES}."
        )
    if content_encoding.strip().lower() == "gzip" or body[:2] == b"\x1f\x8b":
        body = _gunzip(body)
    text = body.lstrip()
    if not text:
        raise BodyError(400, "empty_body", "the body is empty; send a JSON array or NDJSON.")
    rows: list[Any]
    if text[:1] == b"[" and "ndjson" not in content_type:
        try:
            parsed = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise BodyError(
                400, "bad_json", f"the body is not valid JSON: {exc}. Send a JSON array of events."
            ) from exc
        if not isinstance(parsed, list):
            raise BodyError(400, "bad_json", "the body must be a JSON array of event objects.")
        rows = parsed
    else:
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                raise BodyError(
                    400,
                    "bad_json",
                    f"line {number} is not valid JSON: {exc}. NDJSON needs one JSON object "
                    "per line.",
                ) from exc
            if raws is not None:
                raws.append(line.strip().decode())
            if len(rows) > MAX_ROWS:
                break
    if len(rows) > MAX_ROWS:
        raise BodyError(
            413, "too_many_rows", f"at most {MAX_ROWS} rows per request; split the batch."
        )
    return rows


@dataclass(slots=True)
class Prepared:
    """One batch after validation, before the store decides what is new."""

    workspace_id: int
    session_id: int
    events: list[NormalizedEvent] = field(default_factory=list)
    event_index: list[int] = field(default_factory=list)  # row index of each event
    rejections: list[tuple[int, Rejection, str]] = field(default_factory=list)  # idx, why, raw
    sent: int = 0


def prepare(
    rows: Sequence[Any],
    *,
    workspace_id: int,
    session_id: int,
    platform: str | None = None,
    raws: Sequence[str] | None = None,
) -> Prepared:
    """Validate rows; a row's ``event_id`` repeated inside the batch counts as duplicate later.

    ``raws`` (NDJSON: each row's line as sent) is kept as ``raw`` instead of the row as JSON.
    """
    batch = Prepared(workspace_id, session_id, sent=len(rows))
    for index, row in enumerate(rows):
        result = validate(row, workspace_id=workspace_id, session_id=session_id, platform=platform)
        if isinstance(result, NormalizedEvent):
            batch.events.append(result if raws is None else with_raw(result, raws[index]))
            batch.event_index.append(index)
        else:
            raw = raw_text(row) if raws is None else raws[index]
            batch.rejections.append((index, result, raw))
    return batch


def raw_text(row: Any) -> str:
    try:
        return orjson.dumps(row).decode()
    except (TypeError, orjson.JSONEncodeError):
        return repr(row)[:65536]


def rejection_id(rejection: Rejection, raw: str) -> str:
    """A stable id for a rejected row, so re-sending it does not fill the quarantine twice."""
    return rejection.event_id or "h:" + hashlib.sha256(raw.encode()).hexdigest()[:32]


class RepeatCounter:
    """Numbers identical raw records seen close together, so each stays a distinct event.

    Records without a source id get a hash of their raw text as id. Two identical lines
    (the same viewer liking twice in one second) are still two events: the n-th repeat
    within the last ``window`` records gets ``#n`` appended. Re-importing the same file
    reproduces the same ids, so it adds nothing; memory stays flat on huge files.
    """

    def __init__(self, window: int = 10_000) -> None:
        self.window = window
        self.counts: dict[str, int] = {}
        self.recent: list[str] = []

    def occurrence(self, key: str) -> int:
        n = self.counts.get(key, 0)
        self.counts[key] = n + 1
        self.recent.append(key)
        if len(self.recent) >= 2 * self.window:
            old, self.recent = self.recent[: self.window], self.recent[self.window :]
            for k in old:
                left = self.counts[k] - 1
                if left:
                    self.counts[k] = left
                else:
                    del self.counts[k]
        return n


def with_raw(event: NormalizedEvent, raw: str) -> NormalizedEvent:
    """The event keeping the source's original record (importers) instead of the candidate."""
    event.raw = raw
    return event


@dataclass(slots=True)
class Outcome:
    """What became of each row of one batch."""

    sent: int
    accepted: list[int]  # row indexes
    duplicate: list[int]
    rejected: list[tuple[int, Rejection, str]]
    by_kind: dict[str, int]
    event_ids: list[str | None]  # per row
    first_ts_ms: int | None = None
    last_ts_ms: int | None = None

    def counts(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "accepted": len(self.accepted),
            "duplicate": len(self.duplicate),
            "rejected": len(self.rejected),
            "by_kind": dict(sorted(self.by_kind.items())),
        }

    def results(self, *, errors_only: bool = False) -> list[dict[str, Any]]:
        status: dict[int, str] = {}
        for i in self.accepted:
            status[i] = "accepted"
        for i in self.duplicate:
            status[i] = "duplicate"
        why = {i: r for i, r, _ in self.rejected}
        out: list[dict[str, Any]] = []
        for index in range(self.sent):
            if index in why:
                r = why[index]
                out.append(
                    {
                        "index": index,
                        "status": "rejected",
                        "event_id": r.event_id,
                        "code": r.code,
                        "field": r.field,
                        "message": r.message,
                    }
                )
            elif not errors_only:
                out.append(
                    {"index": index, "status": status[index], "event_id": self.event_ids[index]}
                )
            elif status[index] == "duplicate":
                out.append(
                    {"index": index, "status": "duplicate", "event_id": self.event_ids[index]}
                )
        return out


def outcome_of(batch: Prepared, new_ids: Iterable[str]) -> Outcome:
    """Split a prepared batch by the ids the store accepted as new."""
    fresh = set(new_ids)
    accepted: list[int] = []
    duplicate: list[int] = []
    by_kind: dict[str, int] = {}
    event_ids: list[str | None] = [None] * batch.sent
    first = last = None
    for event, index in zip(batch.events, batch.event_index, strict=True):
        event_ids[index] = event.event_id
        if event.event_id in fresh:
            fresh.discard(event.event_id)  # a second copy in the same batch is a duplicate
            accepted.append(index)
            by_kind[event.kind] = by_kind.get(event.kind, 0) + 1
            first = event.ts_ms if first is None else min(first, event.ts_ms)
            last = event.ts_ms if last is None else max(last, event.ts_ms)
        else:
            duplicate.append(index)
    for index, rejection, _ in batch.rejections:
        event_ids[index] = rejection.event_id
    return Outcome(
        batch.sent, accepted, duplicate, list(batch.rejections), by_kind, event_ids, first, last
    )


def arrow_of(events: Sequence[NormalizedEvent]) -> Any:
    return to_arrow(events)


def gzip_body(rows: Sequence[Any]) -> bytes:
    """NDJSON + gzip, as clients should send large batches (used by replay and tests)."""
    return gzip.compress(b"\n".join(orjson.dumps(r) for r in rows), compresslevel=1)
