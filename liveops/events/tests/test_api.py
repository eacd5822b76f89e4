"""The ingest API: counts that add up, duplicates stored once, clear errors, back-pressure."""

from __future__ import annotations

import gzip
import random
import threading
import urllib.request
from typing import Any

import orjson
import pytest
from django.test import Client

from liveops.events import api as events_api
from liveops.events.models import IngestTally, RejectedRow
from liveops.events.runtime import event_store
from liveops.planning.models import LiveSession
from liveops.workspaces.services import api_key_create
from tests.factories import SessionFactory

BASE_MS = 1_764_200_000_000


def events(n: int, start: int = 0, kind: str = "comment") -> list[dict[str, Any]]:
    return [
        {
            "event_id": f"e{i}",
            "ts": BASE_MS + i * 10,
            "kind": kind,
            "viewer_id": f"u{i % 7}",
            "viewer_name": "观众",
            "text": f"弹幕 {i}",
        }
        for i in range(start, start + n)
    ]


@pytest.fixture
def session(db: None) -> LiveSession:
    return SessionFactory()


@pytest.fixture
def key(session: LiveSession) -> str:
    return api_key_create(workspace=session.workspace, name="t", by=None)[1]


def post(client: Client, session: LiveSession, key: str, body: bytes, **headers: str) -> Any:
    return client.post(
        f"/api/v1/sessions/{session.pk}/events",
        body,
        content_type=headers.pop("content_type", "application/json"),
        HTTP_AUTHORIZATION=f"Bearer {key}",
        **headers,
    )


@pytest.mark.django_db
def test_batch_is_stored_once_and_resend_is_all_duplicates(session: LiveSession, key: str) -> None:
    client = Client()
    first = post(client, session, key, orjson.dumps(events(50)))
    assert first.status_code == 200
    assert first.json()["counts"] == {
        "sent": 50,
        "accepted": 50,
        "duplicate": 0,
        "rejected": 0,
        "by_kind": {"comment": 50},
    }
    again = post(client, session, key, orjson.dumps(events(50)))
    assert again.json()["counts"]["duplicate"] == 50
    assert {r["status"] for r in again.json()["results"]} == {"duplicate"}
    assert event_store().count(session.workspace_id, session.pk) == 50
    tally = IngestTally.objects.get(session=session)
    assert (tally.accepted, tally.duplicate, tally.rejected) == (50, 50, 0)


@pytest.mark.django_db
def test_fuzzed_mix_adds_up_and_rejections_keep_raw_and_reason(
    session: LiveSession, key: str
) -> None:
    rng = random.Random(7)
    rows: list[Any] = []
    bad = 0
    for i in range(400):
        row: Any = {"event_id": f"m{i % 300}", "ts": BASE_MS + i, "kind": "like", "quantity": 1}
        roll = rng.random()
        if roll < 0.1:
            row["kind"] = "teleport"
        elif roll < 0.2:
            row["ts"] = "yesterday"
        elif roll < 0.25:
            row = ["not", "an", "object"]
        elif roll < 0.3:
            row["quantity"] = -3
        else:
            rows.append(row)
            continue
        bad += 1
        rows.append(row)
    response = post(Client(), session, key, orjson.dumps(rows))
    counts = response.json()["counts"]
    assert counts["accepted"] + counts["duplicate"] + counts["rejected"] == counts["sent"] == 400
    assert counts["rejected"] == bad
    results = response.json()["results"]
    assert [r["index"] for r in results] == list(range(400))
    rejected = [r for r in results if r["status"] == "rejected"]
    assert all(r["code"] and r["field"] and r["message"] for r in rejected)
    kept = RejectedRow.objects.filter(session=session)
    assert kept.count() == len({(r["event_id"] or str(rows[r["index"]])) for r in rejected})
    sample = kept.filter(code="bad_kind").first()
    assert sample is not None and "teleport" in sample.raw and sample.field == "kind"
    assert event_store().count(session.workspace_id, session.pk) == counts["accepted"]


@pytest.mark.django_db
def test_ndjson_and_gzip_bodies(session: LiveSession, key: str) -> None:
    ndjson = b"\n".join(orjson.dumps(e) for e in events(20))
    response = post(
        Client(),
        session,
        key,
        gzip.compress(ndjson),
        content_type="application/x-ndjson",
        HTTP_CONTENT_ENCODING="gzip",
    )
    assert response.json()["counts"]["accepted"] == 20
    broken = ndjson + b"\n{not json"
    response = post(Client(), session, key, broken, content_type="application/x-ndjson")
    assert response.status_code == 400
    assert "line 21" in response.json()["message"]


@pytest.mark.django_db
def test_limits_answer_413_with_a_clear_message(session: LiveSession, key: str) -> None:
    too_many = post(Client(), session, key, orjson.dumps(events(10_001)))
    assert too_many.status_code == 413 and too_many.json()["error"] == "too_many_rows"
    bomb = gzip.compress(b"[" + b" " * (70 * 1024 * 1024) + b"]")
    response = post(Client(), session, key, bomb, HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 413 and response.json()["error"] == "body_too_large"
    assert event_store().count(session.workspace_id, session.pk) == 0


@pytest.mark.django_db
def test_overload_is_503_with_retry_after(
    session: LiveSession, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events_api, "MAX_PENDING_EVENTS", 10)
    monkeypatch.setattr(events_api, "_pending", 5)
    response = post(Client(), session, key, orjson.dumps(events(20)))
    assert response.status_code == 503 and response["Retry-After"] == "1"
    assert event_store().count(session.workspace_id, session.pk) == 0


@pytest.mark.django_db
def test_other_workspaces_session_is_404(session: LiveSession, key: str) -> None:
    other = SessionFactory()
    response = post(Client(), other, key, orjson.dumps(events(1)))
    assert response.status_code == 404
    no_key = Client().post(
        f"/api/v1/sessions/{session.pk}/events", b"[]", content_type="application/json"
    )
    assert no_key.status_code == 401


def test_same_batch_ten_times_eight_concurrently_is_stored_once(
    live_server: Any, transactional_db: None
) -> None:
    session = SessionFactory()
    secret = api_key_create(workspace=session.workspace, name="t", by=None)[1]
    body = orjson.dumps(events(1000))
    url = f"{live_server.url}/api/v1/sessions/{session.pk}/events?results=errors"

    def send() -> dict[str, Any]:
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return dict(orjson.loads(response.read())["counts"])

    answers: list[dict[str, Any]] = [send()]
    threads = [threading.Thread(target=lambda: answers.append(send())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    answers.append(send())
    assert len(answers) == 10
    assert sum(a["accepted"] for a in answers) == 1000
    assert sum(a["duplicate"] for a in answers) == 9000
    assert event_store().count(session.workspace_id, session.pk) == 1000


@pytest.mark.django_db
def test_fresh_events_make_a_planned_session_live_old_ones_do_not(
    session: LiveSession, key: str
) -> None:
    import time

    old = [{"event_id": "old", "ts": BASE_MS, "kind": "comment", "text": "回放"}]
    post(Client(), session, key, orjson.dumps(old))
    session.refresh_from_db()
    assert session.status == "planned" and session.actual_start is None
    now_ms = int(time.time() * 1000)
    fresh = [{"event_id": f"n{i}", "ts": now_ms - 1000 + i, "kind": "enter"} for i in range(3)]
    post(Client(), session, key, orjson.dumps(fresh))
    session.refresh_from_db()
    assert session.status == "live"
    assert session.actual_start is not None
    assert abs(session.actual_start.timestamp() * 1000 - (now_ms - 1000)) < 2


@pytest.mark.django_db
def test_tally_is_reconciled_from_the_store_after_a_lost_update(
    session: LiveSession, key: str
) -> None:
    from liveops.events.services import tally_reconcile

    post(Client(), session, key, orjson.dumps(events(30)))
    # A crash between the store commit and the tally update loses the count.
    IngestTally.objects.filter(session=session).update(accepted=0, by_kind={})
    tally_reconcile(workspace_id=session.workspace_id, session_id=session.pk)
    tally = IngestTally.objects.get(session=session)
    assert tally.accepted == 30 and tally.by_kind == {"comment": 30}


@pytest.mark.django_db
def test_live_compaction_merges_small_files_without_vacuum(session: LiveSession, key: str) -> None:
    for start in range(0, 60, 10):
        post(Client(), session, key, orjson.dumps(events(10, start=start)))
    store = event_store()
    before = len(store.file_uris(session.workspace_id, session.pk))
    result = store.compact(session.workspace_id, session.pk, target_size=1024 * 1024, vacuum=False)
    assert before == result.files_before >= 6
    assert result.files_after == 1 and result.files_vacuumed == 0
    assert store.count(session.workspace_id, session.pk) == 60
