"""Benchmark of the review files: ``render.pdf.render_review`` and ``render.xlsx.render_review``.

    .venv/bin/python bench/bench_review_files.py                 # 4-hour, 10 M-event live
    .venv/bin/python bench/bench_review_files.py --comments 5000 # a smaller Comments sheet
    .venv/bin/python bench/bench_review_files.py --out /tmp/rv  # keep the files to look at

The review is the size of a 4-hour live of about 10 M events: 240 minutes, 20 segments,
~40 cues, 500 viewer rows and a Comments sheet capped at 50 000 rows (of ~2.2 M comments;
see ``xlsx.MAX_COMMENT_ROWS``). Renderers never query, so this times rendering alone —
building the ``Review`` from the analytics results is not included.

Each renderer runs once cold (first import and font lookups in this process) and then
``--repeat`` times; the median of the warm runs is what a worker that has rendered before
pays. No figure here is asserted anywhere; tests never time things.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from liveops.reports.review import Review
from liveops.reports.sample import sample_review


def timed(fn: Callable[[Review], bytes], review: Review) -> tuple[float, bytes]:
    started = time.perf_counter()
    data = fn(review)
    return time.perf_counter() - started, data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=240)
    parser.add_argument("--segments", type=int, default=20)
    parser.add_argument("--viewers", type=int, default=500)
    parser.add_argument("--comments", type=int, default=50_000, help="rows on the Comments sheet")
    parser.add_argument("--comments-total", type=int, default=2_200_000)
    parser.add_argument("--language", default="zh-hans", choices=["zh-hans", "en"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, help="write review.pdf and review.xlsx here")
    args = parser.parse_args()

    started = time.perf_counter()
    review = sample_review(
        args.language,
        minutes=args.minutes,
        segments=args.segments,
        viewers=args.viewers,
        comments=args.comments,
        comments_total=args.comments_total,
    )
    print(
        f"review: {args.minutes} min, {len(review.segments)} segments, {len(review.cues)} cues, "
        f"{len(review.viewers)} viewers, {len(review.comments):,} of "
        f"{review.comments_total:,} comments ({time.perf_counter() - started:.2f} s to build)"
    )

    import_started = time.perf_counter()
    from liveops.reports.render import pdf, xlsx

    print(
        f"import pdf + xlsx renderers (matplotlib, WeasyPrint): "
        f"{time.perf_counter() - import_started:.2f} s"
    )

    for name, fn, suffix in (
        ("xlsx", xlsx.render_review, "xlsx"),
        ("pdf", pdf.render_review, "pdf"),
    ):
        cold, data = timed(fn, review)
        warm = [timed(fn, review)[0] for _ in range(args.repeat)]
        tracemalloc.start()
        fn(review)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(
            f"{name:4}: cold {cold:.2f} s, warm median {statistics.median(warm):.2f} s "
            f"(min {min(warm):.2f}, max {max(warm):.2f}, n={len(warm)}), "
            f"{len(data) / 1e6:.2f} MB, Python heap peak {peak / 1e6:.0f} MB"
        )
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / f"review.{suffix}").write_bytes(data)


if __name__ == "__main__":
    main()
