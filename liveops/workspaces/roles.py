"""Roles and the role matrix: which role may view or change what in each module.

This table is the single source of truth. `access.workspace_view` enforces it for every
workspace page, `docs/roles.md` documents it, and the isolation test walks it for every
URL pattern.
"""

from __future__ import annotations

from typing import Literal

from django.db import models
from django.utils.translation import gettext_lazy as _

Action = Literal["view", "change"]


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    OPERATOR = "operator", _("Operator")
    HOST = "host", _("Host")
    FIELD_CONTROLLER = "field_controller", _("Field controller")
    ANALYST = "analyst", _("Analyst")
    SERVICE_AGENT = "service_agent", _("Service agent")
    VIEWER = "viewer", _("Viewer (read-only)")


class Module(models.TextChoices):
    PLAN = "plan", _("Plan")
    PROMOTE = "promote", _("Promote")
    LIVE = "live", _("Live")
    ANALYZE = "analyze", _("Analyze")
    REPORTS = "reports", _("Reports")
    AUDIENCE = "audience", _("Audience")
    PROJECTS = "projects", _("Projects")
    SETTINGS = "settings", _("Settings")
    MEMBERS = "members", _("Members")
    AUDIT = "audit", _("Audit log")


_ALL = frozenset(Module)
_WORK = frozenset(
    {
        Module.PLAN,
        Module.PROMOTE,
        Module.LIVE,
        Module.ANALYZE,
        Module.REPORTS,
        Module.AUDIENCE,
        Module.PROJECTS,
    }
)

# role -> (modules it may view, modules it may change). "change" implies "view".
MATRIX: dict[Role, tuple[frozenset[Module], frozenset[Module]]] = {
    Role.OWNER: (_ALL, _ALL),
    Role.OPERATOR: (
        _WORK | {Module.SETTINGS, Module.MEMBERS},
        frozenset({Module.PLAN, Module.PROMOTE, Module.LIVE, Module.REPORTS, Module.PROJECTS}),
    ),
    Role.HOST: (
        frozenset({Module.PLAN, Module.LIVE, Module.REPORTS, Module.AUDIENCE, Module.PROJECTS})
        | {Module.MEMBERS},
        frozenset({Module.PROJECTS}),
    ),
    Role.FIELD_CONTROLLER: (
        _WORK - {Module.PROMOTE} | {Module.MEMBERS},
        frozenset({Module.LIVE, Module.PROJECTS}),
    ),
    Role.ANALYST: (
        _WORK | {Module.SETTINGS, Module.MEMBERS},
        frozenset({Module.ANALYZE, Module.REPORTS, Module.PROJECTS}),
    ),
    Role.SERVICE_AGENT: (
        frozenset({Module.PLAN, Module.LIVE, Module.REPORTS, Module.AUDIENCE, Module.PROJECTS})
        | {Module.MEMBERS},
        frozenset({Module.AUDIENCE, Module.PROJECTS}),
    ),
    Role.VIEWER: (_WORK | {Module.MEMBERS}, frozenset()),
}


def allows(role: str, module: str, action: Action) -> bool:
    """True when ``role`` may perform ``action`` in ``module``."""
    try:
        can_view, can_change = MATRIX[Role(role)]
    except ValueError:
        return False
    mod = Module(module)
    if action == "change":
        return mod in can_change
    return mod in can_view or mod in can_change
