"""Kill test: ``kill -9`` the ingest server mid-stream, again and again; nothing is lost or doubled.

A real ``liveops serve`` process (dev settings, SQLite, data folder in ``tmp_path``) takes
batches of 500–1000 events with deterministic, unique event ids from two client threads
(so group commits of two requests are in play). The test thread SIGKILLs the server at
seeded random moments — at least ``KILLS`` times, while requests are in flight — and
restarts it on the same port. The servers compact the session in the background every
``COMPACT_EVERY`` appends (a ``sitecustomize`` on their PYTHONPATH lowers the app's 50), so
kills also hit compactions and appends racing them. A client resends a batch until it
gets a 200 acknowledgement (the batch in flight at the kill included), and after a batch
that needed a retry is acknowledged it sends it once more, which must come back as all
duplicates.

At the end, counted with DuckDB over the store's active Parquet files:

* no event_id is stored twice;
* every acknowledged event_id is stored (acknowledged ⊆ stored);
* every batch ever sent was eventually acknowledged, and the store holds exactly the
  events of the sent batches (nothing missing, nothing foreign).

Each 200 answer is also checked: accepted + duplicate = sent, nothing rejected.

The test never touches the pytest-django database (no ``django_db`` mark, no ``db``
fixture): the server subprocesses use their own SQLite file through ``DATABASE_URL``, so it
runs the same when the suite runs on PostgreSQL. Subprocesses are fork+exec, so deltalake
in this process (to read the store at the end) is safe.
"""

from __future__ import annotations

import http.client
import random
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import orjson

from bench._server import Server, free_port, migrate, post_events, provision, throwaway_env
from liveops.events.store import EventStore

SEED = 20260601
KILLS = 6  # at least 5
CLIENTS = 2
TIME_BUDGET = 50.0  # seconds, whole test; the run takes ~15 s
T0_MS = 1_780_000_000_000
COMPACT_EVERY = 4  # appends per background compaction in the servers (the app's default: 50)
KINDS = ("comment", "comment", "like", "enter", "gift", "order", "follow")


def _batch(number: int) -> tuple[list[str], bytes]:
    """Batch ``number``: 500–1000 events with ids unique across batches; deterministic."""
    rng = random.Random(SEED * 1_000_003 + number)
    size = rng.randint(500, 1000)
    rows: list[dict[str, Any]] = []
    for i in range(size):
        kind = KINDS[(number + i) % len(KINDS)]
        row: dict[str, Any] = {
            "event_id": f"k{number:05d}-{i:04d}",
            "ts": T0_MS + number * 1000 + i,
            "kind": kind,
            "viewer_id": f"u{rng.randrange(50_000)}",
            "viewer_name": f"观众{i}",
        }
        if kind == "comment":
            row["text"] = f"第{number}批第{i}条 上链接"
        elif kind in ("like", "gift"):
            row["quantity"] = rng.randint(1, 5)
        elif kind == "order":
            row["amount"] = f"{rng.randint(1, 99_999) / 100:.2f}"
            row["currency"] = "CNY"
        rows.append(row)
    return [r["event_id"] for r in rows], orjson.dumps(rows)


class _Client(threading.Thread):
    """Sends batches ``start, start + step, …`` in order, each until acknowledged."""

    def __init__(self, start: int, step: int, port: int, session_id: int, key: str) -> None:
        super().__init__(daemon=True, name=f"client-{start}")
        self.next_batch = start
        self.step = step
        self.port = port
        self.session_id = session_id
        self.key = key
        self.stop = threading.Event()
        self.deadline = time.monotonic() + TIME_BUDGET
        self.sent: dict[int, list[str]] = {}  # every batch that was sent at least once
        self.acked: set[int] = set()
        self.failures = 0  # attempts without a 200 (connection dropped, refused, 503 ...)
        self.retried_with_duplicates = 0  # a retry found part of its batch already stored
        self.statuses: dict[int, int] = {}
        self.problems: list[str] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # surfaced by the test thread
            self.error = exc

    def _post(self, body: bytes) -> dict[str, Any] | None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            status, payload = post_events(conn, self.session_id, self.key, body)
        except (OSError, http.client.HTTPException):
            return None
        finally:
            conn.close()
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status != 200:
            return None
        answer: dict[str, Any] = orjson.loads(payload)
        return answer

    def _run(self) -> None:
        while not self.stop.is_set():
            number = self.next_batch
            ids, body = _batch(number)
            self.sent[number] = ids
            attempts = 0
            while True:
                if time.monotonic() > self.deadline:
                    raise TimeoutError(f"batch {number} not acknowledged within the time budget")
                attempts += 1
                answer = self._post(body)
                if answer is not None:
                    break
                self.failures += 1
                time.sleep(0.02)  # the server is down or restarting: try again shortly
            counts = answer["counts"]
            if counts["sent"] != len(ids) or counts["rejected"] != 0:
                self.problems.append(f"batch {number}: {counts}")
            if counts["accepted"] + counts["duplicate"] != counts["sent"]:
                self.problems.append(f"batch {number}: counts do not add up: {counts}")
            if attempts > 1 and counts["duplicate"]:
                self.retried_with_duplicates += 1
            self.acked.add(number)
            if attempts > 1:
                again = None
                while again is None and time.monotonic() < self.deadline:
                    again = self._post(body)
                    if again is None:
                        time.sleep(0.02)
                if again is None or again["counts"]["duplicate"] != len(ids):
                    self.problems.append(f"batch {number} resent after its 200: {again}")
            self.next_batch += self.step


def _tally_accepted(db_path: Path, session_id: int) -> int | None:
    con = sqlite3.connect(db_path)
    try:
        row = con.execute(
            "SELECT accepted FROM events_ingesttally WHERE session_id = ?", (session_id,)
        ).fetchone()
    except sqlite3.Error:
        return None
    finally:
        con.close()
    return None if row is None else int(row[0])


def _compact_often(tmp_path: Path) -> Path:
    """A sitecustomize for the servers: background compaction after every few appends
    (instead of 50), so kills also land in compactions and in appends racing them."""
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(
        f"import liveops.events.runtime as runtime\nruntime.COMPACT_EVERY = {COMPACT_EVERY}\n"
    )
    return folder


def test_kill_9_during_ingest_loses_and_doubles_nothing(tmp_path: Path) -> None:
    started = time.monotonic()
    env = throwaway_env(tmp_path)
    env["PYTHONPATH"] = f"{_compact_often(tmp_path)}:{env['PYTHONPATH']}"
    migrate(env)
    ids = provision(env)
    server = Server(env, port=free_port())
    clients = [
        _Client(start, CLIENTS, server.port, ids["session_id"], ids["api_key"])
        for start in range(CLIENTS)
    ]
    rng = random.Random(SEED)
    kills = 0
    try:
        server.start()
        for client in clients:
            client.start()
        while kills < KILLS:
            time.sleep(rng.uniform(0.2, 1.2))
            assert all(c.is_alive() for c in clients), [c.error for c in clients]
            server.kill9()
            kills += 1
            time.sleep(rng.uniform(0.0, 0.3))  # clients meet a dead port for a while
            server.start()
        time.sleep(0.5)  # traffic against the last incarnation
        for client in clients:
            client.stop.set()
        for client in clients:
            client.join(timeout=max(1.0, TIME_BUDGET - (time.monotonic() - started)))
    finally:
        for client in clients:
            client.stop.set()
        server.kill9()
        server.stop()

    for client in clients:
        assert client.error is None, f"{client.name}: {client.error!r}"
        assert not client.is_alive(), f"{client.name} did not finish"
        assert client.problems == [], client.problems
        assert set(client.statuses) <= {200, 503}, client.statuses
    assert kills >= 5
    assert sum(c.failures for c in clients) >= kills, "kills should interrupt requests"

    sent = {n: batch for c in clients for n, batch in c.sent.items()}
    acked = {n for c in clients for n in c.acked}
    assert acked == set(sent), "every batch sent is resent until acknowledged"
    acked_ids = {event_id for n in acked for event_id in sent[n]}
    sent_ids = {event_id for batch in sent.values() for event_id in batch}

    store = EventStore(tmp_path / "store")
    try:
        files = store.file_uris()
        with duckdb.connect() as con:
            rows = con.execute(
                "SELECT event_id, count(*) FROM read_parquet($files) GROUP BY event_id",
                {"files": files},
            ).fetchall()
    finally:
        store.close()
    per_id = dict(rows)
    doubled = {event_id: n for event_id, n in per_id.items() if n != 1}
    assert doubled == {}, f"{len(doubled)} event ids stored more than once"
    missing = acked_ids - per_id.keys()
    assert not missing, f"{len(missing)} acknowledged events are not in the store"
    assert per_id.keys() == sent_ids, "the store holds exactly the events that were sent"

    compactions = sum(
        b'"operation":"OPTIMIZE"' in path.read_bytes()
        for path in (tmp_path / "store" / "events" / "_delta_log").glob("*.json")
    )
    elapsed = time.monotonic() - started
    assert elapsed < 60, f"the kill test took {elapsed:.1f}s"
    tally = _tally_accepted(tmp_path / "db.sqlite3", ids["session_id"])
    print(
        f"\nkill test: {kills} kills, {len(acked)} batches, {len(sent_ids)} events stored once, "
        f"{sum(c.failures for c in clients)} failed attempts, "
        f"{sum(c.retried_with_duplicates for c in clients)} retries found their batch "
        f"(partly) stored already, {compactions} compactions, tally.accepted={tally}, "
        f"restart {server.last_start_seconds:.2f}s, {elapsed:.1f}s"
    )
