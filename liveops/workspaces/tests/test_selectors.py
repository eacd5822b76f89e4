"""Selectors of workspaces: every read is scoped to one workspace."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from liveops.workspaces import selectors, services
from liveops.workspaces.roles import Role
from tests.factories import (
    AccountFactory,
    ApiKeyFactory,
    InviteFactory,
    MembershipFactory,
    UserFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.django_db


def test_membership_get_only_for_members() -> None:
    a, b = WorkspaceFactory(), WorkspaceFactory()
    user = MembershipFactory(workspace=a, role=Role.ANALYST).user
    assert selectors.membership_get(user=user, slug=a.slug).role == Role.ANALYST  # type: ignore[union-attr]
    assert selectors.membership_get(user=user, slug=b.slug) is None
    assert selectors.membership_get(user=user, slug="nope") is None


def test_lists_are_scoped_to_the_workspace() -> None:
    a, b = WorkspaceFactory(), WorkspaceFactory()
    for ws in (a, b):
        MembershipFactory(workspace=ws)
        AccountFactory(workspace=ws)
        ApiKeyFactory(workspace=ws)
        InviteFactory(workspace=ws)
    assert {m.workspace_id for m in selectors.member_list(workspace=a)} == {a.pk}
    assert {x.workspace_id for x in selectors.account_list(workspace=a)} == {a.pk}
    assert {x.workspace_id for x in selectors.api_key_list(workspace=a)} == {a.pk}
    assert {x.workspace_id for x in selectors.invite_list_open(workspace=a)} == {a.pk}
    other_account = selectors.account_list(workspace=b).get()
    assert selectors.account_get(workspace=a, pk=other_account.pk) is None


def test_open_invites_exclude_used_and_revoked() -> None:
    ws = WorkspaceFactory()
    owner = MembershipFactory(workspace=ws).user
    open_invite, _ = services.invite_create(workspace=ws, role=Role.HOST, by=owner)
    _, token = services.invite_create(workspace=ws, role=Role.HOST, by=owner)
    services.invite_accept(token=token, user=UserFactory())
    revoked, _ = services.invite_create(workspace=ws, role=Role.HOST, by=owner)
    services.invite_revoke(invite=revoked, by=owner)
    assert list(selectors.invite_list_open(workspace=ws)) == [open_invite]


def test_audit_list_is_scoped_and_newest_first() -> None:
    owner = UserFactory()
    a = services.workspace_create(name="A", owner=owner)
    services.workspace_create(name="B", owner=owner)
    services.workspace_update(workspace=a, by=owner, name="A2", time_zone="UTC", currency="USD")
    entries = list(selectors.audit_list(workspace=a))
    assert entries[0].action == "workspace.update"
    assert all(e.workspace_id == a.pk for e in entries)


def test_member_list_query_count_does_not_grow_with_members() -> None:
    ws = WorkspaceFactory()
    MembershipFactory.create_batch(3, workspace=ws)
    with CaptureQueriesContext(connection) as few:
        [m.user.email for m in selectors.member_list(workspace=ws)]
    MembershipFactory.create_batch(20, workspace=ws)
    with CaptureQueriesContext(connection) as many:
        [m.user.email for m in selectors.member_list(workspace=ws)]
    assert len(few) == len(many) == 1
