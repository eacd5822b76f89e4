"""The event generator: deterministic, valid, realistic in shape, streaming in flat memory."""

from __future__ import annotations

import gzip
import resource
import tracemalloc
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from liveops.events.generator import (
    GenerateProgress,
    generate,
    generate_session_file,
    viewers_for,
)
from liveops.events.schema import KINDS, NormalizedEvent, validate

START = datetime(2026, 3, 8, 20, 0, tzinfo=UTC)


def session(**kw: Any) -> list[dict[str, Any]]:
    args: dict[str, Any] = {"duration_s": 1800, "viewers": 1500, "start": START, "seed": 11}
    args.update(kw)
    return list(generate(**args))


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    return session()


def test_same_seed_same_events_other_seed_other_events() -> None:
    first = session(duration_s=600, viewers=400)
    assert first == session(duration_s=600, viewers=400)
    other = session(duration_s=600, viewers=400, seed=12)
    assert [e["ts"] for e in other] != [e["ts"] for e in first]
    assert not {e["event_id"] for e in first} & {e["event_id"] for e in other}


def test_every_kind_is_present_in_plausible_proportions(events: list[dict[str, Any]]) -> None:
    kinds = Counter(e["kind"] for e in events)
    assert set(kinds) == KINDS
    assert kinds["like"] > kinds["comment"] > kinds["order"] > kinds["refund"] > 0
    assert kinds["enter"] > kinds["leave"]  # a share of viewers never sends leave
    uv = len({e["viewer_id"] for e in events if e["kind"] == "enter"})
    assert 1400 <= uv <= 1500 < kinds["enter"]  # about `viewers` distinct; re-entries on top
    sources = Counter(e["source"] for e in events if e["kind"] == "enter")
    assert {"recommendation", "followers", "search", "short_video", "ads:qianchuan"} <= set(sources)
    assert any(s.startswith(("link:", "passphrase:")) for s in sources)
    texts = {e["text"] for e in events if e["kind"] == "comment"}
    assert {"上链接", "这个多少钱"} <= texts
    orders = [e for e in events if e["kind"] == "order"]
    assert all(e["currency"] == "CNY" and float(e["amount"]) > 0 for e in orders)


def test_timestamps_never_go_back_and_ids_are_unique(events: list[dict[str, Any]]) -> None:
    ts = [e["ts"] for e in events]
    assert ts == sorted(ts)
    start_ms = int(START.timestamp() * 1000)
    assert start_ms < ts[0] and ts[-1] <= start_ms + 1800 * 1000
    assert len({e["event_id"] for e in events}) == len(events)


def test_viewers_act_only_between_enter_and_leave(events: list[dict[str, Any]]) -> None:
    watching: dict[str, bool] = {}
    for e in events:
        viewer, kind = e.get("viewer_id"), e["kind"]
        if kind == "enter":
            watching[viewer] = True  # a second enter follows a silent departure
        elif kind == "leave":
            assert watching.get(viewer), f"leave before enter: {e}"
            watching[viewer] = False
        elif viewer is not None and kind != "refund":  # refunds may come after leaving
            assert viewer in watching, f"{kind} before any enter: {e}"


def test_online_count_is_the_number_of_open_intervals() -> None:
    """With every departure sending leave, a snapshot equals enters − leaves so far; when
    some viewers leave silently it is smaller (what the platform's counter shows)."""
    for share in (1.0, 0.6):
        open_now = 0
        diffs: list[int] = []
        for e in session(duration_s=900, viewers=800, leave_share=share):
            if e["kind"] == "enter":
                open_now += 1
            elif e["kind"] == "leave":
                open_now -= 1
            elif e["kind"] == "online_count":
                diffs.append(open_now - e["quantity"])
        assert len(diffs) == 89  # every 10 s, not at the very end
        if share == 1.0:
            assert set(diffs) == {0}
        else:
            assert min(diffs) >= 0 and max(diffs) > 0


def test_schema_accepts_every_generated_event() -> None:
    for platform, ts_format in (("douyin", "ms"), ("tiktok", "iso"), ("bilibili", "ms")):
        rows = session(duration_s=600, viewers=500, platform=platform, ts_format=ts_format)
        results = [validate(r, workspace_id=1, session_id=1) for r in rows]
        rejected = [r for r in results if not isinstance(r, NormalizedEvent)]
        assert rejected == []
        assert all(isinstance(r, NormalizedEvent) and r.platform == platform for r in results)


def test_n_events_is_exact_and_the_live_still_runs_to_its_end() -> None:
    for n in (5_000, 12_345):
        rows = session(n_events=n, viewers=viewers_for(n, duration_s=1800))
        assert len(rows) == n
        assert rows[-1]["kind"] == "leave"  # the live's end: the last viewers leave
        assert rows[-1]["ts"] == int(START.timestamp() * 1000) + 1800 * 1000
    assert len(session(n_events=50)) == 50  # fewer than the entries: cut there


def test_segments_and_products_shape_the_live() -> None:
    products = [("sku-1", "羊绒围巾 180cm", "299.00"), ("sku-2", "加厚保暖袜 5双装", "39.90")]
    rows = session(segments=[(300, 600), (900, 1200)], products=products, seed=3)
    clicks = Counter(
        e["product_id"] for e in rows if e["kind"] == "product_click" and 300e3 <= rel(e) < 600e3
    )
    assert clicks.most_common(1)[0][0] == "sku-1"  # the product being explained
    per_minute = Counter(int(rel(e) // 60_000) for e in rows if e["kind"] == "comment")
    assert per_minute[5] > 2 * per_minute[13]  # a comment burst as the explanation starts
    assert {e["amount"] for e in rows if e["kind"] == "order"} <= {
        "299.00",
        "598.00",
        "897.00",
        "39.90",
        "79.80",
        "119.70",
    }
    with pytest.raises(ValueError, match="segment"):
        generate(duration_s=600, viewers=10, start=START, seed=1, segments=[(500, 700)])
    with pytest.raises(ValueError, match="time zone"):
        generate(duration_s=600, viewers=10, start=datetime(2026, 1, 1), seed=1)


def rel(event: dict[str, Any]) -> float:
    return event["ts"] - START.timestamp() * 1000


def test_memory_stays_flat_while_streaming_a_million_events() -> None:
    """Memory allocated while events stream and still held afterwards does not grow with the
    number of events: traced (tracemalloc) over 20 000 events early and 20 000 at the end of
    a million (tracing all of it would take minutes), plus the process's peak RSS."""
    n = 1_000_000
    viewers = viewers_for(n, duration_s=3600)
    stream = generate(n_events=n, duration_s=3600, viewers=viewers, start=START, seed=5)
    windows = {100_000: 120_000, 960_000: 980_000}
    retained: list[int] = []
    peak_rss: list[int] = []
    count = 0
    for _ in stream:
        count += 1
        if count in windows:
            peak_rss.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
            tracemalloc.start()
        elif count in windows.values():
            retained.append(tracemalloc.get_traced_memory()[0])
            tracemalloc.stop()
    assert count == n
    # 20 000 events held would be about 9 MB; what stays is the audience's state (viewers
    # online, recently departed ones who may come back), which does not grow with events
    assert max(retained) < 3 * 1024 * 1024, retained
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_rss[0]
    assert grown_kib < 64 * 1024, grown_kib  # holding 900 000 events would be ~1 GB


def test_session_file_is_ndjson_or_gzip_and_reports_progress(tmp_path: Path) -> None:
    seen: list[GenerateProgress] = []
    kw: dict[str, Any] = {"n_events": 40_000, "duration_s": 1200, "viewers": 3000}
    plain = generate_session_file(
        tmp_path / "live.ndjson", progress=seen.append, start=START, seed=2, **kw
    )
    packed = generate_session_file(tmp_path / "live.ndjson.gz", start=START, seed=2, **kw)
    assert plain.events == packed.events == 40_000
    lines = (tmp_path / "live.ndjson").read_bytes().splitlines()
    assert lines == gzip.decompress((tmp_path / "live.ndjson.gz").read_bytes()).splitlines()
    assert [orjson.loads(line) for line in lines[:100]] == session(seed=2, **kw)[:100]
    assert seen[-1].events == 40_000 and seen[0].events < 40_000
    assert not list(tmp_path.glob("*.part"))


def test_cli_generate_writes_the_file_and_prints_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from liveops.cli import main

    out = tmp_path / "g.ndjson.gz"
    args = ["generate", "--out", str(out), "--events", "3000", "--duration", "20m", "--seed", "4"]
    assert main([*args, "--start", "2026-03-08T20:00+08:00", "--platform", "bilibili"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["events"] == 3000 and printed["duration_s"] == 1200
    rows = [orjson.loads(x) for x in gzip.decompress(out.read_bytes()).splitlines()]
    assert len(rows) == 3000 and rows[0]["platform"] == "bilibili"
    assert main(["generate", "--out", str(out), "--duration", "5"]) == 2
    assert capsys.readouterr().err.startswith("liveops: error: --duration")
