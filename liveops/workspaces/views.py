"""People and tenancy pages: sign-in, profile, workspaces, members, invites, accounts,
API keys and the audit log."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from liveops.core.forms import attach_service_errors
from liveops.workspaces import selectors, services
from liveops.workspaces.access import WorkspaceRequest, workspace_view
from liveops.workspaces.forms import (
    AccountForm,
    ApiKeyForm,
    InviteForm,
    LoginForm,
    ProfileForm,
    RoleForm,
    SignupForm,
    WorkspaceForm,
)
from liveops.workspaces.models import User


class SignInView(LoginView):
    template_name = "workspaces/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """Switch the interface language; remembered on the account and in a cookie."""
    from django.conf import settings

    language = request.POST.get("language", "")
    response = HttpResponseRedirect(_safe_next(request, "/"))
    if language not in dict(settings.LANGUAGES):
        return response
    if request.user.is_authenticated:
        services.user_set_language(user=request.user, language=language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite="Lax",
    )
    return response


@login_required
def home(request: HttpRequest) -> HttpResponse:
    memberships = selectors.membership_list_for_user(user=cast(User, request.user))
    first = memberships.first()
    if first is None:
        return redirect("workspace_create")
    return redirect("planning:session_list", ws=first.workspace.slug)


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    form = ProfileForm(
        request.POST or None,
        initial={
            "display_name": user.display_name,
            "language": user.language,
            "time_zone": user.time_zone,
        },
    )
    if request.method == "POST" and form.is_valid():
        services.user_update_profile(user=user, **form.cleaned_data)
        messages.success(request, _("Profile saved."))
        return redirect("profile")
    return render(request, "workspaces/profile.html", {"form": form})


@login_required
def workspace_create(request: HttpRequest) -> HttpResponse:
    form = WorkspaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            workspace = services.workspace_create(
                owner=cast(User, request.user), **form.cleaned_data
            )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("Workspace “%(name)s” created.") % {"name": workspace.name})
            return redirect("workspaces:settings", ws=workspace.slug)
    return render(request, "workspaces/workspace_create.html", {"form": form})


def invite_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Join a workspace by link: signed-in users accept; newcomers create an account."""
    try:
        invite = services.invite_check(token)
    except services.InviteInvalid as exc:
        return render(
            request, "workspaces/invite_invalid.html", {"reason": exc.messages[0]}, status=410
        )
    signup = SignupForm(request.POST or None) if not request.user.is_authenticated else None
    if request.method == "POST":
        user: User | None = request.user if request.user.is_authenticated else None
        if user is None and signup is not None and signup.is_valid():
            try:
                user = services.user_create(
                    email=signup.cleaned_data["email"],
                    password=signup.cleaned_data["password"],
                    display_name=signup.cleaned_data["display_name"],
                    language=getattr(request, "LANGUAGE_CODE", "zh-hans"),
                )
            except ValidationError as exc:
                attach_service_errors(signup, exc)
                user = None
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        if user is not None:
            try:
                membership = services.invite_accept(token=token, user=user)
            except services.InviteInvalid as exc:
                return render(
                    request,
                    "workspaces/invite_invalid.html",
                    {"reason": exc.messages[0]},
                    status=410,
                )
            messages.success(
                request, _("You joined “%(name)s”.") % {"name": membership.workspace.name}
            )
            return redirect("planning:session_list", ws=membership.workspace.slug)
    return render(
        request,
        "workspaces/invite_accept.html",
        {"invite": invite, "signup": signup, "token": token},
    )


@workspace_view("members")
def settings_members(request: WorkspaceRequest) -> HttpResponse:
    return render(
        request,
        "workspaces/settings_members.html",
        {
            "members": selectors.member_list(workspace=request.workspace),
            "invites": selectors.invite_list_open(workspace=request.workspace),
            "invite_form": InviteForm(),
            "role_form": RoleForm(),
        },
    )


@workspace_view("members", action="change")
@require_POST
def member_role(request: WorkspaceRequest, pk: int) -> HttpResponse:
    membership = selectors.member_get(workspace=request.workspace, pk=pk)
    if membership is None:
        raise Http404
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.membership_set_role(
                membership=membership, role=form.cleaned_data["role"], by=request.user
            )
            messages.success(request, _("Role updated."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return redirect("workspaces:settings", ws=request.workspace.slug)


@workspace_view("members", action="change")
@require_POST
def member_remove(request: WorkspaceRequest, pk: int) -> HttpResponse:
    membership = selectors.member_get(workspace=request.workspace, pk=pk)
    if membership is None:
        raise Http404
    try:
        services.membership_remove(membership=membership, by=request.user)
        messages.success(request, _("Member removed."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("workspaces:settings", ws=request.workspace.slug)


@workspace_view("members", action="change")
def invite_create(request: WorkspaceRequest) -> HttpResponse:
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        invite, token = services.invite_create(
            workspace=request.workspace, role=form.cleaned_data["role"], by=request.user
        )
        link = request.build_absolute_uri(reverse("invite_accept", kwargs={"token": token}))
        return render(request, "workspaces/invite_created.html", {"invite": invite, "link": link})
    return render(request, "workspaces/invite_form.html", {"form": form})


@workspace_view("members", action="change")
@require_POST
def invite_revoke(request: WorkspaceRequest, pk: int) -> HttpResponse:
    invite = selectors.invite_get(workspace=request.workspace, pk=pk)
    if invite is None:
        raise Http404
    services.invite_revoke(invite=invite, by=request.user)
    messages.success(request, _("Invitation withdrawn."))
    return redirect("workspaces:settings", ws=request.workspace.slug)


@workspace_view("settings")
def settings_workspace(request: WorkspaceRequest) -> HttpResponse:
    ws = request.workspace
    form = WorkspaceForm(
        request.POST or None,
        initial={"name": ws.name, "time_zone": ws.time_zone, "currency": ws.currency},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.workspace_update(workspace=ws, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("Workspace saved."))
            return redirect("workspaces:settings_workspace", ws=ws.slug)
    return render(request, "workspaces/settings_workspace.html", {"form": form})


@workspace_view("settings")
def account_list(request: WorkspaceRequest) -> HttpResponse:
    return render(
        request,
        "workspaces/account_list.html",
        {"accounts": selectors.account_list(workspace=request.workspace)},
    )


@workspace_view("settings", action="change")
def account_create(request: WorkspaceRequest) -> HttpResponse:
    form = AccountForm(
        request.POST or None,
        initial={"time_zone": request.workspace.time_zone, "currency": request.workspace.currency},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.account_create(
                workspace=request.workspace, by=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("Account added."))
            return redirect("workspaces:account_list", ws=request.workspace.slug)
    return render(request, "workspaces/account_form.html", {"form": form, "account": None})


@workspace_view("settings")
def account_edit(request: WorkspaceRequest, pk: int) -> HttpResponse:
    account = selectors.account_get(workspace=request.workspace, pk=pk)
    if account is None:
        raise Http404
    form = AccountForm(
        request.POST or None,
        initial={
            "platform": account.platform,
            "name": account.name,
            "external_id": account.external_id,
            "time_zone": account.time_zone,
            "currency": account.currency,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.account_update(account=account, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("Account saved."))
            return redirect("workspaces:account_list", ws=request.workspace.slug)
    return render(request, "workspaces/account_form.html", {"form": form, "account": account})


@workspace_view("settings")
def api_key_list(request: WorkspaceRequest) -> HttpResponse:
    return render(
        request,
        "workspaces/api_key_list.html",
        {"keys": selectors.api_key_list(workspace=request.workspace), "form": ApiKeyForm()},
    )


@workspace_view("settings", action="change")
@require_POST
def api_key_create(request: WorkspaceRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        key, secret = services.api_key_create(
            workspace=request.workspace, name=form.cleaned_data["name"], by=request.user
        )
        response = render(
            request, "workspaces/api_key_created.html", {"key": key, "secret": secret}
        )
        response.headers["Cache-Control"] = "no-store"
        return response
    return render(
        request,
        "workspaces/api_key_list.html",
        {"keys": selectors.api_key_list(workspace=request.workspace), "form": form},
    )


@workspace_view("settings", action="change")
@require_POST
def api_key_revoke(request: WorkspaceRequest, pk: int) -> HttpResponse:
    key = selectors.api_key_get(workspace=request.workspace, pk=pk)
    if key is None:
        raise Http404
    services.api_key_revoke(api_key=key, by=request.user)
    messages.success(request, _("Key revoked. Tools using it now get 401."))
    return redirect("workspaces:api_key_list", ws=request.workspace.slug)


@workspace_view("audit")
def audit_log(request: WorkspaceRequest) -> HttpResponse:
    return render(
        request,
        "workspaces/audit_log.html",
        {"entries": selectors.audit_list(workspace=request.workspace)},
    )
