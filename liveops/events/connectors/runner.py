"""Running a connector: reconnects with back-off, batches events to a sink, reports state.

:func:`run` is platform- and Django-free: it drives any :class:`~.base.Connector`, hands
events to any async ``sink`` and reports to any :class:`~.base.StateListener`.
:func:`django_sink` and :func:`django_state` are the Django side: the first validates and
stores batches through ``liveops.events`` (event store, quarantine, session tally), the
second keeps a :class:`~liveops.events.models.Connector` row up to date, which the
session's live-data page lists.

Back-off policy
---------------

After a lost connection the runner waits ``initial_backoff × 2^(n-1)`` seconds (1, 2, 4,
8 … by default), capped at ``max_backoff`` (60 s), where *n* counts consecutive failed
connections; each wait is jittered by ±20 % (never above the cap) so that many
connectors cut off at once do not reconnect in lock-step. A connection that stayed up for
``healthy_after`` seconds (a minute) resets *n*: the next drop waits ~1 s again. A
:class:`~.base.ConnectorError` is not retried. Any other exception from a connector is
treated as a lost connection (logged with its traceback), so a bug in a mapping never
silently ends a live session's recording.

Batching
--------

Events go to the sink in batches of at most ``batch_size`` (1 000), and at least every
``flush_interval`` (1 s) while events wait — so the store sees few large appends and the
page never lags more than about a second. A batch the sink fails to store is kept and
retried at the next timed flush (not at every new event); if the backlog passes
``max_buffer`` events the runner stops in state *error* rather than grow without bound.
Whatever is buffered is flushed when the runner stops, whichever way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from liveops.events.connectors.base import (
    PROBLEM_KEY,
    RAW_KEY,
    ConnectionLost,
    Connector,
    ConnectorError,
    EventDict,
    StateListener,
)

if TYPE_CHECKING:
    from liveops.events.models import Connector as ConnectorModel
    from liveops.planning.models import LiveSession

__all__ = [
    "DjangoState",
    "SinkResult",
    "Totals",
    "backoff_delay",
    "django_sink",
    "django_state",
    "run",
]

logger = logging.getLogger(__name__)

_JITTER: Final = 0.2
_LOCATION: Final = "live"  # where a rejected live message "is", for the quarantine
_random = random.SystemRandom()


@dataclass(slots=True)
class SinkResult:
    """What the sink made of one batch."""

    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0


Sink = Callable[[list[EventDict]], Awaitable[SinkResult | None]]


@dataclass(slots=True)
class Totals:
    """The run's totals; :func:`run` returns them (the CLI prints them as JSON)."""

    kind: str
    target: str
    state: str = "idle"
    received: int = 0  # events handed to the sink
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    attempts: int = 0  # connection attempts
    connections: int = 0  # attempts the platform accepted
    last_error: str = ""
    skipped: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def backoff_delay(
    failures: int,
    *,
    initial: float = 1.0,
    maximum: float = 60.0,
    jitter: float = _JITTER,
    uniform: Callable[[float, float], float] = _random.uniform,
) -> float:
    """Seconds to wait after ``failures`` consecutive failed connections (≥ 1)."""
    nominal = min(maximum, initial * 2.0 ** max(0, min(failures - 1, 62)))
    return max(0.0, min(maximum, nominal * uniform(1 - jitter, 1 + jitter)))


async def _notify(what: str, call: Awaitable[None]) -> None:
    """State reports are best-effort: a failing listener never stops the connector."""
    try:
        await call
    except Exception:
        logger.exception("connector state listener failed on %s", what)


class _SinkFailed(ConnectorError):
    """The sink kept failing until the backlog passed ``max_buffer``."""


class _Batcher:
    def __init__(
        self,
        sink: Sink,
        listener: StateListener,
        totals: Totals,
        *,
        batch_size: int,
        max_buffer: int,
        retry_after: float,
    ) -> None:
        self.sink = sink
        self.listener = listener
        self.totals = totals
        self.batch_size = batch_size
        self.max_buffer = max_buffer
        self.retry_after = retry_after
        self.retry_at = 0.0  # after a failed batch, no size-triggered flush before this
        self.buffer: list[EventDict] = []
        self.last_at: float | None = None
        self.lock = asyncio.Lock()
        self.failed = asyncio.Event()
        self.fatal: ConnectorError | None = None

    async def add(self, event: EventDict) -> None:
        self.buffer.append(event)
        self.last_at = time.time()
        if len(self.buffer) >= self.batch_size and time.monotonic() >= self.retry_at:
            await self.flush()

    async def flush(self) -> None:
        """Hand what is buffered to the sink, ``batch_size`` at a time. Shielded: a
        cancelled caller never leaves a batch half stored."""
        await asyncio.shield(self._flush())
        if self.fatal is not None:
            raise self.fatal

    async def _flush(self) -> None:
        async with self.lock:
            while self.buffer:
                batch = self.buffer[: self.batch_size]
                last_at = self.last_at or time.time()
                try:
                    result = await self.sink(batch)
                except Exception as exc:
                    logger.exception("connector sink failed; %d events kept", len(self.buffer))
                    self.totals.last_error = f"storing events failed: {exc!r}"
                    self.retry_at = time.monotonic() + self.retry_after
                    if len(self.buffer) > self.max_buffer:
                        self.fatal = _SinkFailed(
                            f"storing events keeps failing ({exc!r}); {len(self.buffer)} "
                            "events are waiting, more than the buffer allows"
                        )
                        self.failed.set()
                    return
                del self.buffer[: len(batch)]
                self.totals.received += len(batch)
                if result is not None:
                    self.totals.accepted += result.accepted
                    self.totals.duplicate += result.duplicate
                    self.totals.rejected += result.rejected
                when = datetime.fromtimestamp(last_at, tz=UTC)
                await _notify("received", self.listener.received(len(batch), when))

    async def tick(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            with contextlib.suppress(ConnectorError):
                await self.flush()


async def _sleep_or_stop(stop: asyncio.Event, delay: float) -> bool:
    """Sleep ``delay`` s; True if ``stop`` was set meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=delay)
    except TimeoutError:
        return False
    return True


async def _cancel(task: asyncio.Task[Any]) -> None:
    if not task.done():
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


async def _connection(
    connector: Connector,
    batcher: _Batcher,
    stop: asyncio.Event,
    mark_connected: Callable[[], Awaitable[None]],
) -> str | None:
    """One connection: events to the batcher until it ends. Returns why it was lost, None
    when ``stop`` ended it; raises ConnectorError when it failed for good."""

    async def pump() -> None:
        stream = connector.events()
        try:
            async for event in stream:
                await mark_connected()  # a connector that never says so: its events say it
                await batcher.add(event)
        finally:
            close = getattr(stream, "aclose", None)
            if close is not None:  # close the connection now, not when collected
                await close()

    task = asyncio.create_task(pump())
    stopper = asyncio.create_task(stop.wait())
    failer = asyncio.create_task(batcher.failed.wait())
    try:
        await asyncio.wait({task, stopper, failer}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for other in (stopper, failer):
            await _cancel(other)
    if not task.done():
        await _cancel(task)  # closes the connector's generator (its finally runs)
        if batcher.fatal is not None:
            raise batcher.fatal
        return None
    if task.cancelled():
        return "the connection was cancelled"
    exc = task.exception()
    if exc is None:
        return "the platform ended the connection"
    if isinstance(exc, ConnectorError):
        raise exc
    if isinstance(exc, ConnectionLost):
        return str(exc) or "the connection was lost"
    logger.error(
        "%s connector %s failed; reconnecting",
        connector.kind,
        connector.target,
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    return f"{type(exc).__name__}: {exc}"


async def run(
    connector: Connector,
    *,
    sink: Sink,
    on_state: StateListener,
    max_backoff: float = 60.0,
    stop: asyncio.Event,
    initial_backoff: float = 1.0,
    healthy_after: float = 60.0,
    flush_interval: float = 1.0,
    batch_size: int = 1000,
    max_buffer: int = 100_000,
) -> Totals:
    """Run ``connector`` until ``stop`` is set or it fails for good; see the module docstring.

    Returns the totals; ``totals.state`` is ``"stopped"`` or ``"error"``.
    """
    loop = asyncio.get_running_loop()
    totals = Totals(kind=connector.kind, target=connector.target)
    batcher = _Batcher(
        sink,
        on_state,
        totals,
        batch_size=batch_size,
        max_buffer=max_buffer,
        retry_after=flush_interval,
    )
    ticker = asyncio.create_task(batcher.tick(flush_interval))
    failures = 0  # consecutive failed connections: sets the delay
    attempt = 1  # the try of the current incident (1 after a healthy connection dropped)
    fatal: str | None = None
    try:
        while not stop.is_set():
            totals.attempts += 1
            totals.state = "connecting"
            await _notify("connecting", on_state.connecting(attempt))
            connected_at: float | None = None

            async def mark_connected() -> None:
                nonlocal connected_at
                if connected_at is None:
                    connected_at = loop.time()
                    totals.connections += 1
                    totals.state = "connected"
                    await _notify("connected", on_state.connected())

            connector.on_connected = mark_connected
            try:
                lost = await _connection(connector, batcher, stop, mark_connected)
            except ConnectorError as exc:
                fatal = str(exc) or type(exc).__name__
                break
            finally:
                connector.on_connected = None
            if lost is None:
                break
            healthy = connected_at is not None and loop.time() - connected_at >= healthy_after
            failures = 1 if healthy else failures + 1
            attempt = 1 if healthy else attempt + 1
            delay = backoff_delay(failures, initial=initial_backoff, maximum=max_backoff)
            logger.warning(
                "%s %s: %s; reconnecting in %.1f s", connector.kind, connector.target, lost, delay
            )
            totals.state = "backoff"
            totals.last_error = lost
            await _notify("backoff", on_state.backoff(delay, lost))
            if await _sleep_or_stop(stop, delay):
                break
    finally:
        await _cancel(ticker)
        try:
            await batcher.flush()
        except ConnectorError as exc:
            fatal = fatal or str(exc)
        if batcher.buffer:
            message = f"{len(batcher.buffer)} events could not be stored"
            logger.error("%s %s: %s", connector.kind, connector.target, message)
            fatal = fatal or message
        totals.skipped = dict(connector.skipped)
        if fatal is not None:
            totals.state = "error"
            totals.last_error = fatal
            await _notify("error", on_state.error(fatal))
        else:
            totals.state = "stopped"
            await _notify("stopped", on_state.stopped())
    return totals


# --------------------------------------------------------------------------------------------
# Django side
# --------------------------------------------------------------------------------------------


def django_sink(session: LiveSession, *, origin: str = "connector") -> Sink:
    """A sink that validates, stores and records batches for ``session``.

    As in a file import: an event keeps the platform's message as ``raw``; an event
    without a platform id gets a hash of that message (the n-th identical one ``#n``);
    ``_problem`` dicts and rows ``schema.validate`` refuses go to the session's quarantine
    (location ``"live"``, origin ``origin``); the session tally counts it all. Call it
    from synchronous code (it reads ``session.account``).
    """
    from asgiref.sync import sync_to_async

    from liveops.events import services
    from liveops.events.ingest import RepeatCounter, outcome_of, prepare, raw_text, with_raw
    from liveops.events.runtime import event_store
    from liveops.events.schema import Rejection, stable_event_id, to_arrow

    platform = session.account.platform
    workspace_id, session_id = session.workspace_id, session.pk
    repeats = RepeatCounter()

    def store(batch: list[EventDict]) -> tuple[services.Tallied, SinkResult]:
        rows: list[EventDict] = []
        raws: list[str] = []
        problems: list[tuple[str, Rejection, str]] = []
        for event in batch:
            fields = {k: v for k, v in event.items() if not k.startswith("_")}
            raw = event.get(RAW_KEY)
            if not isinstance(raw, str):
                raw = raw_text(fields)
            problem = event.get(PROBLEM_KEY)
            if isinstance(problem, dict):
                why = Rejection(
                    str(problem.get("code") or "bad_row"),
                    str(problem.get("field") or "row"),
                    str(problem.get("message") or "the message could not be read"),
                )
                problems.append((_LOCATION, why, raw))
                continue
            if not fields.get("event_id"):
                base = stable_event_id(raw.encode("utf-8", "surrogatepass"))
                n = repeats.occurrence(base)
                fields["event_id"] = base if n == 0 else f"{base}#{n}"
            rows.append(fields)
            raws.append(raw)
        batch_of = prepare(
            rows, workspace_id=workspace_id, session_id=session_id, platform=platform
        )
        batch_of.events = [
            with_raw(event, raws[index])
            for event, index in zip(batch_of.events, batch_of.event_index, strict=True)
        ]
        accepted_ids: list[str] = []
        if batch_of.events:
            accepted_ids = event_store().append(to_arrow(batch_of.events)).accepted_ids
        outcome = outcome_of(batch_of, accepted_ids)
        tallied = services.tallied_of(
            outcome, zip(batch_of.event_index, batch_of.events, strict=True)
        )
        tallied.rejected = [(_LOCATION, why, raws[i]) for i, why, _ in outcome.rejected]
        tallied.rejected += problems
        counts = SinkResult(len(outcome.accepted), len(outcome.duplicate), len(tallied.rejected))
        return tallied, counts

    def record(tallied: services.Tallied) -> None:
        from django.db import close_old_connections

        close_old_connections()
        services.batch_record(session=session, origin=origin, tallied=tallied)

    async def sink(batch: list[EventDict]) -> SinkResult:
        tallied, counts = await asyncio.to_thread(store, batch)
        await sync_to_async(record)(tallied)
        return counts

    return sink


class DjangoState:
    """A :class:`~.base.StateListener` that keeps a ``Connector`` row up to date:
    ``state``, ``attempts`` (the consecutive try: 1, 2 … while reconnecting fails),
    ``last_error`` (kept after a reconnection, so the page says why it last dropped),
    ``events_received`` and ``last_event_at``."""

    def __init__(self, connector: ConnectorModel) -> None:
        self.pk = connector.pk

    def _update(self, values: dict[str, Any], add_events: int = 0) -> None:
        from django.db import close_old_connections
        from django.db.models import F
        from django.utils import timezone

        from liveops.events.models import Connector as ConnectorModel

        close_old_connections()
        if add_events:
            values["events_received"] = F("events_received") + add_events
        ConnectorModel.objects.filter(pk=self.pk).update(updated_at=timezone.now(), **values)

    async def _save(self, add_events: int = 0, **values: Any) -> None:
        from asgiref.sync import sync_to_async

        await sync_to_async(self._update)(values, add_events)

    async def connecting(self, attempt: int) -> None:
        await self._save(state="connecting", attempts=attempt)

    async def connected(self) -> None:
        await self._save(state="connected")

    async def backoff(self, delay: float, error: str) -> None:
        await self._save(state="backoff", last_error=error[:2000])

    async def error(self, message: str) -> None:
        await self._save(state="error", last_error=message[:2000])

    async def stopped(self) -> None:
        await self._save(state="stopped")

    async def received(self, count: int, at: datetime) -> None:
        await self._save(add_events=count, last_event_at=at)


def django_state(connector: ConnectorModel) -> DjangoState:
    """The state listener that writes to ``connector``'s row."""
    return DjangoState(connector)
