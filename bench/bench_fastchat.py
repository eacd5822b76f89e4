"""Columnar chat-downloader fast path (liveops.events.fastchat) on a 1 M-message file.

The file is bench/bench_import.py's ``chat.json`` (chat-downloader's current schema,
YouTube: 96 % text messages, 2 % paid, 1 % memberships, 1 % tickers; one compact object per
line), or the same messages as the chat-downloader CLI writes them (``--layout cli``:
``json.dumps(indent=4, sort_keys=True)`` items, ASCII escapes, ``", "`` separators).

Measures, without Django (timings printed, never asserted):

* parse + validate: ``fast_chat_blocks`` → Arrow tables in ``schema.ARROW_SCHEMA`` plus the
  row importer's items for the records the columns do not settle;
* end to end with ``EventStore.append`` per block, in a temporary folder: blocks consumed
  one after the other, then with parsing and storing overlapped (a thread produces the blocks
  one ahead, as ``events.bulk`` does for ``import_file``);
* peak resident memory of the process while parsing (sampled from /proc every 50 ms).

    .venv/bin/python bench/bench_fastchat.py                        # 1 000 000 messages
    .venv/bin/python bench/bench_fastchat.py --messages 200000 --layout cli
    .venv/bin/python bench/bench_fastchat.py --skip-store           # parse + validate only
"""

from __future__ import annotations

import argparse
import json
import queue
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_import import write_chat_json
from liveops.events.fastchat import fast_chat_blocks
from liveops.events.store import EventStore


def write_cli_layout(source: Path, path: Path) -> None:
    """The messages of ``source`` as ``chat_downloader --output x.json`` writes them."""
    import orjson

    with source.open("rb") as src, path.open("w", encoding="ascii") as out:
        out.write("[")
        first = True
        for line in src:
            line = line.strip().rstrip(b",")
            if line in (b"[", b"]", b""):
                continue
            item = json.dumps(orjson.loads(line), indent=4, sort_keys=True)
            out.write(("" if first else ", ") + "\n" + "\n".join("    " + t for t in
                                                                 item.splitlines()))  # fmt: skip
            first = False
        out.write("\n]")


class PeakRss:
    """Peak VmRSS of this process, sampled in a thread."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            with open("/proc/self/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        self.peak = max(self.peak, int(line.split()[1]) * 1024)
            self._stop.wait(0.05)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


def blocks_of(path: Path, block_rows: int | None) -> Any:
    blocks = fast_chat_blocks(
        path,
        workspace_id=1,
        session_id=1,
        platform="youtube",
        options={},
        block_rows=block_rows,
    )
    assert blocks is not None, "the fast path did not take the file"
    return blocks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--layout", choices=["perline", "cli"], default="perline")
    parser.add_argument("--block-rows", type=int, default=None, help="default: ≈ 24 MiB blocks")
    parser.add_argument("--runs", type=int, default=2, help="parse + validate runs")
    parser.add_argument("--skip-store", action="store_true")
    parser.add_argument("--tmp", default=None, help="parent of the temporary folder")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        help="before each measurement wait until other processes use less than this many cores",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="liveops-bench-fastchat-", dir=args.tmp) as tmp:
        base = Path(tmp)
        path = base / "chat.json"
        t0 = time.perf_counter()
        write_chat_json(path, args.messages)
        if args.layout == "cli":
            compact = path
            path = base / "chat-cli.json"
            write_cli_layout(compact, path)
            compact.unlink()
        size = path.stat().st_size
        print(
            f"file: {args.messages:,} messages, layout {args.layout}, {size / 2**20:,.0f} MiB "
            f"({size / args.messages:.0f} B/message), written in {time.perf_counter() - t0:.1f} s"
        )

        def quiet(what: str) -> None:
            if args.wait_quiet:
                from bench.bench_ingest import wait_quiet

                busy = wait_quiet(args.wait_quiet, 600.0)
                print(f"  (other processes before {what}: {busy:.2f} cores)", flush=True)

        for run in range(1, args.runs + 1):
            quiet(f"run {run}")
            with PeakRss() as rss:
                t = time.perf_counter()
                c = time.process_time()
                records = fast = items = 0
                for block in blocks_of(path, args.block_rows):
                    records += block.records
                    fast += block.table.num_rows
                    items += len(block.items)
                wall, cpu = time.perf_counter() - t, time.process_time() - c
            print(
                f"parse + validate, run {run}: {wall:.2f} s wall, {cpu:.2f} s CPU -> "
                f"{records / wall:,.0f} records/s ({records:,} records: {fast:,} in tables, "
                f"{items:,} items); peak RSS {rss.peak / 2**20:,.0f} MiB"
            )
        if args.skip_store:
            return

        quiet("the store run")
        store = EventStore(base / "store")
        t = time.perf_counter()
        c = time.process_time()
        stored = 0
        append_s = 0.0
        for block in blocks_of(path, args.block_rows):
            a = time.perf_counter()
            stored += len(store.append(block.table).accepted_ids)
            append_s += time.perf_counter() - a
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        print(
            f"end to end with EventStore.append per block: {wall:.2f} s wall, {cpu:.2f} s CPU "
            f"-> {args.messages / wall:,.0f} records/s (stored {stored:,}; time inside append "
            f"{append_s:.2f} s)"
        )

        store2 = EventStore(base / "store2")
        handoff: queue.Queue[Any] = queue.Queue(maxsize=1)

        def produce() -> None:
            for block in blocks_of(path, args.block_rows):
                handoff.put(block)
            handoff.put(None)

        quiet("the overlapped run")
        t = time.perf_counter()
        threading.Thread(target=produce, daemon=True).start()
        stored = 0
        append_s = 0.0
        while (block := handoff.get()) is not None:
            a = time.perf_counter()
            stored += len(store2.append(block.table).accepted_ids)
            append_s += time.perf_counter() - a
        wall = time.perf_counter() - t
        print(
            f"end to end, parsing and storing overlapped (as events.bulk reads ahead): "
            f"{wall:.2f} s wall -> {args.messages / wall:,.0f} records/s (stored {stored:,}; "
            f"time inside append {append_s:.2f} s)"
        )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        print(f"max RSS of the process: {peak} MiB")


if __name__ == "__main__":
    main()
