"""Template context for the shell: navigation, workspace switcher, permissions."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from liveops.workspaces import roles
from liveops.workspaces.selectors import membership_list_for_user

# Navigation by duty: (module, url name, label).
NAV: list[tuple[str, str, Any]] = [
    (roles.Module.PLAN, "planning:session_list", _("Plan")),
    (roles.Module.PROMOTE, "shell:module_promote", _("Promote")),
    (roles.Module.LIVE, "shell:module_live", _("Live")),
    (roles.Module.ANALYZE, "events:session_list", _("Analyze")),
    (roles.Module.REPORTS, "reports:index", _("Reports")),
    (roles.Module.AUDIENCE, "shell:module_audience", _("Audience")),
    (roles.Module.PROJECTS, "shell:module_projects", _("Projects")),
    (roles.Module.SETTINGS, "workspaces:settings", _("Settings")),
]


# Settings pages belong to several modules but one navigation entry.
_NAV_MODULE = {"members": "settings", "audit": "settings"}


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    membership = getattr(request, "membership", None)
    nav = []
    if membership is not None:
        for module, url_name, label in NAV:
            visible = roles.allows(membership.role, module, "view") or (
                module == roles.Module.SETTINGS
                and roles.allows(membership.role, roles.Module.MEMBERS, "view")
            )
            if visible:
                nav.append({"module": str(module), "url_name": url_name, "label": label})
    can = {}
    if membership is not None:
        can = {
            str(m): {
                "view": roles.allows(membership.role, m, "view"),
                "change": roles.allows(membership.role, m, "change"),
            }
            for m in roles.Module
        }
    return {
        "my_memberships": list(membership_list_for_user(user=user)),
        "nav": nav,
        "can": can,
        "current_workspace": getattr(request, "workspace", None),
        "current_membership": membership,
        "active_module": _NAV_MODULE.get(
            getattr(request, "active_module", ""), getattr(request, "active_module", "")
        ),
    }
