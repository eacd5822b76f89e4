"""The HTTP API: one NinjaAPI, routers from each app, API-key auth by default."""

from __future__ import annotations

from ninja import NinjaAPI

from liveops.events.api import router as events_router
from liveops.planning.api import router as planning_router
from liveops.workspaces.api import ApiKeyAuth
from liveops.workspaces.api import router as workspaces_router

api = NinjaAPI(
    title="LiveOps API",
    version="1",
    description="Workspace API. Authenticate with a workspace API key: "
    "`Authorization: Bearer lo_…` (or `X-API-Key`). Keys are created in Settings → API keys.",
    auth=ApiKeyAuth(),
    urls_namespace="api",
)
api.add_router("/v1", workspaces_router)
api.add_router("/v1", planning_router)
api.add_router("/v1", events_router)
