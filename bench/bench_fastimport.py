"""Columnar CSV fast path (liveops.events.fastimport) on a 1 M-row Douyin-style CSV.

Measures (no Django): parse + validate (fast_csv_blocks → Arrow tables, fallback rows run
through the tabular row code), and end to end with EventStore.append per block, in a
temporary folder. Timings are printed, never asserted.

    .venv/bin/python bench/bench_fastimport.py                 # 1 000 000 rows
    .venv/bin/python bench/bench_fastimport.py --rows 200000 --block-mib 8
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from liveops.events.fastimport import fast_csv_blocks
from liveops.events.store import EventStore

HEADERS = ["时间", "类型", "用户ID", "昵称", "内容", "数量", "金额", "订单号"]
KINDS = (["点赞"] * 56 + ["评论"] * 13 + ["进入"] * 12 + ["离开"] * 9 + ["商品点击"] * 0
         + ["礼物"] * 3 + ["关注"] * 4 + ["下单"] * 3)  # fmt: skip
TEXTS = ["主播好", "666", "这个多少钱", "求链接", "好看", "已下单", "来了来了", "hello"]


def make_csv(path: Path, rows: int, seed: int = 1, bad_every: int = 1000) -> None:
    rng = random.Random(seed)
    start = datetime(2024, 6, 1, 20, 0, 0)
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        for i in range(rows):
            kind = rng.choice(KINDS)
            ts = (start + timedelta(milliseconds=i * 7 + rng.randrange(5))).isoformat(
                sep=" ", timespec="milliseconds"
            )
            uid = str(rng.randrange(1, 50_000))
            name = f"用户{uid}"
            text = rng.choice(TEXTS) if kind == "评论" else ""
            qty = str(rng.randrange(1, 20)) if kind in ("点赞", "礼物", "下单") else ""
            amount = f"{rng.randrange(100, 99_900) / 100:.2f}" if kind == "下单" else ""
            order = f"D{i:09d}" if kind == "下单" else ""
            if bad_every and i % bad_every == 999:
                amount, kind = "-1", "下单"  # a rejected row (negative amount)
            writer.writerow([ts, kind, uid, name, text, qty, amount, order])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--block-mib", type=int, default=8)
    args = parser.parse_args()
    options = {"time_zone": "Asia/Shanghai", "currency": "CNY"}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        path = base / "events.csv"
        t0 = time.perf_counter()
        make_csv(path, args.rows)
        size = path.stat().st_size
        print(f"file: {args.rows} rows, {size / 2**20:.1f} MiB ({time.perf_counter() - t0:.1f} s)")

        def run(store: EventStore | None) -> tuple[float, float, int, int, int]:
            t = time.perf_counter()
            c = time.process_time()
            blocks = fast_csv_blocks(
                path, workspace_id=1, session_id=1, platform="douyin", options=options,
                block_size=args.block_mib << 20,
            )  # fmt: skip
            assert blocks is not None
            fast = fallback = stored = 0
            for block in blocks:
                fast += block.table.num_rows
                fallback += len(block.items)
                if store is not None and block.table.num_rows:
                    stored += len(store.append(block.table).accepted_ids)
            return time.perf_counter() - t, time.process_time() - c, fast, fallback, stored

        wall, cpu, fast, fallback, _ = run(None)
        print(
            f"parse+validate: {wall:.2f} s wall, {cpu:.2f} s CPU -> "
            f"{args.rows / wall:,.0f} rows/s (fast rows {fast}, fallback rows {fallback})"
        )
        store = EventStore(base / "store")
        wall, cpu, fast, fallback, stored = run(store)
        print(
            f"end to end with EventStore.append: {wall:.2f} s wall, {cpu:.2f} s CPU -> "
            f"{args.rows / wall:,.0f} rows/s (stored {stored})"
        )
        # pipelined: a thread parses block k+1 while the store appends block k
        import queue
        import threading

        store2 = EventStore(base / "store2")
        t = time.perf_counter()
        q: queue.Queue[Any] = queue.Queue(maxsize=1)

        def produce() -> None:
            blocks = fast_csv_blocks(
                path, workspace_id=1, session_id=1, platform="douyin", options=options,
                block_size=args.block_mib << 20,
            )  # fmt: skip
            assert blocks is not None
            for block in blocks:
                q.put(block)
            q.put(None)

        threading.Thread(target=produce, daemon=True).start()
        stored = 0
        append_s = 0.0
        while (block := q.get()) is not None:
            a = time.perf_counter()
            stored += len(store2.append(block.table).accepted_ids)
            append_s += time.perf_counter() - a
        wall = time.perf_counter() - t
        print(
            f"end to end, parse and store overlapped (2 threads): {wall:.2f} s wall -> "
            f"{args.rows / wall:,.0f} rows/s (stored {stored}; time inside append {append_s:.2f} s)"
        )


if __name__ == "__main__":
    main()
