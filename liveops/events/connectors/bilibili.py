"""Bilibili live rooms through the ``blivedm`` package (optional: ``liveops[connectors]``).

blivedm keeps the websocket to Bilibili's danmaku servers (authentication, heartbeats,
brotli/zlib frames, its own quick reconnects) and hands every command over as the dict
Bilibili sent: ``{"cmd": "DANMU_MSG", "info": [...]}``, ``{"cmd": "SEND_GIFT", "data":
{...}}`` … This adapter registers a handler for them and maps each one with the
``bilibili-blivedm`` file importer (:mod:`liveops.events.importers.bilibili`), wrapped
as ``{"ts": <received ms>, "data": <command>}`` — the recorder wrapper that importer
reads — so messages Bilibili sends without a time (likes, the online-rank count) carry
the time they arrived. The mapping is therefore the importer's, message for message:
danmaku → ``comment``, gifts / guard / super chat → ``gift`` in CNY, INTERACT_WORD →
``enter`` / ``follow`` / ``share``, ONLINE_RANK_COUNT → ``online_count`` (capped,
labelled ``bilibili_online_rank``); what the importer skips is counted in
:attr:`skipped`, what it cannot read goes to the quarantine.

Works with blivedm's handler API old and new: ``add_handler`` with an awaited
``handle(client, command)`` (the 0.1 release on PyPI) and ``set_handler`` with a plain
``handle`` and ``on_client_stopped(client, exception)`` (blivedm ≥ 1.0 from its
repository). The first command (blivedm's own ``_HEARTBEAT``, answered right after the
room accepted the login) marks the connection *connected*; the client stopping ends the
connection with :class:`ConnectionLost`, and the runner starts a new client after its
back-off.
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
from liveops.events.importers.bilibili import BilibiliImporter

__all__ = ["BilibiliConnector", "room_id_of"]

_ROOM: Final = re.compile(r"(?:live\.bilibili\.com/(?:h5/|blanc/)?)?(\d{1,16})/?(?:[?#].*)?")
HEARTBEAT: Final = "_HEARTBEAT"


def room_id_of(target: str) -> int:
    """``"21452505"`` or ``"https://live.bilibili.com/21452505"`` → 21452505."""
    text = target.strip().removeprefix("https://").removeprefix("http://")
    match = _ROOM.fullmatch(text)
    if match is None or int(match.group(1)) <= 0:
        raise ConnectorError(
            f"“{target}” is not a Bilibili live room id; give the number in the room's "
            "address, e.g. 21452505 for https://live.bilibili.com/21452505"
        )
    return int(match.group(1))


class _Stopped:
    """Queued when the blivedm client has stopped."""

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


class _Handler:
    """A blivedm message handler (both handler APIs) that queues commands."""

    def __init__(self, queue: asyncio.Queue[dict[str, Any] | _Stopped]) -> None:
        self.queue = queue

    def handle(self, client: Any, command: dict[str, Any]) -> asyncio.Future[None]:
        if isinstance(command, dict):
            self.queue.put_nowait(command)
        # blivedm 0.1 awaits what handle() returns; ≥ 1.0 calls it and ignores the result
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    def on_client_stopped(self, client: Any, exception: BaseException | None) -> None:
        self.queue.put_nowait(_Stopped(exception))


class BilibiliConnector(BaseConnector):
    """One Bilibili live room, read through blivedm."""

    kind = "bilibili"

    def __init__(self, target: str, *, client_factory: Callable[[int], Any] | None = None) -> None:
        super().__init__(target)
        self.room_id = room_id_of(target)
        self.target = str(self.room_id)
        self.client_factory = client_factory
        self._feed = ImporterFeed(BilibiliImporter())

    def convert(self, command: dict[str, Any], received_ms: int | None = None) -> list[EventDict]:
        """One blivedm command → its events (through the bilibili-blivedm importer)."""
        wrapper = {"ts": received_ms if received_ms is not None else now_ms(), "data": command}
        return self.to_events(self._feed.feed(dumps_line(wrapper)))

    def _client(self) -> Any:
        if self.client_factory is not None:
            return self.client_factory(self.room_id)
        blivedm = import_optional("blivedm", "blivedm")
        return blivedm.BLiveClient(self.room_id)

    async def events(self) -> AsyncIterator[EventDict]:
        queue: asyncio.Queue[dict[str, Any] | _Stopped] = asyncio.Queue()
        handler = _Handler(queue)
        client = self._client()
        if hasattr(client, "set_handler"):
            client.set_handler(handler)
        else:
            client.add_handler(handler)
        try:
            client.start()
        except Exception as exc:
            raise ConnectionLost(f"blivedm could not start: {exc!r}") from exc
        # blivedm 0.1 has no "stopped" callback: watch the client's network task instead
        watcher = asyncio.create_task(client.join())
        watcher.add_done_callback(lambda _task: queue.put_nowait(_Stopped(None)))
        connected = False
        try:
            while True:
                item = await queue.get()
                if isinstance(item, _Stopped):
                    why = f": {item.error!r}" if item.error is not None else ""
                    raise ConnectionLost(f"blivedm stopped for room {self.room_id}{why}")
                if not connected:
                    connected = True
                    await self.connected()
                cmd = str(item.get("cmd", ""))
                if cmd.split(":", 1)[0] == HEARTBEAT:
                    continue
                for event in self.convert(item):
                    yield event
        finally:
            watcher.cancel()
            with contextlib.suppress(Exception):
                if getattr(client, "is_running", False):
                    await asyncio.wait_for(client.stop_and_close(), timeout=5)
                else:
                    await asyncio.wait_for(client.close(), timeout=5)
