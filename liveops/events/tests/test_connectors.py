"""Live connectors: Twitch IRC against a fake server on 127.0.0.1, the runner's reconnects,
back-off and batching, and the Bilibili / TikTok adapters with fake clients and events.

Nothing here leaves the machine: the "Twitch" server is ``asyncio.start_server`` on
127.0.0.1, blivedm and TikTokLive are replaced by small fakes shaped like them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime
from io import BytesIO
from types import SimpleNamespace as NS
from typing import Any, BinaryIO

import duckdb
import orjson
import pytest
from asgiref.sync import sync_to_async

from liveops.cli import main
from liveops.events.connectors import bilibili as bilibili_connector
from liveops.events.connectors import make_connector
from liveops.events.connectors.base import (
    PROBLEM_KEY,
    RAW_KEY,
    BaseConnector,
    ConnectionLost,
    ConnectorError,
    EventDict,
    ImporterFeed,
    NullListener,
)
from liveops.events.connectors.bilibili import BilibiliConnector
from liveops.events.connectors.runner import (
    SinkResult,
    Totals,
    backoff_delay,
    django_sink,
    django_state,
    run,
)
from liveops.events.connectors.tiktok import TikTokConnector, event_payload
from liveops.events.connectors.twitch import TwitchConnector
from liveops.events.importers.base import Item, Problem, Record
from liveops.events.importers.bilibili import BilibiliImporter
from liveops.events.models import Connector, IngestTally, RejectedRow
from liveops.events.runtime import event_store
from liveops.planning.models import LiveSession
from tests.factories import SessionFactory

CHANNEL = "liveops_test"
NICK = "justinfan12345"
T0 = 1_764_200_000_000  # ms; 2025-11-26T23:33:20Z


# --------------------------------------------------------------------------------------------
# A scripted fake Twitch IRC server (127.0.0.1 only)
# --------------------------------------------------------------------------------------------


def privmsg(msg_id: str, text: str, *, user: str = "viewer", uid: int = 1, ts: int = T0) -> str:
    return (
        f"@badge-info=;badges=;color=#1E90FF;display-name={user.title()};emotes=;"
        f"first-msg=0;flags=;id={msg_id};mod=0;room-id=999;subscriber=0;"
        f"tmi-sent-ts={ts};turbo=0;user-id={uid};user-type= "
        f":{user}!{user}@{user}.tmi.twitch.tv PRIVMSG #{CHANNEL} :{text}"
    )


def cheer(msg_id: str, bits: int, text: str, *, user: str = "cheerer", uid: int = 2) -> str:
    return (
        f"@badge-info=;badges=bits/100;bits={bits};color=;display-name={user.title()};emotes=;"
        f"id={msg_id};mod=0;room-id=999;subscriber=0;tmi-sent-ts={T0 + 1000};"
        f"user-id={uid};user-type= :{user}!{user}@{user}.tmi.twitch.tv PRIVMSG #{CHANNEL} :{text}"
    )


def usernotice(
    msg_id: str, kind: str, *, user: str, uid: int, extra: str = "", text: str = ""
) -> str:
    trailing = f" :{text}" if text else ""
    return (
        f"@badge-info=;badges=;color=;display-name={user.title()};emotes=;flags=;id={msg_id};"
        f"login={user};mod=0;msg-id={kind};{extra}room-id=999;subscriber=1;"
        f"system-msg={user.title()}\\sdid\\s{kind}.;tmi-sent-ts={T0 + 2000};user-id={uid};"
        f"user-type= :tmi.twitch.tv USERNOTICE #{CHANNEL}{trailing}"
    )


FIRST_LINES = [
    privmsg("c-1", "大家好 hello"),
    cheer("c-2", 100, "cheer100 great stream"),
    usernotice(
        "c-3",
        "sub",
        user="subber",
        uid=3,
        extra="msg-param-cumulative-months=1;msg-param-sub-plan=1000;",
    ),
    usernotice("c-4", "raid", user="raider", uid=4, extra="msg-param-viewerCount=42;"),
    usernotice("c-5", "announcement", user="modder", uid=5, text="welcome all"),  # skipped
]
SECOND_LINES = [
    privmsg("c-6", "back again", user="other", uid=6, ts=T0 + 5000),
    usernotice(
        "c-7",
        "subgift",
        user="gifter",
        uid=7,
        extra="msg-param-recipient-user-name=lucky;msg-param-sub-plan=1000;",
    ),
    privmsg("c-1", "大家好 hello"),  # Twitch never resends, but if it did: stored once
]


class Conn:
    """One client connection as the fake server sees it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.received: list[str] = []

    async def expect(self, prefix: str, timeout: float = 5.0) -> str:
        """Read client lines until one starts with ``prefix``."""
        while True:
            data = await asyncio.wait_for(self.reader.readline(), timeout)
            if not data:
                raise AssertionError(f"client closed before sending {prefix!r}")
            line = data.decode().rstrip("\r\n")
            self.received.append(line)
            if line.startswith(prefix):
                return line

    async def send(self, *lines: str) -> None:
        for line in lines:
            self.writer.write(line.encode() + b"\r\n")
        await self.writer.drain()

    async def handshake(self) -> None:
        await self.expect("NICK ")
        await self.send(
            ":tmi.twitch.tv CAP * ACK :twitch.tv/tags twitch.tv/commands",
            f":tmi.twitch.tv 001 {NICK} :Welcome, GLHF!",
            f":tmi.twitch.tv 002 {NICK} :Your host is tmi.twitch.tv",
            f":tmi.twitch.tv 376 {NICK} :>",
        )
        await self.expect(f"JOIN #{CHANNEL}")
        await self.send(
            f":{NICK}!{NICK}@{NICK}.tmi.twitch.tv JOIN #{CHANNEL}",
            f"@emote-only=0;followers-only=-1;r9k=0;room-id=999;slow=0;subs-only=0 "
            f":tmi.twitch.tv ROOMSTATE #{CHANNEL}",
        )

    async def ping(self) -> None:
        await self.send("PING :tmi.twitch.tv")
        await self.expect("PONG :tmi.twitch.tv")


Script = Callable[[Conn], Awaitable[None]]


class FakeIrc:
    """A Twitch-like IRC server on 127.0.0.1; connection *n* runs ``scripts[n]`` (the last
    script again for any further connection), then the server closes it."""

    def __init__(self, *scripts: Script) -> None:
        self.scripts = scripts
        self.conns: list[Conn] = []
        self.port = 0
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> FakeIrc:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for conn in self.conns:
            conn.writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Conn(reader, writer)
        self.conns.append(conn)
        script = self.scripts[min(len(self.conns), len(self.scripts)) - 1]
        try:
            await script(conn)
        except (ConnectionError, TimeoutError, AssertionError):
            pass
        finally:
            writer.close()


async def hold_open(conn: Conn) -> None:
    """Keep the connection until the client goes."""
    while await conn.reader.readline():
        pass


async def login_refused(conn: Conn) -> None:
    await conn.expect("NICK ")
    await conn.send(":tmi.twitch.tv NOTICE * :Login authentication failed")


def twitch_connector(port: int, **kwargs: Any) -> TwitchConnector:
    return TwitchConnector(
        f"#{CHANNEL.upper()}", host="127.0.0.1", port=port, tls=False, nick=NICK, **kwargs
    )


class Recorder(NullListener):
    """Delegates to a listener and records each callback; with ``row`` also the Connector
    row's state as the database has it right after the callback."""

    def __init__(self, inner: Any = None, row: Connector | None = None) -> None:
        self.inner = inner or NullListener()
        self.row = row
        self.calls: list[tuple[str, Any]] = []
        self.row_states: list[str] = []
        self.received_total = 0
        self.enough = asyncio.Event()
        self.want = 0

    async def _after(self, name: str, arg: Any = None) -> None:
        self.calls.append((name, arg))
        if self.row is not None:
            pk = self.row.pk
            state = await sync_to_async(lambda: Connector.objects.get(pk=pk).state)()
            self.row_states.append(state)

    async def connecting(self, attempt: int) -> None:
        await self.inner.connecting(attempt)
        await self._after("connecting", attempt)

    async def connected(self) -> None:
        await self.inner.connected()
        await self._after("connected")

    async def backoff(self, delay: float, error: str) -> None:
        await self.inner.backoff(delay, error)
        await self._after("backoff", (delay, error))

    async def error(self, message: str) -> None:
        await self.inner.error(message)
        await self._after("error", message)

    async def stopped(self) -> None:
        await self.inner.stopped()
        await self._after("stopped")

    async def received(self, count: int, at: datetime) -> None:
        await self.inner.received(count, at)
        self.received_total += count
        if self.want and self.received_total >= self.want:
            self.enough.set()

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


def make_row(session: LiveSession, kind: str, target: str) -> Connector:
    return Connector.objects.create(
        workspace=session.workspace, session=session, kind=kind, target=target
    )


# --------------------------------------------------------------------------------------------
# Twitch end to end: fake server → connector → runner → store + Connector row
# --------------------------------------------------------------------------------------------


def test_twitch_reconnects_with_backoff_and_stores_every_event_once(
    transactional_db: None,
) -> None:
    session = SessionFactory(account__platform="twitch")
    row = make_row(session, "twitch", CHANNEL)
    sink = django_sink(session, origin=f"connector:{row.pk}")
    first_done, second_done = asyncio.Event(), asyncio.Event()

    async def first(conn: Conn) -> None:
        await conn.handshake()
        await conn.send(*FIRST_LINES)
        await conn.ping()
        first_done.set()  # then the server hangs up

    async def second(conn: Conn) -> None:
        await conn.handshake()
        await conn.send(*SECOND_LINES)
        await conn.ping()
        second_done.set()
        await hold_open(conn)

    async def scenario() -> tuple[Totals, Recorder, FakeIrc, TwitchConnector]:
        recorder = Recorder(django_state(row), row)
        recorder.want = 7  # 4 events + 3 (one of them a repeat)
        async with FakeIrc(first, second) as server:
            connector = twitch_connector(server.port)
            stop = asyncio.Event()
            task = asyncio.create_task(
                run(
                    connector,
                    sink=sink,
                    on_state=recorder,
                    stop=stop,
                    initial_backoff=0.05,
                    max_backoff=0.2,
                    flush_interval=0.05,
                )
            )
            await asyncio.wait_for(second_done.wait(), 10)
            await asyncio.wait_for(recorder.enough.wait(), 10)
            stop.set()
            totals = await asyncio.wait_for(task, 10)
        return totals, recorder, server, connector

    started = time.monotonic()
    totals, recorder, server, connector = asyncio.run(scenario())
    assert time.monotonic() - started < 10
    assert first_done.is_set()

    # the client spoke Twitch IRC: capabilities, anonymous nick, join, PONG for each PING
    for conn in server.conns:
        assert conn.received[0] == "CAP REQ :twitch.tv/tags twitch.tv/commands"
        assert conn.received[1] == f"NICK {NICK}"
        assert f"JOIN #{CHANNEL}" in conn.received
        assert "PONG :tmi.twitch.tv" in conn.received
    assert len(server.conns) == 2

    # events: exactly once in the store, duplicates counted, the announcement skipped
    assert (totals.received, totals.accepted, totals.duplicate, totals.rejected) == (7, 6, 1, 0)
    assert (totals.attempts, totals.connections, totals.state) == (2, 2, "stopped")
    assert event_store().count(session.workspace_id, session.pk) == 6
    assert event_store().count_by_kind(session.workspace_id, session.pk) == {
        "comment": 2,
        "gift": 3,
        "enter": 1,
    }
    tally = IngestTally.objects.get(session=session)
    assert (tally.accepted, tally.duplicate, tally.rejected) == (6, 1, 0)
    assert connector.skipped == {"USERNOTICE announcement (not an audience event)": 1}
    con = duckdb.connect()
    stored = dict(
        event_store()
        .duckdb_relation(con, session.workspace_id, session.pk)
        .select("event_id, raw")
        .fetchall()
    )
    assert sorted(stored) == ["c-1", "c-2", "c-3", "c-4", "c-6", "c-7"]
    assert stored["c-2"] == FIRST_LINES[1]  # raw = the IRC line as received

    # state: connecting → connected → backoff → connecting → connected → stopped, in the row
    assert recorder.names() == [
        "connecting",
        "connected",
        "backoff",
        "connecting",
        "connected",
        "stopped",
    ]
    assert recorder.row_states == recorder.names()
    assert [arg for name, arg in recorder.calls if name == "connecting"] == [1, 2]
    delay, error = next(arg for name, arg in recorder.calls if name == "backoff")
    assert 0.04 <= delay <= 0.06 and "closed the connection" in error
    row.refresh_from_db()
    assert row.state == "stopped"
    assert row.events_received == 7
    assert row.attempts == 2
    assert "127.0.0.1 closed the connection" in row.last_error  # kept: why it last dropped
    assert row.last_event_at is not None


def test_twitch_login_failure_notice_is_fatal(transactional_db: None) -> None:
    session = SessionFactory(account__platform="twitch")
    row = make_row(session, "twitch", CHANNEL)
    sink = django_sink(session)

    async def scenario() -> tuple[Totals, Recorder, FakeIrc]:
        recorder = Recorder(django_state(row), row)
        async with FakeIrc(login_refused) as server:
            totals = await asyncio.wait_for(
                run(
                    twitch_connector(server.port),
                    sink=sink,
                    on_state=recorder,
                    stop=asyncio.Event(),
                    initial_backoff=0.05,
                ),
                10,
            )
        return totals, recorder, server

    totals, recorder, server = asyncio.run(scenario())
    assert len(server.conns) == 1  # not retried
    assert totals.state == "error"
    assert "Login authentication failed" in totals.last_error
    assert recorder.names() == ["connecting", "error"]
    assert recorder.row_states == ["connecting", "error"]
    row.refresh_from_db()
    assert row.state == "error"
    assert row.last_error == "Twitch refused the login: Login authentication failed"
    assert row.events_received == 0


async def _first_failure(connector: TwitchConnector) -> BaseException:
    try:
        async for _ in connector.events():
            pass
    except (ConnectionLost, ConnectorError) as exc:
        return exc
    raise AssertionError("events() ended without an exception")


@pytest.mark.parametrize(
    ("script_name", "expected"),
    [
        ("reconnect", "Twitch asked to reconnect (RECONNECT)"),
        ("silent", "no answer from 127.0.0.1"),
        ("suspended", "Twitch #liveops_test: This channel has been suspended."),
    ],
)
def test_twitch_protocol_endings(script_name: str, expected: str) -> None:
    async def reconnect(conn: Conn) -> None:
        await conn.handshake()
        await conn.send(":tmi.twitch.tv RECONNECT")
        await hold_open(conn)

    async def silent(conn: Conn) -> None:
        await conn.handshake()
        await conn.expect("PING :liveops")  # the connector checks the line is alive
        await hold_open(conn)

    async def suspended(conn: Conn) -> None:
        await conn.handshake()
        await conn.send(
            f"@msg-id=msg_channel_suspended :tmi.twitch.tv NOTICE #{CHANNEL} "
            ":This channel has been suspended."
        )
        await hold_open(conn)

    scripts: dict[str, Script] = {
        "reconnect": reconnect,
        "silent": silent,
        "suspended": suspended,
    }

    async def scenario() -> tuple[BaseException, FakeIrc]:
        async with FakeIrc(scripts[script_name]) as server:
            connector = twitch_connector(server.port, ping_after=0.1, ping_timeout=0.1)
            exc = await asyncio.wait_for(_first_failure(connector), 5)
        return exc, server

    exc, server = asyncio.run(scenario())
    assert expected in str(exc)
    fatal = script_name == "suspended"
    assert isinstance(exc, ConnectorError if fatal else ConnectionLost)
    if script_name == "silent":
        assert "PING :liveops" in server.conns[0].received


def test_twitch_refused_port_is_a_lost_connection_and_bad_channel_is_fatal() -> None:
    async def refused() -> BaseException:
        probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = probe.sockets[0].getsockname()[1]
        probe.close()
        await probe.wait_closed()
        return await _first_failure(twitch_connector(port, connect_timeout=2))

    exc = asyncio.run(refused())
    assert isinstance(exc, ConnectionLost) and "cannot connect to 127.0.0.1" in str(exc)
    with pytest.raises(ConnectorError, match="not a Twitch channel name"):
        TwitchConnector("#no spaces allowed")
    assert TwitchConnector("https://www.twitch.tv/Some_Channel/").target == "some_channel"


# --------------------------------------------------------------------------------------------
# The runner on its own: back-off, healthy reset, batching, sink failures, stop
# --------------------------------------------------------------------------------------------


def test_backoff_doubles_to_the_cap_with_bounded_jitter() -> None:
    exact = [backoff_delay(n, uniform=lambda a, b: 1.0) for n in range(1, 10)]
    assert exact == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert backoff_delay(3, initial=0.5, maximum=10, uniform=lambda a, b: 1.0) == 2.0
    assert backoff_delay(10_000) <= 60  # no overflow
    for n in range(1, 9):
        nominal = min(60.0, 2.0 ** (n - 1))
        for _ in range(50):
            assert 0.8 * nominal <= backoff_delay(n) <= min(60.0, 1.2 * nominal)


class ScriptedConnector(BaseConnector):
    """A connector whose connections follow a list of plans (no network)."""

    kind = "twitch"

    def __init__(self, plans: list[Callable[[ScriptedConnector], AsyncIterator[EventDict]]]):
        super().__init__("scripted")
        self.plans = plans
        self.calls = 0

    def events(self) -> AsyncIterator[EventDict]:
        plan = self.plans[min(self.calls, len(self.plans) - 1)]
        self.calls += 1
        return plan(self)


def comment(i: int) -> EventDict:
    return {"event_id": f"e{i}", "kind": "comment", "ts": T0 + i, "text": f"m{i}"}


def test_healthy_connection_resets_the_backoff_and_odd_failures_are_retried() -> None:
    async def flaky(self: ScriptedConnector) -> AsyncIterator[EventDict]:
        await self.connected()
        if False:
            yield {}
        raise ConnectionLost("dropped at once")

    async def crashing(self: ScriptedConnector) -> AsyncIterator[EventDict]:
        if False:
            yield {}
        raise RuntimeError("a bug in a mapping")

    async def healthy(self: ScriptedConnector) -> AsyncIterator[EventDict]:
        await self.connected()
        await asyncio.sleep(0.12)
        yield comment(self.calls)
        raise ConnectionLost("dropped after a good while")

    async def scenario(plans: list[Any], runs: int) -> Recorder:
        recorder = Recorder()
        stop = asyncio.Event()
        connector = ScriptedConnector(plans)

        async def sink(batch: list[EventDict]) -> None:
            return None

        task = asyncio.create_task(
            run(
                connector,
                sink=sink,
                on_state=recorder,
                stop=stop,
                initial_backoff=0.01,
                healthy_after=0.1,
                flush_interval=0.01,
            )
        )
        while connector.calls < runs:
            await asyncio.sleep(0.005)
        stop.set()
        await asyncio.wait_for(task, 5)
        return recorder

    def delays(recorder: Recorder) -> list[float]:
        return [arg[0] for name, arg in recorder.calls if name == "backoff"]

    unhealthy = asyncio.run(scenario([flaky, crashing, flaky, flaky], 4))
    got = delays(unhealthy)[:3]
    for d, nominal in zip(got, [0.01, 0.02, 0.04], strict=True):
        assert 0.8 * nominal <= d <= 1.2 * nominal
    errors = [arg[1] for name, arg in unhealthy.calls if name == "backoff"]
    assert errors[:2] == ["dropped at once", "RuntimeError: a bug in a mapping"]
    attempts = [arg for name, arg in unhealthy.calls if name == "connecting"]
    assert attempts[:4] == [1, 2, 3, 4]

    steady = asyncio.run(scenario([healthy], 3))
    assert all(0.008 <= d <= 0.012 for d in delays(steady)[:2])
    assert [arg for name, arg in steady.calls if name == "connecting"][:3] == [1, 1, 1]


def test_events_are_batched_by_size_and_by_time_and_a_failed_batch_is_retried() -> None:
    async def burst(self: ScriptedConnector) -> AsyncIterator[EventDict]:
        await self.connected()
        for i in range(2500):
            yield comment(i)
        await asyncio.sleep(0.3)
        yield comment(9999)
        await asyncio.Event().wait()  # connected, quiet

    batches: list[tuple[float, int]] = []
    failures = [1]  # the first batch fails once

    async def sink(batch: list[EventDict]) -> SinkResult:
        if failures and len(batches) == 1:
            failures.pop()
            raise OSError("disk full")
        batches.append((time.monotonic(), len(batch)))
        return SinkResult(accepted=len(batch))

    async def scenario() -> Totals:
        stop = asyncio.Event()
        task = asyncio.create_task(
            run(
                ScriptedConnector([burst]),
                sink=sink,
                on_state=NullListener(),
                stop=stop,
                flush_interval=0.05,
            )
        )
        while sum(n for _, n in batches) < 2501:
            await asyncio.sleep(0.01)
        stop.set()
        return await asyncio.wait_for(task, 5)

    totals = asyncio.run(scenario())
    sizes = [n for _, n in batches]
    assert max(sizes) <= 1000 and sum(sizes) == 2501
    assert sizes[-1] == 1  # the lone event went out on the timer, not at stop
    assert (totals.received, totals.accepted, totals.state) == (2501, 2501, "stopped")
    assert "disk full" in totals.last_error


def test_a_sink_that_keeps_failing_ends_in_error_instead_of_growing() -> None:
    async def steady(self: ScriptedConnector) -> AsyncIterator[EventDict]:
        await self.connected()
        for i in range(10_000):
            yield comment(i)
            await asyncio.sleep(0)
        await asyncio.Event().wait()

    calls: list[int] = []

    async def sink(batch: list[EventDict]) -> None:
        calls.append(len(batch))
        raise OSError("database is gone")

    async def scenario() -> tuple[Totals, Recorder]:
        recorder = Recorder()
        totals = await asyncio.wait_for(
            run(
                ScriptedConnector([steady]),
                sink=sink,
                on_state=recorder,
                stop=asyncio.Event(),
                batch_size=10,
                max_buffer=100,
                flush_interval=0.02,
            ),
            10,
        )
        return totals, recorder

    totals, recorder = asyncio.run(scenario())
    assert totals.state == "error" and "storing events keeps failing" in totals.last_error
    assert recorder.names()[-1] == "error"
    assert len(calls) < 50  # retried on the timer, not once per new event


def test_stop_during_backoff_flushes_and_reports_stopped() -> None:
    async def one_then_drop(self: ScriptedConnector) -> AsyncIterator[EventDict]:
        yield comment(1)  # no connected() call: the first event says it
        raise ConnectionLost("gone")

    stored: list[EventDict] = []

    async def sink(batch: list[EventDict]) -> None:
        stored.extend(batch)

    async def scenario() -> tuple[Totals, Recorder, float]:
        recorder = Recorder()
        stop = asyncio.Event()
        task = asyncio.create_task(
            run(
                ScriptedConnector([one_then_drop]),
                sink=sink,
                on_state=recorder,
                stop=stop,
                initial_backoff=30,
                flush_interval=30,
            )
        )
        while "backoff" not in recorder.names():
            await asyncio.sleep(0.01)
        started = time.monotonic()
        stop.set()
        totals = await asyncio.wait_for(task, 5)
        return totals, recorder, time.monotonic() - started

    totals, recorder, took = asyncio.run(scenario())
    assert took < 1
    assert recorder.names() == ["connecting", "connected", "backoff", "stopped"]
    assert [e["event_id"] for e in stored] == ["e1"]
    assert (totals.state, totals.received, totals.last_error) == ("stopped", 1, "gone")


# --------------------------------------------------------------------------------------------
# ImporterFeed: an importer's parse() over live records
# --------------------------------------------------------------------------------------------


class CountingImporter:
    """Two items per line, numbered across lines (state kept between records)."""

    name = "counting"
    label = "counting"

    def sniff(self, head: bytes, filename: str) -> bool:
        return True

    def parse(self, stream: BinaryIO, *, options: dict[str, Any] | None = None) -> Iterator[Item]:
        seen = 0
        for line in stream:
            text = line.decode().strip()
            if not text.startswith("{"):
                yield Problem("x", "bad_row", "row", "not JSON", text)
                continue
            for _ in range(2):
                seen += 1
                yield Record("x", {"n": seen}, text)


def test_importer_feed_keeps_state_and_returns_every_item_of_a_record() -> None:
    feed = ImporterFeed(CountingImporter())
    first = feed.feed(b'{"a": 1}')
    second = feed.feed('{"a": 2}\n')
    assert [i.fields["n"] for i in first if isinstance(i, Record)] == [1, 2]
    assert [i.fields["n"] for i in second if isinstance(i, Record)] == [3, 4]
    assert feed.feed("   ") == []
    bad = feed.feed("not json")
    assert len(bad) == 1 and isinstance(bad[0], Problem) and bad[0].raw == "not json"


# --------------------------------------------------------------------------------------------
# Bilibili (blivedm shapes; no network, no blivedm)
# --------------------------------------------------------------------------------------------

BILI_TS = 1_717_243_200  # s
DANMU = {
    "cmd": "DANMU_MSG:4:0:2:2:2:0",
    "info": [
        [
            0,
            1,
            25,
            16777215,
            BILI_TS * 1000 + 123,
            1_717_243_199,
            0,
            "c8d2a1f3",
            0,
            0,
            0,
            "",
            0,
            "{}",
            "{}",
            {"mode": 0, "extra": '{"id_str":"a1b2c3d4e5f6","content":"主播好"}', "user": {}},
        ],
        "主播好",
        [35_117, "小明", 0, 0, 0, 10000, 1, ""],
        [5, "粉丝团", "主播", 21452505, 6_126_494, "", 0],
        [12, 0, 6_406_234, ">50000"],
        ["", ""],
        0,
        0,
        None,
        {"ts": BILI_TS, "ct": "A8D6F1B2"},
        0,
        0,
    ],
}
BILI_MESSAGES: list[dict[str, Any]] = [
    {"cmd": "_HEARTBEAT", "data": {"popularity": 1234}},
    DANMU,
    {
        "cmd": "SEND_GIFT",
        "data": {
            "action": "投喂",
            "coin_type": "gold",
            "giftId": 31036,
            "giftName": "小花花",
            "num": 5,
            "price": 100,
            "total_coin": 500,
            "tid": "1717243201120500001",
            "timestamp": BILI_TS + 1,
            "uid": 35_118,
            "uname": "送礼人",
        },
    },
    {
        "cmd": "SUPER_CHAT_MESSAGE",
        "data": {
            "id": 8_123_456,
            "message": "加油!",
            "price": 30,
            "start_time": BILI_TS + 2,
            "uid": 35_119,
            "user_info": {"uname": "醒目"},
        },
    },
    {
        "cmd": "INTERACT_WORD",
        "data": {"msg_type": 2, "uid": 35_120, "uname": "新粉丝", "timestamp": BILI_TS + 3},
    },
    {"cmd": "LIKE_INFO_V3_CLICK", "data": {"uid": 35_121, "uname": "点赞的人"}},
    {"cmd": "ONLINE_RANK_COUNT", "data": {"count": 2345}},
    {"cmd": "WATCHED_CHANGE", "data": {"num": 98765, "text_small": "9.8万"}},
    {"cmd": "SEND_GIFT_V2", "data": {"pb": "CgQIARAB"}},
]
RECEIVED_MS = (BILI_TS + 5) * 1000


def test_bilibili_conversion_is_the_importers_mapping() -> None:
    connector = BilibiliConnector("https://live.bilibili.com/21452505")
    assert (connector.room_id, connector.target) == (21452505, "21452505")
    live = [e for m in BILI_MESSAGES for e in connector.convert(m, RECEIVED_MS)]
    # the same messages as a recorded file, through the importer
    recorded = b"\n".join(orjson.dumps({"ts": RECEIVED_MS, "data": m}) for m in BILI_MESSAGES)
    items = list(BilibiliImporter().parse(BytesIO(recorded)))
    expected = [i.fields for i in items if isinstance(i, Record)]
    events = [e for e in live if PROBLEM_KEY not in e]
    assert [{k: v for k, v in e.items() if k != RAW_KEY} for e in events] == expected
    by_kind = {e["kind"]: e for e in events}
    assert by_kind["comment"]["event_id"] == "bilibili:dm:a1b2c3d4e5f6"
    assert by_kind["comment"]["ts"] == BILI_TS * 1000 + 123
    assert (by_kind["follow"]["viewer_id"], by_kind["like"]["ts"]) == ("35120", RECEIVED_MS)
    assert by_kind["online_count"]["source"] == "bilibili_online_rank"
    gifts = [e for e in events if e["kind"] == "gift"]
    assert [(g["amount"], g["currency"]) for g in gifts] == [("0.500", "CNY"), ("30", "CNY")]
    problems = [e for e in live if PROBLEM_KEY in e]
    assert len(problems) == 1 and "protobuf" in problems[0][PROBLEM_KEY]["message"]
    assert "line" not in problems[0][PROBLEM_KEY]["message"]
    assert set(connector.skipped) == {
        "_HEARTBEAT: blivedm heartbeat (popularity), not an event",
        "WATCHED_CHANGE: cumulative watched count, not an event",
    }


class FakeBLiveClient:
    """blivedm's client, 0.1 (add_handler, awaited handle) or ≥ 1.0 (set_handler, plain
    handle, on_client_stopped): replays recorded commands, then stops."""

    def __init__(self, room_id: int, messages: list[dict[str, Any]], *, new_api: bool) -> None:
        self.room_id = room_id
        self.messages = messages
        self.new_api = new_api
        self.handler: Any = None
        self.task: asyncio.Task[None] | None = None
        self.closed = False
        if new_api:
            self.set_handler = self._set
        else:
            self.add_handler = self._set

    def _set(self, handler: Any) -> None:
        self.handler = handler

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._network())

    async def _network(self) -> None:
        for command in self.messages:
            result = self.handler.handle(self, command)
            if not self.new_api:
                await result
            await asyncio.sleep(0)
        if self.new_api:
            self.handler.on_client_stopped(self, ConnectionResetError("ws closed"))

    @property
    def is_running(self) -> bool:
        return self.task is not None and not self.task.done()

    async def join(self) -> None:
        assert self.task is not None
        await asyncio.shield(self.task)

    async def stop_and_close(self) -> None:
        assert self.task is not None
        self.task.cancel()
        self.closed = True

    async def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("new_api", [False, True])
def test_bilibili_adapter_runs_a_blivedm_client(new_api: bool) -> None:
    clients: list[FakeBLiveClient] = []

    def factory(room_id: int) -> FakeBLiveClient:
        clients.append(FakeBLiveClient(room_id, BILI_MESSAGES, new_api=new_api))
        return clients[-1]

    connector = BilibiliConnector("21452505", client_factory=factory)
    connected: list[bool] = []

    async def on_connected() -> None:
        connected.append(True)

    connector.on_connected = on_connected

    async def collect() -> tuple[list[EventDict], BaseException]:
        out: list[EventDict] = []
        try:
            async for event in connector.events():
                out.append(event)
        except ConnectionLost as exc:
            return out, exc
        raise AssertionError("no ConnectionLost")

    events, exc = asyncio.run(collect())
    assert connected == [True]
    assert "blivedm stopped for room 21452505" in str(exc)
    assert clients[0].room_id == 21452505 and clients[0].closed
    kinds = [e.get("kind", "problem") for e in events]
    assert kinds == ["comment", "gift", "gift", "follow", "like", "online_count", "problem"]


def test_bilibili_events_through_the_runner_into_store_and_quarantine(
    transactional_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every message "arrives" in the same millisecond: identical id-less messages are
    # then told apart only by their order
    monkeypatch.setattr(bilibili_connector, "now_ms", lambda: RECEIVED_MS)
    session = SessionFactory(account__platform="bilibili")
    row = make_row(session, "bilibili", "21452505")
    sink = django_sink(session, origin=f"connector:{row.pk}")

    def factory(room_id: int) -> FakeBLiveClient:
        return FakeBLiveClient(room_id, BILI_MESSAGES * 2, new_api=True)  # all sent twice

    async def scenario() -> Totals:
        recorder = Recorder(django_state(row))
        recorder.want = 14
        stop = asyncio.Event()
        connector = BilibiliConnector("21452505", client_factory=factory)
        task = asyncio.create_task(
            run(connector, sink=sink, on_state=recorder, stop=stop, flush_interval=0.05)
        )
        await asyncio.wait_for(recorder.enough.wait(), 10)
        stop.set()
        return await asyncio.wait_for(task, 10)

    totals = asyncio.run(scenario())
    # messages with a platform id are stored once (the danmaku, the gift, the super chat);
    # id-less ones (follow, like, online count) get a hash of the message and its arrival,
    # "#1" for the second identical one: a viewer clicking like twice is two likes
    assert (totals.received, totals.accepted, totals.duplicate, totals.rejected) == (14, 9, 3, 2)
    assert event_store().count(session.workspace_id, session.pk) == 9
    assert event_store().count_by_kind(session.workspace_id, session.pk) == {
        "comment": 1,
        "gift": 2,
        "follow": 2,
        "like": 2,
        "online_count": 2,
    }
    rejected = RejectedRow.objects.get(session=session)  # the same problem is kept once
    assert (rejected.location, rejected.origin) == ("live", f"connector:{row.pk}")
    assert "SEND_GIFT_V2" in rejected.raw and "protobuf" in rejected.message
    row.refresh_from_db()
    assert (row.events_received, row.state) == (14, "stopped")


def test_optional_packages_missing_is_a_fatal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "blivedm", None)  # import blivedm → ImportError
    monkeypatch.setitem(sys.modules, "TikTokLive", None)

    async def first(connector: BaseConnector) -> BaseException:
        try:
            async for _ in connector.events():
                pass
        except ConnectorError as exc:
            return exc
        raise AssertionError("no ConnectorError")

    bili = asyncio.run(first(BilibiliConnector("21452505")))
    assert str(bili).startswith("blivedm is not installed: pip install 'liveops[connectors]'")
    tiktok = asyncio.run(first(TikTokConnector("@creator")))
    assert str(tiktok).startswith("TikTokLive is not installed: pip install 'liveops[connectors]'")
    with pytest.raises(ConnectorError, match="not a Bilibili live room id"):
        BilibiliConnector("room twelve")
    with pytest.raises(ConnectorError, match="unknown connector kind"):
        make_connector("youtube", "x")


# --------------------------------------------------------------------------------------------
# TikTok (TikTokLive-shaped fake events; attribute names as in TikTokLive 6.6 / 7.0)
# --------------------------------------------------------------------------------------------


class CommentEvent(NS):
    pass


class GiftEvent(NS):
    pass


class LikeEvent(NS):
    pass


class JoinEvent(NS):
    pass


class FollowEvent(NS):
    pass


class ShareEvent(NS):
    pass


class RoomUserSeqEvent(NS):
    pass


class ConnectEvent(NS):
    pass


def common(msg_id: int, offset: int) -> NS:
    return NS(method="WebcastChatMessage", msg_id=msg_id, create_time=T0 + offset, room_id=7)


AVA = NS(id=6_800_000_000_000_000_001, nickname="Ava ✨", display_id="ava.live", bio_description="")
ROSE = NS(id=5655, name="Rose", diamond_count=1, type=1, combo=False)  # streakable
LION = NS(id=6369, name="Lion", diamond_count=29999, type=2, combo=False)


def tiktok_events() -> list[Any]:
    return [
        CommentEvent(common=common(101, 0), user=AVA, content="hello 👋", visible_to_sender=False),
        GiftEvent(common=common(102, 1), user=AVA, gift=ROSE, gift_id=5655, repeat_count=1,
                  repeat_end=0, group_id=9, combo_count=1, group_count=0),
        GiftEvent(common=common(103, 2), user=AVA, gift=ROSE, gift_id=5655, repeat_count=5,
                  repeat_end=0, group_id=9, combo_count=5, group_count=0),
        GiftEvent(common=common(104, 3), user=AVA, gift=ROSE, gift_id=5655, repeat_count=5,
                  repeat_end=1, group_id=9, combo_count=5, group_count=0),
        GiftEvent(common=common(105, 4), user=AVA, gift=LION, gift_id=6369, repeat_count=1,
                  repeat_end=1, group_id=0, combo_count=1, group_count=0),
        LikeEvent(common=common(106, 5), user=AVA, count=15, total=12_000),
        JoinEvent(common=common(107, 6), user=AVA, member_count=500, action=1),
        FollowEvent(common=common(108, 7), user=AVA, action=1, follow_count=10),
        ShareEvent(common=common(109, 8), user=AVA, action=3, share_type=1),
        RoomUserSeqEvent(common=NS(method="WebcastRoomUserSeqMessage", msg_id=0,
                                create_time=0, room_id=7), total=321, total_user=45_678),
    ]  # fmt: skip


def test_tiktok_events_map_like_the_webcast_importer() -> None:
    connector = TikTokConnector("https://www.tiktok.com/@creator.one/live")
    assert connector.target == "@creator.one"
    events = [e for ev in tiktok_events() for e in connector.convert(ev, T0 + 60_000)]
    simple = [
        (e["kind"], e.get("quantity"), e.get("amount"), e.get("event_id"), e["ts"]) for e in events
    ]
    assert simple == [
        ("comment", None, None, "tiktok:101", T0),
        ("gift", 1, "1", "tiktok:102", T0 + 1),
        ("gift", 4, "4", "tiktok:103", T0 + 2),  # a streak counts increments: 1 + 4 = 5
        ("gift", 1, "29999", "tiktok:105", T0 + 4),
        ("like", 15, None, "tiktok:106", T0 + 5),
        ("enter", None, None, "tiktok:107", T0 + 6),
        ("follow", None, None, "tiktok:108", T0 + 7),
        ("share", None, None, "tiktok:109", T0 + 8),
        ("online_count", 321, None, None, T0 + 60_000),  # no time of its own: when it came
    ]
    first = events[0]
    assert (first["text"], first["viewer_id"], first["viewer_name"]) == (
        "hello 👋",
        "6800000000000000001",
        "Ava ✨",
    )
    assert all(e["platform"] == "tiktok" and "currency" not in e for e in events)
    assert events[-1]["source"] == "tiktok_room_user_seq"
    assert connector.skipped == {"gift combo end: repeats a count already counted": 1}
    # proto3 defaults are left out, as a decoded dump leaves them out
    payload = event_payload(tiktok_events()[1])
    assert payload["gift"] == {"id": 5655, "name": "Rose", "diamond_count": 1, "type": 1}
    assert "group_count" not in payload


class FakeTikTokClient:
    """TikTokLiveClient's surface the adapter uses: add_listener(EventClass, f), start()
    returning the websocket task, disconnect(); emits a ConnectEvent, the events, ends."""

    events_module = sys.modules[__name__]

    def __init__(self, unique_id: str, error: Exception | None = None) -> None:
        self.unique_id = unique_id
        self.error = error
        self.listeners: dict[type, list[Callable[[Any], Any]]] = {}
        self.disconnected = False

    def add_listener(self, event: type, f: Callable[[Any], Any]) -> None:
        self.listeners.setdefault(event, []).append(f)

    def _emit(self, event: Any) -> None:
        for f in self.listeners.get(type(event), []):
            f(event)

    async def start(self, *, fetch_live_check: bool = True) -> asyncio.Task[None]:
        if self.error is not None:
            raise self.error
        return asyncio.get_running_loop().create_task(self._ws())

    async def _ws(self) -> None:
        self._emit(ConnectEvent(unique_id=self.unique_id, room_id=7))
        for event in tiktok_events():
            self._emit(event)
            await asyncio.sleep(0)

    async def disconnect(self) -> None:
        self.disconnected = True


class UserNotFoundError(RuntimeError):
    pass


class UserOfflineError(RuntimeError):
    pass


def test_tiktok_adapter_listens_and_maps_client_errors() -> None:
    clients: list[FakeTikTokClient] = []

    def factory(error: Exception | None) -> Callable[[str], FakeTikTokClient]:
        def make(unique_id: str) -> FakeTikTokClient:
            clients.append(FakeTikTokClient(unique_id, error))
            return clients[-1]

        return make

    async def collect(connector: TikTokConnector) -> tuple[list[EventDict], BaseException, int]:
        connected: list[int] = []

        async def on_connected() -> None:
            connected.append(1)

        connector.on_connected = on_connected
        out: list[EventDict] = []
        try:
            async for event in connector.events():
                out.append(event)
        except (ConnectionLost, ConnectorError) as exc:
            return out, exc, len(connected)
        raise AssertionError("events() ended without an exception")

    events, exc, connected = asyncio.run(
        collect(TikTokConnector("@creator", client_factory=factory(None)))
    )
    assert connected == 1 and len(events) == 9
    assert isinstance(exc, ConnectionLost) and "connection ended" in str(exc)
    assert clients[0].unique_id == "creator" and clients[0].disconnected
    assert set(clients[0].listeners) >= {CommentEvent, GiftEvent, RoomUserSeqEvent, ConnectEvent}

    _, missing, _ = asyncio.run(
        collect(
            TikTokConnector("@nobody", client_factory=factory(UserNotFoundError("no such user")))
        )
    )
    assert isinstance(missing, ConnectorError) and "UserNotFoundError: no such user" in str(missing)
    _, offline, _ = asyncio.run(
        collect(TikTokConnector("@creator", client_factory=factory(UserOfflineError())))
    )
    assert isinstance(offline, ConnectionLost) and "UserOfflineError" in str(offline)


# --------------------------------------------------------------------------------------------
# liveops connect
# --------------------------------------------------------------------------------------------


class ThreadedIrc:
    """FakeIrc in a thread of its own (the CLI runs its own event loop in this thread)."""

    def __init__(self, *scripts: Script) -> None:
        self.scripts = scripts
        self.ready = threading.Event()
        self.port = 0
        self.server: FakeIrc | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._done: asyncio.Event | None = None
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._done = asyncio.Event()
        async with FakeIrc(*self.scripts) as server:
            self.server, self.port = server, server.port
            self.ready.set()
            await self._done.wait()

    def __enter__(self) -> ThreadedIrc:
        self.thread.start()
        assert self.ready.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._done is not None
        self._loop.call_soon_threadsafe(self._done.set)
        self.thread.join(5)


def connect_args(session: LiveSession, port: int) -> list[str]:
    return [
        "connect",
        "--session",
        str(session.pk),
        "--kind",
        "twitch",
        "--target",
        f"#{CHANNEL}",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-tls",
    ]


def test_cli_connect_runs_until_interrupted_and_prints_totals(
    transactional_db: None, capsys: pytest.CaptureFixture[str]
) -> None:
    session = SessionFactory(account__platform="twitch")

    async def chat_then_interrupt(conn: Conn) -> None:
        await conn.handshake()
        await conn.send(FIRST_LINES[0], FIRST_LINES[1])
        await conn.ping()
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C
        await hold_open(conn)

    with ThreadedIrc(chat_then_interrupt) as irc:
        code = main(connect_args(session, irc.port))
    out = capsys.readouterr()
    assert code == 0, out.err
    totals = orjson.loads(out.out.strip().splitlines()[-1])
    row = Connector.objects.get(session=session)
    assert totals["connector"] == row.pk
    assert (totals["state"], totals["received"], totals["accepted"]) == ("stopped", 2, 2)
    assert (row.kind, row.target, row.state, row.events_received) == (
        "twitch",
        CHANNEL,
        "stopped",
        2,
    )
    assert event_store().count(session.workspace_id, session.pk) == 2


def test_cli_connect_errors_are_one_line_with_exit_code_2(
    transactional_db: None, capsys: pytest.CaptureFixture[str]
) -> None:
    session = SessionFactory(account__platform="twitch")
    with ThreadedIrc(login_refused) as irc:
        code = main(connect_args(session, irc.port))
    out = capsys.readouterr()
    assert code == 2
    assert out.err.strip().splitlines()[-1] == (
        "liveops: error: twitch liveops_test: Twitch refused the login: Login authentication failed"
    )
    assert orjson.loads(out.out.strip())["state"] == "error"
    assert Connector.objects.get(session=session).state == "error"

    assert main(["connect", "--session", "999999", "--kind", "twitch", "--target", "x"]) == 2
    assert "--session: no live session with id 999999" in capsys.readouterr().err
    args = ["connect", "--session", str(session.pk), "--kind", "bilibili", "--target", "abc"]
    assert main(args) == 2
    assert "--target: “abc” is not a Bilibili live room id" in capsys.readouterr().err
    assert main([*args[:-1], "21452505", "--no-tls"]) == 2
    assert "for --kind twitch only" in capsys.readouterr().err
