"""Benchmark of the event store (liveops.events.store): append, dedup, compaction, scans.

    .venv/bin/python bench/bench_store.py                  # the figures in bench/README.md
    .venv/bin/python bench/bench_store.py --events 200000  # a quicker run

Phases, each on a fresh store in a temporary directory (or --root):

1. validate + to_arrow of raw rows (the CPU cost before the store);
2. live ingestion: 1 000-event appends into one session (one commit each);
3. group commits: 20 000-event appends spread over --sessions sessions, up to --events
   events in total (this builds the table the later phases read);
4. a redelivered 20 000-event batch (all duplicates: index lookup only, no commit);
5. DuckDB full scan over all events (read_parquet over file_uris), before compaction;
6. one session via its partition vs. the same filter over the whole table;
7. compaction (optimize + vacuum) and the full scan again;
8. --processes concurrent appender processes (spawn), 1 000-event batches.

No figure here is asserted anywhere; tests never time things.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from liveops.events.schema import ARROW_SCHEMA, NormalizedEvent, to_arrow, validate
from liveops.events.store import EventStore

T0_MS = 1_748_779_200_000
KINDS = ("enter", "comment", "comment", "like", "like", "like", "gift", "order", "leave")
WORDS = ("主播好", "这个多少钱", "上链接", "hello", "666", "求讲解", "已拍", "好看")


def make_table(
    n: int, *, start: int, workspace_id: int, sessions: Sequence[int], prefix: str = "e"
) -> pa.Table:
    """n synthetic events (row i in session sessions[i % len]) built column by column."""
    idx = range(start, start + n)
    kinds = [KINDS[i % len(KINDS)] for i in idx]
    viewer = [f"u{(i * 7919) % 50_000}" for i in idx]
    texts = [
        WORDS[i % len(WORDS)] if k == "comment" else None for i, k in zip(idx, kinds, strict=True)
    ]
    qty = [3 if k in ("like", "gift") else None for k in kinds]
    amounts = [
        Decimal(f"{(i % 500) + 0.9:.2f}") if k == "order" else None
        for i, k in zip(idx, kinds, strict=True)
    ]
    ts = [T0_MS + i * 10 for i in idx]
    raw = [
        f'{{"id":"{prefix}{i}","type":"{k}","uid":"{v}","t":{t},"content":"{x or ""}"}}'
        for i, k, v, t, x in zip(idx, kinds, viewer, ts, texts, strict=True)
    ]
    ts_array = pa.array(ts, pa.int64()).cast(pa.timestamp("ms", tz="UTC"))
    columns = {
        "event_id": pa.array([f"{prefix}{i}" for i in idx], pa.string()),
        "workspace_id": pa.array([workspace_id] * n, pa.int64()),
        "session_id": pa.array([sessions[i % len(sessions)] for i in idx], pa.int64()),
        "ts": ts_array,
        "kind": pa.array(kinds, pa.string()),
        "viewer_id": pa.array(viewer, pa.string()),
        "viewer_name": pa.array([f"观众{v[1:]}" for v in viewer], pa.string()),
        "text": pa.array(texts, pa.string()),
        "quantity": pa.array(qty, pa.int64()),
        "amount": pa.array(amounts, pa.decimal128(18, 4)),
        "currency": pa.array(["CNY" if a is not None else None for a in amounts], pa.string()),
        "product_id": pa.array(
            [f"sku{i % 40}" if k == "order" else None for i, k in zip(idx, kinds, strict=True)]
        ),
        "source": pa.array([None] * n, pa.string()),
        "platform": pa.array(["douyin"] * n, pa.string()),
        "raw": pa.array(raw, pa.string()),
        "ingested_at": ts_array,
    }
    return pa.table(columns).cast(ARROW_SCHEMA)


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def report(name: str, value: str) -> None:
    print(f"| {name} | {value} |", flush=True)


def latency_line(latencies: Sequence[float], events: int, wall: float) -> str:
    return (
        f"{events / wall:,.0f} events/s; commit p50 {pct(latencies, 0.5) * 1000:.1f} ms, "
        f"p99 {pct(latencies, 0.99) * 1000:.1f} ms ({len(latencies)} commits)"
    )


def scan(store: EventStore) -> tuple[float, list[tuple[Any, ...]]]:
    con = duckdb.connect()
    files = store.file_uris()

    def run() -> list[tuple[Any, ...]]:
        return con.execute(
            "SELECT count(*), count(DISTINCT viewer_id), sum(amount), sum(quantity), "
            "count(*) FILTER (WHERE kind = 'comment') FROM read_parquet($f)",
            {"f": files},
        ).fetchall()

    run()  # warm the OS cache and DuckDB; then take the best of 3
    best = min(timed(run)[0] for _ in range(3))
    result = run()
    con.close()
    return best, result


def _appender(root: str, worker: int, batches: int, size: int, barrier: Any, out: Any) -> None:
    store = EventStore(root)
    tables = [
        make_table(
            size, start=b * size, workspace_id=1, sessions=[900 + worker], prefix=f"p{worker}-"
        )
        for b in range(batches)
    ]
    store.version()
    barrier.wait()
    started = time.time()
    latencies = [timed(lambda t=table: store.append(t))[0] for table in tables]
    out.put((started, time.time(), latencies))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the big table")
    parser.add_argument("--group", type=int, default=20_000, help="events per group commit")
    parser.add_argument("--small", type=int, default=1_000, help="events per small append")
    parser.add_argument("--small-commits", type=int, default=200)
    parser.add_argument("--compact-every", type=int, default=50)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--root", type=Path, default=None, help="keep the data here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="liveops-bench-") as tmp:
        base = args.root or Path(tmp)
        print(f"Python {sys.version.split()[0]}, root {base}\n")
        print("| measurement | result |\n| --- | --- |")

        # 1. validate + to_arrow
        rows = [
            {
                "event_id": f"r{i}",
                "kind": KINDS[i % len(KINDS)] if KINDS[i % len(KINDS)] != "order" else "like",
                "ts": T0_MS + i,
                "viewer_id": f"u{i % 5000}",
                "text": "上链接",
            }
            for i in range(20_000)
        ]
        t_validate, events = timed(
            lambda: [validate(r, workspace_id=1, session_id=1) for r in rows]
        )
        good = [e for e in events if isinstance(e, NormalizedEvent)]
        t_arrow, _ = timed(lambda: to_arrow(good))
        report("validate (20 000 rows)", f"{len(rows) / t_validate:,.0f} rows/s")
        report("to_arrow (20 000 events)", f"{len(good) / t_arrow:,.0f} events/s")

        # 2. live ingestion, 1 000-event commits into one session; then the same with the
        #    session compacted every --compact-every commits (commit cost grows with the
        #    number of active files, compaction brings it back)
        for every in (0, args.compact_every):
            small = EventStore(base / f"small-{every}")
            tables = [
                make_table(args.small, start=b * args.small, workspace_id=1, sessions=[1])
                for b in range(args.small_commits)
            ]
            small.append(make_table(1, start=10**9, workspace_id=1, sessions=[1]))  # create
            latencies: list[float] = []
            compactions: list[float] = []
            for b, table in enumerate(tables, 1):
                latencies.append(timed(lambda t=table, st=small: st.append(t))[0])
                if every and b % every == 0:
                    compactions.append(timed(lambda st=small: st.compact(1, 1))[0])
            wall = sum(latencies) + sum(compactions)
            k = min(20, len(latencies))
            label = f"append, {args.small:,}-event commits, one session"
            if every:
                label += f", compact every {every} commits"
            extra = (
                f"; compaction {statistics.median(compactions) * 1000:.0f} ms each (included)"
                if compactions
                else ""
            )
            report(
                label,
                latency_line(latencies, args.small * args.small_commits, wall)
                + f"; first {k} p50 {pct(latencies[:k], 0.5) * 1000:.1f} ms, "
                f"last {k} p50 {pct(latencies[-k:], 0.5) * 1000:.1f} ms" + extra,
            )

        # 3. group commits building the big table
        big = EventStore(base / "big")
        sessions = list(range(100, 100 + args.sessions))
        n_groups = max(1, args.events // args.group)
        big.append(make_table(1, start=10**9, workspace_id=1, sessions=[sessions[0]]))
        latencies = []
        wall = 0.0
        for g in range(n_groups):
            table = make_table(args.group, start=g * args.group, workspace_id=1, sessions=sessions)
            took, _ = timed(lambda t=table: big.append(t))
            latencies.append(took)
            wall += took
        total = n_groups * args.group
        report(
            f"append, {args.group:,}-event group commits over {args.sessions} sessions",
            latency_line(latencies, total, wall),
        )

        # 4. redelivery: all duplicates
        again = make_table(args.group, start=0, workspace_id=1, sessions=sessions)
        took, result = timed(lambda: big.append(again))
        assert not result.accepted_ids
        report(
            f"redelivered {args.group:,}-event batch (all duplicates)",
            f"{took * 1000:.0f} ms ({args.group / took:,.0f} events/s), no commit",
        )

        # 5. full scan before compaction
        files_before = len(big.file_uris())
        took, result = scan(big)
        report(
            f"DuckDB full scan, {result[0][0]:,} events in {files_before} files",
            f"{took * 1000:.0f} ms",
        )

        # 6. one session: its partition's files vs. the same filter over every file
        con = duckdb.connect()
        sid = sessions[len(sessions) // 2]
        query = (
            "SELECT kind, count(*) FROM read_parquet($f, hive_partitioning = true) "
            "WHERE session_id = $s GROUP BY kind"
        )

        def pruned() -> Any:
            return con.execute(query, {"f": big.file_uris(1, sid), "s": sid}).fetchall()

        def unpruned() -> Any:
            return con.execute(query, {"f": big.file_uris(), "s": sid}).fetchall()

        assert sorted(pruned()) == sorted(unpruned())
        t_pruned = min(timed(pruned)[0] for _ in range(5))
        t_whole = min(timed(unpruned)[0] for _ in range(5))
        t_conv = min(timed(lambda: big.count_by_kind(1, sid))[0] for _ in range(5))
        report(
            "one session by kind: its partition / filter over all files / count_by_kind()",
            f"{t_pruned * 1000:.0f} ms / {t_whole * 1000:.0f} ms / {t_conv * 1000:.0f} ms "
            "(file listing included)",
        )

        # 7. compaction
        took, compacted = timed(lambda: big.compact(retention_hours=0))
        report(
            "compact (optimize + vacuum) of the big table",
            f"{took:.1f} s: {compacted.files_before} → {compacted.files_after} files, "
            f"{compacted.files_vacuumed} deleted",
        )
        took, result = scan(big)
        report(
            f"DuckDB full scan after compaction ({compacted.files_after} files)",
            f"{took * 1000:.0f} ms",
        )
        size = sum(Path(f).stat().st_size for f in big.file_uris())
        report(
            "table size on disk after compaction",
            f"{size / 2**20:.0f} MiB ({size / result[0][0]:.0f} B/event)",
        )

        # 8. concurrent processes, 1 000-event commits
        if args.processes:
            root = str(base / "procs")
            EventStore(root).append(make_table(1, start=10**9, workspace_id=1, sessions=[1]))
            ctx = mp.get_context("spawn")
            out = ctx.Queue()
            barrier = ctx.Barrier(args.processes)
            per = max(1, args.small_commits // args.processes)
            procs = [
                ctx.Process(target=_appender, args=(root, w, per, args.small, barrier, out))
                for w in range(args.processes)
            ]
            for p in procs:
                p.start()
            outcomes = [out.get() for _ in procs]
            for p in procs:
                p.join()
            all_latencies = [x for _, _, lat in outcomes for x in lat]
            events_total = per * args.small * args.processes
            busy = max(end for _, end, _ in outcomes) - min(start for start, _, _ in outcomes)
            assert EventStore(root).count() == events_total + 1
            report(
                f"{args.processes} processes appending {args.small:,}-event batches",
                f"{events_total / busy:,.0f} events/s together; "
                f"commit p50 {statistics.median(all_latencies) * 1000:.1f} ms, "
                f"p99 {pct(all_latencies, 0.99) * 1000:.1f} ms (lock wait included)",
            )


if __name__ == "__main__":
    main()
