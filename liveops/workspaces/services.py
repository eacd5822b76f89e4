"""Writes for people and tenancy. Every state change records an audit entry."""

from __future__ import annotations

import secrets
import zoneinfo
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from liveops.core.audit import changed, snapshot
from liveops.core.tokens import new_token, token_hash
from liveops.workspaces.models import (
    ApiKey,
    AuditEntry,
    Invite,
    Language,
    Membership,
    Platform,
    PlatformAccount,
    User,
    Workspace,
)
from liveops.workspaces.roles import Role

ACCOUNT_FIELDS = ["platform", "name", "external_id", "time_zone", "currency"]
WORKSPACE_FIELDS = ["name", "time_zone", "currency"]


def audit_record(
    *,
    workspace: Workspace,
    actor: User | None,
    action: str,
    target: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one row to the workspace's audit log."""
    return AuditEntry.objects.create(
        workspace=workspace,
        actor=actor,
        actor_label=str(actor) if actor else "system",
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk or ""),
        target_label=str(target)[:200],
        before=before or {},
        after=after or {},
    )


def validate_time_zone(name: str, field: str = "time_zone") -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            {
                field: _("Unknown time zone “%(tz)s”. Use an IANA name such as Asia/Shanghai.")
                % {"tz": name}
            }
        ) from exc


def user_create(
    *,
    email: str,
    password: str,
    display_name: str,
    language: str = Language.ZH_HANS,
    time_zone: str = "Asia/Shanghai",
) -> User:
    email = email.strip().lower()
    if User.objects.filter(email=email).exists():
        raise ValidationError({"email": _("An account with this email already exists.")})
    validate_time_zone(time_zone)
    return User.objects.create_user(
        email,
        password,
        display_name=display_name.strip() or email.split("@")[0],
        language=language,
        time_zone=time_zone,
    )


def user_set_language(*, user: User, language: str) -> User:
    if language not in Language.values:
        raise ValidationError({"language": _("Unsupported language.")})
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return user


def user_update_profile(*, user: User, display_name: str, language: str, time_zone: str) -> User:
    validate_time_zone(time_zone)
    user_set_language(user=user, language=language)
    user.display_name = display_name.strip() or user.display_name
    user.time_zone = time_zone
    user.save(update_fields=["display_name", "time_zone"])
    return user


def _unique_slug(name: str) -> str:
    base = slugify(name)[:40].strip("-") or "ws"
    slug = base
    while Workspace.objects.filter(slug=slug).exists():
        slug = f"{base}-{secrets.token_hex(3)}"
    return slug


@transaction.atomic
def workspace_create(
    *,
    name: str,
    owner: User | None,
    time_zone: str = "Asia/Shanghai",
    currency: str = "CNY",
    slug: str | None = None,
) -> Workspace:
    """Create a workspace; its creator (if any) becomes its owner."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("A workspace needs a name.")})
    validate_time_zone(time_zone)
    if slug and Workspace.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": _("This short name is taken.")})
    workspace = Workspace.objects.create(
        slug=slug or _unique_slug(name), name=name, time_zone=time_zone, currency=currency.upper()
    )
    audit_record(
        workspace=workspace,
        actor=owner,
        action="workspace.create",
        target=workspace,
        after=snapshot(workspace, WORKSPACE_FIELDS),
    )
    if owner is not None:
        membership_add(workspace=workspace, user=owner, role=Role.OWNER, by=owner)
    return workspace


@transaction.atomic
def workspace_update(
    *, workspace: Workspace, by: User, name: str, time_zone: str, currency: str
) -> Workspace:
    validate_time_zone(time_zone)
    before = snapshot(workspace, WORKSPACE_FIELDS)
    workspace.name = name.strip() or workspace.name
    workspace.time_zone = time_zone
    workspace.currency = currency.upper()
    workspace.save()
    b, a = changed(before, snapshot(workspace, WORKSPACE_FIELDS))
    if a:
        audit_record(
            workspace=workspace,
            actor=by,
            action="workspace.update",
            target=workspace,
            before=b,
            after=a,
        )
    return workspace


def membership_add(*, workspace: Workspace, user: User, role: str, by: User | None) -> Membership:
    membership, created = Membership.objects.get_or_create(
        workspace=workspace, user=user, defaults={"role": role}
    )
    if created:
        audit_record(
            workspace=workspace,
            actor=by,
            action="member.add",
            target=membership,
            after={"user": user.email, "role": role},
        )
    return membership


def _ensure_another_owner(membership: Membership) -> None:
    others = Membership.objects.filter(workspace=membership.workspace, role=Role.OWNER).exclude(
        pk=membership.pk
    )
    if membership.role == Role.OWNER and not others.exists():
        raise ValidationError({"role": _("A workspace must keep at least one owner.")})


@transaction.atomic
def membership_set_role(*, membership: Membership, role: str, by: User) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    if role != Role.OWNER:
        _ensure_another_owner(membership)
    before = membership.role
    if before != role:
        membership.role = role
        membership.save(update_fields=["role", "updated_at"])
        audit_record(
            workspace=membership.workspace,
            actor=by,
            action="member.role",
            target=membership,
            before={"role": before},
            after={"role": role},
        )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, by: User) -> None:
    _ensure_another_owner(membership)
    audit_record(
        workspace=membership.workspace,
        actor=by,
        action="member.remove",
        target=membership,
        before={"user": membership.user.email, "role": membership.role},
    )
    membership.delete()


def invite_create(
    *, workspace: Workspace, role: str, by: User, ttl: timedelta | None = None
) -> tuple[Invite, str]:
    """Create an invite; returns it with the one-time token for the link (not stored)."""
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    token = new_token("inv", 24)
    invite = Invite.objects.create(
        workspace=workspace,
        role=role,
        token_hash=token_hash(token),
        created_by=by,
        expires_at=timezone.now() + (ttl or settings.LIVEOPS_INVITE_TTL),
    )
    audit_record(
        workspace=workspace,
        actor=by,
        action="invite.create",
        target=invite,
        after={"role": role, "expires_at": invite.expires_at.isoformat()},
    )
    return invite, token


class InviteInvalid(ValidationError):
    pass


def invite_check(token: str) -> Invite:
    """The open invite for ``token``; raises InviteInvalid saying why it cannot be used."""
    invite = Invite.objects.select_related("workspace").filter(token_hash=token_hash(token)).first()
    if invite is None:
        raise InviteInvalid(_("This invitation link is not valid."))
    if invite.revoked_at is not None:
        raise InviteInvalid(_("This invitation was withdrawn. Ask for a new link."))
    if invite.used_at is not None:
        raise InviteInvalid(_("This invitation link was already used. Ask for a new link."))
    if invite.expires_at <= timezone.now():
        raise InviteInvalid(_("This invitation link has expired. Ask for a new link."))
    return invite


@transaction.atomic
def invite_accept(*, token: str, user: User) -> Membership:
    """Use an invite once: the user joins with its role (an existing member keeps theirs)."""
    invite = invite_check(token)
    # Lock the row so two browsers cannot both use a single-use link.
    locked = Invite.objects.select_for_update().get(pk=invite.pk)
    if locked.used_at is not None:
        raise InviteInvalid(_("This invitation link was already used. Ask for a new link."))
    locked.used_at = timezone.now()
    locked.used_by = user
    locked.save(update_fields=["used_at", "used_by", "updated_at"])
    membership = membership_add(workspace=locked.workspace, user=user, role=locked.role, by=user)
    audit_record(
        workspace=locked.workspace,
        actor=user,
        action="invite.accept",
        target=locked,
        after={"user": user.email, "role": membership.role},
    )
    return membership


def invite_revoke(*, invite: Invite, by: User) -> Invite:
    if invite.revoked_at is None and invite.used_at is None:
        invite.revoked_at = timezone.now()
        invite.save(update_fields=["revoked_at", "updated_at"])
        audit_record(workspace=invite.workspace, actor=by, action="invite.revoke", target=invite)
    return invite


def _clean_account(platform: str, name: str, time_zone: str, currency: str) -> None:
    errors: dict[str, str] = {}
    if platform not in Platform.values:
        errors["platform"] = _("Unknown platform.")
    if not name.strip():
        errors["name"] = _("An account needs a name.")
    if len(currency) != 3 or not currency.isalpha():
        errors["currency"] = _("Use a three-letter currency code such as CNY or USD.")
    if errors:
        raise ValidationError(errors)
    validate_time_zone(time_zone)


@transaction.atomic
def account_create(
    *,
    workspace: Workspace,
    by: User | None,
    platform: str,
    name: str,
    external_id: str = "",
    time_zone: str | None = None,
    currency: str | None = None,
) -> PlatformAccount:
    tz = time_zone or workspace.time_zone
    cur = (currency or workspace.currency).upper()
    _clean_account(platform, name, tz, cur)
    if PlatformAccount.objects.filter(workspace=workspace, platform=platform, name=name).exists():
        raise ValidationError({"name": _("This workspace already has an account with this name.")})
    account = PlatformAccount.objects.create(
        workspace=workspace,
        platform=platform,
        name=name.strip(),
        external_id=external_id.strip(),
        time_zone=tz,
        currency=cur,
    )
    audit_record(
        workspace=workspace,
        actor=by,
        action="account.create",
        target=account,
        after=snapshot(account, ACCOUNT_FIELDS),
    )
    return account


@transaction.atomic
def account_update(
    *,
    account: PlatformAccount,
    by: User,
    platform: str,
    name: str,
    external_id: str,
    time_zone: str,
    currency: str,
) -> PlatformAccount:
    _clean_account(platform, name, time_zone, currency.upper())
    clash = PlatformAccount.objects.filter(
        workspace=account.workspace, platform=platform, name=name
    ).exclude(pk=account.pk)
    if clash.exists():
        raise ValidationError({"name": _("This workspace already has an account with this name.")})
    before = snapshot(account, ACCOUNT_FIELDS)
    account.platform, account.name, account.external_id = platform, name.strip(), external_id
    account.time_zone, account.currency = time_zone, currency.upper()
    account.save()
    b, a = changed(before, snapshot(account, ACCOUNT_FIELDS))
    if a:
        audit_record(
            workspace=account.workspace,
            actor=by,
            action="account.update",
            target=account,
            before=b,
            after=a,
        )
    return account


def api_key_create(*, workspace: Workspace, name: str, by: User | None) -> tuple[ApiKey, str]:
    """Create a key; returns it with the secret, which is shown once and never stored."""
    if not name.strip():
        raise ValidationError({"name": _("Give the key a name, e.g. the tool that will use it.")})
    secret = new_token("lo", 32)
    key = ApiKey.objects.create(
        workspace=workspace,
        name=name.strip(),
        prefix=secret[:10],
        key_hash=token_hash(secret),
        created_by=by,
    )
    audit_record(
        workspace=workspace,
        actor=by,
        action="apikey.create",
        target=key,
        after={"name": key.name, "prefix": key.prefix},
    )
    return key, secret


def api_key_revoke(*, api_key: ApiKey, by: User) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at", "updated_at"])
        audit_record(
            workspace=api_key.workspace,
            actor=by,
            action="apikey.revoke",
            target=api_key,
            before={"active": True},
            after={"active": False},
        )
    return api_key


def api_key_authenticate(secret: str) -> ApiKey | None:
    """The active key for ``secret`` (its workspace loaded), or None."""
    if not secret or len(secret) > 200:
        return None
    key = (
        ApiKey.objects.select_related("workspace")
        .filter(key_hash=token_hash(secret), revoked_at__isnull=True)
        .first()
    )
    if key is not None:
        now = timezone.now()
        # Touch at most once a minute: this runs on every API call.
        if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key
