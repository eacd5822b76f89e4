"""Browser journey: a run-of-show reordered by drag and drop, then exported to Excel."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from liveops.planning import runofshow
from liveops.planning import services as planning_services
from liveops.planning.models import LiveSession
from liveops.workspaces import services
from liveops.workspaces.models import Workspace
from tests.e2e.conftest import NewContext
from tests.e2e.test_journeys import make_owner, sign_in

pytestmark = pytest.mark.e2e


SEGMENTS = [("开场", "opening", 5), ("口红讲解", "product", 20), ("抽奖", "interaction", 10)]


def planned_session(workspace: Workspace) -> LiveSession:
    account = services.account_create(
        workspace=workspace, by=None, platform="douyin", name="星河美妆官方"
    )
    start = datetime(2030, 5, 1, 20, 0, tzinfo=ZoneInfo(workspace.time_zone))
    session = planning_services.session_create(
        workspace=workspace,
        by=None,
        account=account,
        title="五一美妆专场",
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=2),
        status="planned",
    )
    lipstick = runofshow.product_create(
        session=session,
        by=None,
        name="丝绒口红",
        sku="LP-01",
        live_price=Decimal("129"),
        price=Decimal("199"),
    )
    for title, kind, minutes in SEGMENTS:
        seg = runofshow.segment_create(
            session=session,
            by=None,
            kind=kind,
            title=title,
            duration_s=minutes * 60,
            host_lines="全网最低价！" if kind == "product" else "欢迎来到直播间",
            product=lipstick if kind == "product" else None,
        )
        runofshow.cue_create(segment=seg, by=None, at_s=0, kind="music", description="BGM")
    return session


def titles(page: Page) -> list[str]:
    return [t.strip() for t in page.get_by_test_id("segment-title").all_inner_texts()]


def test_reorder_segments_by_drag_and_drop_then_export(new_context: NewContext) -> None:
    user, workspace = make_owner()
    session = planned_session(workspace)
    page = new_context().new_page()
    sign_in(page, user.email)
    url = f"/w/{workspace.slug}/plan/sessions/{session.pk}/run-of-show/"

    page.goto(url)
    expect(page.get_by_test_id("segment")).to_have_count(3)
    assert titles(page) == ["开场", "口红讲解", "抽奖"]
    expect(page.locator("[data-testid=segment] [data-start]").first).to_have_text("20:00:00")
    expect(page.get_by_test_id("taboo-warning").first).to_be_visible()

    # Drag the last segment's handle onto the top of the first one.
    handle = page.get_by_test_id("segment-handle").nth(2).bounding_box()
    first = page.get_by_test_id("segment").nth(0).bounding_box()
    assert handle and first
    with page.expect_response(lambda r: "/segments/reorder/" in r.url) as reply:
        page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
        page.mouse.down()
        page.mouse.move(first["x"] + 40, first["y"] + first["height"] / 2, steps=15)
        # Let SortableJS finish its swap animation before the final move and drop.
        page.wait_for_timeout(300)
        page.mouse.move(first["x"] + 40, first["y"] + 3, steps=5)
        page.wait_for_timeout(300)
        page.mouse.up()
    assert reply.value.ok
    expect(page.get_by_test_id("segment-list")).to_have_attribute("data-state", "saved")
    assert titles(page) == ["抽奖", "开场", "口红讲解"]
    # Times follow the new order without a reload ...
    expect(page.locator("[data-testid=segment] [data-start]").nth(1)).to_have_text("20:10:00")
    expect(page.locator("[data-testid=segment] [data-cue]").nth(1)).to_have_text("20:10:00")

    # ... and the order is persisted.
    page.reload()
    assert titles(page) == ["抽奖", "开场", "口红讲解"]
    expect(page.locator("[data-testid=segment] [data-start]").nth(2)).to_have_text("20:15:00")

    # Keyboard users move a segment with the arrow keys on its handle.
    with page.expect_response(lambda r: "/segments/reorder/" in r.url) as reply:
        page.get_by_test_id("segment-handle").nth(2).press("ArrowUp")
    assert reply.value.ok
    page.reload()
    assert titles(page) == ["抽奖", "口红讲解", "开场"]
    with page.expect_response(lambda r: "/segments/reorder/" in r.url):
        page.get_by_test_id("segment-handle").nth(1).press("ArrowDown")
    page.reload()
    assert titles(page) == ["抽奖", "开场", "口红讲解"]

    with page.expect_download() as download:
        page.get_by_test_id("ros-export").click()
    path = download.value.path()
    sheet = load_workbook(io.BytesIO(path.read_bytes())).worksheets[0]
    assert [sheet.cell(row=r, column=6).value for r in range(2, 5)] == ["抽奖", "开场", "口红讲解"]
    assert sheet["A3"].value == datetime(2030, 5, 1, 20, 10)
    assert sheet["H4"].value == 129
    with translation.override("zh-hans"):  # the browser asks for Chinese
        assert sheet["A1"].value == translation.gettext("Start")
