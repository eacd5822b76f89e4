"""The one helper every workspace view uses: who may see and change what.

``@workspace_view(module)`` resolves the workspace from the ``ws`` URL argument,
answers 404 when the user is not a member (so other workspaces cannot even be
probed), and 403 when the member's role may not view — or, for unsafe methods,
change — that module (see ``roles.MATRIX``). The view receives the workspace and
membership on ``request``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Protocol, cast
from zoneinfo import ZoneInfo

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone

from liveops.workspaces import roles
from liveops.workspaces.models import Membership, User, Workspace
from liveops.workspaces.selectors import membership_get

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class WorkspaceRequest(HttpRequest):
    """An HttpRequest inside a workspace (for type checkers)."""

    user: User
    workspace: Workspace
    membership: Membership
    active_module: str


class _View(Protocol):
    def __call__(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse: ...


def can(membership: Membership, module: str, action: roles.Action) -> bool:
    return roles.allows(membership.role, module, action)


def workspace_view(module: str, action: roles.Action | None = None) -> Callable[[_View], _View]:
    """Guard a view of ``module``. ``action`` defaults to view for safe methods, else change."""
    roles.Module(module)  # fail at import time on a typo

    def decorator(view: _View) -> _View:
        @wraps(view)
        def wrapper(request: HttpRequest, ws: str, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = membership_get(user=request.user, slug=ws)
            if membership is None:
                raise Http404
            needed = action or ("view" if request.method in SAFE_METHODS else "change")
            if not can(membership, module, needed):
                raise PermissionDenied
            wreq = cast(WorkspaceRequest, request)
            wreq.workspace = membership.workspace
            wreq.membership = membership
            wreq.active_module = module
            timezone.activate(ZoneInfo(membership.workspace.time_zone))
            return view(wreq, *args, **kwargs)

        wrapper.liveops_module = module  # type: ignore[attr-defined]
        wrapper.liveops_action = action  # type: ignore[attr-defined]
        return cast(_View, wrapper)

    return decorator
