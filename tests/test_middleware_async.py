"""The middlewares behave the same in Django's async stack (ASGI) as in the sync one."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client
from django.urls import reverse

from liveops.workspaces.models import Membership, Workspace

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_async_stack_applies_user_language_and_security_headers(
    member_factory: Callable[..., Membership], workspace: Workspace, language: str
) -> None:
    membership = member_factory(workspace, "owner", language=language)
    sync = Client()
    sync.force_login(membership.user)
    async_client = AsyncClient()
    async_client.cookies = sync.cookies  # the same signed-in session
    url = reverse("shell:workspace_home", kwargs={"ws": workspace.slug})
    answer = async_to_sync(async_client.get)(url)
    expected = sync.get(url)
    assert answer.status_code == expected.status_code
    assert answer.get("Location") == expected.get("Location")  # signed in: not sent to login
    assert "login" not in answer.get("Location", "")
    assert answer["Content-Language"] == expected["Content-Language"] == language
    assert answer["Content-Security-Policy"] == expected["Content-Security-Policy"]
    assert "script-src 'self'" in answer["Content-Security-Policy"]


def test_async_stack_refuses_oversized_api_body_before_reading() -> None:
    body = b"[" + b" " * (16 * 1024 * 1024) + b"]"  # over the API's 16 MiB
    answer = async_to_sync(AsyncClient().post)(
        "/api/v1/sessions/1/events", data=body, content_type="application/json"
    )
    assert answer.status_code == 413
    assert answer.json()["error"] == "body_too_large"


def test_async_stack_anonymous_visitor_is_sent_to_login() -> None:
    answer = async_to_sync(AsyncClient().get)("/")
    assert answer.status_code == 302
    assert "/login" in answer["Location"] or "login" in answer["Location"]
    assert answer["Content-Security-Policy"]
