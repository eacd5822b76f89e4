"""The connector interface shared by every platform. No Django here.

A *connector* reads one live feed (a Twitch channel's chat, a Bilibili room, a TikTok
LIVE) and turns what arrives into canonical event candidates — dicts with the field names
of :mod:`liveops.events.schema` (``ts``, ``kind``, ``viewer_id`` …, ``event_id`` when the
platform gives one), exactly what :func:`~liveops.events.schema.validate` accepts.

Contract of :meth:`Connector.events` (an async generator; one call = one connection):

* it connects, calls ``await self.connected()`` once the platform has accepted it (the
  runner marks the connector *connected*), then yields dicts until the connection ends;
* a connection that drops, or cannot be opened, raises :class:`ConnectionLost` — the
  runner reconnects with back-off;
* a problem that retrying cannot fix (a malformed room id, a refused login, a missing
  optional package) raises :class:`ConnectorError` — the runner stops in state *error*;
* cancellation (the runner stopping) must close the connection (``try/finally``).

Extra keys, all starting with ``_``, ride along and are never validated as fields:
``_raw`` is the platform's original message as text (stored as the event's ``raw`` for
audit and re-parsing) and ``_problem`` (a dict with ``code``, ``field``, ``message``)
marks a message the mapping could not read — the sink keeps it in the quarantine instead
of dropping it silently. Other ``_`` keys are the importers' hints (``_gift_name`` …).

The platform mappings are the file importers' (``liveops.events.importers``): a
connector turns each live message into one record of the matching import format and
feeds it to that importer through :class:`ImporterFeed`, so a live event and the same
event imported from a recording become the same canonical event.
"""

from __future__ import annotations

import importlib
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime
from types import ModuleType
from typing import Any, BinaryIO, ClassVar, Final, Protocol, cast

import orjson

from liveops.events.importers.base import Importer, Item, Problem, Record, Skipped

__all__ = [
    "PROBLEM_KEY",
    "RAW_KEY",
    "BaseConnector",
    "ConnectionLost",
    "Connector",
    "ConnectorError",
    "EventDict",
    "ImporterFeed",
    "NullListener",
    "StateListener",
    "dumps_line",
    "import_optional",
    "now_ms",
]

logger = logging.getLogger(__name__)

EventDict = dict[str, Any]

#: Key of the platform's original message text in an event dict.
RAW_KEY: Final = "_raw"
#: Key of ``{"code", "field", "message"}`` in a dict that is a problem, not an event.
PROBLEM_KEY: Final = "_problem"


class ConnectorError(Exception):
    """Fatal: retrying will not help (bad target, refused login, missing package)."""


class ConnectionLost(Exception):
    """The connection dropped or could not be opened; the runner reconnects with back-off."""


class StateListener(Protocol):
    """What the runner reports about a connector, in this order of a life:
    ``connecting`` → ``connected`` → (``backoff`` → ``connecting`` → ``connected``)* →
    ``stopped`` or ``error``; ``received`` after every batch handed to the sink."""

    async def connecting(self, attempt: int) -> None:
        """A connection attempt starts; ``attempt`` counts consecutive tries (1 = first
        try, or the first after a healthy connection)."""

    async def connected(self) -> None:
        """The platform accepted the connection."""

    async def backoff(self, delay: float, error: str) -> None:
        """The connection was lost (``error`` says why); the next try is in ``delay`` s."""

    async def error(self, message: str) -> None:
        """Fatal: the runner has given up."""

    async def stopped(self) -> None:
        """Stopped on request."""

    async def received(self, count: int, at: datetime) -> None:
        """``count`` more events were handed to the sink; the last arrived ``at``."""


class NullListener:
    """A :class:`StateListener` that ignores everything."""

    async def connecting(self, attempt: int) -> None:
        return None

    async def connected(self) -> None:
        return None

    async def backoff(self, delay: float, error: str) -> None:
        return None

    async def error(self, message: str) -> None:
        return None

    async def stopped(self) -> None:
        return None

    async def received(self, count: int, at: datetime) -> None:
        return None


class Connector(Protocol):
    """One live feed. See the module docstring for the contract of :meth:`events`."""

    kind: str  # "twitch", "bilibili", "tiktok" (ConnectorKind)
    target: str  # channel, room id or @handle
    #: Set by the runner before each :meth:`events` call; awaited by :meth:`connected`.
    on_connected: Callable[[], Awaitable[None]] | None
    #: Messages that are readable but not audience events, counted by reason.
    skipped: dict[str, int]

    def events(self) -> AsyncIterator[EventDict]: ...


def import_optional(module: str, package: str) -> ModuleType:
    """Import an optional connector dependency, or say how to install it (ConnectorError)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConnectorError(
            f"{package} is not installed: pip install 'liveops[connectors]' ({exc})"
        ) from exc


def now_ms() -> int:
    """The current time in epoch milliseconds (when a message was received)."""
    return time.time_ns() // 1_000_000


def dumps_line(obj: Any) -> bytes:
    """One JSON line (no newline inside) of a message, integers of any size kept."""
    try:
        return orjson.dumps(obj, default=str, option=orjson.OPT_NON_STR_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        text = json.dumps(obj, default=str, ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8", "surrogatepass")


class BaseConnector:
    """Shared plumbing: the ``connected`` signal and importer items → event dicts."""

    kind: str = ""

    def __init__(self, target: str) -> None:
        self.target = target
        self.on_connected: Callable[[], Awaitable[None]] | None = None
        self.skipped: dict[str, int] = {}

    async def connected(self) -> None:
        """Tell the runner the platform accepted this connection."""
        if self.on_connected is not None:
            await self.on_connected()

    def events(self) -> AsyncIterator[EventDict]:  # pragma: no cover - abstract
        raise NotImplementedError

    def to_events(self, items: list[Item]) -> list[EventDict]:
        """Importer items → event dicts (Records with ``_raw``, Problems with ``_problem``);
        Skipped items are counted in :attr:`skipped`."""
        out: list[EventDict] = []
        for item in items:
            if isinstance(item, Record):
                out.append({**item.fields, RAW_KEY: item.raw})
            elif isinstance(item, Problem):
                # the importer says where in a file ("line 12"); a live message has no line
                message = item.message.replace(item.location, "the message", 1)
                problem = {"code": item.code, "field": item.field, "message": message}
                out.append({PROBLEM_KEY: problem, RAW_KEY: item.raw})
            elif isinstance(item, Skipped):
                self.skipped[item.reason] = self.skipped.get(item.reason, 0) + 1
        return out


# --------------------------------------------------------------------------------------------
# Feeding live messages to a file importer
# --------------------------------------------------------------------------------------------


class _LineQueue:
    """The binary stream an importer's ``parse()`` reads: lines pushed one at a time.

    Offers what importers use (``readline(size)`` and line iteration). Empty → end of
    file, which :class:`ImporterFeed` avoids by always queueing a marker line after the
    record, so the importer's generator stays alive (and keeps its state) between records.
    """

    def __init__(self) -> None:
        self.lines: deque[bytes] = deque()

    def readline(self, size: int | None = -1) -> bytes:
        if not self.lines:
            return b""
        line = self.lines.popleft()
        if size is not None and 0 <= size < len(line):
            self.lines.appendleft(line[size:])
            return line[:size]
        return line

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            data = b"".join(self.lines)
            self.lines.clear()
            return data
        return self.readline(size)

    def __iter__(self) -> _LineQueue:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def readable(self) -> bool:
        return True


class ImporterFeed:
    """Runs one file importer's ``parse()`` over records pushed one at a time.

    The importer's generator lives as long as the feed, so whatever state it keeps between
    records (gift-combo streaks, the last timestamp) carries over from message to message
    as it would through a recorded file. After each record the feed queues a marker line
    (not valid in any format: the importer reports it as a Problem whose ``raw`` is the
    marker) and collects items until the marker comes back: a record may give any number
    of items. ``feed(record)`` returns the record's items.
    """

    MARKER: ClassVar[str] = "~liveops-connector-feed-marker~"

    def __init__(self, importer: Importer, options: dict[str, Any] | None = None) -> None:
        self.importer = importer
        self.options = dict(options or {})
        self._queue = _LineQueue()
        self._items = self._start()

    def _start(self) -> Iterator[Item]:
        self._queue.lines.clear()
        return self.importer.parse(cast(BinaryIO, self._queue), options=dict(self.options))

    def feed(self, record: bytes | str) -> list[Item]:
        data = record.encode("utf-8") if isinstance(record, str) else record
        data = data.replace(b"\r", b" ").replace(b"\n", b" ").strip()
        if not data:
            return []
        self._queue.lines.append(data + b"\n")
        self._queue.lines.append(self.MARKER.encode() + b"\n")
        items: list[Item] = []
        try:
            while True:
                item = next(self._items)
                if item.raw.strip() == self.MARKER:
                    break
                items.append(item)
        except StopIteration:
            # The importer stopped reading (it should not): start it again; only the
            # state it kept between records is lost.
            logger.warning("%s stopped reading a live feed; restarted", self.importer.name)
            self._items = self._start()
        except Exception:
            self._items = self._start()
            raise
        self._queue.lines.clear()
        return items
