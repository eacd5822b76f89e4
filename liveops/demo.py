"""The demo workspace of `make run`: real objects, no invented figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from liveops.planning.models import SessionStatus
from liveops.planning.selectors import session_list
from liveops.planning.services import session_create
from liveops.workspaces.models import User
from liveops.workspaces.roles import Role
from liveops.workspaces.selectors import account_first_for_platform, workspace_get_by_slug
from liveops.workspaces.services import (
    account_create,
    membership_add,
    user_create,
    workspace_create,
)

DEMO_SLUG = "demo"
DEMO_EMAIL = "demo@liveops.local"
# A published login for local evaluation only; `liveops demo` refuses production settings.
DEMO_PASSWORD = "liveops-demo-2026"  # noqa: S105


@dataclass(frozen=True)
class DemoResult:
    workspace_slug: str
    workspace_name: str
    email: str
    password: str


@transaction.atomic
def demo_setup() -> DemoResult:
    """Create the demo workspace, owner login, accounts and sessions once; safe to repeat."""
    user = User.objects.filter(email=DEMO_EMAIL).first()
    if user is None:
        user = user_create(email=DEMO_EMAIL, password=DEMO_PASSWORD, display_name="演示运营 Demo")
    else:
        # Keep the printed login working even if someone changed the password.
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    workspace = workspace_get_by_slug(slug=DEMO_SLUG)
    if workspace is None:
        workspace = workspace_create(name="演示品牌 Demo Brand", owner=user, slug=DEMO_SLUG)
    membership_add(workspace=workspace, user=user, role=Role.OWNER, by=user)
    accounts = {}
    for platform, name in [("douyin", "演示品牌官方旗舰店"), ("bilibili", "演示品牌UP主")]:
        accounts[platform] = account_first_for_platform(
            workspace=workspace, platform=platform
        ) or account_create(workspace=workspace, by=user, platform=platform, name=name)
    if not session_list(workspace=workspace).exists():
        tz = ZoneInfo(workspace.time_zone)
        today = timezone.now().astimezone(tz).date()
        plan = [
            ("douyin", "双12预热专场 · 新品首发", 1, SessionStatus.PLANNED),
            ("douyin", "周四宠粉福利夜", 3, SessionStatus.PLANNED),
            ("bilibili", "产品经理面对面 Q&A", 5, SessionStatus.DRAFT),
        ]
        for platform, title, days, status in plan:
            start = datetime.combine(today + timedelta(days=days), time(20, 0), tzinfo=tz)
            session_create(
                workspace=workspace,
                by=user,
                account=accounts[platform],
                title=title,
                scheduled_start=start,
                scheduled_end=start + timedelta(hours=2),
                status=status,
            )
    return DemoResult(workspace.slug, workspace.name, DEMO_EMAIL, DEMO_PASSWORD)
