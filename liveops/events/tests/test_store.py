"""The event store: idempotent appends across batches, threads, processes and crashes."""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake

from liveops.events.schema import ARROW_SCHEMA, NormalizedEvent, to_arrow, validate
from liveops.events.store import EventStore

T0 = 1_748_779_200_000  # 2025-06-01T12:00:00Z in ms
KINDS = ("enter", "comment", "like", "gift", "order")


def make_table(
    n: int,
    *,
    workspace_id: int = 1,
    session_id: int = 10,
    prefix: str = "e",
    start: int = 0,
    viewers: int = 10,
) -> pa.Table:
    events = []
    for i in range(start, start + n):
        kind = KINDS[i % len(KINDS)]
        row: dict[str, Any] = {
            "event_id": f"{prefix}{i}",
            "kind": kind,
            "ts": T0 + i * 100,
            "viewer_id": f"v{i % viewers}",
            "text": "hello" if kind == "comment" else None,
            "quantity": 2 if kind in ("like", "gift") else None,
            "amount": "9.90" if kind == "order" else None,
        }
        events.append(valid(row, workspace_id=workspace_id, session_id=session_id))
    return to_arrow(events)


def valid(row: dict[str, Any], *, workspace_id: int, session_id: int) -> NormalizedEvent:
    event = validate(row, workspace_id=workspace_id, session_id=session_id)
    assert isinstance(event, NormalizedEvent), event
    return event


@pytest.fixture
def store(tmp_path: Path) -> EventStore:
    return EventStore(tmp_path / "data")


def stored_ids(store: EventStore, workspace_id: int | None = None) -> list[str]:
    con = duckdb.connect()
    try:
        relation = store.duckdb_relation(con, workspace_id)
        return sorted(str(row[0]) for row in relation.project("event_id").fetchall())
    finally:
        con.close()


# -- duplicates -------------------------------------------------------------------------------


def test_duplicates_within_one_batch_are_stored_once(store: EventStore) -> None:
    table = make_table(5)
    batch = pa.concat_tables([table, table.slice(1, 2), table])
    result = store.append(batch)
    assert result.accepted_ids == ["e0", "e1", "e2", "e3", "e4"]
    assert result.duplicate_ids == ["e1", "e2", "e0", "e1", "e2", "e3", "e4"]
    assert result.version == 1
    assert stored_ids(store) == ["e0", "e1", "e2", "e3", "e4"]


def test_duplicates_across_batches_are_stored_once(store: EventStore) -> None:
    first = store.append(make_table(100))
    again = store.append(make_table(100))
    overlap = store.append(make_table(100, start=50))
    assert len(first.accepted_ids) == 100
    assert again.accepted_ids == [] and len(again.duplicate_ids) == 100 and again.version is None
    assert len(overlap.accepted_ids) == 50 and len(overlap.duplicate_ids) == 50
    assert store.count() == 150 and len(set(stored_ids(store))) == 150
    assert store.version() == 2  # create + 2 commits; the all-duplicate batch wrote nothing


def test_the_same_event_id_in_another_workspace_is_another_event(store: EventStore) -> None:
    store.append(make_table(10, workspace_id=1))
    result = store.append(make_table(10, workspace_id=2))
    assert len(result.accepted_ids) == 10
    assert store.count(1) == store.count(2) == 10


def test_append_many_is_one_commit(store: EventStore) -> None:
    tables = [make_table(100, session_id=s, prefix=f"s{s}-") for s in range(5)]
    result = store.append_many([*tables, tables[0]])
    assert len(result.accepted_ids) == 500 and len(result.duplicate_ids) == 100
    assert store.version() == 1
    assert store.count() == 500


def test_concurrent_threads_share_group_commits(store: EventStore) -> None:
    results: dict[int, Any] = {}

    def worker(k: int) -> None:
        # every thread sends its own 50 events plus 50 events every thread sends
        own = make_table(50, prefix=f"t{k}-")
        shared = make_table(50, prefix="shared-")
        results[k] = store.append(pa.concat_tables([own, shared]))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.count() == 8 * 50 + 50
    accepted = [i for r in results.values() for i in r.accepted_ids]
    assert len(accepted) == len(set(accepted)) == 450
    assert sum(len(r.duplicate_ids) for r in results.values()) == 7 * 50
    assert store.version() <= 8  # threads that queued up were committed together


def test_append_refuses_tables_that_do_not_match_the_schema(store: EventStore) -> None:
    table = make_table(3)
    with pytest.raises(ValueError, match="lacks columns"):
        store.append(table.drop_columns(["raw"]))
    nulls = table.set_column(0, "event_id", pa.array([None, "a", "b"], pa.string()))
    with pytest.raises(ValueError, match="event_id has nulls"):
        store.append(nulls)
    naive = table.set_column(3, "ts", pa.array([T0] * 3, pa.timestamp("ms")))
    with pytest.raises(ValueError, match="UTC"):
        store.append(naive)
    assert store.version() == -1  # nothing written, not even the table
    # ms timestamps and a different column order are fine: they are cast
    shuffled = table.select(list(reversed(table.column_names)))
    shuffled = shuffled.set_column(
        shuffled.schema.get_field_index("ts"),
        "ts",
        table["ts"].cast(pa.timestamp("ms", tz="UTC")),
    )
    assert len(store.append(shuffled).accepted_ids) == 3


# -- processes and crashes --------------------------------------------------------------------


def _append_in_process(root: str, table: pa.Table, barrier: Any, results: Any) -> None:
    store = EventStore(root)
    barrier.wait()
    result = store.append(table)
    results.put((len(result.accepted_ids), len(result.duplicate_ids)))


def _append_then_crash(root: str, table: pa.Table) -> None:
    store = EventStore(root)

    def crash(version: int) -> None:
        os._exit(17)  # the Delta commit is done, the index update never happens

    store.after_delta_commit = crash
    store.append(table)


def test_same_batch_ten_times_from_eight_processes_is_stored_once(tmp_path: Path) -> None:
    root = str(tmp_path / "data")
    table = make_table(1_000, session_id=3)
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(8)
    results = ctx.Queue()
    processes = [
        ctx.Process(target=_append_in_process, args=(root, table, barrier, results))
        for _ in range(8)
    ]
    for process in processes:
        process.start()
    # the 8 processes race for the very first append (which also creates the table)
    counts = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    parent = EventStore(root)
    counts += [(len(r.accepted_ids), len(r.duplicate_ids)) for r in (parent.append(table),)]
    counts += [(len(r.accepted_ids), len(r.duplicate_ids)) for r in (parent.append(table),)]
    assert sorted(counts) == [(0, 1000)] * 9 + [(1000, 0)]
    assert parent.count() == 1000 and len(set(stored_ids(parent))) == 1000
    assert parent.version() == 1  # table creation + exactly one data commit


def test_crash_between_delta_commit_and_index_update(tmp_path: Path) -> None:
    root = str(tmp_path / "data")
    table = make_table(200)
    crashed = mp.get_context("spawn").Process(target=_append_then_crash, args=(root, table))
    crashed.start()
    crashed.join(timeout=120)
    assert crashed.exitcode == 17
    store = EventStore(root)
    assert store.count() == 200  # committed, but the index never heard of it
    retry = store.append(table)  # the client did not get an ack, so it sends again
    assert retry.accepted_ids == [] and len(retry.duplicate_ids) == 200
    more = store.append(make_table(300))
    assert len(more.accepted_ids) == 100
    assert store.count() == 300 and len(set(stored_ids(store))) == 300


def test_crash_hook_in_process_leaves_index_behind_then_repairs(store: EventStore) -> None:
    class Crash(Exception):
        pass

    def crash(version: int) -> None:
        raise Crash

    store.after_delta_commit = crash
    with pytest.raises(Crash):
        store.append(make_table(10))
    store.after_delta_commit = None
    assert store.append(make_table(10)).accepted_ids == []
    assert store.count() == 10


def test_rows_written_to_delta_by_another_tool_are_indexed(store: EventStore) -> None:
    store.append(make_table(10))
    write_deltalake(str(store.table_path), make_table(10, start=10), mode="append")
    result = store.append(make_table(30))
    assert len(result.accepted_ids) == 10 and len(result.duplicate_ids) == 20
    assert store.count() == 30


def test_a_lost_index_is_rebuilt_from_the_table(store: EventStore) -> None:
    store.append(make_table(50))
    store.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store.index_path}{suffix}").unlink(missing_ok=True)
    fresh = EventStore(store.root)
    assert fresh.append(make_table(60)).accepted_ids == [f"e{i}" for i in range(50, 60)]
    assert fresh.count() == 60


def test_store_used_in_a_forked_child_raises_a_clear_error(store: EventStore) -> None:
    store.append(make_table(1))
    pid = os.fork()
    if pid == 0:  # child: must refuse before touching deltalake's runtime
        try:
            store.version()
        except RuntimeError as exc:
            os._exit(3 if "fork" in str(exc) else 4)
        except BaseException:
            os._exit(5)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 3


# -- maintenance --------------------------------------------------------------------------------


def test_compaction_keeps_rows_and_reduces_files(store: EventStore) -> None:
    for b in range(6):
        store.append_many(
            [make_table(100, session_id=s, start=b * 100, prefix=f"s{s}-") for s in (1, 2)]
        )
    before = store.count_by_kind(1)
    files_before = len(store.file_uris())
    assert files_before == 12
    readers_view = store.file_uris(1, 1)

    only_session_1 = store.compact(1, 1)
    assert (only_session_1.files_before, only_session_1.files_after) == (6, 1)
    assert len(store.file_uris(1, 2)) == 6
    assert all(Path(f).exists() for f in readers_view)  # within the vacuum horizon

    everything = store.compact(retention_hours=0)
    assert everything.files_after == 2 and everything.files_vacuumed == 12
    assert store.count_by_kind(1) == before and store.count() == 1200
    assert len(set(stored_ids(store))) == 1200
    # dedup still holds after compaction (the catch-up skips OPTIMIZE/VACUUM commits)
    again = store.append(make_table(100, session_id=1, prefix="s1-"))
    assert again.accepted_ids == [] and store.count() == 1200
    assert store.compact().files_vacuumed == 0


def _compact_until(root: str, stop: Any, rounds: Any) -> None:
    store = EventStore(root)
    while not stop.is_set():
        store.compact()
        rounds.value += 1


def test_compaction_in_another_process_during_appends_loses_nothing(tmp_path: Path) -> None:
    root = str(tmp_path / "data")
    store = EventStore(root)
    store.append(make_table(10, prefix="seed-"))
    ctx = mp.get_context("spawn")
    stop, rounds = ctx.Event(), ctx.Value("i", 0)
    compactor = ctx.Process(target=_compact_until, args=(root, stop, rounds))
    compactor.start()
    try:
        for b in range(40):
            while b == 20 and rounds.value == 0:  # make sure compactions overlap appends
                threading.Event().wait(0.01)
            store.append(make_table(100, session_id=10 + b % 2, start=b * 100))
    finally:
        stop.set()
        compactor.join(timeout=60)
    assert compactor.exitcode == 0 and rounds.value > 0
    assert store.count() == 4010 and len(set(stored_ids(store))) == 4010
    assert store.append(make_table(4000)).accepted_ids == []


def test_erase_viewer_removes_only_that_viewer_in_that_workspace(store: EventStore) -> None:
    quote = "o'brien\\x"
    rows = [
        {"event_id": f"q{i}", "kind": "comment", "ts": T0 + i, "viewer_id": quote, "text": "x"}
        for i in range(3)
    ]
    table = to_arrow([valid(r, workspace_id=1, session_id=10) for r in rows])
    store.append_many(
        [make_table(100, session_id=10), make_table(100, session_id=11, prefix="f"), table]
    )
    store.append(make_table(100, workspace_id=2, session_id=20))
    assert store.erase_viewer(1, "v3") == 20  # 10 in each session of workspace 1
    assert store.erase_viewer(1, quote) == 3
    assert store.erase_viewer(1, "nobody") == 0
    assert store.count(1) == 180 and store.count(2) == 100
    con = duckdb.connect()
    viewers = store.duckdb_relation(con, 1).filter("viewer_id IN ('v3', 'o''brien\\x')")
    assert viewers.aggregate("count(*)").fetchall() == [(0,)]
    other = store.duckdb_relation(con, 2).filter("viewer_id = 'v3'")
    assert other.aggregate("count(*)").fetchall() == [(10,)]
    # a redelivered erased event does not bring the viewer back
    assert store.append(make_table(100, session_id=10)).accepted_ids == []
    assert store.count(1) == 180


def test_erase_in_an_empty_store_is_zero(store: EventStore) -> None:
    assert store.erase_viewer(1, "v1") == 0
    assert store.compact().files_before == 0


# -- reading ------------------------------------------------------------------------------------


def test_file_uris_are_readable_by_duckdb_read_parquet(store: EventStore) -> None:
    assert store.file_uris() == [] and store.count_by_kind(1) == {}
    store.append_many(
        [
            make_table(100, session_id=10),
            make_table(50, session_id=11, prefix="f"),
            make_table(30, workspace_id=2, session_id=20),
        ]
    )
    assert len(store.file_uris()) == 3
    assert len(store.file_uris(1)) == 2 and len(store.file_uris(1, 11)) == 1
    con = duckdb.connect()
    n = con.execute("SELECT count(*) FROM read_parquet($f)", {"f": store.file_uris(1)}).fetchall()
    assert n == [(150,)]
    assert store.count_by_kind(1, 10) == {k: 20 for k in KINDS}
    assert store.count_by_kind(2) == {k: 6 for k in KINDS}
    relation = store.duckdb_relation(con, 1, 11)
    assert relation.columns == list(ARROW_SCHEMA.names)
    assert relation.aggregate("min(session_id), max(session_id), count(*)").fetchall() == [
        (11, 11, 50)
    ]
    gmv = con.execute(
        "SELECT sum(amount) FROM read_parquet($f) WHERE kind = 'order'",
        {"f": store.file_uris(1, 10)},
    ).fetchall()
    assert str(gmv[0][0]) == "198.0000"  # 20 orders × 9.90, exact
    delta_count = DeltaTable(str(store.table_path)).to_pyarrow_table().num_rows
    assert delta_count == store.count() == 180
    with pytest.raises(ValueError, match="session_id needs workspace_id"):
        store.file_uris(None, 3)


# -- what changed since a snapshot ------------------------------------------------------------


def _ids_in(files: list[str]) -> list[str]:
    if not files:
        return []
    con = duckdb.connect()
    try:
        rows = con.execute("SELECT event_id FROM read_parquet($f)", {"f": files}).fetchall()
        return sorted(str(r[0]) for r in rows)
    finally:
        con.close()


def test_added_since_lists_new_data_of_the_session_only(store: EventStore) -> None:
    assert store.session_snapshot(1, 10) == (-1, [])
    store.append(make_table(5))
    version, files = store.session_snapshot(1, 10)
    assert sorted(files) == sorted(store.file_uris(1, 10))
    assert store.session_added_since(1, 10, version) == (version, [], files)
    store.append(make_table(3, prefix="b"))
    store.append(make_table(4, prefix="other", session_id=11))  # another session
    store.append(make_table(2, prefix="x", workspace_id=2))  # another workspace
    store.append(make_table(5))  # all duplicates: no commit
    changes = store.session_added_since(1, 10, version)
    assert changes is not None
    now, added, active = changes
    assert now == store.version() == version + 3
    assert sorted(active) == sorted(store.file_uris(1, 10))
    assert _ids_in(added) == ["b0", "b1", "b2"]
    # the snapshot's files plus the added ones hold the session exactly once
    assert sorted(_ids_in(files + added)) == sorted(
        i for i in stored_ids(store, 1) if not i.startswith("other")
    )


def test_added_since_ignores_compaction_and_refuses_erasure(store: EventStore) -> None:
    store.append(make_table(5))
    version, files = store.session_snapshot(1, 10)
    for n in range(3):
        store.append(make_table(2, prefix=f"n{n}-"))
    store.compact(1, 10, vacuum=False)  # rewrites the files: not new data
    changes = store.session_added_since(1, 10, version)
    assert changes is not None
    assert _ids_in(changes[1]) == sorted(f"n{n}-{i}" for n in range(3) for i in range(2))
    # the compacted table holds the same events as the snapshot plus the added files
    assert _ids_in(files + changes[1]) == stored_ids(store)
    later = changes[0]
    store.erase_viewer(1, "v1")
    assert store.session_added_since(1, 10, later) is None
    assert store.session_added_since(1, 10, store.version() + 5) is None


def test_added_since_is_none_once_added_files_are_vacuumed(store: EventStore) -> None:
    store.append(make_table(5))
    version, _ = store.session_snapshot(1, 10)
    store.append(make_table(2, prefix="late"))
    store.append(make_table(2, prefix="later"))
    store.compact(1, 10, retention_hours=0)  # the appended files leave the disk
    assert store.session_added_since(1, 10, version) is None


def test_compacted_files_have_small_row_groups_in_time_order(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import liveops.events.store as store_module

    monkeypatch.setattr(store_module, "ROW_GROUP_ROWS", 300)
    for b in range(5):
        store.append(make_table(400, start=b * 400))
    store.compact(1, 10)
    (file,) = store.file_uris(1, 10)
    meta = pq.ParquetFile(file).metadata
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert sum(sizes) == 2000 and max(sizes) <= 300 and len(sizes) >= 7
    # a row group covers a short stretch of the live, so a reader of one stretch skips most
    ts = meta.schema.to_arrow_schema().get_field_index("ts")
    spans = []
    for i in range(meta.num_row_groups):
        stats = meta.row_group(i).column(ts).statistics
        spans.append((stats.max - stats.min).total_seconds())
    whole = (2000 - 1) * 0.1  # make_table: an event every 100 ms
    assert sorted(spans)[len(spans) // 2] <= whole / 3
