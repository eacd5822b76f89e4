"""Security defaults: deploy checks, CSRF, login throttling, session rotation, headers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from liveops.workspaces.models import User
from tests.factories import PASSWORD, MembershipFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "SECRET_KEY": "x" * 20 + "-production-like-secret-" + "y" * 30,
        "ALLOWED_HOSTS": "liveops.example.com",
        "LIVEOPS_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("secret", "message"), [("", "SECRET_KEY setting must not be empty"), ("short", "liveops.E001")]
)
def test_production_settings_refuse_a_missing_or_weak_secret_key(
    tmp_path: Path, secret: str, message: str
) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "SECRET_KEY": secret,
        "LIVEOPS_DATA_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert message in result.stderr


def test_production_cookie_flags() -> None:
    from config.settings import base

    assert base.SESSION_COOKIE_SECURE and base.SESSION_COOKIE_HTTPONLY
    assert base.CSRF_COOKIE_SECURE and base.CSRF_COOKIE_HTTPONLY
    assert base.SESSION_COOKIE_SAMESITE == "Lax" and base.CSRF_COOKIE_SAMESITE == "Lax"
    assert not base.DEBUG


@pytest.mark.django_db
def test_browser_forms_require_csrf(login: Callable[..., Client]) -> None:
    membership = MembershipFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(membership.user)
    url = reverse("workspaces:api_key_create", kwargs={"ws": membership.workspace.slug})
    assert client.post(url, {"name": "no token"}).status_code == 403
    page = client.get(reverse("workspaces:api_key_list", kwargs={"ws": membership.workspace.slug}))
    token = page.context["csrf_token"]
    assert (
        client.post(url, {"name": "with token", "csrfmiddlewaretoken": str(token)}).status_code
        == 200
    )


@pytest.mark.django_db
def test_api_is_csrf_exempt_because_it_uses_keys() -> None:
    from liveops.workspaces.services import api_key_create

    membership = MembershipFactory()
    _, secret = api_key_create(workspace=membership.workspace, name="k", by=None)
    client = Client(enforce_csrf_checks=True)
    response = client.get("/api/v1/workspace", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200 and response.json()["slug"] == membership.workspace.slug


@pytest.mark.django_db
def test_login_locks_after_ten_failures_per_account_and_address() -> None:
    user = UserFactory(email="target@example.com")
    url = reverse("login")
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(9):
        response = client.post(url, {"username": user.email, "password": "wrong"})
        assert response.status_code == 200  # form error, not yet locked
    # The tenth failure is recorded and locks the account for this address.
    assert client.post(url, {"username": user.email, "password": "wrong"}).status_code == 429
    locked = client.post(url, {"username": user.email, "password": PASSWORD})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another address may still sign in to the same account.
    other = Client(REMOTE_ADDR="198.51.100.9")
    assert other.post(url, {"username": user.email, "password": PASSWORD}).status_code == 302


@pytest.mark.django_db
def test_session_id_rotates_at_login() -> None:
    user: User = UserFactory()
    client = Client()
    client.get(reverse("login"))
    session = client.session
    session["probe"] = 1
    session.save()
    before = client.cookies[settings.SESSION_COOKIE_NAME].value
    response = client.post(reverse("login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert before != after


@pytest.mark.django_db
def test_security_headers_on_pages() -> None:
    response = Client().get(reverse("login"))
    csp = response["Content-Security-Policy"]
    assert (
        "script-src 'self'" in csp
        and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    )
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_user_text_is_escaped(login: Callable[..., Client]) -> None:
    from tests.factories import SessionFactory

    membership = MembershipFactory()
    SessionFactory(workspace=membership.workspace, title="<script>alert(1)</script>")
    page = login(membership.user).get(
        reverse("planning:session_list", kwargs={"ws": membership.workspace.slug})
    )
    html = page.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.django_db
def test_language_switch_rejects_offsite_redirects() -> None:
    response = Client().post(
        reverse("language_set"), {"language": "en", "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response["Location"] == "/"
