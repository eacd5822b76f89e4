"""The review page served from materialised results, with 1 000 sessions in the workspace.

Sets up Django (dev settings) on a temporary SQLite database, creates one workspace with
``--sessions`` ended sessions spread over 120 days, each with a materialised result (summary,
240 minute rows, 10 segments — the shape ``analytics.services`` writes), signs in with the
test client and times GET of the review page of sessions picked at random. Prints p50 / p95
/ max; asserts nothing.

    .venv/bin/python bench/bench_review_page.py                 # 1 000 sessions, 200 requests
    .venv/bin/python bench/bench_review_page.py --sessions 200 --requests 50
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="liveops-bench-page-"))
    os.environ["LIVEOPS_DATA_DIR"] = str(tmp)
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'db.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from liveops.analytics.models import SegmentFigures, SessionMinute, SessionResult
    from liveops.planning.models import LiveSession, Segment
    from liveops.workspaces import services as ws_services

    call_command("migrate", verbosity=0, interactive=False)
    owner = ws_services.user_create(email="bench@example.com", password="x" * 12, display_name="B")
    workspace = ws_services.workspace_create(name="Bench", owner=owner)
    account = ws_services.account_create(
        workspace=workspace, by=owner, platform="douyin", name="bench account"
    )
    rng = random.Random(3)
    first = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    started = time.perf_counter()
    sessions = LiveSession.objects.bulk_create(
        [
            LiveSession(
                workspace=workspace,
                account=account,
                title=f"直播 {i}",
                scheduled_start=first + timedelta(hours=i * 3),
                scheduled_end=first + timedelta(hours=i * 3 + 4),
                actual_start=first + timedelta(hours=i * 3),
                actual_end=first + timedelta(hours=i * 3 + 4),
                status="ended",
            )
            for i in range(args.sessions)
        ]
    )
    segments, minutes, figures, results = [], [], [], []
    now = timezone.now()
    for s in sessions:
        start = s.actual_start
        for k in range(10):
            segments.append(
                Segment(
                    session=s, position=k, title=f"环节 {k}", offset_s=k * 1440, duration_s=1440
                )
            )
        uv = rng.randint(20_000, 300_000)
        results.append(
            SessionResult(
                workspace=workspace,
                session=s,
                computed_at=now,
                fingerprint="bench",
                engine="duckdb",
                start=start,
                end=start + timedelta(hours=4),
                currency="CNY",
                summary={
                    "uv": uv,
                    "pv": int(uv * 1.3),
                    "pcu": uv // 6,
                    "acu": uv / 9,
                    "avg_watch_s": rng.uniform(60, 400),
                    "stay_1min_rate": rng.uniform(0.3, 0.7),
                    "interaction_rate": rng.uniform(0.05, 0.3),
                    "comments": uv // 3,
                    "follows": uv // 50,
                    "orders": uv // 80,
                    "gmv": str(Decimal(uv * 3)),
                    "gpm": "2100.5",
                    "conversion_rate": 0.012,
                    "duration_s": 14400,
                },
                grains={"pcu": "events"},
                retention=[max(0.0, 1 - t / 70) for t in range(1, 61)],
                funnel=[{"step": "entered", "count": uv, "ratio": None}],
                sources=[{"source": "推荐", "entries": uv, "share": 1.0}],
                hot_words=[["好看", 900], ["多少钱", 700]],
                questions=[["这个多少钱？", 120]],
            )
        )
        for m in range(240):
            minutes.append(
                SessionMinute(
                    session=s,
                    minute=start + timedelta(minutes=m),
                    online=float(rng.randint(1000, 50_000)),
                    entries=rng.randint(100, 900),
                    exits=rng.randint(100, 900),
                    comments=rng.randint(10, 400),
                    likes=rng.randint(100, 9000),
                    gifts=rng.randint(0, 30),
                    orders=rng.randint(0, 20),
                    gmv=Decimal(rng.randint(0, 5000)),
                )
            )
    Segment.objects.bulk_create(segments, batch_size=5000)
    SessionResult.objects.bulk_create(results, batch_size=500)
    SessionMinute.objects.bulk_create(minutes, batch_size=5000)
    plan = {(g.session_id, g.position): g for g in Segment.objects.all()}
    for s in sessions:
        for k in range(10):
            seg = plan[(s.pk, k)]
            figures.append(
                SegmentFigures(
                    session=s,
                    segment=seg,
                    position=k,
                    title=seg.title,
                    start=s.actual_start + timedelta(minutes=24 * k),
                    end=s.actual_start + timedelta(minutes=24 * (k + 1)),
                    figures={
                        "planned_duration_s": 1440,
                        "online_start": 1000,
                        "online_end": 900,
                        "online_delta": -100,
                        "avg_online": 950.0,
                        "retention": 0.6,
                        "comments_per_min": 12.5,
                        "likes_per_min": 300.0,
                        "orders": 3,
                        "gmv": "450.00",
                    },
                )
            )
    SegmentFigures.objects.bulk_create(figures, batch_size=5000)
    LiveSession.objects.filter(workspace=workspace).update(updated_at=now - timedelta(days=1))
    Segment.objects.update(updated_at=now - timedelta(days=1))
    print(
        f"set-up: {args.sessions} sessions, {len(minutes)} minute rows "
        f"({time.perf_counter() - started:.1f} s)"
    )

    client = Client(HTTP_HOST="127.0.0.1")  # an allowed host of the dev settings
    client.force_login(owner)
    picks = [rng.choice(sessions) for _ in range(args.requests)]
    url = "/w/{ws}/reports/sessions/{pk}/"
    warm = client.get(url.format(ws=workspace.slug, pk=picks[0].pk))
    assert warm.status_code == 200, warm.status_code
    page = warm.content.decode()
    assert "kpi-uv" in page and "环节 3" in page, "the page shows the stored figures"
    print(f"page size {len(page) // 1024} KiB")
    times = []
    for s in picks:
        t = time.perf_counter()
        answer = client.get(url.format(ws=workspace.slug, pk=s.pk))
        times.append((time.perf_counter() - t) * 1000)
        assert answer.status_code == 200
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(
        f"review page, {len(times)} requests: p50 {statistics.median(times):.0f} ms, "
        f"p95 {p95:.0f} ms, max {times[-1]:.0f} ms (target p95 ≤ 200 ms)"
    )


if __name__ == "__main__":
    main()
