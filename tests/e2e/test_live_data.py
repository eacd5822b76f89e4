"""Browser journey: an analyst imports a real chat recording and sees the session's counts."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from playwright.sync_api import expect

from liveops.planning import services as planning_services
from liveops.workspaces import services
from tests.e2e.conftest import NewContext
from tests.e2e.test_journeys import PASSWORD, sign_in

pytestmark = pytest.mark.e2e
REALDATA = Path(__file__).resolve().parents[2].parent / "shared" / "realdata"


def test_import_a_recording_and_see_counts_and_rejections(
    new_context: NewContext, tmp_path: Path
) -> None:
    owner = services.user_create(
        email="ana@example.com", password=PASSWORD, display_name="数据小林"
    )
    workspace = services.workspace_create(name="数据组", owner=owner)
    account = services.account_create(
        workspace=workspace, by=owner, platform="youtube", name="Brand Channel"
    )
    session = planning_services.session_create(
        workspace=workspace, by=owner, account=account, title="新品发布直播"
    )
    recording = REALDATA / "yt-chat-replay-2020" / "example.json"
    if not recording.exists():
        pytest.skip(f"real recording not found: {recording}")

    page = new_context().new_page()
    sign_in(page, owner.email)
    page.goto(f"/w/{workspace.slug}/analyze/sessions/{session.pk}/")
    page.locator("#id_file").set_input_files(str(recording))
    page.get_by_test_id("import-submit").click()
    job = page.get_by_test_id("import-job").first
    expect(job).to_have_attribute("data-status", "done")
    expect(page.get_by_test_id("tally-accepted")).to_have_text("3358")

    # A file with a bad line: the good rows are stored, the bad one is shown with its line.
    bad = tmp_path / "mixed.ndjson"
    rows = [
        orjson.dumps({"event_id": f"m{i}", "ts": 1_764_200_000_000 + i, "kind": "like"})
        for i in range(3)
    ]
    bad.write_bytes(b"\n".join([rows[0], b"{oops", rows[1], rows[2]]))
    page.locator("#id_file").set_input_files(str(bad))
    page.get_by_test_id("import-submit").click()
    expect(page.get_by_test_id("tally-accepted")).to_have_text("3361")
    expect(page.get_by_test_id("tally-rejected")).to_have_text("1")
    expect(page.get_by_test_id("rejected")).to_contain_text("line 2")
    expect(page.get_by_test_id("rejected")).to_contain_text("bad_json")
