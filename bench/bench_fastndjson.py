"""NDJSON ingest bodies: the row path against the columnar fast path (liveops.events.fastndjson).

The bodies are bench/bench_ingest.py's (``Bodies("ndjson", …)``: 1 000-event slices of a
generated Douyin live, unique event ids, as the API sees them after gunzip). No Django, no
store.

* row path: ``parse_body`` + ``prepare`` + ``to_arrow`` + ``ingest.outcome_of`` (today's API)
* fast path: ``fastndjson.fast_prepare`` + ``fastndjson.outcome_of``

Printed per event: the wall time in one thread (median of rounds), and the time the path
holds the GIL, from py-spy (in the venv: ``pip install py-spy``): each path runs in a loop
in a child process sampled twice, once with ``--gil`` (samples holding the GIL) and once
without (all samples of the running thread); GIL µs/event = wall µs/event in the loop ×
GIL samples / all samples. The work pyarrow does in C++ without the GIL (reading the JSON,
compute kernels) is what the fast path saves. Timings are printed, never asserted.

    .venv/bin/python bench/bench_fastndjson.py                 # ~30 s
    .venv/bin/python bench/bench_fastndjson.py --seconds 2 --no-gil
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_ingest import BATCH, Bodies
from liveops.events import fastndjson
from liveops.events.ingest import outcome_of, parse_body, prepare, with_raw
from liveops.events.schema import COLUMNS, to_arrow

WS, SESSION, PLATFORM = 1, 1, "douyin"


def row_path(body: bytes) -> Any:
    rows = parse_body(body, content_type="application/x-ndjson")
    batch = prepare(rows, workspace_id=WS, session_id=SESSION, platform=PLATFORM)
    table = to_arrow(batch.events)
    outcome_of(batch, [e.event_id for e in batch.events])
    return table


def fast_path(body: bytes) -> Any:
    batch = fastndjson.fast_prepare(body, workspace_id=WS, session_id=SESSION, platform=PLATFORM)
    assert batch is not None, "the fast path gave up on a bench body"
    fastndjson.outcome_of(batch, batch.table.column("event_id").to_pylist())
    return batch.table


PATHS: dict[str, Callable[[bytes], Any]] = {"row": row_path, "fast": fast_path}


def check_same(bodies: list[bytes]) -> None:
    """Both paths store the same events (raw = the line as sent, see fastndjson)."""
    columns = [c for c in COLUMNS if c != "ingested_at"]
    for body in bodies:
        rows = parse_body(body, content_type="application/x-ndjson")
        raws = [line.strip().decode() for line in body.lstrip().splitlines() if line.strip()]
        batch = prepare(rows, workspace_id=WS, session_id=SESSION, platform=PLATFORM)
        pairs = zip(batch.events, batch.event_index, strict=True)
        events = [with_raw(e, raws[i]) for e, i in pairs]
        got = fastndjson.fast_prepare(body, workspace_id=WS, session_id=SESSION, platform=PLATFORM)
        assert got is not None and got.fallback == [] and not batch.rejections
        assert got.table.select(columns).equals(to_arrow(events).select(columns))


def wall_per_event(fn: Callable[[bytes], Any], bodies: list[bytes], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for body in bodies:
            fn(body)
        times.append((time.perf_counter() - start) / (len(bodies) * BATCH))
    return statistics.median(times) * 1e6


def loop(name: str, seconds: float, templates: int) -> None:
    """Child process: run one path over the bench bodies for ``seconds`` (py-spy samples it)."""
    fn = PATHS[name]
    maker = Bodies("ndjson", 0, templates, 0, "generator")
    bodies = [maker.body(n) for n in range(50)]
    for body in bodies[:3]:
        fn(body)
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn(bodies[done % len(bodies)])
        done += 1
    wall = time.perf_counter() - start
    print(json.dumps({"events": done * BATCH, "wall": wall}))


def _samples(raw: Path, frame: str) -> int:
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if frame in stack:
            total += int(count)
    return total


def gil_per_event(name: str, seconds: float, templates: int) -> tuple[float, float] | None:
    """(GIL µs/event, wall µs/event under py-spy) of a path, or None without py-spy."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        return None
    counts = []
    walls = []
    with tempfile.TemporaryDirectory() as tmp:
        for gil in (True, False):
            raw = Path(tmp) / f"{name}-{gil}.txt"
            command = [spy, "record", "-r", "250", "-f", "raw", "-o", str(raw)]
            command += ["--gil"] if gil else []
            command += ["--", sys.executable, __file__, "--loop", name]
            command += ["--seconds", str(seconds), "--templates", str(templates)]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0 or not raw.exists():
                print(done.stderr[-2000:], file=sys.stderr)
                return None
            out = [line for line in done.stdout.splitlines() if line.startswith("{")]
            result = json.loads(out[-1])
            walls.append(result["wall"] / result["events"] * 1e6)
            counts.append(_samples(raw, f"{PATHS[name].__name__} ("))
    if not counts[1]:
        return None
    wall = statistics.mean(walls)
    return wall * counts[0] / counts[1], wall


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=100, help="distinct bodies")
    parser.add_argument("--templates", type=int, default=8, help="generator slices")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0, help="per py-spy run")
    parser.add_argument("--no-gil", action="store_true", help="skip the py-spy runs")
    parser.add_argument("--loop", choices=sorted(PATHS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loop:
        loop(args.loop, args.seconds, args.templates)
        return

    t0 = time.perf_counter()
    maker = Bodies("ndjson", 0, args.templates, 0, "generator")
    bodies = [maker.body(n) for n in range(args.batches)]
    size = sum(len(b) for b in bodies) / len(bodies)
    print(
        f"{len(bodies)} bodies of {BATCH} events ({maker.source}), {size / 1024:.0f} KiB each; "
        f"made in {time.perf_counter() - t0:.1f} s; load average {_load()}"
    )
    check_same(bodies[: args.templates])
    print("fast path = row path on the first bodies (all columns but ingested_at): yes\n")

    for fn in PATHS.values():  # warm-up
        for body in bodies[:3]:
            fn(body)
    print(f"{'path':<6} {'wall µs/event':>14} {'GIL µs/event':>13} {'(wall under py-spy)':>20}")
    for name, fn in PATHS.items():
        wall = wall_per_event(fn, bodies, args.rounds)
        gil = None if args.no_gil else gil_per_event(name, args.seconds, args.templates)
        held = "-" if gil is None else f"{gil[0]:.2f}"
        spied = "-" if gil is None else f"{gil[1]:.2f}"
        print(f"{name:<6} {wall:>14.2f} {held:>13} {spied:>20}", flush=True)
    print(f"load average at the end: {_load()} (2 cores; other work inflates wall times)")


if __name__ == "__main__":
    main()
