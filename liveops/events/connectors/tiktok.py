"""TikTok LIVE through the ``TikTokLive`` package (optional: ``liveops[connectors]``).

TikTokLive (checked against 6.6 and 7.0) resolves the creator's room, fetches a signed
websocket and emits decoded webcast messages as event objects: ``CommentEvent``,
``GiftEvent``, ``LikeEvent``, ``JoinEvent``, ``FollowEvent``, ``ShareEvent``,
``RoomUserSeqEvent`` (betterproto messages; ``common``, ``user`` and ``gift`` are nested
messages). This adapter listens to those, reads each one into the plain dict a decoded
webcast dump has (attributes read with ``getattr``, proto3 defaults — 0, ``""``,
``False`` — left out, exactly as ``MessageToDict`` leaves them out) and maps it with the
``douyin-webcast`` file importer (:mod:`liveops.events.importers.webcast`), platform
``tiktok``, through one long-lived :class:`~.base.ImporterFeed` so the importer's
gift-streak state carries from message to message:

================== ============================================================
event              canonical event (see the webcast importer for the details)
================== ============================================================
CommentEvent       ``comment``, text = content
GiftEvent          ``gift``; a streak counts its increments only (1, 2, 5, end →
                   1 + 1 + 3); amount = diamonds (no currency: the platform unit)
LikeEvent          ``like``, quantity = count (likes in this event)
JoinEvent          ``enter``
FollowEvent        ``follow``
ShareEvent         ``share``
RoomUserSeqEvent   ``online_count``, quantity = total (current viewers), source
                   ``tiktok_room_user_seq``
================== ============================================================

Viewer: ``user.id`` → viewer_id, ``user.nickname`` (else the @handle) → viewer_name.
Time: ``common.create_time`` (ms), else when the event arrived. Event id:
``tiktok:<common.msg_id>``. ``ConnectEvent`` marks the connection *connected*;
``LiveEndEvent`` or the client's task ending is a :class:`ConnectionLost` (the runner
retries with back-off, so a connector started before the LIVE keeps trying); an unknown
user or an age-restricted LIVE is a :class:`ConnectorError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from typing import Any, Final

from liveops.events.connectors.base import (
    BaseConnector,
    ConnectionLost,
    ConnectorError,
    EventDict,
    ImporterFeed,
    dumps_line,
    import_optional,
    now_ms,
)
from liveops.events.importers.webcast import WebcastImporter

__all__ = ["EVENT_NAMES", "TikTokConnector", "event_payload", "unique_id_of"]

#: The TikTokLive events this connector maps.
EVENT_NAMES: Final = (
    "CommentEvent",
    "GiftEvent",
    "LikeEvent",
    "JoinEvent",
    "FollowEvent",
    "ShareEvent",
    "RoomUserSeqEvent",
)
_CONTROL_NAMES: Final = ("ConnectEvent", "LiveEndEvent", "DisconnectEvent")
#: TikTokLive errors (by class name) that retrying cannot fix.
_FATAL_ERRORS: Final = frozenset({"UserNotFoundError", "AgeRestrictedError"})

_HANDLE: Final = re.compile(r"[A-Za-z0-9_.]{2,24}")

_COMMON_FIELDS: Final = ("method", "msg_id", "create_time", "room_id")
_USER_FIELDS: Final = ("id", "user_id", "nickname", "nick_name", "display_id", "unique_id")
_GIFT_FIELDS: Final = ("id", "name", "diamond_count", "type", "combo")
_EVENT_FIELDS: Final = (
    "content",
    "comment",
    "gift_id",
    "repeat_count",
    "repeat_end",
    "combo_count",
    "group_count",
    "group_id",
    "count",
    "total",
    "total_user",
    "action",
    "share_type",
    "member_count",
    "user_id",
)
_TOTAL_FALLBACKS: Final = ("m_total", "viewer_count")


def unique_id_of(target: str) -> str:
    """``"@creator"``, ``"creator"`` or ``"https://www.tiktok.com/@creator/live"`` →
    ``"creator"``."""
    text = target.strip()
    if "tiktok.com/" in text:
        text = text.split("tiktok.com/", 1)[1].split("/", 1)[0].split("?", 1)[0]
    text = text.removeprefix("@")
    if not _HANDLE.fullmatch(text):
        raise ConnectorError(
            f"“{target}” is not a TikTok @handle; give the creator's unique id, e.g. "
            "@creator (letters, digits, _ and ., 2–24 characters)"
        )
    return text


def _attr(obj: Any, name: str) -> Any:
    try:
        return getattr(obj, name, None)
    except Exception:  # a property of a half-filled message may raise
        return None


def _scalar(value: Any) -> Any:
    """A JSON scalar, or None for proto3 defaults and anything else."""
    if value is None or value is False or value == "" or isinstance(value, bytes):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):  # IntEnum members included
        return int(value) or None
    if isinstance(value, float):
        return value or None
    if isinstance(value, str):
        return value
    return None


def _fields(obj: Any, names: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        value = _scalar(_attr(obj, name))
        if value is not None:
            out[name] = value
    return out


def event_name(event: Any) -> str:
    """The TikTokLive class name of ``event`` (a subclass counts as its known parent)."""
    for cls in type(event).__mro__:
        if cls.__name__ in EVENT_NAMES or cls.__name__ in _CONTROL_NAMES:
            return cls.__name__
    return type(event).__name__


def event_payload(event: Any) -> dict[str, Any]:
    """A TikTokLive event object → the decoded-webcast dict the webcast importer reads."""
    payload = _fields(event, _EVENT_FIELDS)
    if "total" not in payload:
        for name in _TOTAL_FALLBACKS:
            value = _scalar(_attr(event, name))
            if value is not None:
                payload["total"] = value
                break
    for key, names in (("common", _COMMON_FIELDS), ("user", _USER_FIELDS), ("gift", _GIFT_FIELDS)):
        nested = _attr(event, key)
        if nested is not None:
            values = _fields(nested, names)
            if values:
                payload[key] = values
    return payload


class _Stopped:
    def __init__(self, error: BaseException | None) -> None:
        self.error = error


class TikTokConnector(BaseConnector):
    """One TikTok creator's LIVE, read through TikTokLive."""

    kind = "tiktok"

    def __init__(
        self,
        target: str,
        *,
        client_factory: Callable[[str], Any] | None = None,
        fetch_live_check: bool = True,
    ) -> None:
        super().__init__(target)
        self.unique_id = unique_id_of(target)
        self.target = f"@{self.unique_id}"
        self.client_factory = client_factory
        self.fetch_live_check = fetch_live_check
        self._feed = ImporterFeed(WebcastImporter(), {"platform": "tiktok"})

    def convert(self, event: Any, received_ms: int | None = None) -> list[EventDict]:
        """One TikTokLive event object → its events (through the douyin-webcast importer)."""
        record = {
            "method": event_name(event),
            "payload": event_payload(event),
            "ts": received_ms if received_ms is not None else now_ms(),
            "platform": "tiktok",
        }
        return self.to_events(self._feed.feed(dumps_line(record)))

    def _client(self) -> tuple[Any, Any]:
        """(client, the module that holds the event classes)."""
        if self.client_factory is not None:
            client = self.client_factory(self.unique_id)
            return client, getattr(client, "events_module", None)
        package = import_optional("TikTokLive", "TikTokLive")
        events_module = import_optional("TikTokLive.events", "TikTokLive")
        return package.TikTokLiveClient(unique_id=f"@{self.unique_id}"), events_module

    async def events(self) -> AsyncIterator[EventDict]:
        queue: asyncio.Queue[Any] = asyncio.Queue()
        client, events_module = self._client()

        def on_event(event: Any) -> None:
            queue.put_nowait(event)

        for name in (*EVENT_NAMES, *_CONTROL_NAMES):
            cls = getattr(events_module, name, None) if events_module is not None else None
            if cls is not None:
                client.add_listener(cls, on_event)
        try:
            task = await client.start(fetch_live_check=self.fetch_live_check)
        except Exception as exc:
            names = {cls.__name__ for cls in type(exc).__mro__}
            detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            if names & _FATAL_ERRORS:
                raise ConnectorError(f"TikTok @{self.unique_id}: {detail}") from exc
            raise ConnectionLost(f"TikTok @{self.unique_id}: {detail}") from exc
        task.add_done_callback(
            lambda done: queue.put_nowait(_Stopped(None if done.cancelled() else done.exception()))
        )
        try:
            while True:
                item = await queue.get()
                if isinstance(item, _Stopped):
                    why = f": {item.error!r}" if item.error is not None else ""
                    raise ConnectionLost(f"TikTok @{self.unique_id} connection ended{why}")
                name = event_name(item)
                if name == "ConnectEvent":
                    await self.connected()
                elif name == "LiveEndEvent":
                    raise ConnectionLost(f"TikTok @{self.unique_id}: the LIVE ended")
                elif name in EVENT_NAMES:
                    for event in self.convert(item):
                        yield event
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), timeout=5)
            if not task.done():
                task.cancel()
