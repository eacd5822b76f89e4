"""Benchmark: a whole session review (compute_session on DuckDB) vs two baselines.

Generates (once, cached under /tmp/liveops-bench-review/) a 4-hour session of N events in
the event store's Parquet layout (workspace_id=1/session_id=1/part-*.parquet), and the
session digest a live's refresher keeps (``analytics.digest``) as it stood ``--tail``
events before the end (built once and cached: during a live it is kept current by small
steps). Then times, best of --repeat:

* ``review (digest)`` — what happens when the live ends: load the stored digest, advance
  it with the last events, compute every figure (``compute_session``) — then the digest is
  saved, timed separately (the figures do not wait for it);
* ``review, digest current`` — the same computation when the digest is already current;
* ``review from files`` — ``compute_session`` with no digest (built from the files first);
* ``sql_baseline`` (plain DuckDB SQL) and ``pandas_baseline`` (analyst-style pandas);

checks that all agree on the core figures (counts exactly, floats to 1e-9 relative, money
exactly) and prints a table. Timings are printed, never asserted.

    .venv/bin/python bench/bench_review.py --events 1000000
    .venv/bin/python bench/bench_review.py            # 10 M events
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from review_baselines import CORE_KEYS, pandas_baseline, sql_baseline

from liveops.analytics.engine import open_engine
from liveops.analytics.results import SegmentSpec
from liveops.analytics.runner import compute_session
from liveops.events.schema import ARROW_SCHEMA
from liveops.events.store import ROW_GROUP_ROWS

CACHE = Path(tempfile.gettempdir()) / "liveops-bench-review"  # reused between runs
START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
HOURS = 4
END = START + timedelta(hours=HOURS)
CURRENCY = "CNY"
VIEWERS = 300_000
PARTS = 10
SEGMENTS = [
    SegmentSpec(
        f"s{i}",
        f"Segment {i + 1}",
        START + timedelta(minutes=24 * i),
        START + timedelta(minutes=24 * (i + 1)),
    )
    for i in range(10)
]
KIND_MIX = {
    "enter": 0.12,
    "leave": 0.09,
    "comment": 0.13,
    "like": 0.56,
    "follow": 0.015,
    "share": 0.015,
    "product_click": 0.045,
    "gift": 0.0117,
    "order": 0.003,
    "refund": 0.0003,
}


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


def _strings(codes: np.ndarray, dictionary: list[str], mask: np.ndarray | None = None) -> pa.Array:
    """A string column from integer codes into ``dictionary`` (null where ``mask``)."""
    indices = pa.array(codes.astype(np.int32), mask=mask)
    return pa.DictionaryArray.from_arrays(indices, pa.array(dictionary)).cast(pa.string())


def _decimals(unscaled: np.ndarray, valid: np.ndarray) -> pa.Array:
    """decimal128(18, 4) from non-negative unscaled int64 values (value × 10⁴)."""
    n = len(unscaled)
    words = np.zeros((n, 2), dtype=np.int64)
    words[:, 0] = np.where(valid, unscaled, 0)
    bitmap = np.packbits(valid.astype(np.uint8), bitorder="little")
    return pa.Array.from_buffers(
        pa.decimal128(18, 4), n, [pa.py_buffer(bitmap.tobytes()), pa.py_buffer(words.tobytes())],
        null_count=int(n - valid.sum()),
    )  # fmt: skip


def generate(n: int, seed: int = 7) -> list[str]:
    # the layout the event store's compaction writes: row groups of ROW_GROUP_ROWS rows
    root = CACHE / f"events-{n}-rg{ROW_GROUP_ROWS}" / "workspace_id=1" / "session_id=1"
    files = sorted(str(p) for p in root.glob("part-*.parquet"))
    if len(files) == PARTS:
        return files
    root.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    start_ms = int(START.timestamp() * 1000)
    end_ms = int(END.timestamp() * 1000)
    minute = 60_000
    # viewers: arrival peaking ~25 min after start (some before it), stay ~30 min, heavy tail
    arrival = start_ms - 10 * minute + rng.gamma(2.0, 25 * minute, VIEWERS)
    arrival = np.minimum(arrival, end_ms - minute)
    stay = rng.exponential(30 * minute, VIEWERS) + rng.exponential(2 * minute, VIEWERS)
    weight = rng.lognormal(0.0, 1.0, VIEWERS)
    weight /= weight.sum()

    kinds = list(KIND_MIX)
    p = np.array(list(KIND_MIX.values()))
    kind = rng.choice(len(kinds), n, p=p / p.sum()).astype(np.int8)
    viewer = rng.choice(VIEWERS, n, p=weight)
    u = rng.random(n)
    is_enter = kind == kinds.index("enter")
    is_leave = kind == kinds.index("leave")
    # enters cluster at the arrival, leaves near the end of the stay, the rest in between
    pos = np.where(is_enter, u**4, np.where(is_leave, 1 - (1 - u) ** 3, u))
    ts = arrival[viewer] + pos * stay[viewer]
    ts = np.clip(ts, start_ms - 15 * minute, end_ms + 10 * minute).astype(np.int64)
    order = np.argsort(ts, kind="stable")
    kind, viewer, ts = kind[order], viewer[order], ts[order]
    # a few events without a viewer id (platform glitches)
    no_viewer = rng.random(n) < 0.001

    like = kind == kinds.index("like")
    gift = kind == kinds.index("gift")
    money_kind = (kind == kinds.index("order")) | (kind == kinds.index("refund"))
    product_kind = money_kind | (kind == kinds.index("product_click"))
    quantity = np.where(like, rng.geometric(0.3, n), np.where(gift, rng.integers(1, 10, n), 0))
    has_quantity = like | gift
    cents = rng.integers(990, 59_900, n)  # ¥9.90 … ¥599.00
    unscaled = np.where(gift, rng.integers(1, 500, n) * 10_000, cents * 100)
    has_amount = money_kind | gift
    currency = np.where(money_kind, 0, -1)
    # 1 in 5 orders/refunds carry the currency code, the rest none (session currency)
    currency_mask = ~(money_kind & (rng.random(n) < 0.2))
    is_comment = kind == kinds.index("comment")
    sources = [
        "recommendation",
        "followers",
        "search",
        "short_video",
        "link:spring",
        "passphrase:tea",
    ]
    texts = ["666", "how much?", "nice", "link please", "❤️", "size?", "hello", "buy buy buy"]

    ids = pc.binary_join_element_wise("e", pc.cast(pa.array(np.arange(n)), pa.string()), "")
    viewer_dict = [f"v{i}" for i in range(VIEWERS)]
    name_dict = [f"viewer {i}" for i in range(VIEWERS)]
    raw = pa.Array.from_buffers(
        pa.string(), n, [None, pa.py_buffer((np.arange(n + 1, dtype=np.int32) * 2).tobytes()),
                         pa.py_buffer(b"{}" * n)],
    )  # fmt: skip
    ts_arr = pa.array(ts * 1000, type=pa.int64()).cast(pa.timestamp("us", tz="UTC"))
    columns = {
        "event_id": ids,
        "ts": ts_arr,
        "kind": _strings(kind, kinds),
        "viewer_id": _strings(viewer, viewer_dict, mask=no_viewer),
        "viewer_name": _strings(viewer, name_dict, mask=no_viewer),
        "text": _strings(rng.integers(0, len(texts), n), texts, mask=~is_comment),
        "quantity": pa.array(quantity.astype(np.int64), mask=~has_quantity),
        "amount": _decimals(unscaled.astype(np.int64), has_amount),
        "currency": _strings(np.maximum(currency, 0), [CURRENCY], mask=currency_mask),
        "product_id": _strings(
            rng.integers(0, 40, n), [f"p{i}" for i in range(40)], mask=~product_kind
        ),
        "source": _strings(rng.integers(0, len(sources), n), sources, mask=~is_enter),
        "platform": _strings(np.zeros(n, dtype=np.int64), ["douyin"]),
        "raw": raw,
        "ingested_at": ts_arr,
    }
    schema = pa.schema([f for f in ARROW_SCHEMA if f.name not in ("workspace_id", "session_id")])
    table = pa.Table.from_arrays([columns[f.name] for f in schema], schema=schema)
    step = math.ceil(n / PARTS)
    for i in range(PARTS):
        pq.write_table(
            table.slice(i * step, step),
            root / f"part-{i:05d}.parquet",
            row_group_size=ROW_GROUP_ROWS,
        )
    print(f"generated {n:,} events in {time.perf_counter() - t0:.1f} s under {root}")
    return sorted(str(p) for p in root.glob("part-*.parquet"))


# --------------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------------


def runner_figures(result: Any) -> dict[str, Any]:
    out = {key: result.summary.get(key) for key in CORE_KEYS}
    out["online_series"] = [row.online for row in result.minutes]
    out["retention"] = list(result.retention or [])
    out["segments"] = [
        {
            "online_start": s.online_start,
            "online_end": s.online_end,
            "avg_online": s.avg_online,
            "orders": s.orders,
            "gmv": s.gmv,
        }
        for s in result.segments
    ]
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def differences(ref: dict[str, Any], other: dict[str, Any]) -> list[str]:
    out = []
    for key in CORE_KEYS:
        if not _same(ref[key], other[key]):
            out.append(f"{key}: runner={ref[key]!r} baseline={other[key]!r}")
    for key in ("online_series", "retention"):
        a, b = ref[key], other[key]
        if len(a) != len(b):
            out.append(f"{key}: {len(a)} vs {len(b)} values")
            continue
        bad = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if not _same(x, y)]
        if bad:
            i = bad[0]
            out.append(f"{key}: {len(bad)} values differ, first [{i}] {a[i]!r} vs {b[i]!r}")
    for i, (sa, sb) in enumerate(zip(ref["segments"], other["segments"], strict=False)):
        for field, va in sa.items():
            if not _same(va, sb[field]):
                out.append(f"segment {i} {field}: runner={va!r} baseline={sb[field]!r}")
    if len(ref["segments"]) != len(other["segments"]):
        out.append("segments: different number")
    return out


def best_of(repeat: int, fn: Any) -> tuple[float, Any]:
    best, result = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def live_digest(files: list[str], tail_events: int, threads: int | None) -> tuple[Path, str]:
    """The digest a live's refresher keeps (built once, cached next to the data) as it was
    ``tail_events`` events before the end, and a file holding those last events.

    The last part is split into its head (in the digest) and its tail (not yet): the tail is
    what arrives between the refresher's last run and the end of the live.
    """
    from liveops.analytics import digest as digests

    folder = Path(files[0]).parent.parent.parent / f"digest-tail-{tail_events}"
    hive = Path("workspace_id=1") / "session_id=1"
    head_file = folder / "head" / hive / "part-head.parquet"
    tail_file = folder / "tail" / hive / "part-tail.parquet"
    if digests.load(folder / "digest") is not None and tail_file.exists():
        return folder / "digest", str(tail_file)
    last = pq.read_table(files[-1])
    head, tail = last.slice(0, last.num_rows - tail_events), last.slice(last.num_rows - tail_events)
    for path, part in ((head_file, head), (tail_file, tail)):
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(part, path)
    t0 = time.perf_counter()
    engine = open_engine("duckdb", threads=threads)
    digest = digests.build(engine, [*files[:-1], str(head_file)])
    digests.save(digest, folder / "digest")
    print(f"built the live's digest once in {time.perf_counter() - t0:.1f} s (cached)")
    return folder / "digest", str(tail_file)


def main() -> None:
    from liveops.analytics import digest as digests

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--pandas-repeat", type=int, default=None,
        help="runs of the pandas baseline (default: --repeat, 1 if a run takes > 20 s)",
    )  # fmt: skip
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (both)")
    parser.add_argument(
        "--tail", type=int, default=3_500,
        help="events that arrived after the refresher's last run (default: 5 s of the live)",
    )  # fmt: skip
    args = parser.parse_args()

    files = generate(args.events)
    size = sum(Path(f).stat().st_size for f in files)
    print(f"{args.events:,} events, {len(files)} files, {size / 1e6:.0f} MB; "
          f"window {START:%H:%M}–{END:%H:%M} UTC, {len(SEGMENTS)} segments")  # fmt: skip
    digest_folder, tail_file = live_digest(files, args.tail, args.threads)
    engine = open_engine("duckdb", threads=args.threads)
    work = Path(tempfile.mkdtemp(prefix="liveops-bench-digest-"))

    def review(digest: Any) -> Any:
        return compute_session(
            engine, events_files=files, start=START, end=END, currency=CURRENCY,
            segments=SEGMENTS, digest=digest,
        )  # fmt: skip

    def after_the_live() -> Any:
        """The live has ended: read the stored digest, add the events since the refresher's
        last run, compute every figure; then store the digest (as the service does: the
        figures do not wait for it)."""
        t0 = time.perf_counter()
        base = digests.load(digest_folder)
        assert base is not None
        digest = digests.advance(engine, base, [tail_file])
        result = review(digest)
        ready.append(time.perf_counter() - t0)
        t1 = time.perf_counter()
        digests.save(digest, work / "digest")
        saves.append(time.perf_counter() - t1)
        return result

    ready: list[float] = []
    saves: list[float] = []

    def from_files() -> Any:
        return review(None)

    timings: dict[str, float] = {}
    results: dict[str, dict[str, Any]] = {}
    _, res = best_of(args.repeat, after_the_live)
    timings["review (digest)"] = min(ready)
    results["review (digest)"] = runner_figures(res)
    print(f"  review, digest + last {args.tail:,} events  {timings['review (digest)']:.3f} s")
    up_to_date = digests.load(work / "digest")
    timings["review, digest current"], _ = best_of(args.repeat, lambda: review(up_to_date))
    print(f"  review, digest current            {timings['review, digest current']:.3f} s")
    timings["review from files"], res_files = best_of(1, from_files)
    results["review from files"] = runner_figures(res_files)
    print(f"  review from the files (no digest) {timings['review from files']:.3f} s")
    timings["sql_baseline"], results["sql_baseline"] = best_of(
        args.repeat, lambda: sql_baseline(files, START, END, SEGMENTS, CURRENCY, args.threads)
    )
    print(f"  sql_baseline     {timings['sql_baseline']:.3f} s")
    t0 = time.perf_counter()
    results["pandas_baseline"] = pandas_baseline(files, START, END, SEGMENTS, CURRENCY)
    first = time.perf_counter() - t0
    reps = args.pandas_repeat or (1 if first > 20 else args.repeat)
    timings["pandas_baseline"] = first
    if reps > 1:
        more, _ = best_of(reps - 1, lambda: pandas_baseline(files, START, END, SEGMENTS, CURRENCY))
        timings["pandas_baseline"] = min(first, more)
    print(f"  pandas_baseline  {timings['pandas_baseline']:.3f} s ({reps} run(s))")
    advance_s, _ = best_of(
        args.repeat, lambda: digests.advance(engine, digests.load(digest_folder), [tail_file])
    )

    ref = results["review (digest)"]
    agree = {"review (digest)": "reference", "review, digest current": "(same digest)"}
    for name in ("review from files", "sql_baseline", "pandas_baseline"):
        d = differences(ref, results[name])
        agree[name] = "identical" if not d else f"{len(d)} difference(s)"
        for line in d[:20]:
            print(f"DIFF {name}: {line}")

    print()
    print(f"{'implementation':<24}{'seconds':>10}{'vs SQL':>10}{'vs pandas':>11}  agreement")
    for name, sec in timings.items():
        print(
            f"{name:<24}{sec:>10.3f}{timings['sql_baseline'] / sec:>9.2f}×"
            f"{timings['pandas_baseline'] / sec:>10.2f}×  {agree[name]}"
        )
    print()
    print(
        f"uv={ref['uv']:,} pv={ref['pv']:,} pcu={ref['pcu']:.1f} acu={ref['acu']:.1f} "
        f"avg_watch_s={ref['avg_watch_s']:.1f} gmv={ref['gmv']} orders={ref['orders']:,} "
        f"minutes={len(ref['online_series'])}"
    )
    print(
        f"one refresher step (load + advance by {args.tail:,} events, no save): {advance_s:.3f} s;"
        f" saving the digest: {min(saves):.3f} s (after the figures, not in the time above)"
    )
    target = timings["review (digest)"]
    print(
        f"targets (not asserted): ≤ 1.0 s: {target:.3f} s; ≥ 2× SQL: "
        f"{timings['sql_baseline'] / target:.2f}×; ≥ 10× pandas: "
        f"{timings['pandas_baseline'] / target:.2f}×"
    )


if __name__ == "__main__":
    main()
