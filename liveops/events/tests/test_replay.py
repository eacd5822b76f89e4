"""Replay through the real ingest API (pytest-django's live server): totals that add up,
stable ids (a second or resumed replay adds nothing), retries on 503, clean stops."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from liveops.cli import main
from liveops.events import api as events_api
from liveops.events import replay as replay_module
from liveops.events.generator import generate_session_file
from liveops.events.models import IngestTally
from liveops.events.replay import ReplayError, ReplayProgress, replay
from liveops.events.runtime import event_store
from liveops.planning.models import LiveSession
from liveops.workspaces.services import api_key_create
from tests.factories import SessionFactory

START = datetime(2026, 3, 8, 20, 0, tzinfo=UTC)


@pytest.fixture
def live(live_server: Any, transactional_db: None) -> tuple[str, LiveSession, str]:
    session = SessionFactory()
    secret = api_key_create(workspace=session.workspace, name="replay", by=None)[1]
    return live_server.url, session, secret


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    path = tmp_path / "live.ndjson.gz"
    generate_session_file(path, duration_s=900, viewers=300, start=START, seed=21)
    return path


def lines_of(path: Path) -> list[dict[str, Any]]:
    import gzip

    return [orjson.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]


def stored(session: LiveSession) -> int:
    return event_store().count(session.workspace_id, session.pk)


def test_replay_stores_every_event_once_retimed_to_now_and_again_adds_nothing(
    live: tuple[str, LiveSession, str], recording: Path
) -> None:
    url, session, secret = live
    rows = lines_of(recording)
    seen: list[ReplayProgress] = []
    before = time.time() * 1000
    first = replay(
        recording,
        base_url=url,
        api_key=secret,
        session_id=session.pk,
        speed=100_000,
        progress=seen.append,
    )
    assert first.rows == first.sent == len(rows) > 1500
    assert (first.accepted, first.duplicate, first.rejected) == (len(rows), 0, 0)
    assert first.batches == -(-len(rows) // 1000) and first.retries == 0
    assert first.format == "ndjson" and not first.interrupted
    assert stored(session) == first.accepted
    assert first.by_kind == dict(event_store().count_by_kind(session.workspace_id, session.pk))
    # re-timed: the first event is now, the 15-minute recording is compressed 100 000×
    assert first.first_ts_ms is not None and first.last_ts_ms is not None
    assert before - 1000 <= first.first_ts_ms <= time.time() * 1000
    span = rows[-1]["ts"] - rows[0]["ts"]
    assert abs((first.last_ts_ms - first.first_ts_ms) - span / 100_000) <= 1
    assert seen and seen[-1].fraction == 1.0

    again = replay(recording, base_url=url, api_key=secret, session_id=session.pk, speed=100_000)
    assert (again.sent, again.accepted, again.duplicate) == (len(rows), 0, len(rows))
    assert stored(session) == len(rows)
    tally = IngestTally.objects.get(session=session)
    assert (tally.accepted, tally.duplicate, tally.rejected) == (len(rows), len(rows), 0)


def test_a_503_is_retried_after_retry_after(
    live: tuple[str, LiveSession, str], recording: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, session, secret = live
    monkeypatch.setattr(events_api, "MAX_PENDING_EVENTS", 10)
    monkeypatch.setattr(events_api, "_pending", 5)  # saturated: every batch gets 503
    relief = threading.Timer(1.5, lambda: setattr(events_api, "_pending", 0))
    relief.start()
    try:
        totals = replay(
            recording, base_url=url, api_key=secret, session_id=session.pk, speed=100_000
        )
    finally:
        relief.cancel()
    assert totals.retries >= 1
    assert totals.accepted == totals.sent == len(lines_of(recording))
    assert stored(session) == totals.accepted


def test_real_time_pacing_batches_by_max_wait_and_stops_cleanly_then_resumes(
    live: tuple[str, LiveSession, str], tmp_path: Path
) -> None:
    url, session, secret = live
    path = tmp_path / "slow.json"
    base = int(START.timestamp() * 1000)
    rows = [
        {"event_id": f"c{i}", "ts": base + i * 100, "kind": "comment", "text": f"弹幕{i}"}
        for i in range(40)
    ]
    path.write_bytes(orjson.dumps(rows))  # a JSON array works too
    stop = threading.Event()
    threading.Timer(1.0, stop.set).start()
    began = time.monotonic()
    cut = replay(
        path,
        base_url=url,
        api_key=secret,
        session_id=session.pk,
        speed=2,  # 4 s of recording → 2 s
        max_wait_s=0.3,
        stop=stop,
    )
    assert cut.interrupted and time.monotonic() - began < 1.8
    assert cut.format == "json-array"
    assert cut.batches >= 2 and 0 < cut.accepted < 40  # sent in small batches as they fell due
    assert stored(session) == cut.accepted

    resumed = replay(path, base_url=url, api_key=secret, session_id=session.pk, speed=1000)
    assert resumed.duplicate == cut.accepted  # ids are stable: nothing is stored twice
    assert resumed.accepted == 40 - cut.accepted
    assert stored(session) == 40


def test_rows_without_ids_and_importer_formats_get_stable_ids(
    live: tuple[str, LiveSession, str], tmp_path: Path
) -> None:
    url, session, secret = live
    log = tmp_path / "chat.log"
    log.write_text(
        "[2024-05-01 15:04:02 UTC] alice: hello\n"
        "[2024-05-01 15:04:03 UTC] bob: how much is it\n"
        "[2024-05-01 15:04:03 UTC] bob: how much is it\n"  # the same line twice: two events
        "[2024-05-01 15:04:05 UTC] carol: love this\n"
    )
    first = replay(log, base_url=url, api_key=secret, session_id=session.pk, speed=10_000)
    assert first.format == "twitch-log"
    assert (first.sent, first.accepted) == (4, 4)
    again = replay(log, base_url=url, api_key=secret, session_id=session.pk, speed=10_000)
    assert (again.accepted, again.duplicate) == (0, 4)
    # one recording into a second session of the workspace: a prefix keeps the ids apart
    other = SessionFactory(workspace=session.workspace, account=session.account)
    third = replay(
        log, base_url=url, api_key=secret, session_id=other.pk, speed=10_000, id_prefix="s2:"
    )
    assert third.accepted == 4


def test_refused_key_unknown_session_and_dead_server_stop_with_a_reason(
    live: tuple[str, LiveSession, str], recording: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, session, secret = live
    with pytest.raises(ReplayError, match="refused"):
        replay(recording, base_url=url, api_key="lo_nope", session_id=session.pk, speed=1e5)
    with pytest.raises(ReplayError, match="does not exist"):
        replay(recording, base_url=url, api_key=secret, session_id=10**9, speed=1e5)
    monkeypatch.setattr(replay_module, "BACKOFF_BASE_S", 0.01)
    with pytest.raises(ReplayError, match="giving up after 2 retries"):
        replay(
            recording,
            base_url="http://127.0.0.1:9",  # nothing listens there
            api_key=secret,
            session_id=session.pk,
            speed=1e5,
            max_retries=2,
        )


def test_cli_replay_prints_totals_and_explains_errors(
    live: tuple[str, LiveSession, str],
    recording: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, session, secret = live
    monkeypatch.setenv("LIVEOPS_API_KEY", secret)
    args = ["replay", str(recording), "--session", str(session.pk), "--speed", "100000"]
    assert main([*args, "--url", url]) == 0
    out = capsys.readouterr()
    totals = json.loads(out.out)
    assert totals["session"] == session.pk
    assert totals["accepted"] == totals["sent"] == stored(session)
    monkeypatch.delenv("LIVEOPS_API_KEY")
    assert main([*args, "--url", url]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("liveops: error: --api-key") and "\n" not in err


def test_demo_stores_past_events_once_and_feeds_the_live_session_by_replay(
    live_server: Any, transactional_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from liveops import demo

    small = [
        dataclasses.replace(p, duration_s=1800, events=1500 + 500 * i)
        for i, p in enumerate(demo.ENDED_SESSIONS)
    ]
    monkeypatch.setattr(demo, "ENDED_SESSIONS", small)
    monkeypatch.setattr(demo, "LIVE_RECORDING", {"duration_s": 1200, "viewers": 150})

    first = demo.demo_setup()
    ws = LiveSession.objects.get(pk=first.live_session_id).workspace_id
    counts = {s.title: stored(s) for s in LiveSession.objects.filter(status="ended")}
    assert sorted(counts.values()) == [1500 + 500 * i for i in range(len(small))]
    key_file = Path(first.api_key_file)
    assert key_file.stat().st_mode & 0o777 == 0o600
    secret = key_file.read_text().strip()
    assert secret.startswith("lo_") and "liveops replay --demo" in first.replay_hint

    second = demo.demo_setup()  # idempotent: no new events, sessions, key or live session
    assert {s.title: stored(s) for s in LiveSession.objects.filter(status="ended")} == counts
    assert event_store().count(ws) == sum(counts.values())
    assert key_file.read_text().strip() == secret
    assert second.live_session_id == first.live_session_id
    assert LiveSession.objects.filter(workspace_id=ws).count() == 3 + len(small) + 1

    live, totals = demo.demo_live_replay(base_url=live_server.url, speed=100_000, wait_s=5)
    assert live.pk == first.live_session_id and not totals.interrupted
    assert totals.accepted == totals.sent == stored(live) > 0
    live.refresh_from_db()
    assert live.status == "ended" and live.actual_start is not None
    # a further run feeds a new live session (this one has ended)
    again, _ = demo.demo_live_replay(base_url=live_server.url, speed=100_000, wait_s=5)
    assert again.pk != live.pk and stored(again) > 0
