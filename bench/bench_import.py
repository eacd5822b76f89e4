"""File import throughput: chat-downloader JSON and CSV, end to end into the event store.

    .venv/bin/python bench/bench_import.py                       # the figures in bench/README.md
    .venv/bin/python bench/bench_import.py --records 200000 --runs 1     # quicker

What runs: in this process, Django with dev settings against a temporary SQLite database
and data folder (``manage.py migrate`` equivalent), a workspace, a session per run, and
``liveops.events.services.import_file`` — the path the CLI and the upload form use
(file checks, format, importer, ``import_items``: validation, ids, 50 000-event batches
into ``EventStore.append``, tallies and job rows in the database).

Files (generated once per invocation into the temp folder, deterministic):

* ``chat.json`` — chat-downloader's current schema (YouTube): a JSON array of messages with
  ``message_id``, ``author`` {id, name, display_name, images}, ``timestamp`` µs,
  ``time_in_seconds``, ``time_text``, ``action_type``; 96 % text messages, 2 % paid
  messages (``money``), 1 % memberships, 1 % tickers (skipped by design).
* ``events.csv`` — a Douyin-style event export: 时间 (local time, ``time_zone`` option),
  类型 (评论/点赞/进入/礼物/下单/关注/分享), 用户ID, 昵称, 内容, 数量, 金额, 订单号 (only on
  orders: the other rows get ids from the record hash + repeat counter, as in real exports).

Split: a *parse* pass runs the importer alone over the file (items counted, nothing kept);
the *end-to-end* import is timed as a whole, with ``to_arrow``, ``EventStore.append`` and the
per-batch database writes (``batch_record``, job save) timed by thin wrappers (called once
per 50 000 events, so the wrappers cost nothing measurable). *validate* is the remainder:
end-to-end − parse − to_arrow − store − database, i.e. ``schema.validate``, stable ids and
the bookkeeping of ``import_items``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

T0_US = 1_748_779_200_000_000  # 2025-06-01T12:00:00Z
WORDS = (
    "lol", "nice", "hello from Brazil", "first time here", "this is so good", "W", "KEKW",
    "can you play the song again?", "what game is this", "gg", "let's go!!!", "❤️❤️❤️",
    "こんにちは", "好厉害", "who else is watching in 2025", "POG", "the chat is so fast",
)  # fmt: skip
CN_WORDS = ("主播好", "这个多少钱", "上链接", "已拍", "求讲解 3 号链接", "好看", "666", "拍了拍了")


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def write_chat_json(path: Path, records: int, seed: int = 1) -> None:
    """chat-downloader output (current schema, YouTube), streamed to ``path``."""
    import orjson

    rng = random.Random(seed)
    authors = [
        {
            "id": "UC" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789_-")
                                 for _ in range(22)),
            "name": f"viewer{i}",
        }
        for i in range(20_000)
    ]  # fmt: skip
    with path.open("wb") as out:
        out.write(b"[\n")
        for i in range(records):
            a = authors[rng.randrange(len(authors))]
            t = i * 0.012  # ~83 messages/s
            roll = rng.random()
            msg: dict[str, Any] = {
                "action_type": "add_chat_item",
                "author": {
                    "id": a["id"],
                    "name": a["name"],
                    "display_name": a["name"],
                    "images": [
                        {
                            "url": f"https://yt4.ggpht.com/{a['id']}=s64-c-k-nd",
                            "id": "64x64",
                            "width": 64,
                            "height": 64,
                        }
                    ],
                },
                "message": rng.choice(WORDS),
                "message_id": f"Cj{i:010d}ChwKGkNJWE9zOHpJM3ZZQ0ZRRUFmUW9kXzBjR0dB",
                "time_in_seconds": round(t, 3),
                "time_text": f"{int(t) // 60}:{int(t) % 60:02d}",
                "timestamp": T0_US + int(t * 1_000_000),
            }
            if roll < 0.96:
                msg["message_type"] = "text_message"
            elif roll < 0.98:
                dollars = rng.choice((2, 5, 10, 20, 50, 100))
                msg["message_type"] = "paid_message"
                msg["money"] = {
                    "amount": float(dollars),
                    "currency": "USD",
                    "currency_symbol": "$",
                    "text": f"${dollars}.00",
                }
                msg["header_color"] = "#ff1565c0"
            elif roll < 0.99:
                msg["message_type"] = "membership_item"
                msg["header_secondary_text"] = "Welcome to the channel!"
            else:
                msg["message_type"] = "ticker_paid_message_item"
                msg["action_type"] = "add_live_chat_ticker_item"
                msg["ticker_duration"] = 30
            out.write(orjson.dumps(msg))
            out.write(b",\n" if i < records - 1 else b"\n")
        out.write(b"]\n")


def write_events_csv(path: Path, records: int, seed: int = 2) -> None:
    """A Douyin-style event export (UTF-8 with BOM, as Excel writes 'CSV UTF-8')."""
    rng = random.Random(seed)
    kinds = (
        ["评论"] * 30 + ["点赞"] * 30 + ["进入"] * 25 + ["礼物"] * 5 + ["关注"] * 4 + ["分享"] * 2
        + ["下单"] * 4
    )  # fmt: skip
    base = 1_748_779_200  # 2025-06-01 20:00:00 +08:00 as local wall time below
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["时间", "类型", "用户ID", "昵称", "内容", "数量", "金额", "订单号"])
        for i in range(records):
            kind = rng.choice(kinds)
            viewer = rng.randrange(300_000)
            secs = base + i // 100  # 100 events per second
            lt = time.gmtime(secs)
            when = time.strftime("%Y-%m-%d %H:%M:%S", lt)
            text = rng.choice(CN_WORDS) if kind == "评论" else ""
            qty = str(rng.randint(1, 30)) if kind in ("点赞", "礼物") else ""
            amount = f"{rng.randint(990, 59_900) / 100:.2f}" if kind == "下单" else ""
            order = f"DY{secs}{i:08d}" if kind == "下单" else ""
            if kind == "礼物":
                amount = str(rng.choice((1, 10, 52, 99)))
            writer.writerow([when, kind, f"{viewer}", f"用户{viewer}", text, qty, amount, order])


FORMATS: dict[str, dict[str, Any]] = {
    "chat-downloader": {
        "file": "chat.json",
        "write": write_chat_json,
        "platform": "youtube",
        "options": {},
    },
    "csv": {
        "file": "events.csv",
        "write": write_events_csv,
        "platform": "douyin",
        "options": {"time_zone": "Asia/Shanghai", "target": "events"},
    },
}


# --------------------------------------------------------------------------------------------
# Django in this process
# --------------------------------------------------------------------------------------------


def django_setup(tmp: Path) -> None:
    os.environ["LIVEOPS_DATA_DIR"] = str(tmp / "data")
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'db.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


class Timers:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
                self.calls[name] = self.calls.get(name, 0) + 1

        return timed


class _TimedStore:
    def __init__(self, store: Any, timers: Timers) -> None:
        self._store = store
        self.append = timers.wrap("store", store.append)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def parse_only(fmt: str, path: Path) -> tuple[float, int, dict[str, int], float]:
    from liveops.events.importers import registry, safety

    importer = registry.FORMATS[fmt]
    kinds: dict[str, int] = {}
    started = time.perf_counter()
    cpu = time.process_time()
    n = 0
    with safety.open_maybe_gzip(str(path)) as stream:
        for item in importer.parse(stream, options=dict(FORMATS[fmt]["options"])):
            n += 1
            name = type(item).__name__
            kinds[name] = kinds.get(name, 0) + 1
    return time.perf_counter() - started, n, kinds, time.process_time() - cpu


def import_once(fmt: str, path: Path, run_dir: Path, run: int) -> dict[str, Any]:
    from django.conf import settings

    from liveops.events import services
    from liveops.events.runtime import event_store, reset_event_store
    from liveops.planning.services import session_create
    from liveops.workspaces.services import account_create, workspace_create

    settings.DATA_DIR = run_dir  # a fresh, empty store for every run
    reset_event_store()
    ws = workspace_create(name=f"bench {fmt} {run}", owner=None)
    account = account_create(
        workspace=ws, by=None, platform=FORMATS[fmt]["platform"], name=f"acct {run}"
    )
    session = session_create(workspace=ws, by=None, account=account, title=f"{fmt} run {run}")

    timers = Timers()
    originals = {
        "event_store": services.event_store,
        "to_arrow": services.to_arrow,
        "batch_record": services.batch_record,
        "_store_minute_stats": services._store_minute_stats,
    }
    timed_store = _TimedStore(event_store(), timers)
    services.event_store = lambda: timed_store  # type: ignore[assignment]
    services.to_arrow = timers.wrap("to_arrow", originals["to_arrow"])  # type: ignore[assignment]
    services.batch_record = timers.wrap("db", originals["batch_record"])  # type: ignore[assignment]
    services._store_minute_stats = timers.wrap("db", originals["_store_minute_stats"])  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        cpu = time.process_time()
        job = services.import_file(
            session=session,
            path=str(path),
            fmt=fmt,
            options=dict(FORMATS[fmt]["options"]),
        )
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
    finally:
        for name, fn in originals.items():
            setattr(services, name, fn)
    if job.error:
        raise SystemExit(f"{fmt}: the import failed: {job.error}")
    stored = event_store().count(ws.pk, session.pk)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "records": job.records,
        "accepted": job.accepted,
        "duplicate": job.duplicate,
        "rejected": job.rejected,
        "skipped": sum(job.skipped.values()) if isinstance(job.skipped, dict) else job.skipped,
        "stored": stored,
        "timers": dict(timers.seconds),
        "calls": dict(timers.calls),
        "commits": event_store().version(),
    }


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="records per file")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--formats", default="chat-downloader,csv")
    parser.add_argument("--tmp", default=None, help="parent of the temporary folder")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        help="before each run wait until other processes use less than this many cores",
    )
    parser.add_argument("--wait-timeout", type=float, default=600.0)
    parser.add_argument("--json-out", default="")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="liveops-bench-import-", dir=args.tmp))
    print(f"folder: {tmp}  nproc {os.cpu_count()}  load {os.getloadavg()}", flush=True)
    django_setup(tmp)
    results: dict[str, Any] = {}
    for fmt in args.formats.split(","):
        spec = FORMATS[fmt]
        path = tmp / spec["file"]
        started = time.perf_counter()
        spec["write"](path, args.records)
        size = path.stat().st_size
        print(
            f"\n{fmt}: wrote {args.records:,} records, {size / 2**20:,.0f} MiB "
            f"({size / args.records:.0f} B/record) in {time.perf_counter() - started:.1f}s",
            flush=True,
        )
        runs = []
        for run in range(1, args.runs + 1):
            if args.wait_quiet:
                from bench.bench_ingest import wait_quiet

                busy = wait_quiet(args.wait_quiet, args.wait_timeout)
                print(f"  (machine busy before run {run}: {busy:.2f} cores)", flush=True)
            p_sec, p_items, p_kinds, p_cpu = parse_only(fmt, path)
            r = import_once(fmt, path, tmp / f"{fmt}-run{run}", run)
            t = r["timers"]
            store = t.get("store", 0.0)
            arrow = t.get("to_arrow", 0.0)
            db = t.get("db", 0.0)
            validate = r["seconds"] - p_sec - store - arrow - db
            r.update(
                parse_seconds=p_sec,
                parse_items=p_items,
                parse_kinds=p_kinds,
                validate_seconds=validate,
                records_per_s=r["records"] / r["seconds"],
                events_per_s=r["accepted"] / r["seconds"],
                parse_per_s=p_items / p_sec,
                parse_cpu_seconds=p_cpu,
                records_per_cpu_s=r["records"] / r["cpu_seconds"],
                load=os.getloadavg(),
            )
            runs.append(r)
            print(
                f"  run {run}: {r['records']:,} records in {r['seconds']:.1f}s = "
                f"{r['records_per_s']:,.0f} records/s ({r['events_per_s']:,.0f} events/s stored); "
                f"accepted {r['accepted']:,} dup {r['duplicate']} rejected {r['rejected']} "
                f"skipped {r['skipped']:,}; stored {r['stored']:,} (table version {r['commits']}); "
                f"CPU {r['cpu_seconds']:.1f}s = {r['records_per_cpu_s']:,.0f} records/CPU-s\n"
                f"    split: parse {p_sec:.1f}s ({p_items / p_sec:,.0f}/s) | validate+ids "
                f"{validate:.1f}s | to_arrow {arrow:.1f}s | store {store:.1f}s | db {db:.2f}s"
                f"   load {r['load'][0]:.2f}",
                flush=True,
            )
        med = {
            "records": args.records,
            "file_mib": round(size / 2**20, 1),
            "records_per_s_median": statistics.median(r["records_per_s"] for r in runs),
            "records_per_s_all": [round(r["records_per_s"]) for r in runs],
            "records_per_cpu_s_median": statistics.median(r["records_per_cpu_s"] for r in runs),
            "seconds_median": statistics.median(r["seconds"] for r in runs),
            "parse_median": statistics.median(r["parse_seconds"] for r in runs),
            "validate_median": statistics.median(r["validate_seconds"] for r in runs),
            "to_arrow_median": statistics.median(r["timers"].get("to_arrow", 0) for r in runs),
            "store_median": statistics.median(r["timers"].get("store", 0) for r in runs),
            "db_median": statistics.median(r["timers"].get("db", 0) for r in runs),
        }
        results[fmt] = {"summary": med, "runs": runs}
        print(
            f"  median: {med['records_per_s_median']:,.0f} records/s, "
            f"{med['records_per_cpu_s_median']:,.0f} records/CPU-s "
            f"({med['seconds_median']:.1f}s: parse {med['parse_median']:.1f} / validate "
            f"{med['validate_median']:.1f} / to_arrow {med['to_arrow_median']:.1f} / store "
            f"{med['store_median']:.1f} / db {med['db_median']:.2f})",
            flush=True,
        )
        if not args.keep:
            path.unlink()
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=1, default=str))
    if not args.keep:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
