"""Twitch chat, read-only and anonymous, over IRC. Pure asyncio streams, no dependency.

The connector logs in as ``justinfan<digits>`` (Twitch's anonymous read-only login: no
account, no token), asks for the ``twitch.tv/tags`` and ``twitch.tv/commands``
capabilities and joins ``#channel`` — TLS to ``irc.chat.twitch.tv:6697`` by default, or
plain TCP to any host and port (tests run a fake server on 127.0.0.1).

Protocol handling: ``PING`` is answered with ``PONG``; ``RECONNECT`` (Twitch restarting a
chat server) and end of stream end the connection with :class:`ConnectionLost`, so the
runner reconnects; after ``ping_after`` seconds of silence the connector sends its own
``PING`` and gives up on the connection if nothing answers within ``ping_timeout``. The
welcome (``001``) means Twitch accepted the login: the connector reports *connected* and
joins the channel. A ``NOTICE`` before the welcome (``Login authentication failed`` …) or a
``NOTICE`` saying the channel is suspended or banned is fatal (:class:`ConnectorError`).

Events: ``PRIVMSG`` and ``USERNOTICE`` lines go through the ``twitch-irc`` file importer
(:mod:`liveops.events.importers.twitch`) as they are, so a live message and the same line
in a recorded IRC log map to the same event: chat → ``comment``; cheers → ``gift`` with
bits × 0.01 USD; subs and gift subs → ``gift``; raids → ``enter`` with the raid size;
event id = the message's ``id`` tag. Lines the importer skips (announcements, rituals,
mystery-gift banners) are counted in :attr:`skipped`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import ssl
from collections.abc import AsyncIterator
from typing import Final

from liveops.events.connectors.base import (
    BaseConnector,
    ConnectionLost,
    ConnectorError,
    EventDict,
    ImporterFeed,
)
from liveops.events.importers.twitch import TwitchIrcImporter, parse_irc_line

__all__ = ["TWITCH_IRC_HOST", "TwitchConnector"]

TWITCH_IRC_HOST: Final = "irc.chat.twitch.tv"
TLS_PORT: Final = 6697
PLAIN_PORT: Final = 6667
CAPABILITIES: Final = "twitch.tv/tags twitch.tv/commands"

_CHANNEL: Final = re.compile(r"[a-z0-9_]{1,25}")
#: NOTICE msg-ids after which reconnecting cannot help.
_FATAL_NOTICES: Final = frozenset(
    {"msg_channel_suspended", "msg_banned", "tos_ban", "msg_channel_blocked"}
)
_LINE_LIMIT: Final = 1024 * 1024  # Twitch lines are < 10 KB; a longer one is an error


def channel_name(target: str) -> str:
    """``"#Some_Channel"`` / ``"some_channel"`` → ``"some_channel"``; ConnectorError if it
    cannot be a Twitch login."""
    name = target.strip().removeprefix("#").lower()
    if name.startswith(("https://", "http://", "www.", "twitch.tv/")):
        name = name.rstrip("/").rsplit("/", 1)[-1]
    if not _CHANNEL.fullmatch(name):
        raise ConnectorError(
            f"“{target}” is not a Twitch channel name (letters, digits and _, up to 25); "
            "give the channel's login, e.g. shroud"
        )
    return name


class TwitchConnector(BaseConnector):
    """Anonymous read-only chat of one Twitch channel."""

    kind = "twitch"

    def __init__(
        self,
        target: str,
        *,
        host: str = TWITCH_IRC_HOST,
        port: int | None = None,
        tls: bool = True,
        nick: str | None = None,
        connect_timeout: float = 10.0,
        ping_after: float = 240.0,
        ping_timeout: float = 20.0,
    ) -> None:
        super().__init__(target)
        self.channel = channel_name(target)
        self.target = self.channel
        self.host = host
        self.tls = tls
        self.port = port if port is not None else (TLS_PORT if tls else PLAIN_PORT)
        self.nick = nick
        self.connect_timeout = connect_timeout
        self.ping_after = ping_after
        self.ping_timeout = ping_timeout
        self._feed = ImporterFeed(TwitchIrcImporter())

    def convert(self, line: str) -> list[EventDict]:
        """One raw IRC line → its events (through the twitch-irc importer)."""
        return self.to_events(self._feed.feed(line))

    async def events(self) -> AsyncIterator[EventDict]:
        nick = self.nick or f"justinfan{10_000 + secrets.randbelow(90_000)}"
        context = ssl.create_default_context() if self.tls else None
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    self.host,
                    self.port,
                    ssl=context,
                    server_hostname=self.host if context is not None else None,
                    limit=_LINE_LIMIT,
                ),
                timeout=self.connect_timeout,
            )
        except (OSError, TimeoutError) as exc:
            raise ConnectionLost(
                f"cannot connect to {self.host}:{self.port}: {exc or type(exc).__name__}"
            ) from exc

        async def send(line: str) -> None:
            writer.write(line.encode("utf-8") + b"\r\n")
            await writer.drain()

        try:
            await send(f"CAP REQ :{CAPABILITIES}")
            await send(f"NICK {nick}")
            welcomed = False
            pinged = False
            while True:
                try:
                    timeout = self.ping_timeout if pinged else self.ping_after
                    data = await asyncio.wait_for(reader.readline(), timeout=timeout)
                except TimeoutError:
                    if pinged:
                        raise ConnectionLost(
                            f"no answer from {self.host} for "
                            f"{self.ping_after + self.ping_timeout:.0f} s"
                        ) from None
                    pinged = True
                    await send("PING :liveops")
                    continue
                except ValueError as exc:  # a line over the limit
                    raise ConnectionLost(f"unreadable data from {self.host}: {exc}") from exc
                if not data.endswith(b"\n"):  # end of stream, maybe inside a line
                    raise ConnectionLost(f"{self.host} closed the connection")
                pinged = False
                line = data.decode("utf-8", "replace").rstrip("\r\n")
                msg = parse_irc_line(line)
                if msg is None:
                    continue
                command = msg.command
                if command in ("PRIVMSG", "USERNOTICE"):
                    for event in self.convert(line):
                        yield event
                elif command == "PING":
                    await send(f"PONG :{msg.trailing or (msg.params or ['tmi.twitch.tv'])[0]}")
                elif command == "001":
                    welcomed = True
                    await send(f"JOIN #{self.channel}")
                    await self.connected()
                elif command == "RECONNECT":
                    raise ConnectionLost("Twitch asked to reconnect (RECONNECT)")
                elif command == "NOTICE":
                    text = msg.trailing or ""
                    notice_id = msg.tags.get("msg-id", "")
                    if not welcomed:
                        raise ConnectorError(f"Twitch refused the login: {text or line}")
                    if notice_id in _FATAL_NOTICES:
                        raise ConnectorError(f"Twitch #{self.channel}: {text or notice_id}")
        except (ConnectionError, OSError) as exc:
            raise ConnectionLost(f"connection to {self.host} failed: {exc}") from exc
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), timeout=2)
