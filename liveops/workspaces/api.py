"""API-key authentication and the workspace endpoints of the HTTP API."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from asgiref.sync import sync_to_async
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
    """``Authorization: Bearer lo_…`` or ``X-API-Key: lo_…``; the key fixes the workspace.

    Works for sync and async operations: in the event loop (async operations such as
    ingest) a cached key is answered without the thread hand-off ninja would otherwise make
    for a sync authenticator; only a cache miss goes to the database in a thread.
    """

    openapi_scheme = "bearer"
    is_async = True  # ninja: __call__ may return a coroutine (see below)

    def __call__(self, request: HttpRequest) -> Any:
        token = self._token(request)
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # a sync operation, in a worker thread or under WSGI
            return None if token is None else self.authenticate(request, token)
        return self._authenticate_async(request, token)

    def _token(self, request: HttpRequest) -> str | None:
        header = request.headers.get("X-API-Key")
        if header:
            return header.strip()
        auth = request.headers.get(self.header)
        if not auth:
            return None
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != self.openapi_scheme.lower() or not token:
            return None
        return token.strip()

    async def _authenticate_async(self, request: HttpRequest, token: str | None) -> Any:
        if token is None:
            return None
        hit = _cached(token)
        if hit is not None:
            return hit
        return await sync_to_async(self.authenticate)(request, token)

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        # A revoked key stops working within KEY_CACHE_SECONDS; ingest sends many requests
        # a second and should not pay a database round trip for each.
        hit = _cached(token)
        if hit is not None:
            return hit
        key = api_key_authenticate(token)
        if len(_keys) > 10_000:
            _keys.clear()
        if key is not None:
            _keys[token_hash(token)] = (time.monotonic(), key)
        return key


def _cached(token: str) -> ApiKey | None:
    hit = _keys.get(token_hash(token))
    if hit is not None and time.monotonic() - hit[0] < KEY_CACHE_SECONDS:
        return hit[1]
    return None


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
