"""The review page: figures from the live data, definitions, findings → action items."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from liveops.analytics.models import ActionItem
from liveops.events.services import ingest_rows
from liveops.planning.models import LiveSession, Segment
from liveops.workspaces.models import User, Workspace
from tests.factories import AccountFactory, SessionFactory

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _at(minutes: float) -> str:
    return (START + timedelta(minutes=minutes)).isoformat()


def live_session(workspace: Workspace, viewers: int = 60) -> LiveSession:
    """A 30-minute live: viewers arrive in the first minutes, many leave at minute 12–17."""
    account = AccountFactory(workspace=workspace, platform="douyin")
    session: LiveSession = SessionFactory(
        workspace=workspace,
        account=account,
        title="周五上新 <b>专场</b>",
        scheduled_start=START,
        scheduled_end=START + timedelta(minutes=30),
        actual_start=START,
        actual_end=START + timedelta(minutes=30),
        status="ended",
    )
    Segment.objects.create(
        session=session, position=0, title="开场福利", offset_s=0, duration_s=600
    )
    Segment.objects.create(
        session=session, position=1, title="讲品：面霜", offset_s=600, duration_s=900
    )
    Segment.objects.create(session=session, position=2, title="答疑", offset_s=1500, duration_s=300)
    rows: list[dict[str, Any]] = []
    for i in range(viewers):
        vid = f"v{i}"
        rows.append({"event_id": f"in{i}", "kind": "enter", "ts": _at(i % 5), "viewer_id": vid})
        leave = 13 + (i % 4) if i % 3 else 29
        rows.append({"event_id": f"out{i}", "kind": "leave", "ts": _at(leave), "viewer_id": vid})
        rows.append(
            {
                "event_id": f"c{i}",
                "kind": "comment",
                "ts": _at(6 + i % 5),
                "viewer_id": vid,
                "viewer_name": f"观众{i}",
                "text": "这个面霜多少钱？"
                if i % 4 == 0
                else "=cmd|' /C calc'!A0 <script>x</script>",
            }
        )
    rows.append(
        {"event_id": "o1", "kind": "order", "ts": _at(20), "viewer_id": "v0", "amount": "199.00"}
    )
    assert ingest_rows(session=session, rows=rows).counts()["rejected"] == 0
    return session


def test_review_page_shows_figures_definitions_and_escaped_text(
    workspace: Workspace, owner: User, login: Callable[[User], Client]
) -> None:
    session = live_session(workspace)
    url = reverse("reports:review", kwargs={"ws": workspace.slug, "pk": session.pk})
    page = login(owner).get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="kpi-uv"' in html
    assert "本场有任意行为的去重观众数" in html  # the definition (the user reads Chinese)
    assert "周五上新 &lt;b&gt;专场&lt;/b&gt;" in html and "<b>专场</b>" not in html
    assert "<script>x</script>" not in html
    assert 'id="review-data"' in html and "讲品：面霜" in html
    assert 'data-testid="finding-steepest_drop"' in html  # many leave at minute 13–16
    assert "这个面霜多少钱？" in html  # a top question


def test_finding_becomes_an_action_item(
    workspace: Workspace, owner: User, login: Callable[[User], Client]
) -> None:
    session = live_session(workspace)
    client = login(owner)
    url = reverse("reports:action_create", kwargs={"ws": workspace.slug, "pk": session.pk})
    answer = client.post(url, {"title": "把福利挪到第12分钟", "finding_key": "steepest_drop"})
    assert answer.status_code == 302
    item = ActionItem.objects.get(session=session)
    assert (item.title, item.finding_key, item.created_by) == (
        "把福利挪到第12分钟",
        "steepest_drop",
        owner,
    )
    page = client.get(reverse("reports:review", kwargs={"ws": workspace.slug, "pk": session.pk}))
    assert "把福利挪到第12分钟" in page.content.decode()


def test_review_list_shows_sessions_with_live_data(
    workspace: Workspace, owner: User, login: Callable[[User], Client]
) -> None:
    session = live_session(workspace, viewers=5)
    page = login(owner).get(reverse("reports:index", kwargs={"ws": workspace.slug}))
    assert page.status_code == 200
    assert reverse("reports:review", kwargs={"ws": workspace.slug, "pk": session.pk}) in (
        page.content.decode()
    )


@pytest.mark.parametrize("file_format", ["", "pdf", "xlsx"])
def test_weekly_report_lists_the_weeks_sessions(
    workspace: Workspace, owner: User, login: Callable[[User], Client], file_format: str
) -> None:
    from liveops.analytics.services import session_materialize

    session = live_session(workspace, viewers=8)
    session_materialize(session=session)
    url = reverse("reports:period", kwargs={"ws": workspace.slug})
    query = {"kind": "week", "day": "2026-11-20"}
    if file_format:
        query["format"] = file_format
    answer = login(owner).get(url, query)
    assert answer.status_code == 200
    if file_format == "pdf":
        assert answer.content[:5] == b"%PDF-"
    elif file_format == "xlsx":
        assert answer.content[:2] == b"PK"
        assert answer["Content-Disposition"].startswith("attachment;")
    else:
        html = answer.content.decode()
        assert "2026-W47" in html
        assert 'data-testid="period-sessions"' in html and "周五上新" in html
        # another week has no session
        other = login(owner).get(url, {"kind": "week", "day": "2026-10-01"})
        assert 'data-testid="period-empty"' in other.content.decode()
