"""Replay a recorded live session through the real ingest API, as if it were live now.

:func:`replay` reads a recording — canonical events as NDJSON or a JSON array, optionally
gzip (what ``liveops generate`` writes), or any format the importers recognise (chat
downloader, Bilibili, TikTok webcast, Twitch logs, CSV …, detected from the first bytes) —
and POSTs it to ``/api/v1/sessions/{id}/events`` at ``speed`` × real time:

* **Re-timing.** Every ``ts`` is moved so the recording's first event happens *now* and the
  gaps are divided by ``speed``: ``ts' = now + (ts − first_ts) ÷ speed``. A 4-hour
  recording at ``speed=10`` becomes a 24-minute live that starts now. With
  ``history_s`` the first ``history_s`` seconds of the recording are sent at once,
  timestamped in the past, so the session looks as if it had been live for a while.
* **Stable ids.** Event ids never depend on the new ``ts``: a row's own ``event_id`` is
  kept (optionally with ``id_prefix`` in front); a row without one gets the stable hash of
  its *original* record (the same id the API or ``liveops import`` would give it), with
  ``#n`` for the n-th identical record nearby. So replaying a file again — after a crash,
  a Ctrl-C, or on purpose — adds nothing that is already stored: the API reports
  duplicates. The store deduplicates per workspace: replaying one recording into two
  sessions of a workspace needs an ``id_prefix`` per session.
* **Batching.** Due events go out in one request when ``batch_size`` are waiting or when
  the oldest has waited ``max_wait_s``, gzip-compressed NDJSON, at most 10 000 rows and
  16 MiB per request (a larger batch is split).
* **Retries.** 503/429 (the server is saturated), 500/502/504 and connection errors are
  retried with exponential backoff and jitter, honouring ``Retry-After``; the same batch
  is sent again, which is safe because the API is idempotent. A refused key (401/403), an
  unknown session (404) or a batch the server calls malformed (400) stop the replay with
  :class:`ReplayError`.
* **Ctrl-C** stops cleanly between requests: the totals so far are returned with
  ``interrupted=True`` (a batch cut off mid-request is safe to send again).

Only the standard library talks HTTP (``http.client``, one kept-alive connection). This
module imports no Django.
"""

from __future__ import annotations

import gzip
import http.client
import importlib
import json
import os
import random
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, BinaryIO, Final

import orjson

from liveops.events.importers.safety import prepend_head
from liveops.events.ingest import MAX_BODY_BYTES, MAX_ROWS, RepeatCounter
from liveops.events.schema import KINDS, parse_timestamp, stable_event_id

__all__ = ["ReplayError", "ReplayProgress", "Totals", "replay", "wait_for_server"]

HEAD_BYTES: Final = 64 * 1024
RETRY_STATUSES: Final = frozenset({429, 500, 502, 503, 504})
BACKOFF_BASE_S: Final = 0.5
BACKOFF_CAP_S: Final = 30.0
REQUEST_TIMEOUT_S: Final = 120.0
_REPEAT_WINDOW: Final = 10_000


class ReplayError(Exception):
    """The replay cannot go on (unreadable file, refused key, unknown session …)."""


@dataclass(slots=True)
class Totals:
    """What happened to the recording's rows. ``sent = accepted + duplicate + rejected``."""

    rows: int = 0  # rows read from the recording (sent or not yet)
    sent: int = 0
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    retries: int = 0
    batches: int = 0
    unreadable: int = 0  # records the reader could not parse (never sent)
    skipped: int = 0  # records that are not audience events (importer formats)
    by_kind: dict[str, int] = field(default_factory=dict)  # accepted, per kind
    format: str = ""
    first_ts_ms: int | None = None  # re-timed
    last_ts_ms: int | None = None
    elapsed_s: float = 0.0
    interrupted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ReplayProgress:
    """Passed to the progress callback after every request (and while waiting)."""

    totals: Totals
    fraction: float  # of the file read, 0..1
    live_s: float  # how far into the recording (recording time, before ÷ speed)


# --------------------------------------------------------------------------------------------
# Reading a recording
# --------------------------------------------------------------------------------------------


class _Source:
    """An open recording: rows with stable ids, in file order, and how far we have read."""

    def __init__(self, path: Path, id_prefix: str, totals: Totals) -> None:
        self.path = path
        self.id_prefix = id_prefix
        self.totals = totals
        self.size = max(1, path.stat().st_size)
        self.raw: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed by close()
        head = self.raw.read(2)
        self.raw.seek(0)
        self.stream: BinaryIO = (
            gzip.GzipFile(fileobj=self.raw, mode="rb")  # type: ignore[assignment]
            if head == b"\x1f\x8b"
            else self.raw
        )
        self.repeats = RepeatCounter(_REPEAT_WINDOW)
        self._array_len = 0
        self._array_pos = 0
        self.done = False
        self._closed_at: float | None = None

    def close(self) -> None:
        self._closed_at = self.fraction
        if self.stream is not self.raw:
            self.stream.close()
        self.raw.close()

    @property
    def fraction(self) -> float:
        if self._closed_at is not None:
            return self._closed_at
        if self.done:
            return 1.0
        if self._array_len:
            return self._array_pos / self._array_len
        try:
            return min(1.0, self.raw.tell() / self.size)
        except (OSError, ValueError):
            return 0.0

    def _with_id(self, row: dict[str, Any], raw: bytes | None = None) -> dict[str, Any]:
        event_id = row.get("event_id")
        if event_id is None or event_id == "":
            base = stable_event_id(raw if raw is not None else row)
            n = self.repeats.occurrence(base)
            row["event_id"] = f"{self.id_prefix}{base}" if n == 0 else f"{self.id_prefix}{base}#{n}"
        elif self.id_prefix:
            row["event_id"] = f"{self.id_prefix}{event_id}"
        return row

    def rows(self) -> Iterator[dict[str, Any]]:
        head = self.stream.read(HEAD_BYTES)
        start = head.lstrip()[:1]
        if start == b"[" and _is_canonical_array(head):
            self.totals.format = "json-array"
            yield from self._array(head)
        elif start == b"{" and _is_canonical_line(head):
            self.totals.format = "ndjson"
            yield from self._ndjson(head)
        else:
            yield from self._imported(head)
        self.done = True

    def _array(self, head: bytes) -> Iterator[dict[str, Any]]:
        try:
            parsed = orjson.loads(head + self.stream.read())
        except orjson.JSONDecodeError as exc:
            raise ReplayError(f"{self.path} is not a valid JSON array: {exc}") from exc
        if not isinstance(parsed, list):
            raise ReplayError(f"{self.path} must hold a JSON array of event objects")
        self._array_len = max(1, len(parsed))
        for index, row in enumerate(parsed):
            self._array_pos = index + 1
            if not isinstance(row, dict):
                self.totals.unreadable += 1
                continue
            yield self._with_id(row)

    def _ndjson(self, head: bytes) -> Iterator[dict[str, Any]]:
        lines = self.stream if head == b"" else _chain_lines(head, self.stream)
        for line in lines:
            text = line.strip()
            if not text:
                continue
            try:
                row = orjson.loads(text)
            except orjson.JSONDecodeError:
                self.totals.unreadable += 1
                continue
            if not isinstance(row, dict):
                self.totals.unreadable += 1
                continue
            yield self._with_id(row)

    def _imported(self, head: bytes) -> Iterator[dict[str, Any]]:
        try:
            registry = importlib.import_module("liveops.events.importers.registry")
        except ImportError:
            raise ReplayError(
                f"{self.path} is not a LiveOps event recording (NDJSON or a JSON array of "
                "events, optionally gzip)"
            ) from None
        name = self.path.name[:-3] if self.path.name.endswith(".gz") else self.path.name
        try:
            key = registry.detect(head, name)
        except Exception as exc:  # ImportFormatError explains itself
            raise ReplayError(str(exc)) from exc
        importer = registry.FORMATS[key]
        self.totals.format = key
        stream = prepend_head(head, self.stream, buffer_size=HEAD_BYTES)
        try:
            for item in importer.parse(stream):
                fields = getattr(item, "fields", None)
                if fields is None:  # Skipped or Problem
                    if hasattr(item, "reason"):
                        self.totals.skipped += 1
                    else:
                        self.totals.unreadable += 1
                    continue
                if fields.get("_target") == "minute_stats":
                    self.totals.skipped += 1  # per-minute statistics are imported, not sent
                    continue
                row = {k: v for k, v in fields.items() if not k.startswith("_")}
                yield self._with_id(row, item.raw.encode())
        except ReplayError:
            raise
        except Exception as exc:  # ImportFormatError: the file as a whole is unusable
            if type(exc).__name__ == "ImportFormatError":
                raise ReplayError(str(exc)) from exc
            raise


def _is_canonical(row: Any) -> bool:
    return isinstance(row, dict) and row.get("kind") in KINDS and "ts" in row


def _is_canonical_array(head: bytes) -> bool:
    """A JSON array whose first element is a canonical event (not ``[2024-05-01 …] chat``,
    nor another tool's JSON export)."""
    text = head.decode("utf-8", "replace").lstrip().removeprefix("[").lstrip()
    if text.startswith("]"):
        return True  # an empty array
    try:
        first, _ = json.JSONDecoder().raw_decode(text)
    except ValueError:
        return False
    return _is_canonical(first)


def _is_canonical_line(head: bytes) -> bool:
    first = head.lstrip().split(b"\n", 1)[0]
    try:
        row = orjson.loads(first)
    except orjson.JSONDecodeError:
        return False
    return _is_canonical(row)


def _chain_lines(head: bytes, stream: BinaryIO) -> Iterator[bytes]:
    """The lines of ``head`` followed by the rest of ``stream`` (the head ends mid-line)."""
    *complete, partial = head.split(b"\n")
    yield from complete
    first = True
    for line in stream:
        if first:
            line = partial + line
            first = False
        yield line
    if first and partial:
        yield partial


# --------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------


class _Http:
    """One kept-alive connection to the server, reopened after an error."""

    def __init__(self, base_url: str, timeout: float) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ReplayError(f"--url {base_url!r} must look like http://127.0.0.1:8000")
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _connect(self) -> http.client.HTTPConnection:
        if self.conn is None:
            cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
            self.conn = cls(self.host, self.port, timeout=self.timeout)
        return self.conn

    def request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        # A kept-alive connection the server has closed fails on first use: try once more
        # on a fresh one before calling it a connection error.
        for attempt in (1, 2):
            reused = self.conn is not None
            conn = self._connect()
            try:
                conn.request(method, self.prefix + path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException):
                self.close()
                if reused and attempt == 1:
                    continue
                raise
            if (response.getheader("Connection") or "").lower() == "close":
                self.close()
            return response.status, response.headers, data
        raise AssertionError("unreachable")


def wait_for_server(base_url: str, *, timeout_s: float = 60.0) -> bool:
    """Poll ``/healthz`` until the server answers 200 or ``timeout_s`` passes."""
    http_ = _Http(base_url, timeout=5.0)
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            try:
                status, _, _ = http_.request("GET", "/healthz", None, {})
                if status == 200:
                    return True
            except (OSError, http.client.HTTPException):
                pass
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.5)
    finally:
        http_.close()


def _retry_after(headers: http.client.HTTPMessage) -> float | None:
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _message(data: bytes) -> str:
    try:
        payload = orjson.loads(data)
    except orjson.JSONDecodeError:
        return data[:200].decode("utf-8", "replace").strip()
    if isinstance(payload, dict):
        return str(payload.get("message") or payload.get("detail") or payload)
    return str(payload)[:200]


def _encode(rows: list[dict[str, Any]]) -> bytes:
    newline = orjson.OPT_APPEND_NEWLINE
    body = b"".join(orjson.dumps(r, default=_json_default, option=newline) for r in rows)
    return gzip.compress(body, compresslevel=1, mtime=0)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# --------------------------------------------------------------------------------------------
# replay
# --------------------------------------------------------------------------------------------


class _Sender:
    def __init__(
        self,
        http_: _Http,
        *,
        session_id: int,
        api_key: str,
        totals: Totals,
        max_retries: int,
        sleep: Callable[[float], object],
        stopped: Callable[[], bool],
    ) -> None:
        self.http = http_
        self.path = f"/api/v1/sessions/{session_id}/events?results=errors"
        self.session_id = session_id
        self.headers = {
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/x-ndjson",
            "Content-Encoding": "gzip",
            "Accept": "application/json",
        }
        self.totals = totals
        self.max_retries = max_retries
        self.sleep = sleep
        self.stopped = stopped

    def send(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        body = _encode(rows)
        if len(body) > MAX_BODY_BYTES and len(rows) > 1:
            half = len(rows) // 2
            self.send(rows[:half])
            self.send(rows[half:])
            return
        attempt = 0
        while True:
            try:
                status, headers, data = self.http.request("POST", self.path, body, self.headers)
            except (OSError, http.client.HTTPException) as exc:
                attempt = self._backoff(attempt, None, f"connection error: {exc}")
                continue
            if status == 200:
                self._count(data)
                return
            if status in RETRY_STATUSES:
                attempt = self._backoff(attempt, _retry_after(headers), f"HTTP {status}")
                continue
            if status == 413 and len(rows) > 1:
                half = len(rows) // 2
                self.send(rows[:half])
                self.send(rows[half:])
                return
            if status in (401, 403):
                raise ReplayError(f"the API key was refused (HTTP {status}): {_message(data)}")
            if status == 404:
                raise ReplayError(
                    f"session {self.session_id} does not exist in this API key's workspace "
                    f"(HTTP 404): {_message(data)}"
                )
            raise ReplayError(f"the server answered HTTP {status}: {_message(data)}")

    def _backoff(self, attempt: int, retry_after: float | None, why: str) -> int:
        if attempt >= self.max_retries:
            raise ReplayError(f"giving up after {attempt} retries of one batch ({why})")
        self.totals.retries += 1
        if retry_after is not None:
            delay = retry_after + random.uniform(0, 0.25)  # noqa: S311 - jitter, not a secret
        else:
            delay = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt)
            delay *= random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret
        self.sleep(delay)
        if self.stopped():
            raise KeyboardInterrupt
        return attempt + 1

    def _count(self, data: bytes) -> None:
        try:
            counts = orjson.loads(data)["counts"]
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise ReplayError(f"unexpected answer from the server: {data[:200]!r}") from exc
        t = self.totals
        t.batches += 1
        t.sent += int(counts["sent"])
        t.accepted += int(counts["accepted"])
        t.duplicate += int(counts["duplicate"])
        t.rejected += int(counts["rejected"])
        for kind, n in counts.get("by_kind", {}).items():
            t.by_kind[kind] = t.by_kind.get(kind, 0) + int(n)


def replay(
    path: str | os.PathLike[str],
    *,
    base_url: str,
    api_key: str,
    session_id: int,
    speed: float,
    batch_size: int = 1000,
    max_wait_s: float = 1.0,
    progress: Callable[[ReplayProgress], None] | None = None,
    history_s: float = 0.0,
    id_prefix: str = "",
    max_retries: int = 20,
    stop: threading.Event | None = None,
) -> Totals:
    """Send the recording at ``path`` to session ``session_id`` as a live feed (see above).

    ``speed`` > 0 multiplies real time (1 = as recorded). ``stop`` (set from another
    thread) ends the replay like Ctrl-C does. Returns the :class:`Totals`; raises
    :class:`ReplayError` for an unusable file, key, session or server.
    """
    if not speed > 0:
        raise ReplayError("speed must be greater than 0 (1 = as recorded, 10 = ten times faster)")
    if not 1 <= batch_size <= MAX_ROWS:
        raise ReplayError(f"batch size must be between 1 and {MAX_ROWS}")
    if max_wait_s < 0 or history_s < 0:
        raise ReplayError("max wait and history must not be negative")
    if not api_key:
        raise ReplayError("an API key is needed (Authorization: Bearer lo_…)")
    file = Path(path)
    if not file.is_file():
        raise ReplayError(f"{file} does not exist or is not a file")

    totals = Totals()
    began = time.monotonic()
    sleeper: Callable[[float], object] = stop.wait if stop is not None else time.sleep

    def stopped() -> bool:
        return stop is not None and stop.is_set()

    http_ = _Http(base_url, timeout=REQUEST_TIMEOUT_S)
    sender = _Sender(
        http_,
        session_id=session_id,
        api_key=api_key,
        totals=totals,
        max_retries=max_retries,
        sleep=sleeper,
        stopped=stopped,
    )
    source = _Source(file, id_prefix, totals)
    batch: list[dict[str, Any]] = []
    batch_due = 0.0  # monotonic time the batch's oldest event became due
    first_ms: int | None = None
    origin_wall_ms = 0
    origin_mono = 0.0
    live_s = 0.0
    last_report = 0.0

    def report(force: bool = False) -> None:
        nonlocal last_report
        if progress is None:
            return
        now = time.monotonic()
        if force or now - last_report >= 0.2:
            last_report = now
            totals.elapsed_s = now - began
            progress(ReplayProgress(totals, source.fraction, live_s))

    def flush() -> None:
        nonlocal batch
        if batch:
            rows, batch = batch, []
            sender.send(rows)
            report(force=True)

    try:
        for row in source.rows():
            if stopped():
                raise KeyboardInterrupt
            totals.rows += 1
            try:
                ts_ms: int | None = parse_timestamp(row.get("ts"))
            except ValueError:
                ts_ms = None  # sent as it is: the API rejects it with the reason
            if ts_ms is not None:
                if first_ms is None:
                    first_ms = ts_ms
                    origin_wall_ms = time.time_ns() // 1_000_000
                    origin_mono = time.monotonic()
                offset_s = (ts_ms - first_ms) / 1000 - history_s
                live_s = (ts_ms - first_ms) / 1000
                due = origin_mono + offset_s / speed
                new_ms = origin_wall_ms + round(offset_s * 1000 / speed)
                row["ts"] = new_ms
                if totals.first_ts_ms is None or new_ms < totals.first_ts_ms:
                    totals.first_ts_ms = new_ms
                if totals.last_ts_ms is None or new_ms > totals.last_ts_ms:
                    totals.last_ts_ms = new_ms
            else:
                due = time.monotonic()
            while True:  # wait until the row is due, sending the batch when it is old enough
                now = time.monotonic()
                if batch and now >= batch_due + max_wait_s:
                    flush()
                    continue
                if due <= now:
                    break
                deadline = due if not batch else min(due, batch_due + max_wait_s)
                report()
                sleeper(min(max(deadline - now, 0.0), 0.25))
                if stopped():
                    raise KeyboardInterrupt
            if not batch:
                batch_due = time.monotonic()  # the batch's oldest row is due from now on
            batch.append(row)
            if len(batch) >= batch_size:
                flush()
        flush()
    except KeyboardInterrupt:
        totals.interrupted = True
    finally:
        source.close()
        http_.close()
    totals.elapsed_s = time.monotonic() - began
    report(force=True)
    return totals
