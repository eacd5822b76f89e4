"""Browser journeys: what a person does in LiveOps, end to end, in a real Chromium.

Every user, workspace and account is created through the services (the same code the
pages call). Selectors are ``data-testid`` attributes, form field ids, URLs and values —
never English wording — so the journeys pass whatever language the interface shows.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from liveops.planning import services as planning_services
from liveops.planning.models import LiveSession
from liveops.workspaces import services
from liveops.workspaces.models import Membership, User, Workspace
from tests.e2e.conftest import NewContext

pytestmark = pytest.mark.e2e

PASSWORD = "Tall-Lantern-Morning-42"
NAV_ZH = ["计划", "推广", "直播", "分析", "报告", "观众", "项目", "设置"]
NAV_EN = ["Plan", "Promote", "Live", "Analyze", "Reports", "Audience", "Projects", "Settings"]


def make_owner(
    email: str = "owner@example.com", workspace_name: str = "星河美妆"
) -> tuple[User, Workspace]:
    user = services.user_create(email=email, password=PASSWORD, display_name="王小明")
    workspace = services.workspace_create(name=workspace_name, owner=user)
    return user, workspace


def sessions_path(workspace: Workspace) -> str:
    return f"/w/{workspace.slug}/plan/sessions/"


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(email)
    page.locator("#id_password").fill(password)
    page.locator("form.stack button[type=submit]").click()


def nav_labels(page: Page) -> list[str]:
    return [text.strip() for text in page.get_by_test_id("nav").locator("a").all_inner_texts()]


def assert_nav_chinese(page: Page) -> None:
    labels = nav_labels(page)
    assert labels == NAV_ZH, f"navigation not in Chinese (compiled locale/zh_Hans?): {labels}"


def test_sign_in_lands_on_session_list_and_wrong_password_stays(new_context: NewContext) -> None:
    user, workspace = make_owner()
    page = new_context().new_page()

    sign_in(page, user.email, "not-the-password")
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.locator("form .form-errors[role=alert]")).to_be_visible()
    expect(page.locator("#id_username")).to_have_value(user.email)
    expect(page.locator("#id_password")).to_have_value("")
    # Nothing is signed in: the workspace still sends the visitor to the login page.
    page.goto(sessions_path(workspace))
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))

    sign_in(page, user.email)
    expect(page).to_have_url(re.compile(re.escape(sessions_path(workspace)) + "$"))
    expect(page.get_by_test_id("session-new")).to_be_visible()
    expect(page.get_by_test_id("workspace-switcher").locator("summary")).to_have_text(
        workspace.name
    )


def test_language_switch_translates_navigation_and_persists(new_context: NewContext) -> None:
    user, workspace = make_owner()
    page = new_context().new_page()
    sign_in(page, user.email)
    expect(page).to_have_url(re.compile(re.escape(sessions_path(workspace))))

    # A new account starts in Simplified Chinese.
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    assert_nav_chinese(page)

    page.get_by_test_id("lang-en").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(re.escape(sessions_path(workspace)) + "$"))
    assert nav_labels(page) == NAV_EN
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert nav_labels(page) == NAV_EN
    user.refresh_from_db()
    assert user.language == "en"

    page.get_by_test_id("lang-zh-hans").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    assert_nav_chinese(page)
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    assert_nav_chinese(page)


def test_create_workspace_from_switcher(new_context: NewContext) -> None:
    user, first = make_owner()
    page = new_context().new_page()
    sign_in(page, user.email)
    expect(page).to_have_url(re.compile(re.escape(sessions_path(first))))

    switcher = page.get_by_test_id("workspace-switcher")
    switcher.locator("summary").click()
    switcher.get_by_test_id("workspace-new").click()
    expect(page).to_have_url(re.compile(r"/workspaces/new/$"))
    page.locator("#id_name").fill("Night Owl MCN")
    page.locator("#id_time_zone").select_option("Asia/Singapore")
    page.locator("#id_currency").fill("sgd")
    page.locator("form.stack button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/w/night-owl-mcn/settings/$"))
    workspace = Workspace.objects.get(slug="night-owl-mcn")
    assert (workspace.name, workspace.time_zone, workspace.currency) == (
        "Night Owl MCN",
        "Asia/Singapore",
        "SGD",
    )
    # The switcher now lists both workspaces, with the new one current.
    expect(switcher.locator("summary")).to_have_text("Night Owl MCN")
    items = switcher.locator("ul.menu li a[href^='/w/']")
    expect(items).to_have_count(2)
    expect(switcher.locator("a[aria-current=true]")).to_have_attribute("href", "/w/night-owl-mcn/")
    # The creator is its only member, as owner.
    rows = page.get_by_test_id("member-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(user.email)
    expect(rows.first.locator("select[name=role]")).to_have_value("owner")
    assert Membership.objects.get(workspace=workspace, user=user).role == "owner"


def test_invite_by_link_newcomer_signs_up_and_link_is_single_use(
    new_context: NewContext,
) -> None:
    owner, workspace = make_owner()
    settings_path = f"/w/{workspace.slug}/settings/"
    page = new_context().new_page()
    sign_in(page, owner.email)
    expect(page).to_have_url(re.compile(re.escape(sessions_path(workspace))))

    page.goto(settings_path)
    page.locator("#invite-role").select_option("host")
    page.get_by_test_id("invite-create").click()
    link = page.get_by_test_id("invite-link").input_value()
    assert re.search(r"/invite/[^/]+/$", link), link

    # A newcomer, not signed in, opens the link in their own browser and signs up.
    newcomer = new_context().new_page()
    response = newcomer.goto(link)
    assert response is not None and response.status == 200
    expect(newcomer.get_by_test_id("invite-accept")).to_be_visible()
    expect(newcomer.get_by_test_id("invite-accept")).to_contain_text(workspace.name)
    newcomer.locator("#id_email").fill("li.na@example.com")
    newcomer.locator("#id_display_name").fill("李娜")
    newcomer.locator("#id_password").fill("Quiet-River-Lantern-7")
    newcomer.get_by_test_id("invite-accept").locator("button[type=submit]").click()
    expect(newcomer).to_have_url(re.compile(re.escape(sessions_path(workspace)) + "$"))
    expect(newcomer.get_by_test_id("workspace-switcher").locator("summary")).to_have_text(
        workspace.name
    )
    # A host may look at the plan but not change it.
    expect(newcomer.get_by_test_id("session-new")).to_have_count(0)

    # The owner sees the newcomer in the member list with the chosen role.
    page.goto(settings_path)
    rows = page.get_by_test_id("member-row")
    expect(rows).to_have_count(2)
    row = rows.filter(has_text="li.na@example.com")
    expect(row).to_contain_text("李娜")
    expect(row.locator("select[name=role]")).to_have_value("host")

    # The link works once: a third browser gets the "already used" page.
    third = new_context().new_page()
    response = third.goto(link)
    assert response is not None and response.status == 410
    expect(third.get_by_test_id("invite-invalid")).to_be_visible()
    expect(third.locator("#id_email")).to_have_count(0)


def test_create_live_session_and_reject_end_before_start(new_context: NewContext) -> None:
    owner, workspace = make_owner()
    account = services.account_create(
        workspace=workspace, by=owner, platform="douyin", name="星河美妆官方旗舰店"
    )
    page = new_context().new_page()
    sign_in(page, owner.email)
    expect(page).to_have_url(re.compile(re.escape(sessions_path(workspace))))
    expect(page.get_by_test_id("empty")).to_be_visible()

    page.get_by_test_id("session-new").click()
    expect(page).to_have_url(re.compile(r"/plan/sessions/new/$"))
    page.locator("#id_title").fill("618 大促预热专场")
    page.locator("#id_account").select_option(str(account.pk))
    page.locator("#id_status").select_option("planned")
    page.locator("#id_scheduled_start").fill("2031-06-10T19:30")
    page.locator("#id_scheduled_end").fill("2031-06-10T22:00")
    page.get_by_test_id("session-save").click()

    expect(page).to_have_url(re.compile(re.escape(sessions_path(workspace)) + "$"))
    rows = page.get_by_test_id("session-table").locator("tbody tr")
    row = rows.filter(has_text="618 大促预热专场")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("星河美妆官方旗舰店")
    # Shown in the workspace time zone (Asia/Shanghai), as entered.
    expect(row).to_contain_text("2031-06-10 19:30")
    expect(row).to_contain_text("2031-06-10 22:00")
    expect(row.locator(".status-planned")).to_have_count(1)

    # An end before the start is refused next to the field, and nothing is created.
    page.get_by_test_id("session-new").click()
    page.locator("#id_title").fill("倒着走的直播")
    page.locator("#id_account").select_option(str(account.pk))
    page.locator("#id_status").select_option("planned")
    page.locator("#id_scheduled_start").fill("2031-06-11T20:00")
    page.locator("#id_scheduled_end").fill("2031-06-11T18:00")
    page.get_by_test_id("session-save").click()

    expect(page).to_have_url(re.compile(r"/plan/sessions/new/$"))
    field = page.locator(".field.has-error", has=page.locator("#id_scheduled_end"))
    expect(field.locator(".error[role=alert]")).to_be_visible()
    expect(page.locator("#id_title")).to_have_value("倒着走的直播")
    titles = LiveSession.objects.filter(workspace=workspace).values_list("title", flat=True)
    assert list(titles) == ["618 大促预热专场"]
    page.goto(sessions_path(workspace))
    expect(page.get_by_test_id("session-table")).not_to_contain_text("倒着走的直播")


def test_session_list_fits_a_phone(new_context: NewContext) -> None:
    owner, workspace = make_owner(workspace_name="星河美妆 · 华东区直播运营中心")
    account = services.account_create(
        workspace=workspace, by=owner, platform="wechat_channels", name="星河美妆视频号旗舰直播间"
    )
    start = timezone.now() + timedelta(days=2)
    for i in range(3):
        planning_services.session_create(
            workspace=workspace,
            by=owner,
            account=account,
            title=f"第{i + 1}场 · 夏季新品发布会暨粉丝福利超长标题直播专场",
            scheduled_start=start + timedelta(days=i),
            scheduled_end=start + timedelta(days=i, hours=3),
            status="planned",
        )
    page = new_context(width=390, height=844, is_mobile=True, has_touch=True).new_page()
    sign_in(page, owner.email)
    expect(page).to_have_url(re.compile(re.escape(sessions_path(workspace))))
    expect(page.get_by_test_id("session-table").locator("tbody tr")).to_have_count(3)

    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 390, f"document is {scroll_width}px wide on a 390px screen"
    nav = page.get_by_test_id("nav")
    expect(nav).to_be_visible()
    expect(nav.locator("a[data-module=plan]")).to_be_visible()
    expect(page.get_by_test_id("session-new")).to_be_visible()


def test_api_docs_load_without_console_errors_or_csp_violations(
    new_context: NewContext,
) -> None:
    context = new_context()
    # Init scripts are injected by the browser, so the CSP does not block this listener.
    context.add_init_script(
        "window.__csp = [];"
        "document.addEventListener('securitypolicyviolation', e =>"
        " window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console.{msg.type}: {msg.text}")
            if msg.type in ("error", "warning") or "Content Security Policy" in msg.text
            else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    failed: list[str] = []
    page.on("requestfailed", lambda req: failed.append(req.url))

    response = page.goto("/api/docs")
    assert response is not None and response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("LiveOps API")
    expect(page).to_have_title(re.compile("LiveOps API"))
    # The operations come from the schema, so the OpenAPI document loaded too.
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    page.wait_for_load_state("networkidle")

    violations = page.evaluate("window.__csp")
    assert violations == [], violations
    assert problems == [], problems
    assert failed == [], failed
