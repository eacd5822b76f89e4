"""Services of workspaces: given a state, when a service runs, then the state and audit change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from liveops.core.tokens import token_hash
from liveops.workspaces import services
from liveops.workspaces.models import ApiKey, AuditEntry, Invite, Membership, User
from liveops.workspaces.roles import Role
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def test_workspace_create_makes_creator_owner_and_audits() -> None:
    user = UserFactory()
    ws = services.workspace_create(name="  花西子旗舰店  ", owner=user)
    assert ws.name == "花西子旗舰店"
    assert ws.slug  # a Chinese name still yields a usable slug
    assert Membership.objects.get(workspace=ws, user=user).role == Role.OWNER
    actions = list(AuditEntry.objects.filter(workspace=ws).values_list("action", flat=True))
    assert "workspace.create" in actions and "member.add" in actions


def test_workspace_slugs_are_unique() -> None:
    a = services.workspace_create(name="Acme", owner=None)
    b = services.workspace_create(name="Acme", owner=None)
    assert a.slug == "acme" and b.slug != a.slug and b.slug.startswith("acme-")


def test_workspace_create_rejects_empty_name_and_bad_time_zone() -> None:
    with pytest.raises(ValidationError) as exc:
        services.workspace_create(name=" ", owner=None)
    assert "name" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.workspace_create(name="X", owner=None, time_zone="Mars/Olympus")
    assert "time_zone" in exc.value.message_dict


def test_workspace_update_audits_only_changed_fields() -> None:
    owner = UserFactory()
    ws = services.workspace_create(name="Old", owner=owner)
    services.workspace_update(
        workspace=ws, by=owner, name="New", time_zone=ws.time_zone, currency="cny"
    )
    entry = AuditEntry.objects.filter(workspace=ws, action="workspace.update").get()
    assert entry.before == {"name": "Old"} and entry.after == {"name": "New"}
    assert entry.actor == owner
    ws.refresh_from_db()
    assert ws.currency == "CNY"


def test_invite_is_single_use_and_grants_its_role() -> None:
    ws = WorkspaceFactory()
    owner = MembershipFactory(workspace=ws, role=Role.OWNER).user
    invite, token = services.invite_create(workspace=ws, role=Role.HOST, by=owner)
    assert invite.token_hash == token_hash(token)
    assert token not in Invite.objects.values_list("token_hash", flat=True)
    newcomer = UserFactory()
    membership = services.invite_accept(token=token, user=newcomer)
    assert membership.role == Role.HOST and membership.workspace == ws
    with pytest.raises(services.InviteInvalid, match="already used"):
        services.invite_accept(token=token, user=UserFactory())


def test_expired_and_revoked_invites_cannot_be_used() -> None:
    ws = WorkspaceFactory()
    owner = MembershipFactory(workspace=ws).user
    _, expired = services.invite_create(
        workspace=ws, role=Role.VIEWER, by=owner, ttl=timedelta(seconds=-1)
    )
    with pytest.raises(services.InviteInvalid, match="expired"):
        services.invite_check(expired)
    invite, revoked = services.invite_create(workspace=ws, role=Role.VIEWER, by=owner)
    services.invite_revoke(invite=invite, by=owner)
    with pytest.raises(services.InviteInvalid, match="withdrawn"):
        services.invite_accept(token=revoked, user=UserFactory())
    with pytest.raises(services.InviteInvalid, match="not valid"):
        services.invite_check("inv_nonsense")


def test_invite_accept_keeps_existing_members_role() -> None:
    ws = WorkspaceFactory()
    owner = MembershipFactory(workspace=ws).user
    _, token = services.invite_create(workspace=ws, role=Role.VIEWER, by=owner)
    membership = services.invite_accept(token=token, user=owner)
    assert membership.role == Role.OWNER


def test_last_owner_cannot_be_demoted_or_removed() -> None:
    ws = WorkspaceFactory()
    owner_membership = MembershipFactory(workspace=ws, role=Role.OWNER)
    with pytest.raises(ValidationError, match="at least one owner"):
        services.membership_set_role(
            membership=owner_membership, role=Role.VIEWER, by=owner_membership.user
        )
    with pytest.raises(ValidationError, match="at least one owner"):
        services.membership_remove(membership=owner_membership, by=owner_membership.user)
    second = MembershipFactory(workspace=ws, role=Role.OWNER)
    services.membership_set_role(membership=owner_membership, role=Role.VIEWER, by=second.user)
    owner_membership.refresh_from_db()
    assert owner_membership.role == Role.VIEWER
    entry = AuditEntry.objects.get(workspace=ws, action="member.role")
    assert entry.before == {"role": "owner"} and entry.after == {"role": "viewer"}


def test_api_key_is_shown_once_and_stored_hashed() -> None:
    ws = WorkspaceFactory()
    key, secret = services.api_key_create(workspace=ws, name="OBS relay", by=None)
    stored = ApiKey.objects.get(pk=key.pk)
    assert secret.startswith("lo_") and len(secret) > 40
    assert stored.key_hash == token_hash(secret) and secret not in stored.key_hash
    assert stored.prefix == secret[:10]
    found = services.api_key_authenticate(secret)
    assert found is not None and found.workspace == ws
    assert ApiKey.objects.get(pk=key.pk).last_used_at is not None
    assert services.api_key_authenticate(secret + "x") is None
    services.api_key_revoke(api_key=key, by=UserFactory())
    assert services.api_key_authenticate(secret) is None


def test_account_create_validates_and_is_unique_per_workspace() -> None:
    ws = WorkspaceFactory(currency="CNY", time_zone="Asia/Shanghai")
    account = services.account_create(workspace=ws, by=None, platform="kuaishou", name="快手店")
    assert account.currency == "CNY" and account.time_zone == "Asia/Shanghai"
    with pytest.raises(ValidationError) as exc:
        services.account_create(workspace=ws, by=None, platform="kuaishou", name="快手店")
    assert "name" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.account_create(
            workspace=ws, by=None, platform="myspace", name="x", currency="yuan"
        )
    assert {"platform", "currency"} <= set(exc.value.message_dict)
    # Another workspace may use the same name.
    services.account_create(
        workspace=WorkspaceFactory(), by=None, platform="kuaishou", name="快手店"
    )


def test_account_update_records_before_and_after() -> None:
    ws = WorkspaceFactory()
    account = services.account_create(workspace=ws, by=None, platform="bilibili", name="B站")
    user = UserFactory()
    services.account_update(
        account=account,
        by=user,
        platform="bilibili",
        name="B站官方",
        external_id="12345",
        time_zone="Asia/Shanghai",
        currency="CNY",
    )
    entry = AuditEntry.objects.get(workspace=ws, action="account.update")
    assert entry.before == {"name": "B站", "external_id": ""}
    assert entry.after == {"name": "B站官方", "external_id": "12345"}


def test_user_create_and_language() -> None:
    user = services.user_create(
        email="Host@Example.COM", password="pw-long-enough-1", display_name="主播小王"
    )
    assert user.email == "host@example.com" and user.check_password("pw-long-enough-1")
    with pytest.raises(ValidationError):
        services.user_create(email="host@example.com", password="x" * 12, display_name="dup")
    services.user_set_language(user=user, language="en")
    assert User.objects.get(pk=user.pk).language == "en"
    with pytest.raises(ValidationError):
        services.user_set_language(user=user, language="fr")


def test_invite_expiry_uses_setting(settings: object) -> None:
    ws = WorkspaceFactory()
    owner = MembershipFactory(workspace=ws).user
    invite, _ = services.invite_create(workspace=ws, role=Role.ANALYST, by=owner)
    remaining = invite.expires_at - timezone.now()
    assert timedelta(days=6, hours=23) < remaining <= timedelta(days=7)


def test_sign_in_accepts_any_capitalisation_of_the_email() -> None:
    from django.test import Client

    services.user_create(
        email="Li.Na@Example.com", password="pw-long-enough-1", display_name="李娜"
    )
    response = Client().post(
        "/accounts/login/", {"username": "Li.Na@Example.COM", "password": "pw-long-enough-1"}
    )
    assert response.status_code == 302
