"""Simulcast: one event on several platform accounts, linked in planning, combined into one
review (web, PDF, Excel) with a breakdown per platform."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from liveops.analytics import selectors as analytics_selectors
from liveops.analytics import services as analytics
from liveops.events.services import ingest_rows
from liveops.planning import services as planning
from liveops.planning.models import LiveSession
from liveops.reports.builder import simulcast_review_build
from liveops.reports.tests.test_views import START, live_session
from liveops.workspaces.models import Workspace
from tests.factories import AccountFactory, SessionFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def _at(minutes: float) -> str:
    return (START + timedelta(minutes=minutes)).isoformat()


def _kuaishou(workspace: Workspace) -> LiveSession:
    """The same event on Kuaishou: 4 viewers — v0 and v1 share ids with Douyin viewers but
    are other people — online snapshots, one order."""
    session: LiveSession = SessionFactory(
        workspace=workspace,
        account=AccountFactory(workspace=workspace, platform="kuaishou"),
        title="周五上新（快手）",
        scheduled_start=START,
        scheduled_end=START + timedelta(minutes=30),
        actual_start=START,
        actual_end=START + timedelta(minutes=30),
        status="ended",
    )
    rows: list[dict[str, Any]] = []
    for i in range(4):
        rows.append({"event_id": f"k-in{i}", "kind": "enter", "ts": _at(1), "viewer_id": f"v{i}"})
        rows.append({"event_id": f"k-c{i}", "kind": "comment", "ts": _at(2), "viewer_id": f"v{i}",
                     "text": "😂 好看"})  # fmt: skip
    rows.append({"event_id": "k-o", "kind": "order", "ts": _at(3), "viewer_id": "v3",
                 "amount": "50.00"})  # fmt: skip
    assert ingest_rows(session=session, rows=rows).counts()["rejected"] == 0
    return session


def _pair() -> tuple[LiveSession, LiveSession]:
    workspace = WorkspaceFactory()
    douyin = live_session(workspace, viewers=20)
    kuaishou = _kuaishou(workspace)
    planning.session_set_simulcast(session=kuaishou, main=douyin, by=None)
    return douyin, kuaishou


def test_linking_rules() -> None:
    douyin, kuaishou = _pair()
    assert analytics.simulcast_members(session=kuaishou) == [douyin, kuaishou]
    assert analytics.simulcast_members(session=douyin) == [douyin, kuaishou]
    same_account: LiveSession = SessionFactory(workspace=douyin.workspace, account=douyin.account)
    with pytest.raises(ValidationError, match="same platform account"):
        planning.session_set_simulcast(session=same_account, main=douyin, by=None)
    with pytest.raises(ValidationError, match="itself"):
        planning.session_set_simulcast(session=douyin, main=douyin, by=None)
    elsewhere: LiveSession = SessionFactory(
        workspace=douyin.workspace, account=AccountFactory(workspace=douyin.workspace)
    )
    with pytest.raises(ValidationError, match="unlink them first"):
        planning.session_set_simulcast(session=douyin, main=elsewhere, by=None)
    stranger: LiveSession = SessionFactory()  # another workspace
    with pytest.raises(ValidationError, match="this workspace"):
        planning.session_set_simulcast(session=stranger, main=douyin, by=None)
    # pointing at a member joins its group (one main per group)
    third: LiveSession = SessionFactory(
        workspace=douyin.workspace, account=AccountFactory(workspace=douyin.workspace)
    )
    planning.session_set_simulcast(session=third, main=kuaishou, by=None)
    assert third.simulcast_of == douyin
    planning.session_set_simulcast(session=kuaishou, main=None, by=None)
    assert analytics.simulcast_members(session=douyin) == [douyin, third]


def test_the_combined_figures_add_the_platforms_up() -> None:
    douyin, kuaishou = _pair()
    combined = analytics.simulcast_result(session=kuaishou)
    assert combined is not None
    summary = combined.result.summary
    one = analytics.session_result(session=douyin).summary
    two = analytics.session_result(session=kuaishou).summary
    assert (one["uv"], two["uv"]) == (20, 4)
    assert summary["uv"] == 24  # v0…v3 on Kuaishou are not the Douyin v0…v3
    for key in ("pv", "comments", "orders"):
        assert summary[key] == one[key] + two[key]
    assert Decimal(summary["gmv"]) == Decimal("249.00")
    assert summary["hours_watched"] == pytest.approx(one["hours_watched"] + two["hours_watched"])
    # online per minute adds up (both from watch intervals here)
    minutes = {m.minute: m.online for m in combined.minutes}
    for m in analytics_selectors.minute_list(session=douyin):
        other = next(
            (
                k.online
                for k in analytics_selectors.minute_list(session=kuaishou)
                if k.minute == m.minute
            ),
            0,
        )
        assert minutes[m.minute] == pytest.approx((m.online or 0) + (other or 0))
    # the same answer from memory until a member changes
    assert analytics.simulcast_result(session=douyin) is combined
    ingest_rows(session=kuaishou, rows=[{"event_id": "late", "kind": "comment", "ts": _at(4),
                                          "viewer_id": "v9", "text": "晚到"}])  # fmt: skip
    fresh = analytics.simulcast_result(session=douyin)
    assert fresh is not None and fresh is not combined
    assert fresh.result.summary["comments"] == summary["comments"] + 1


def test_combined_review_page_and_files(client: Client) -> None:
    from openpyxl import load_workbook

    from tests.factories import MembershipFactory, UserFactory

    douyin, kuaishou = _pair()
    user = UserFactory()
    MembershipFactory(workspace=douyin.workspace, user=user, role="analyst")
    client.force_login(user)
    ws = douyin.workspace.slug
    page = client.get(reverse("reports:review", kwargs={"ws": ws, "pk": kuaishou.pk}))
    assert page.status_code == 200
    assert b'data-testid="simulcast-switch"' in page.content
    combined = client.get(
        reverse("reports:review", kwargs={"ws": ws, "pk": kuaishou.pk}) + "?view=combined"
    )
    assert combined.status_code == 200
    text = combined.content.decode()
    assert 'data-testid="per-platform"' in text and "周五上新（快手）" in text
    xlsx = client.get(
        reverse("reports:review_xlsx", kwargs={"ws": ws, "pk": douyin.pk}) + "?view=combined"
    )
    assert xlsx.status_code == 200 and "simulcast-" in xlsx["Content-Disposition"]
    book = load_workbook(
        io.BytesIO(b"".join(xlsx.streaming_content if xlsx.streaming else [xlsx.content]))
    )
    platforms = [ws_.title for ws_ in book.worksheets]
    assert any(title in ("分平台", "Platforms") for title in platforms)
    pdf = client.get(
        reverse("reports:review_pdf", kwargs={"ws": ws, "pk": douyin.pk}) + "?view=combined"
    )
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # a session without a simulcast has no combined view
    alone = live_session(douyin.workspace, viewers=3)
    missing = client.get(
        reverse("reports:review", kwargs={"ws": ws, "pk": alone.pk}) + "?view=combined"
    )
    assert missing.status_code == 404


def test_review_dataclass_has_a_breakdown_per_platform() -> None:
    douyin, _ = _pair()
    review = simulcast_review_build(session=douyin, language="en", with_comments=True)
    assert review is not None
    assert review.platforms == ["douyin", "kuaishou"]
    assert [p.platform for p in review.per_platform] == ["Douyin", "Kuaishou"]
    uv = {
        p.platform: next(f.value for f in p.figures if f.key == "uv") for p in review.per_platform
    }
    assert uv == {"Douyin": 20, "Kuaishou": 4}
    assert review.comments_total == 24  # both platforms' comments
    assert next(f.value for f in review.figures if f.key == "uv") == 24
