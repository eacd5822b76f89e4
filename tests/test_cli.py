"""The `liveops` command: stable signatures, printed results, clear errors."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from liveops.cli import main
from liveops.planning.models import LiveSession
from liveops.workspaces.models import PlatformAccount, User, Workspace

pytestmark = pytest.mark.django_db


def test_workspace_create_prints_slug(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["workspace", "create", "--name", "Acme Beauty"]) == 0
    slug = capsys.readouterr().out.strip()
    assert Workspace.objects.get(slug=slug).name == "Acme Beauty"


def test_session_create_prints_id_and_reuses_the_platform_account(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["workspace", "create", "--name", "CLI WS", "--time-zone", "Asia/Shanghai"])
    slug = capsys.readouterr().out.strip()
    args = [
        "session",
        "create",
        "--workspace",
        slug,
        "--title",
        "抖音晚场",
        "--platform",
        "douyin",
        "--start",
        "2026-12-01T20:00",
        "--end",
        "2026-12-01T22:00+08:00",
    ]
    assert main(args) == 0
    first = LiveSession.objects.get(pk=int(capsys.readouterr().out.strip()))
    assert first.scheduled_start == datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert first.status == "planned" and first.account.platform == "douyin"
    assert (
        main(["session", "create", "--workspace", slug, "--title", "again", "--platform", "douyin"])
        == 0
    )
    second = LiveSession.objects.get(pk=int(capsys.readouterr().out.strip()))
    assert second.status == "draft" and second.account_id == first.account_id
    assert PlatformAccount.objects.count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workspace", "nope", "--title", "t", "--platform", "douyin"], "--workspace"),
        (["--title", "t", "--platform", "myspace"], "--platform"),
        (["--title", "t", "--platform", "douyin", "--start", "tomorrow"], "--start"),
        (
            [
                "--title",
                "t",
                "--platform",
                "douyin",
                "--start",
                "2026-12-01T20:00",
                "--end",
                "2026-12-01T19:00",
            ],
            "scheduled_end",
        ),
    ],
)
def test_session_create_errors_are_one_line_with_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    main(["workspace", "create", "--name", "Err WS"])
    slug = capsys.readouterr().out.strip()
    if "--workspace" not in args:
        args = ["--workspace", slug, *args]
    assert main(["session", "create", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not LiveSession.objects.exists()
    assert not PlatformAccount.objects.exists()  # nothing half-created


def test_demo_is_idempotent(
    capsys: pytest.CaptureFixture[str], settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    import liveops.demo

    settings.DEBUG = True  # type: ignore[attr-defined]
    small = [dataclasses.replace(spec, events=300) for spec in liveops.demo.ENDED_SESSIONS]
    monkeypatch.setattr(liveops.demo, "ENDED_SESSIONS", small)
    assert main(["demo"]) == 0
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "demo@liveops.local" in out
    assert Workspace.objects.filter(slug="demo").count() == 1
    assert User.objects.filter(email="demo@liveops.local").count() == 1
    # 3 planned/draft sessions, 4 ended ones with generated events (one the simulcast of
    # another), 1 live one (fed by replay).
    sessions = LiveSession.objects.filter(workspace__slug="demo")
    assert sessions.count() == 8
    twin = sessions.get(simulcast_of__isnull=False)
    assert twin.account.platform != twin.simulcast_of.account.platform
    user = User.objects.get(email="demo@liveops.local")
    assert user.check_password("liveops-demo-2026")


def test_demo_refuses_production_settings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 2
    assert "development settings" in capsys.readouterr().err


def test_metrics_json_is_keyed_by_metrics_md_with_null_for_not_available(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    from liveops.reports.tests.test_views import live_session
    from tests.factories import WorkspaceFactory

    session = live_session(WorkspaceFactory(), viewers=12)
    assert main(["metrics", str(session.pk), "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    doc = json.loads(lines[0])
    assert doc["uv"] == 12 and doc["pv"] == 12
    assert doc["comments"] == 12 and doc["orders"] == 1
    assert doc["gmv"] == 199.0  # money as a number, exact
    assert doc["answered_60s_rate"] is None  # no question/answer data: not available
    assert len(doc["retention_curve"]) == 60
    assert len(doc["online_series"]) == 30


def test_review_writes_pdf_and_xlsx(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    import json
    from pathlib import Path

    from liveops.reports.tests.test_views import live_session
    from tests.factories import WorkspaceFactory

    folder = Path(str(tmp_path))
    session = live_session(WorkspaceFactory(), viewers=6)
    pdf, xlsx = folder / "r.pdf", folder / "r.xlsx"
    assert main(["review", str(session.pk), "--pdf", str(pdf), "--xlsx", str(xlsx)]) == 0
    written = json.loads(capsys.readouterr().out)
    assert written == {"pdf": str(pdf), "xlsx": str(xlsx)}
    assert pdf.read_bytes()[:5] == b"%PDF-" and xlsx.read_bytes()[:2] == b"PK"
    assert main(["review", "999999", "--pdf", str(pdf)]) == 2
    assert "no live session with id 999999" in capsys.readouterr().err


def test_refresh_once_materialises_sessions_with_new_data(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from liveops.analytics.models import SessionResult
    from liveops.reports.tests.test_views import live_session
    from tests.factories import WorkspaceFactory

    session = live_session(WorkspaceFactory(), viewers=5)
    SessionResult.objects.filter(session=session).delete()
    assert main(["refresh", "--once"]) == 0
    assert capsys.readouterr().out.strip() == "1"
    assert SessionResult.objects.get(session=session).summary["uv"] == 5
    assert main(["refresh", "--once"]) == 0  # nothing new: nothing recomputed
    assert capsys.readouterr().out.strip() == "0"


def test_the_refresh_loop_ends_when_its_parent_is_gone() -> None:
    import os

    from liveops.analytics.runtime import refresh_forever

    # a parent pid that is not ours: the loop sees it gone and returns at once
    refresh_forever(every=0.01, parent=os.getppid() + 1_000_000)
