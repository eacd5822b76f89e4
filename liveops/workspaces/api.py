"""API-key authentication and the workspace endpoints of the HTTP API."""

from __future__ import annotations

import time
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.security import HttpBearer

from liveops.core.tokens import token_hash
from liveops.workspaces import selectors
from liveops.workspaces.models import ApiKey
from liveops.workspaces.services import api_key_authenticate

KEY_CACHE_SECONDS = 5.0
_keys: dict[str, tuple[float, ApiKey]] = {}


def forget_cached_keys() -> None:
    _keys.clear()


class ApiKeyAuth(HttpBearer):
    """``Authorization: Bearer lo_…`` or ``X-API-Key: lo_…``; the key fixes the workspace."""

    openapi_scheme = "bearer"

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get("X-API-Key")
        if header:
            return self.authenticate(request, header.strip())
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        # A revoked key stops working within KEY_CACHE_SECONDS; ingest sends many requests
        # a second and should not pay a database round trip for each.
        now = time.monotonic()
        digest = token_hash(token)
        hit = _keys.get(digest)
        if hit is not None and now - hit[0] < KEY_CACHE_SECONDS:
            return hit[1]
        key = api_key_authenticate(token)
        if len(_keys) > 10_000:
            _keys.clear()
        if key is not None:
            _keys[digest] = (now, key)
        return key


router = Router(tags=["workspace"])


class WorkspaceOut(Schema):
    slug: str
    name: str
    time_zone: str
    currency: str


class AccountOut(Schema):
    id: int
    platform: str
    name: str
    external_id: str
    time_zone: str
    currency: str


@router.get("/workspace", response=WorkspaceOut, summary="The API key's workspace")
def workspace_detail(request: HttpRequest) -> Any:
    key: ApiKey = request.auth  # type: ignore[attr-defined]
    return key.workspace


@router.get("/accounts", response=list[AccountOut], summary="Platform accounts of the workspace")
def account_list(request: HttpRequest) -> Any:
    key: ApiKey = request.auth  # type: ignore[attr-defined]
    return list(selectors.account_list(workspace=key.workspace))
