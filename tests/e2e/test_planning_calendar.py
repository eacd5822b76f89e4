"""Planning journeys: a series with a recurrence, its sessions in the calendar, conflicts
explained before anything is saved, and drag-to-reschedule with confirmation.

Selectors are data-testids, field ids and values, so the journey passes in any language.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from liveops.planning.models import LiveSession
from liveops.workspaces import services
from liveops.workspaces.models import PlatformAccount, User, Workspace
from tests.e2e.conftest import NewContext
from tests.e2e.test_journeys import make_owner, sign_in

pytestmark = pytest.mark.e2e


def _setup() -> tuple[User, Workspace, PlatformAccount]:
    user, workspace = make_owner()
    account = services.account_create(
        workspace=workspace, by=user, platform="douyin", name="星河主号"
    )
    return user, workspace, account


def _create_series(page: Page, workspace: Workspace, account: PlatformAccount, user: User) -> None:
    page.goto(f"/w/{workspace.slug}/plan/series/new/")
    page.locator("#id_title").fill("护肤夜话")
    page.locator(f"input[name=accounts][value='{account.pk}']").check()
    page.locator("#id_dtstart").fill("2026-12-01T20:00")
    page.locator("#id_rrule").fill("FREQ=WEEKLY;BYDAY=TU,TH;COUNT=16")
    page.locator(f"input[name=hosts][value='{user.pk}']").check()
    page.get_by_test_id("series-save").click()


def test_series_in_calendar_and_conflicting_session_is_explained(
    new_context: NewContext,
) -> None:
    user, workspace, account = _setup()
    page = new_context().new_page()
    sign_in(page, user.email)
    _create_series(page, workspace, account, user)

    # Given the series, its December sessions are in the month view.
    expect(page).to_have_url(re.compile(r"/plan/calendar/\?date=2026-12-01$"))
    calendar = page.get_by_test_id("calendar")
    expect(calendar).to_have_attribute("data-view", "month")
    expect(calendar.locator(".chip")).to_have_count(10)  # Tue/Thu from Dec 1 to Dec 31
    expect(page.get_by_test_id("day-2026-12-01").locator(".chip")).to_contain_text("20:00")
    expect(page.get_by_test_id("day-2026-12-31").locator(".chip")).to_contain_text("护肤夜话")
    assert LiveSession.objects.filter(series__title="护肤夜话").count() == 16

    # When a session on the same account overlaps one of them...
    page.goto(f"/w/{workspace.slug}/plan/sessions/new/")
    page.locator("#id_title").fill("撞车专场")
    page.locator("#id_account").select_option(str(account.pk))
    page.locator("#id_status").select_option("planned")
    page.locator("#id_scheduled_start").fill("2026-12-03T21:00")
    page.locator("#id_scheduled_end").fill("2026-12-03T23:00")
    page.get_by_test_id("session-save").click()

    # ...the reason is shown (which session, which account) and nothing is saved.
    expect(page).to_have_url(re.compile(r"/plan/sessions/new/$"))
    reason = page.locator(".has-error .error, .form-errors").first
    expect(reason).to_contain_text("护肤夜话 12-03")
    expect(reason).to_contain_text("星河主号")
    assert not LiveSession.objects.filter(title="撞车专场").exists()


def test_drag_to_reschedule_confirms_and_refuses_conflicts(new_context: NewContext) -> None:
    user, workspace, account = _setup()
    page = new_context().new_page()
    sign_in(page, user.email)
    _create_series(page, workspace, account, user)
    expect(page.get_by_test_id("calendar").locator(".chip")).to_have_count(10)

    # Dropping Tuesday's session on Thursday (already taken) shows the reason; nothing moves.
    first = page.get_by_test_id("day-2026-12-01").locator(".chip")
    first.drag_to(page.get_by_test_id("day-2026-12-03"))
    dialog = page.get_by_test_id("move-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#move-start")).to_have_value("2026-12-03T20:00")
    page.get_by_test_id("move-confirm").click()
    expect(page.get_by_test_id("move-errors")).to_contain_text("星河主号")
    moved = LiveSession.objects.get(title="护肤夜话 12-01")
    assert moved.scheduled_start is not None and moved.scheduled_start.day == 1

    # Dropping it on the free Wednesday moves it after confirmation.
    dialog.locator("[data-action=cancel]").click()
    expect(dialog).to_be_hidden()
    first.drag_to(page.get_by_test_id("day-2026-12-02"))
    page.get_by_test_id("move-confirm").click()
    expect(page.get_by_test_id("day-2026-12-02").locator(".chip")).to_contain_text("护肤夜话 12-01")
    expect(page.get_by_test_id("day-2026-12-01").locator(".chip")).to_have_count(0)
