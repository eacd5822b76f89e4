"""Golden test: a real chat recording imported and reviewed; figures equal a direct count."""

from __future__ import annotations

import json
import zipfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from liveops.analytics.models import SessionMinute
from liveops.events.services import import_file
from liveops.reports.services import review_files
from tests.factories import AccountFactory, SessionFactory

pytestmark = pytest.mark.django_db

REALDATA = Path(__file__).resolve().parents[3].parent / "shared" / "realdata"
EXAMPLE = REALDATA / "yt-chat-replay-2020" / "example.json"


@pytest.mark.skipif(not EXAMPLE.exists(), reason=f"real recording not found: {EXAMPLE}")
def test_real_recording_review_counts_equal_a_direct_count(tmp_path: Path) -> None:
    messages = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    stamps = [datetime.fromtimestamp(m["timestamp"] / 1e6, tz=UTC) for m in messages]
    first, last = min(stamps), max(stamps)
    start = first.replace(second=0, microsecond=0)
    end = last.replace(second=0, microsecond=0) + timedelta(minutes=1)
    per_minute = Counter(s.replace(second=0, microsecond=0) for s in stamps)

    account = AccountFactory(platform="youtube", currency="USD")
    session = SessionFactory(
        workspace=account.workspace,
        account=account,
        title="YouTube replay 2020",
        scheduled_start=start,
        scheduled_end=end,
        actual_start=start,
        actual_end=end,
        status="ended",
    )
    job = import_file(session=session, path=str(EXAMPLE))
    assert job.accepted == len(messages) == 3358

    written = review_files(
        session=session, pdf=tmp_path / "r.pdf", xlsx=tmp_path / "r.xlsx", language="en"
    )
    result = session.analytics_result
    assert result.summary["comments"] == len(messages)  # every message is a comment
    minutes = {m.minute: m.comments for m in SessionMinute.objects.filter(session=session)}
    assert {k: v for k, v in minutes.items() if v} == dict(per_minute)
    # The 2020 schema has no author ids: per-viewer figures say "not available", not 0.
    assert result.summary["interaction_rate"] is None

    assert written["pdf"].read_bytes()[:5] == b"%PDF-"
    book = openpyxl.load_workbook(written["xlsx"])
    summary = book.worksheets[0]
    values = {row[0]: row for row in summary.iter_rows(values_only=True) if row and row[0]}
    assert values["comments"][2] == len(messages)
    formulas = [
        cell.coordinate
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]
    assert formulas == []  # nothing from the chat became a formula
    with zipfile.ZipFile(written["xlsx"]) as archive:
        assert any(name.startswith("xl/charts/chart") for name in archive.namelist())
