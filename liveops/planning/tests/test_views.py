"""Planning pages: list, create, edit — in the workspace time zone, with stable query counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from liveops.planning.models import LiveSession
from tests.factories import AccountFactory, MembershipFactory, SessionFactory

pytestmark = pytest.mark.django_db


def test_create_session_reads_times_in_workspace_time_zone(login: Callable[..., Client]) -> None:
    membership = MembershipFactory(workspace__time_zone="Asia/Shanghai")
    ws = membership.workspace
    account = AccountFactory(workspace=ws)
    response = login(membership.user).post(
        reverse("planning:session_create", kwargs={"ws": ws.slug}),
        {
            "title": "晚8点专场",
            "account": account.pk,
            "status": "planned",
            "scheduled_start": "2026-12-01T20:00",
            "scheduled_end": "2026-12-01T22:00",
        },
    )
    assert response.status_code == 302
    session = LiveSession.objects.get()
    assert session.scheduled_start == datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_create_session_shows_field_error_and_saves_nothing(login: Callable[..., Client]) -> None:
    membership = MembershipFactory()
    ws = membership.workspace
    account = AccountFactory(workspace=ws)
    response = login(membership.user).post(
        reverse("planning:session_create", kwargs={"ws": ws.slug}),
        {
            "title": "x",
            "account": account.pk,
            "status": "draft",
            "scheduled_start": "2026-12-01T20:00",
            "scheduled_end": "2026-12-01T19:00",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["scheduled_end"]
    assert not LiveSession.objects.exists()


def test_account_choices_are_only_this_workspaces(login: Callable[..., Client]) -> None:
    membership = MembershipFactory()
    mine = AccountFactory(workspace=membership.workspace)
    foreign = AccountFactory()
    response = login(membership.user).post(
        reverse("planning:session_create", kwargs={"ws": membership.workspace.slug}),
        {"title": "x", "account": foreign.pk, "status": "draft"},
    )
    assert "account" in response.context["form"].errors
    choices = [c for c, _ in response.context["form"].fields["account"].choices if c]
    assert [int(str(c)) for c in choices] == [mine.pk]


def test_session_list_query_count_is_constant(login: Callable[..., Client]) -> None:
    membership = MembershipFactory()
    ws = membership.workspace
    client = login(membership.user)
    url = reverse("planning:session_list", kwargs={"ws": ws.slug})
    SessionFactory.create_batch(2, workspace=ws)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    SessionFactory.create_batch(25, workspace=ws)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(few) == len(many)
    assert response.content.decode().count("status-planned") == 27


def test_status_filter(login: Callable[..., Client]) -> None:
    membership = MembershipFactory()
    ws = membership.workspace
    SessionFactory(workspace=ws, status="planned", title="计划中的")
    SessionFactory(workspace=ws, status="ended", title="已结束的")
    html = (
        login(membership.user)
        .get(reverse("planning:session_list", kwargs={"ws": ws.slug}) + "?status=ended")
        .content.decode()
    )
    assert "已结束的" in html and "计划中的" not in html


def test_session_form_books_hosts_and_room_and_explains_a_double_booking(
    login: Callable[..., Client],
) -> None:
    from liveops.planning.models import Room

    membership = MembershipFactory()
    ws = membership.workspace
    host = MembershipFactory(workspace=ws, role="host").user
    room = Room.objects.create(workspace=ws, name="一号直播间")
    a, b = AccountFactory(workspace=ws), AccountFactory(workspace=ws)
    client = login(membership.user)
    url = reverse("planning:session_create", kwargs={"ws": ws.slug})
    data = {
        "title": "早场",
        "account": a.pk,
        "status": "planned",
        "hosts": [host.pk],
        "room": room.pk,
        "scheduled_start": "2026-12-01T20:00",
        "scheduled_end": "2026-12-01T22:00",
    }
    saved = client.post(url, data)
    assert saved.status_code == 302, saved.context["form"].errors
    first = LiveSession.objects.get()
    assert list(first.hosts.all()) == [host] and first.room == room
    clash = client.post(url, {**data, "title": "撞车", "account": b.pk})
    assert clash.status_code == 200
    text = " ".join(str(e) for e in clash.context["form"].non_field_errors()) + " ".join(
        str(e) for e in clash.context["form"].errors.get("scheduled_start", [])
    )
    assert "早场" in text
    assert LiveSession.objects.count() == 1


def test_session_kpi_targets_are_saved_as_fractions_and_shown_back(
    login: Callable[..., Client],
) -> None:
    membership = MembershipFactory()
    ws = membership.workspace
    account = AccountFactory(workspace=ws)
    client = login(membership.user)
    response = client.post(
        reverse("planning:session_create", kwargs={"ws": ws.slug}),
        {
            "title": "目标场",
            "account": account.pk,
            "status": "draft",
            "kpi_uv": "20000",
            "kpi_gmv": "150000.5",
            "kpi_interaction_rate": "6.5",
        },
    )
    assert response.status_code == 302
    session = LiveSession.objects.get()
    assert session.kpi_targets == {"uv": 20000, "gmv": "150000.50", "interaction_rate": 0.065}
    page = client.get(reverse("planning:session_edit", kwargs={"ws": ws.slug, "pk": session.pk}))
    assert page.context["form"].initial["kpi_interaction_rate"] == Decimal("6.5")
    bad = client.post(
        reverse("planning:session_create", kwargs={"ws": ws.slug}),
        {"title": "x", "account": account.pk, "status": "draft", "kpi_interaction_rate": "150"},
    )
    assert "kpi_interaction_rate" in bad.context["form"].errors


def test_a_session_is_marked_a_simulcast_from_its_edit_form(
    login: Callable[..., Client],
) -> None:
    membership = MembershipFactory()
    ws = membership.workspace
    douyin = SessionFactory(workspace=ws, account=AccountFactory(workspace=ws), title="抖音场")
    kuaishou = SessionFactory(
        workspace=ws, account=AccountFactory(workspace=ws, platform="kuaishou"), title="快手场"
    )
    client = login(membership.user)
    url = reverse("planning:session_edit", kwargs={"ws": ws.slug, "pk": kuaishou.pk})
    page = client.get(url)
    choices = [str(label) for _, label in page.context["form"].fields["simulcast_of"].choices]
    assert any(c.startswith("抖音场 · ") for c in choices)
    assert not any(c.startswith("快手场") for c in choices)  # not itself
    data = {
        "title": kuaishou.title,
        "account": kuaishou.account_id,
        "status": "draft",
        "simulcast_of": douyin.pk,
    }
    saved = client.post(url, data)
    assert saved.status_code == 302, saved.context["form"].errors
    kuaishou.refresh_from_db()
    assert kuaishou.simulcast_of == douyin
    # the same account as the main session is refused, with the reason on the field
    same = SessionFactory(workspace=ws, account=douyin.account, title="同号")
    bad = client.post(
        reverse("planning:session_edit", kwargs={"ws": ws.slug, "pk": same.pk}),
        {"title": "同号", "account": douyin.account_id, "status": "draft",
         "simulcast_of": douyin.pk},
    )  # fmt: skip
    assert bad.status_code == 200
    assert "同一个平台账号" in str(bad.context["form"].errors["simulcast_of"])  # in zh
    same.refresh_from_db()
    assert same.simulcast_of is None
