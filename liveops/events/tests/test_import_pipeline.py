"""Imports end to end: real recordings through the CLI and the upload page into the store."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liveops.cli import main
from liveops.events.models import ImportJob, RejectedRow
from liveops.events.runtime import event_store, reset_event_store
from liveops.planning.models import LiveSession
from tests.factories import MembershipFactory, SessionFactory

REALDATA = Path(__file__).resolve().parents[3].parent / "shared" / "realdata"
RECORDINGS = sorted(REALDATA.glob("*/*.json"))
pytestmark = pytest.mark.django_db


def run_import(
    capsys: pytest.CaptureFixture[str], path: Path, session: LiveSession, *extra: str
) -> dict[str, Any]:
    assert main(["import", str(path), "--session", str(session.pk), *extra]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1, "the CLI ends with exactly one JSON line"
    return dict(json.loads(lines[0]))


@pytest.mark.skipif(not RECORDINGS, reason=f"real recordings not found in {REALDATA}")
@pytest.mark.parametrize("path", RECORDINGS, ids=[p.name for p in RECORDINGS])
def test_real_recording_imports_once_and_counts_add_up(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = SessionFactory(scheduled_start=datetime(2020, 12, 1, 12, 0, tzinfo=UTC))
    first = run_import(capsys, path, session)
    assert first["accepted"] > 0
    assert first["records"] == (
        first["accepted"] + first["duplicate"] + first["rejected"] + first["skipped"]
    )
    stored = event_store().count_by_kind(session.workspace_id, session.pk)
    assert stored == first["by_kind"]
    assert RejectedRow.objects.filter(session=session).count() == first["rejected"]
    again = run_import(capsys, path, session)
    assert again["accepted"] == 0
    assert again["duplicate"] == first["accepted"]
    assert event_store().count_by_kind(session.workspace_id, session.pk) == stored


def test_unknown_format_and_missing_file_are_clear_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = SessionFactory()
    odd = tmp_path / "notes.txt"
    odd.write_text("hello\nworld\n")
    assert main(["import", str(odd), "--session", str(session.pk)]) == 2
    err = capsys.readouterr().err
    assert "--format" in err and err.count("\n") == 1
    assert main(["import", str(tmp_path / "nope.json"), "--session", str(session.pk)]) == 2
    assert "does not exist" in capsys.readouterr().err
    fake = tmp_path / "export.xlsx"
    fake.write_text("a,b\n1,2\n")
    assert main(["import", str(fake), "--session", str(session.pk)]) == 2
    assert "Excel" in capsys.readouterr().err
    assert event_store().count(session.workspace_id, session.pk) == 0


def test_bad_lines_are_quarantined_with_their_line_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = SessionFactory()
    rows = [
        {"event_id": f"x{i}", "ts": 1_764_200_000_000 + i, "kind": "like", "quantity": 2}
        for i in range(10)
    ]
    lines = [orjson.dumps(r) for r in rows]
    lines.insert(3, b"{broken")
    lines.insert(6, orjson.dumps({"event_id": "bad", "ts": 1_764_200_000_000, "kind": "dance"}))
    path = tmp_path / "events.ndjson.gz"
    path.write_bytes(gzip.compress(b"\n".join(lines)))
    result = run_import(capsys, path, session, "--format", "ndjson")
    assert (result["accepted"], result["rejected"]) == (10, 2)
    where = dict(RejectedRow.objects.filter(session=session).values_list("location", "code"))
    assert where == {"line 4": "bad_json", "line 7": "bad_kind"}


def test_upload_page_imports_and_shows_counts(login: Callable[..., Client]) -> None:
    membership = MembershipFactory(role="analyst")
    session = SessionFactory(workspace=membership.workspace)
    client = login(membership.user)
    rows = b"\n".join(
        orjson.dumps(
            {"event_id": f"u{i}", "ts": 1_764_200_000_000 + i, "kind": "comment", "text": "上链接"}
        )
        for i in range(25)
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = reverse(
        "events:import_upload", kwargs={"ws": membership.workspace.slug, "pk": session.pk}
    )
    response = client.post(url, {"file": SimpleUploadedFile("chat.ndjson", rows), "format": ""})
    assert response.status_code == 302
    job = ImportJob.objects.get(session=session)
    assert (job.status, job.format, job.accepted) == ("done", "ndjson", 25)
    page = client.get(
        reverse("events:session_data", kwargs={"ws": membership.workspace.slug, "pk": session.pk})
    )
    assert 'data-testid="tally-accepted">25<' in page.content.decode()
    bad = client.post(url, {"file": SimpleUploadedFile("virus.exe", b"MZ\x90\x00")})
    assert bad.status_code == 302 and ImportJob.objects.count() == 1


def test_oversized_upload_is_refused_before_it_is_read(
    login: Callable[..., Client], settings: Any
) -> None:
    settings.LIVEOPS_IMPORT_MAX_BYTES = 1000
    membership = MembershipFactory(role="owner")
    session = SessionFactory(workspace=membership.workspace)
    url = reverse(
        "events:import_upload", kwargs={"ws": membership.workspace.slug, "pk": session.pk}
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = login(membership.user).post(
        url, {"file": SimpleUploadedFile("big.ndjson", b"x" * 5000)}
    )
    assert response.status_code == 413
    assert not ImportJob.objects.exists()


event_rows = st.lists(
    st.fixed_dictionaries(
        {
            "kind": st.sampled_from(["comment", "like", "enter", "gift"]),
            "ts": st.integers(1_700_000_000_000, 1_800_000_000_000),
            "viewer_id": st.sampled_from(["a", "b", "c"]),
            "text": st.text(max_size=5),
            "quantity": st.integers(1, 5),
        }
    ),
    max_size=30,
)


@given(rows=event_rows)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_importing_twice_equals_importing_once(
    rows: list[dict[str, Any]],
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from django.conf import settings as django_settings

    django_settings.DATA_DIR = tmp_path_factory.mktemp("prop")
    reset_event_store()
    session = SessionFactory()
    path = tmp_path_factory.mktemp("f") / "rows.ndjson"
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in rows) + b"\n")
    once = run_import(capsys, path, session, "--format", "ndjson") if rows else None
    if once is None:
        return
    stored_once = event_store().count_by_kind(session.workspace_id, session.pk)
    twice = run_import(capsys, path, session, "--format", "ndjson")
    assert event_store().count_by_kind(session.workspace_id, session.pk) == stored_once
    assert twice["accepted"] == 0 and twice["duplicate"] == once["accepted"]
    # Identical lines are distinct events (a viewer liking twice in the same millisecond).
    assert once["accepted"] == len(rows)
