"""HTTP ingest benchmark: ``POST /api/v1/sessions/{id}/events`` against a real server process.

    .venv/bin/python bench/bench_ingest.py                   # the figures in bench/README.md
    .venv/bin/python bench/bench_ingest.py --duration 5 --runs 1 --concurrency 8   # quick look

Each scenario gets a fresh throwaway environment (tmp data dir, SQLite database, dev
settings, ``manage.py migrate``, a workspace/session/API key) and one ``liveops serve``
process (one uvicorn worker) on 127.0.0.1 — see ``bench/_server.py``.

Load comes from a *separate* process (multiprocessing ``spawn``) with one keep-alive
connection per client thread. Bodies are serialised before the clock starts: one JSON
template per batch shape whose event-id prefix is swapped per request (``bytes.replace``,
no JSON encoding in the loop), and for NDJSON+gzip a pool of pre-compressed bodies. Every
event id is unique, so every event is new work for the store (no duplicate shortcuts).

Scenarios
    throughput  C client threads post 1 000-event batches back to back for --duration
                seconds (after --warmup), JSON and NDJSON+gzip; events/s acknowledged.
    latency     a paced, open-loop client: --rate events/s as batches of 1 000 sent on a
                fixed schedule, whatever the answers; latency is measured from the
                scheduled send time (no coordinated omission) to the 200.

Besides the figures it reports the CPU seconds the server process and the load generator
used during the window, and how busy the whole machine was (``/proc/stat``), so contention
from other processes is visible. ``--profile`` attaches ``py-spy`` (if installed) to the
server during one throughput run and writes a flame graph / top table.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import itertools
import json
import multiprocessing as mp
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._server import Server, migrate, post_events, provision, throwaway_env

BATCH = 1000
T0_MS = 1_780_000_000_000
ID_PLACEHOLDER = "QQQQQQQQQQ"  # 10 chars, replaced per request by a unique batch prefix
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------------------------
# Event bodies
# --------------------------------------------------------------------------------------------


def _synthetic_rows(size: int, seed: int) -> list[dict[str, Any]]:
    """A plausible Douyin-like mix: comments, likes, entries, gifts, orders, follows, clicks."""
    rng = random.Random(seed)
    kinds = (
        ["comment"] * 30
        + ["like"] * 25
        + ["enter"] * 20
        + ["leave"] * 8
        + ["gift"] * 6
        + ["follow"] * 4
        + ["product_click"] * 4
        + ["order"] * 2
        + ["share"]
    )
    words = ("主播好", "这个多少钱", "上链接", "已拍", "求讲解 3 号链接", "好看", "666", "hello")
    rows: list[dict[str, Any]] = []
    for i in range(size):
        kind = rng.choice(kinds)
        viewer = rng.randrange(200_000)
        row: dict[str, Any] = {
            "event_id": f"{ID_PLACEHOLDER}-{i:04d}",
            "ts": T0_MS + seed * 1000 + i,
            "kind": kind,
            "viewer_id": str(viewer),
            "viewer_name": f"观众{viewer}",
        }
        if kind == "comment":
            row["text"] = rng.choice(words)
        elif kind in ("like", "gift"):
            row["quantity"] = rng.randint(1, 15)
            if kind == "gift":
                row["amount"] = str(rng.choice((1, 10, 52, 99, 520)))
        elif kind == "order":
            row["amount"] = f"{rng.randint(990, 59_900) / 100:.2f}"
            row["currency"] = "CNY"
            row["product_id"] = f"p{rng.randrange(40)}"
        elif kind == "product_click":
            row["product_id"] = f"p{rng.randrange(40)}"
        rows.append(row)
    return rows


_GENERATED: list[dict[str, Any]] = []


def _generator_rows(size: int, seed: int) -> list[dict[str, Any]] | None:
    """``size`` consecutive events of a generated live (liveops.events.generator), or None.

    One 1-hour Douyin session of 200 000 events (20 000 viewers) is generated once; template
    ``seed`` is the slice starting at an offset spread over the session, so the templates
    cover the run of show (entries early, product explanations, lucky draws ...).
    """
    try:
        from datetime import UTC, datetime

        from liveops.events.generator import generate
    except ImportError:
        return None
    if not _GENERATED:
        _GENERATED.extend(
            generate(
                n_events=200_000,
                duration_s=3600,
                viewers=20_000,
                start=datetime(2026, 6, 1, 12, tzinfo=UTC),
                seed=7,
            )
        )
    offset = (seed * 12_347) % (len(_GENERATED) - size)
    rows = [dict(r) for r in _GENERATED[offset : offset + size]]
    for i, row in enumerate(rows):
        row["event_id"] = f"{ID_PLACEHOLDER}-{i:04d}"
    return rows


def template_rows(size: int, seed: int, source: str) -> tuple[list[dict[str, Any]], str]:
    if source in ("auto", "generator"):
        rows = _generator_rows(size, seed)
        if rows is not None:
            return rows, "liveops.events.generator"
        if source == "generator":
            raise SystemExit("liveops.events.generator is missing or has no generate()")
    return _synthetic_rows(size, seed), "synthetic (bench_ingest._synthetic_rows)"


def _prefix(worker: int, number: int) -> bytes:
    return f"w{worker}n{number:07d}"[:10].rjust(10, "x").encode()


class Bodies:
    """Pre-serialised request bodies; ``body(n)`` is unique for every n (unique event ids)."""

    def __init__(self, fmt: str, worker: int, templates: int, pool: int, source: str) -> None:
        self.fmt = fmt
        self.worker = worker
        self.templates: list[bytes] = []
        self.source = ""
        for seed in range(templates):
            rows, self.source = template_rows(BATCH, seed, source)
            if fmt == "json":
                self.templates.append(orjson.dumps(rows))
            else:
                self.templates.append(b"\n".join(orjson.dumps(r) for r in rows))
        self.placeholder = ID_PLACEHOLDER.encode()
        self.pool: list[bytes] = []
        if fmt == "ndjson-gzip":  # compression is the client's job: do it before the clock
            self.pool = [gzip.compress(self._raw(n), compresslevel=1) for n in range(pool)]

    def _raw(self, number: int) -> bytes:
        template = self.templates[number % len(self.templates)]
        return template.replace(self.placeholder, _prefix(self.worker, number))

    def body(self, number: int) -> bytes:
        if self.pool:
            return self.pool[number % len(self.pool)]  # wraps only if --pool is too small
        return self._raw(number)

    def unique(self, number: int) -> bool:
        return not self.pool or number < len(self.pool)


# --------------------------------------------------------------------------------------------
# Load generator (runs in its own process)
# --------------------------------------------------------------------------------------------


def _client_cpu() -> float:
    t = os.times()
    return t.user + t.system


def load_worker(cfg: dict[str, Any], out: Any) -> None:
    """Closed-loop (throughput) or open-loop paced (latency) load; sends a result dict."""
    bodies = Bodies(cfg["fmt"], cfg["worker"], cfg["templates"], cfg["pool"], cfg["source"])
    threads = cfg["threads"]
    out.send({"ready": True, "source": bodies.source})
    start_at = out.recv()  # the parent picks the start once the bodies are ready
    warm_end = start_at + cfg["warmup"]
    end = warm_end + cfg["duration"]
    counter = itertools.count()
    lock = threading.Lock()
    records: list[tuple[float, float, float, int, int, int]] = []  # sched, sent, done, st, acc, dup
    errors: list[str] = []

    def closed_loop() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", cfg["port"], timeout=120)
        mine: list[tuple[float, float, float, int, int, int]] = []
        while True:
            number = next(counter)
            body = bodies.body(number)
            sent = time.time()
            if sent >= end:
                break
            try:
                status, payload = post_events(
                    conn, cfg["session_id"], cfg["api_key"], body, ndjson_gzip=cfg["fmt"] != "json"
                )
            except (OSError, http.client.HTTPException) as exc:
                errors.append(repr(exc))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", cfg["port"], timeout=120)
                continue
            done = time.time()
            acc = dup = 0
            if status == 200:
                counts = orjson.loads(payload)["counts"]
                acc, dup = counts["accepted"], counts["duplicate"]
            mine.append((sent, sent, done, status, acc, dup))
        conn.close()
        with lock:
            records.extend(mine)

    interval = BATCH / cfg["rate"] if cfg["rate"] else 0.0

    def paced() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", cfg["port"], timeout=120)
        mine: list[tuple[float, float, float, int, int, int]] = []
        while True:
            number = next(counter)
            scheduled = start_at + number * interval
            if scheduled >= end:
                break
            delay = scheduled - time.time()
            if delay > 0:
                time.sleep(delay)
            sent = time.time()
            try:
                status, payload = post_events(
                    conn,
                    cfg["session_id"],
                    cfg["api_key"],
                    bodies.body(number),
                    ndjson_gzip=cfg["fmt"] != "json",
                )
            except (OSError, http.client.HTTPException) as exc:
                errors.append(repr(exc))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", cfg["port"], timeout=120)
                continue
            done = time.time()
            acc = dup = 0
            if status == 200:
                counts = orjson.loads(payload)["counts"]
                acc, dup = counts["accepted"], counts["duplicate"]
            mine.append((scheduled, sent, done, status, acc, dup))
        conn.close()
        with lock:
            records.extend(mine)

    target = paced if cfg["mode"] == "latency" else closed_loop
    pool = [threading.Thread(target=target, daemon=True) for _ in range(threads)]
    while time.time() < start_at:
        time.sleep(0.001)
    cpu0 = _client_cpu()
    cpu_warm: float | None = None
    for t in pool:
        t.start()
    while any(t.is_alive() for t in pool):
        if cpu_warm is None and time.time() >= warm_end:
            cpu_warm = _client_cpu()
        time.sleep(0.05)
    cpu1 = _client_cpu()
    out.send(
        {
            "records": records,
            "errors": errors[:20],
            "n_errors": len(errors),
            "cpu_window": cpu1 - (cpu_warm if cpu_warm is not None else cpu0),
            "unique_pool": bodies.unique(len(records)),
        }
    )


# --------------------------------------------------------------------------------------------
# Measurement helpers
# --------------------------------------------------------------------------------------------


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def thread_cpu(pid: int) -> dict[int, tuple[str, float]]:
    """CPU seconds per thread of a process: {tid: (kind, seconds)}.

    kind: "main" (the event loop: parsing, validation, to_arrow, responses), "python"
    (other Python threads: asyncio.to_thread → EventStore.append, sync_to_async → Django
    ORM), "native" (named Rust/C threads: tokio-rt-worker of deltalake, jemalloc ...).
    """
    out: dict[int, tuple[str, float]] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            comm = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tid = int(task.name)
        kind = (
            "main"
            if tid == pid
            else ("python" if comm in ("liveops", "python", "python3") else "native")
        )
        out[tid] = (kind, (int(fields[11]) + int(fields[12])) / CLK_TCK)
    return out


def thread_cpu_delta(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]], seconds: float
) -> dict[str, float]:
    cores: dict[str, float] = {"main": 0.0, "python": 0.0, "native": 0.0}
    for tid, (kind, cpu) in after.items():
        cores[kind] += (cpu - before.get(tid, (kind, 0.0))[1]) / seconds
    return {k: round(v, 3) for k, v in cores.items()}


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return total - idle, total


def wait_quiet(max_busy: float, timeout: float, seconds: float = 3.0) -> float:
    """Wait (up to ``timeout`` s) until the machine was below ``max_busy`` busy cores for
    ``seconds``; returns the busy cores seen last. Other people's jobs share this machine."""
    deadline = time.time() + timeout
    while True:
        b0 = machine_busy()
        time.sleep(seconds)
        b1 = machine_busy()
        busy = (b1[0] - b0[0]) / max(1, b1[1] - b0[1]) * (os.cpu_count() or 1)
        if busy <= max_busy or time.time() > deadline:
            return busy


def top_processes(exclude: set[int], n: int = 5) -> list[str]:
    """The busiest other processes right now (ps %CPU is a lifetime average; kept short)."""
    try:
        out = subprocess.run(
            ["ps", "-eo", "pid,pcpu,etime,comm,args", "--sort=-pcpu", "--no-headers"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    rows = []
    for line in out.splitlines():
        parts = line.split(None, 4)
        if not parts or int(parts[0]) in exclude or float(parts[1]) < 1.0:
            continue
        rows.append(f"{parts[1]}% {parts[4][:90]}")
        if len(rows) == n:
            break
    return rows


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


# --------------------------------------------------------------------------------------------
# One scenario
# --------------------------------------------------------------------------------------------


def _tweak_dir(tmp: Path, tweaks: list[str]) -> Path:
    """A sitecustomize.py for the server process: A/B experiments without touching the app.

    ``no-compaction``     liveops.events.runtime.COMPACT_EVERY = 10**9 (no background
                          compaction while live)
    ``compact-every=N``   COMPACT_EVERY = N
    ``switchinterval=S``  sys.setswitchinterval(S) (the GIL hand-over interval, 0.005 s)
    """
    lines = ["import sys"]
    for tweak in tweaks:
        name, _, value = tweak.partition("=")
        if name == "no-compaction":
            lines.append("import liveops.events.runtime as r; r.COMPACT_EVERY = 10**9")
        elif name == "compact-every":
            lines.append(f"import liveops.events.runtime as r; r.COMPACT_EVERY = {int(value)}")
        elif name == "switchinterval":
            lines.append(f"sys.setswitchinterval({float(value)})")
        else:
            raise SystemExit(f"unknown --server-tweak {tweak!r}")
    folder = tmp / "tweaks"
    folder.mkdir(exist_ok=True)
    (folder / "sitecustomize.py").write_text("\n".join(lines) + "\n")
    return folder


def run_scenario(args: argparse.Namespace, mode: str, fmt: str, threads: int) -> dict[str, Any]:
    if args.wait_quiet:
        busy = wait_quiet(args.wait_quiet, args.wait_timeout)
        print(f"    (machine busy before the run: {busy:.2f} cores)", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="liveops-bench-ingest-", dir=args.tmp))
    env = throwaway_env(tmp)
    if args.server_pythonpath:
        env["PYTHONPATH"] = f"{args.server_pythonpath}:{env['PYTHONPATH']}"
    if args.server_tweak:
        env["PYTHONPATH"] = f"{_tweak_dir(tmp, args.server_tweak)}:{env['PYTHONPATH']}"
    migrate(env)
    ids = provision(env)
    server = Server(env)
    ctx = mp.get_context("spawn")
    result: dict[str, Any] = {"mode": mode, "fmt": fmt, "threads": threads}
    spy: subprocess.Popen[bytes] | None = None
    try:
        server.start()
        assert server.pid is not None
        parent, child = ctx.Pipe()
        cfg = {
            "mode": mode,
            "fmt": fmt,
            "threads": threads,
            "port": server.port,
            "session_id": ids["session_id"],
            "api_key": ids["api_key"],
            "worker": 1,
            "templates": args.templates,
            "pool": args.pool,
            "source": args.source,
            "warmup": args.warmup,
            "duration": args.duration,
            "rate": args.rate if mode == "latency" else 0,
        }
        # the worker builds its bodies, says ready, and gets the start time back
        proc = ctx.Process(target=load_worker, args=(cfg, child), daemon=True)
        proc.start()
        hello = parent.recv()
        result["source"] = hello["source"]
        cfg["start_at"] = time.time() + 0.5
        parent.send(cfg["start_at"])
        while time.time() < cfg["start_at"] + args.warmup:
            time.sleep(0.01)
        others = top_processes({os.getpid(), server.pid, proc.pid or 0})
        s_cpu0 = proc_cpu(server.pid)
        threads0 = thread_cpu(server.pid)
        m0 = machine_busy()
        t0 = time.time()
        if (
            args.profile
            and mode == "throughput"
            and shutil.which("py-spy", path=str(Path(sys.executable).parent))
        ):
            spy_out = Path(args.profile) / f"py-spy-{fmt}-{threads}.txt"
            spy_out.parent.mkdir(parents=True, exist_ok=True)
            spy = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "py-spy"),
                    "record",
                    "--pid",
                    str(server.pid),
                    "--duration",
                    str(int(args.duration)),
                    "--rate",
                    "200",
                    "--threads",
                    "--format",
                    "raw",
                    "--output",
                    str(spy_out),
                    "--nonblocking",
                    *(["--gil"] if args.profile_gil else []),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        while time.time() < cfg["start_at"] + args.warmup + args.duration:
            time.sleep(0.01)
        s_cpu1 = proc_cpu(server.pid)
        threads1 = thread_cpu(server.pid)
        m1 = machine_busy()
        t1 = time.time()
        report = parent.recv()
        proc.join(timeout=60)
        window = t1 - t0
        records = report["records"]
        lo, hi = cfg["start_at"] + args.warmup, cfg["start_at"] + args.warmup + args.duration
        in_window = [r for r in records if lo <= r[2] < hi]
        statuses: dict[int, int] = {}
        for r in records:
            statuses[r[3]] = statuses.get(r[3], 0) + 1
        accepted = sum(r[4] for r in in_window)
        dups = sum(r[5] for r in records)
        busy = (m1[0] - m0[0]) / max(1, m1[1] - m0[1]) * os.cpu_count()  # cores busy
        server_cores = (s_cpu1 - s_cpu0) / window
        per_thread = thread_cpu_delta(threads0, threads1, window)
        # threads that ended within the window (background compactions) are gone from /proc
        per_thread["ended"] = round(max(0.0, server_cores - sum(per_thread.values())), 3)
        client_cores = report["cpu_window"] / window
        result.update(
            events_per_s=accepted / args.duration,
            requests=len(records),
            requests_in_window=len(in_window),
            statuses=statuses,
            duplicates=dups,
            errors=report["n_errors"],
            error_sample=report["errors"][:3],
            unique_bodies=report["unique_pool"],
            server_cores=server_cores,
            server_threads=per_thread,
            client_cores=client_cores,
            machine_cores_busy=busy,
            other_cores=max(0.0, busy - server_cores - client_cores),
            other_processes=others,
        )
        if mode == "latency":
            measured = [r for r in records if lo <= r[0] < hi and r[3] == 200]
            lat = [(r[2] - r[0]) * 1000 for r in measured]
            service = [(r[2] - r[1]) * 1000 for r in measured]
            late = [(r[1] - r[0]) * 1000 for r in measured]
            result.update(
                rate=args.rate,
                offered_per_s=len([r for r in records if lo <= r[0] < hi]) * BATCH / args.duration,
                p50_ms=percentile(lat, 50),
                p95_ms=percentile(lat, 95),
                p99_ms=percentile(lat, 99),
                max_ms=max(lat) if lat else float("nan"),
                service_p99_ms=percentile(service, 99),
                send_late_p99_ms=percentile(late, 99),
                samples=len(lat),
            )
            by_bucket: dict[int, list[float]] = {}
            for r in measured:  # p99 per 5 s of scheduled time: does latency drift?
                by_bucket.setdefault(int((r[0] - lo) // 5), []).append((r[2] - r[0]) * 1000)
            result["p99_per_5s"] = [
                round(percentile(by_bucket.get(b, []), 99))
                for b in range(max(by_bucket, default=-1) + 1)
            ]
        if spy is not None:
            spy.wait(timeout=60)
            result["profile"] = str(Path(args.profile) / f"py-spy-{fmt}-{threads}.txt")
        # the store agrees with the acknowledgements
        result["server_log"] = str(tmp / "server-1.log")
    finally:
        if spy is not None and spy.poll() is None:
            spy.kill()
        server.stop()
    ops = delta_operations(tmp / "store" / "events" / "_delta_log")
    appends = ops.get("WRITE", 0)
    result["commits"] = appends
    result["optimize_commits"] = ops.get("OPTIMIZE", 0)
    result["events_per_commit"] = sum(r[4] for r in records) / appends if appends else 0.0
    buckets: dict[int, int] = {}
    for r in records:  # acknowledged events per 5 s of the run (warm-up included)
        b = int((r[2] - cfg["start_at"]) // 5)
        buckets[b] = buckets.get(b, 0) + r[4]
    result["per_5s"] = [round(buckets.get(b, 0) / 5) for b in range(max(buckets, default=-1) + 1)]
    result["stored"], result["active_files"] = _stored_count(tmp)
    result["acknowledged"] = sum(r[4] for r in records)
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def delta_operations(log: Path) -> dict[str, int]:
    """Number of Delta commits per operation (WRITE = appends, OPTIMIZE = compactions)."""
    ops: dict[str, int] = {}
    for path in log.glob("*.json"):
        for line in path.read_bytes().splitlines():
            info = orjson.loads(line).get("commitInfo")
            if info:
                ops[info.get("operation", "?")] = ops.get(info.get("operation", "?"), 0) + 1
    return ops


def _stored_count(tmp: Path) -> tuple[int, int]:
    # a subprocess, so this process stays free of deltalake (spawned workers don't care,
    # but keep it tidy) and the count is what a fresh reader sees
    code = (
        "import sys; from liveops.events.store import EventStore; "
        f"s = EventStore({str(tmp / 'store')!r}); print(s.count(), len(s.file_uris()))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    stored, files = done.stdout.split()
    return int(stored), int(files)


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring")
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario (median)")
    parser.add_argument(
        "--concurrency", default="4,16", help="client threads for throughput, comma-separated"
    )
    parser.add_argument("--formats", default="json,ndjson-gzip")
    parser.add_argument("--rate", type=float, default=20_000, help="latency: events/s offered")
    parser.add_argument("--latency-threads", type=int, default=32)
    parser.add_argument("--latency-fmt", default="json")
    parser.add_argument("--skip", default="", help="'throughput' or 'latency'")
    parser.add_argument("--templates", type=int, default=16, help="distinct batch shapes")
    parser.add_argument(
        "--pool", type=int, default=3000, help="pre-gzipped bodies (≥ max batches per run)"
    )
    parser.add_argument("--source", default="auto", choices=["auto", "generator", "synthetic"])
    parser.add_argument("--profile", default="", help="folder for py-spy output (throughput)")
    parser.add_argument("--profile-gil", action="store_true", help="py-spy --gil: GIL holder only")
    parser.add_argument("--keep", action="store_true", help="keep the tmp folders")
    parser.add_argument("--tmp", default=None, help="parent folder of the tmp folders")
    parser.add_argument(
        "--server-pythonpath",
        default="",
        help="prepend to the server's PYTHONPATH (A/B experiments, e.g. httptools)",
    )
    parser.add_argument(
        "--server-tweak",
        action="append",
        default=[],
        help="A/B experiment in the server (repeatable): no-compaction, compact-every=N, "
        "switchinterval=S",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        help="before each run wait until other processes use less than this many cores",
    )
    parser.add_argument("--wait-timeout", type=float, default=600.0)
    parser.add_argument("--json-out", default="", help="write all results as JSON here")
    args = parser.parse_args(argv)

    info = machine()
    print(f"machine: {json.dumps(info, ensure_ascii=False)}", flush=True)
    results: list[dict[str, Any]] = []
    scenarios: list[tuple[str, str, int]] = []
    if "throughput" not in args.skip:
        for fmt in args.formats.split(","):
            for c in args.concurrency.split(","):
                scenarios.append(("throughput", fmt, int(c)))
    if "latency" not in args.skip:
        scenarios.append(("latency", args.latency_fmt, args.latency_threads))
    summary: list[dict[str, Any]] = []
    for mode, fmt, threads in scenarios:
        runs = []
        for run in range(args.runs):
            r = run_scenario(args, mode, fmt, threads)
            r["run"] = run + 1
            runs.append(r)
            results.append(r)
            line = (
                f"{mode:10s} {fmt:11s} c={threads:<3d} run {run + 1}: "
                f"{r['events_per_s']:>9,.0f} ev/s  server {r['server_cores']:.2f} cores, "
                f"client {r['client_cores']:.2f}, other {r['other_cores']:.2f}, "
                f"statuses {r['statuses']}, dups {r['duplicates']}, errors {r['errors']}"
            )
            if mode == "latency":
                line += (
                    f"  offered {r['offered_per_s']:,.0f}/s p50 {r['p50_ms']:.0f} ms "
                    f"p95 {r['p95_ms']:.0f} ms p99 {r['p99_ms']:.0f} ms max {r['max_ms']:.0f} ms "
                    f"(service p99 {r['service_p99_ms']:.0f} ms); p99 per 5 s {r['p99_per_5s']}"
                )
            line += (
                f"\n    server threads (cores): {r['server_threads']}; {r['commits']} appends "
                f"({r['events_per_commit']:,.0f} events/commit), {r['optimize_commits']} "
                f"compactions, {r['active_files']} active files; ev/s per 5 s: {r['per_5s']}"
                f"\n    stored {r['stored']:,} / acknowledged {r['acknowledged']:,}"
            )
            print(line, flush=True)
            if r["other_processes"]:
                print(f"    other busy processes: {r['other_processes']}", flush=True)
        med: dict[str, Any] = {
            "mode": mode,
            "fmt": fmt,
            "threads": threads,
            "runs": len(runs),
            "events_per_s_median": statistics.median(r["events_per_s"] for r in runs),
            "events_per_s_all": [round(r["events_per_s"]) for r in runs],
            "server_cores_median": statistics.median(r["server_cores"] for r in runs),
            "other_cores_median": statistics.median(r["other_cores"] for r in runs),
        }
        if mode == "latency":
            for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms"):
                med[f"{key}_median"] = statistics.median(r[key] for r in runs)
                med[f"{key}_all"] = [round(r[key], 1) for r in runs]
        summary.append(med)
    print("\nsummary (median of runs):")
    for s in summary:
        text = (
            f"  {s['mode']:10s} {s['fmt']:11s} c={s['threads']:<3d} "
            f"{s['events_per_s_median']:>9,.0f} ev/s {s['events_per_s_all']}"
        )
        if s["mode"] == "latency":
            text += (
                f"  p50 {s['p50_ms_median']:.0f} p95 {s['p95_ms_median']:.0f} "
                f"p99 {s['p99_ms_median']:.0f} ms (p99 runs {s['p99_ms_all']})"
            )
        print(text)
    if args.json_out:
        Path(args.json_out).write_text(
            json.dumps({"machine": info, "results": results, "summary": summary}, indent=1)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
