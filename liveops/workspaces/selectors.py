"""Reads for people and tenancy. Every workspace-scoped read takes the workspace."""

from __future__ import annotations

from django.db.models import QuerySet

from liveops.workspaces.models import (
    ApiKey,
    AuditEntry,
    Invite,
    Membership,
    PlatformAccount,
    User,
    Workspace,
)


def membership_list_for_user(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user).select_related("workspace").order_by("workspace__name")
    )


def membership_get(*, user: User, slug: str) -> Membership | None:
    return (
        Membership.objects.select_related("workspace")
        .filter(user=user, workspace__slug=slug)
        .first()
    )


def member_list(*, workspace: Workspace) -> QuerySet[Membership]:
    return workspace.memberships.select_related("user").order_by("role", "user__display_name")


def member_get(*, workspace: Workspace, pk: int) -> Membership | None:
    return workspace.memberships.select_related("user", "workspace").filter(pk=pk).first()


def invite_list_open(*, workspace: Workspace) -> QuerySet[Invite]:
    return workspace.invites.filter(used_at__isnull=True, revoked_at__isnull=True).order_by(
        "-created_at"
    )


def invite_get(*, workspace: Workspace, pk: int) -> Invite | None:
    return workspace.invites.select_related("workspace").filter(pk=pk).first()


def account_list(*, workspace: Workspace) -> QuerySet[PlatformAccount]:
    return workspace.accounts.all()


def account_get(*, workspace: Workspace, pk: int) -> PlatformAccount | None:
    return workspace.accounts.filter(pk=pk).first()


def account_first_for_platform(*, workspace: Workspace, platform: str) -> PlatformAccount | None:
    return workspace.accounts.filter(platform=platform).order_by("pk").first()


def api_key_list(*, workspace: Workspace) -> QuerySet[ApiKey]:
    return workspace.api_keys.select_related("created_by").order_by("revoked_at", "-created_at")


def api_key_get(*, workspace: Workspace, pk: int) -> ApiKey | None:
    return workspace.api_keys.select_related("workspace").filter(pk=pk).first()


def audit_list(*, workspace: Workspace, limit: int = 200) -> QuerySet[AuditEntry]:
    return workspace.audit.select_related("actor")[:limit]


def workspace_get_by_slug(*, slug: str) -> Workspace | None:
    return Workspace.objects.filter(slug=slug).first()
