"""Isolation: every URL pattern, every role, another workspace, and anonymous users.

The table below must have a row for every URL pattern the project serves; a new URL
without a row fails ``test_every_url_pattern_has_a_row``. For each workspace route it
proves: anonymous -> login redirect; a member of workspace B -> 404 for workspace A
(and for A's objects addressed through B); each role -> allowed or 403 exactly as
``roles.MATRIX`` says. API routes: no key -> 401; B's key -> 404 for A's objects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from liveops.events.models import ImportJob
from liveops.workspaces import roles, services
from liveops.workspaces.models import Workspace
from tests.factories import (
    AccountFactory,
    ApiKeyFactory,
    InviteFactory,
    MembershipFactory,
    SessionFactory,
    UserFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Check:
    method: str  # GET or POST
    action: roles.Action  # what the role matrix must allow
    data: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkspaceRoute:
    module: str
    checks: tuple[Check, ...]
    obj: str | None = None  # which object of workspace A the URL addresses


@dataclass(frozen=True)
class OpenRoute:
    """Outside any workspace: anonymous gets ``anonymous_status`` on GET."""

    anonymous_status: int
    kwargs: dict[str, str] = field(default_factory=dict)
    method: str = "GET"


@dataclass(frozen=True)
class ApiRoute:
    method: str
    needs_key: bool = True
    obj: str | None = None
    public_status: int = 200
    body: Any = None


GET = Check("GET", "view")


def post(**data: str) -> Check:
    return Check("POST", "change", data)


ROUTES: dict[str, WorkspaceRoute | OpenRoute | ApiRoute] = {
    # Outside workspaces.
    "home": OpenRoute(302),
    "healthz": OpenRoute(200),
    "login": OpenRoute(200),
    "logout": OpenRoute(302, method="POST"),
    "profile": OpenRoute(302),
    "language_set": OpenRoute(302, method="POST"),
    "workspace_create": OpenRoute(302),
    "invite_accept": OpenRoute(410, kwargs={"token": "inv_unknown"}),
    # Shell.
    "shell:workspace_home": WorkspaceRoute("plan", (GET,)),
    "shell:module_promote": WorkspaceRoute("promote", (GET,)),
    "shell:module_live": WorkspaceRoute("live", (GET,)),
    # Analyze: live data per session.
    "events:session_list": WorkspaceRoute("analyze", (GET,)),
    "events:session_data": WorkspaceRoute("analyze", (GET,), obj="session"),
    "events:import_upload": WorkspaceRoute("analyze", (post(),), obj="session"),
    "events:import_status": WorkspaceRoute("analyze", (GET,), obj="import_job"),
    "events:timeslots": WorkspaceRoute("analyze", (GET,)),
    # Reports: the post-live review (web, PDF, Excel) and its action items.
    "reports:index": WorkspaceRoute("reports", (GET,)),
    "reports:period": WorkspaceRoute("reports", (GET,)),
    "reports:review": WorkspaceRoute("reports", (GET,), obj="session"),
    "reports:review_pdf": WorkspaceRoute("reports", (GET,), obj="session"),
    "reports:review_xlsx": WorkspaceRoute("reports", (GET,), obj="session"),
    "reports:action_create": WorkspaceRoute(
        "reports", (post(title="", finding_key=""),), obj="session"
    ),
    "shell:module_audience": WorkspaceRoute("audience", (GET,)),
    "shell:module_projects": WorkspaceRoute("projects", (GET,)),
    # Planning.
    "planning:session_list": WorkspaceRoute("plan", (GET,)),
    "planning:session_create": WorkspaceRoute("plan", (Check("GET", "change"), post(title=""))),
    "planning:session_edit": WorkspaceRoute("plan", (GET, post(title="")), obj="session"),
    # Planning: products lineup, run-of-show, templates, brand profile.
    "planning:ros_detail": WorkspaceRoute("plan", (GET,), obj="session"),
    "planning:ros_print": WorkspaceRoute("plan", (GET,), obj="session"),
    "planning:ros_export": WorkspaceRoute("plan", (GET,), obj="session"),
    "planning:ros_copy": WorkspaceRoute("plan", (post(),), obj="session"),
    "planning:product_save": WorkspaceRoute("plan", (post(),), obj="session"),
    "planning:product_delete": WorkspaceRoute("plan", (post(),), obj="session"),
    "planning:product_reorder": WorkspaceRoute("plan", (post(order=""),), obj="session"),
    "planning:segment_save": WorkspaceRoute("plan", (post(),), obj="session"),
    "planning:segment_delete": WorkspaceRoute("plan", (post(),), obj="session"),
    "planning:segment_reorder": WorkspaceRoute("plan", (post(order=""),), obj="session"),
    "planning:segment_cue_save": WorkspaceRoute("plan", (post(),), obj="session"),
    "planning:segment_cue_delete": WorkspaceRoute("plan", (post(),), obj="session"),
    "planning:template_save": WorkspaceRoute("plan", (post(),), obj="session"),
    "planning:template_apply": WorkspaceRoute("plan", (post(),), obj="session"),
    "planning:template_list": WorkspaceRoute("plan", (GET,)),
    "planning:template_delete": WorkspaceRoute("plan", (post(),)),
    "planning:brand_profile": WorkspaceRoute("plan", (GET, post())),
    # Planning: series, calendar, frequency, calendar feeds (ids travel in the POST body).
    "planning:series_list": WorkspaceRoute("plan", (GET,)),
    "planning:series_create": WorkspaceRoute("plan", (Check("GET", "change"), post(title=""))),
    "planning:series_edit": WorkspaceRoute("plan", (GET, post(title=""))),
    "planning:series_generate": WorkspaceRoute("plan", (post(series="0"),)),
    "planning:calendar": WorkspaceRoute("plan", (GET,)),
    "planning:calendar_reschedule": WorkspaceRoute("plan", (post(),)),
    "planning:calendar_settings": WorkspaceRoute("plan", (post(min_gap_minutes="30"),)),
    "planning:calendar_room_create": WorkspaceRoute("plan", (post(name="一号棚"),)),
    "planning:frequency": WorkspaceRoute("plan", (GET,)),
    "planning:frequency_target": WorkspaceRoute("plan", (post(),)),
    "planning:feed_list": WorkspaceRoute("plan", (GET,)),
    "planning:feed_create": WorkspaceRoute("plan", (post(),)),
    "planning:feed_revoke": WorkspaceRoute("plan", (post(feed="0"),)),
    # The iCalendar feed: no login, the secret token is the credential; a bad one is 404.
    "planning:feed_ics": OpenRoute(404, kwargs={"ws": "ws-x", "token": "cal_bad"}),
    # Settings.
    "workspaces:settings": WorkspaceRoute("members", (GET,)),
    "workspaces:member_role": WorkspaceRoute("members", (post(role="analyst"),), obj="membership"),
    "workspaces:member_remove": WorkspaceRoute("members", (post(),), obj="membership"),
    "workspaces:invite_create": WorkspaceRoute(
        "members", (Check("GET", "change"), post(role="host"))
    ),
    "workspaces:invite_revoke": WorkspaceRoute("members", (post(),), obj="invite"),
    "workspaces:settings_workspace": WorkspaceRoute("settings", (GET, post(name=""))),
    "workspaces:account_list": WorkspaceRoute("settings", (GET,)),
    "workspaces:account_create": WorkspaceRoute(
        "settings", (Check("GET", "change"), post(name=""))
    ),
    "workspaces:account_edit": WorkspaceRoute("settings", (GET, post(name="")), obj="account"),
    "workspaces:api_key_list": WorkspaceRoute("settings", (GET,)),
    "workspaces:api_key_create": WorkspaceRoute("settings", (post(name="ci"),)),
    "workspaces:api_key_revoke": WorkspaceRoute("settings", (post(),), obj="api_key"),
    "workspaces:audit_log": WorkspaceRoute("audit", (GET,)),
    # API (workspace API keys; no roles — a key is scoped to one workspace).
    # Ninja's index exists only with DEBUG; production answers 404 (docs are at /api/docs).
    "api:api-root": ApiRoute("GET", needs_key=False, public_status=404),
    "api:openapi-json": ApiRoute("GET", needs_key=False),
    "api:openapi-view": ApiRoute("GET", needs_key=False),
    "api:workspace_detail": ApiRoute("GET"),
    "api:account_list": ApiRoute("GET"),
    "api:events_ingest": ApiRoute("POST", obj="session", body="[]"),
    "api:session_list": ApiRoute("GET"),
    "api:session_create": ApiRoute("POST"),
    "api:session_detail": ApiRoute("GET", obj="session"),
}


def _walk(patterns: list[Any], namespace: str | None = None) -> Iterator[str]:
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = namespace
            if p.namespace:
                ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
            yield from _walk(p.url_patterns, ns)
        elif isinstance(p, URLPattern):
            assert p.name, f"URL pattern {p.pattern} has no name"
            yield f"{namespace}:{p.name}" if namespace else p.name


def test_every_url_pattern_has_a_row() -> None:
    served = set(_walk(get_resolver().url_patterns))
    assert served - set(ROUTES) == set(), "add these URL names to ROUTES in test_isolation.py"
    assert set(ROUTES) - served == set(), "ROUTES lists URL names that no longer exist"


def _objects(ws: Workspace) -> dict[str, Any]:
    """One object of each kind in ``ws``; the membership is a second, non-owner member."""
    session = SessionFactory(workspace=ws)
    job = ImportJob.objects.create(workspace=ws, session=session, filename="chat.json")
    return {
        "session": session.pk,
        "import_job": {"pk": session.pk, "job": job.pk},
        "membership": MembershipFactory(workspace=ws, role="viewer").pk,
        "invite": InviteFactory(workspace=ws).pk,
        "account": AccountFactory(workspace=ws).pk,
        "api_key": ApiKeyFactory(workspace=ws).pk,
    }


def _url(name: str, route: WorkspaceRoute, slug: str, objects: dict[str, Any]) -> str:
    kwargs: dict[str, Any] = {"ws": slug}
    if route.obj:
        target = objects[route.obj]
        kwargs.update(target if isinstance(target, dict) else {"pk": target})
    return reverse(name, kwargs=kwargs)


def _send(client: Client, check: Check, url: str) -> int:
    if check.method == "GET":
        return client.get(url).status_code
    return client.post(url, check.data).status_code


WS_ROUTES = [(n, r) for n, r in ROUTES.items() if isinstance(r, WorkspaceRoute)]
CASES = [
    pytest.param(name, route, check, role, id=f"{name}-{check.method}-{role}")
    for name, route in WS_ROUTES
    for check in route.checks
    for role in roles.Role.values
]


@pytest.mark.parametrize(("name", "route", "check", "role"), CASES)
def test_role_matrix_is_enforced(
    name: str, route: WorkspaceRoute, check: Check, role: str, login: Callable[..., Client]
) -> None:
    ws = WorkspaceFactory()
    MembershipFactory(workspace=ws, role="owner")  # keep an owner besides the tested member
    member = MembershipFactory(workspace=ws, role=role)
    status = _send(login(member.user), check, _url(name, route, ws.slug, _objects(ws)))
    if roles.allows(role, route.module, check.action):
        assert status in (200, 302), f"{role} should be allowed {check.action} on {name}"
    else:
        assert status == 403, f"{role} must get 403 for {check.action} on {name}"


@pytest.mark.parametrize(("name", "route"), WS_ROUTES, ids=[n for n, _ in WS_ROUTES])
def test_other_workspace_gets_404(
    name: str, route: WorkspaceRoute, login: Callable[..., Client]
) -> None:
    a, b = WorkspaceFactory(), WorkspaceFactory()
    objects_a = _objects(a)
    outsider = MembershipFactory(workspace=b, role="owner").user
    client = login(outsider)
    for check in route.checks:
        # A's slug: B's owner is not a member of A.
        assert _send(client, check, _url(name, route, a.slug, objects_a)) == 404
        if route.obj:
            # B's slug with A's object id: the object is looked up inside B only.
            assert _send(client, check, _url(name, route, b.slug, objects_a)) == 404


@pytest.mark.parametrize(("name", "route"), WS_ROUTES, ids=[n for n, _ in WS_ROUTES])
def test_anonymous_is_sent_to_login(name: str, route: WorkspaceRoute) -> None:
    ws = WorkspaceFactory()
    url = _url(name, route, ws.slug, _objects(ws))
    for check in route.checks:
        response = Client().get(url) if check.method == "GET" else Client().post(url, check.data)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


OPEN_ROUTES = [(n, r) for n, r in ROUTES.items() if isinstance(r, OpenRoute)]


@pytest.mark.parametrize(("name", "route"), OPEN_ROUTES, ids=[n for n, _ in OPEN_ROUTES])
def test_routes_outside_workspaces(name: str, route: OpenRoute) -> None:
    url = reverse(name, kwargs=route.kwargs or None)
    client = Client()
    response = client.get(url) if route.method == "GET" else client.post(url)
    assert response.status_code == route.anonymous_status
    if response.status_code == 302 and name in {"home", "profile", "workspace_create"}:
        assert response["Location"].startswith(reverse("login"))


API_ROUTES = [(n, r) for n, r in ROUTES.items() if isinstance(r, ApiRoute)]


def _api_url(name: str, route: ApiRoute, session_id: int) -> str:
    return reverse(name, kwargs={"session_id": session_id} if route.obj else None)


@pytest.mark.parametrize(("name", "route"), API_ROUTES, ids=[n for n, _ in API_ROUTES])
def test_api_requires_a_key_of_the_right_workspace(name: str, route: ApiRoute) -> None:
    a, b = WorkspaceFactory(), WorkspaceFactory()
    session_a = SessionFactory(workspace=a)
    url = _api_url(name, route, session_a.pk)
    client = Client()
    call = client.get if route.method == "GET" else client.post
    anonymous = call(url, content_type="application/json")
    if not route.needs_key:
        assert anonymous.status_code == route.public_status
        return
    assert anonymous.status_code == 401
    _, secret_a = services.api_key_create(workspace=a, name="a", by=None)
    _, secret_b = services.api_key_create(workspace=b, name="b", by=None)
    body = route.body or {"title": "API 场次", "account_id": session_a.account_id}
    own = call(url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret_a}")
    assert own.status_code in (200, 201)
    other = call(url, body, content_type="application/json", HTTP_X_API_KEY=secret_b)
    if route.obj or route.method == "POST":
        # B's key cannot read A's session nor use A's account.
        assert other.status_code == 404
    else:
        assert other.status_code == 200
        assert str(session_a.title) not in other.content.decode()
    revoked = call(url, body, content_type="application/json", HTTP_AUTHORIZATION="Bearer lo_x")
    assert revoked.status_code == 401


def test_unknown_user_login_attempt_does_not_reveal_workspaces(
    login: Callable[..., Client],
) -> None:
    user = UserFactory()
    client = login(user)
    assert (
        client.get(reverse("shell:workspace_home", kwargs={"ws": "does-not-exist"})).status_code
        == 404
    )
