"""Browser journey: open a post-live review, read a definition, act on a finding, download."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from liveops.reports.tests.test_views import live_session
from liveops.workspaces import services
from tests.e2e.conftest import ARTIFACTS, NewContext
from tests.e2e.test_journeys import PASSWORD, sign_in

pytestmark = pytest.mark.e2e


def test_review_hover_definition_action_item_and_downloads(
    new_context: NewContext, tmp_path: Path
) -> None:
    owner = services.user_create(
        email="yun@example.com", password=PASSWORD, display_name="运营小云"
    )
    workspace = services.workspace_create(name="美妆旗舰店", owner=owner)
    live_session(workspace)

    page = new_context().new_page()
    sign_in(page, owner.email)
    page.goto(f"/w/{workspace.slug}/reports/")
    page.get_by_test_id("review-list").get_by_role("link").first.click()
    expect(page.get_by_test_id("review-title")).to_contain_text("周五上新")
    expect(page.locator("#chart-online svg")).to_be_visible()

    # Every figure's definition is one hover away.
    definition = page.get_by_test_id("definition-uv")
    expect(definition).to_be_hidden()
    page.get_by_test_id("kpi-uv").hover()
    expect(definition).to_be_visible()
    expect(definition).to_contain_text("去重")  # zh: 去重观众 …

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-zh.png"), full_page=True)

    # A finding becomes an action item.
    finding = page.get_by_test_id("finding-steepest_drop")
    finding.locator("input[name=title]").fill("开场福利延长到第 15 分钟")
    finding.get_by_test_id("make-action").click()
    expect(page.get_by_test_id("action-items")).to_contain_text("开场福利延长到第 15 分钟")
    expect(
        page.get_by_test_id("finding-steepest_drop").get_by_test_id("finding-action")
    ).to_be_visible()

    # Both downloads arrive as real files.
    with page.expect_download() as pdf_download:
        page.get_by_test_id("download-pdf").click()
    pdf_path = tmp_path / "review.pdf"
    pdf_download.value.save_as(pdf_path)
    assert pdf_path.read_bytes()[:5] == b"%PDF-"
    with page.expect_download() as xlsx_download:
        page.get_by_test_id("download-xlsx").click()
    xlsx_path = tmp_path / "review.xlsx"
    xlsx_download.value.save_as(xlsx_path)
    with zipfile.ZipFile(xlsx_path) as workbook:
        assert "xl/workbook.xml" in workbook.namelist()
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")
