"""Playwright fixtures for the browser journeys.

One Chromium (Debian's, never a downloaded one) per test session; every test gets fresh
browser contexts from ``new_context``. The app runs in pytest-django's ``live_server``.
On failure each open page is saved as a screenshot in ``test-artifacts/``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# (creating users and workspaces through services) would otherwise be refused by Django.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from playwright.sync_api import (
    Browser,
    BrowserContext,
    Playwright,
    expect,
    sync_playwright,
)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Generous enough for a loaded 2-core machine, short enough to fail fast.
TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)

NewContext = Callable[..., BrowserContext]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# Module scope, not session: Playwright's sync API keeps an event loop running in this
# thread while it is open, and pytest-django runs tests without a database after these
# (some of them call asyncio.run, which refuses to start inside a running loop).
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is not installed")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def new_context(
    browser: Browser, live_server: Any, request: pytest.FixtureRequest
) -> Iterator[NewContext]:
    """Factory for isolated browser contexts (own cookies) pointed at the live server.

    The browser announces Chinese (zh-CN) like the teams LiveOps is made for, so pages
    seen before sign-in are in the default language too.
    """
    contexts: list[BrowserContext] = []

    def make(
        *, width: int = 1280, height: int = 800, locale: str = "zh-CN", **kwargs: Any
    ) -> BrowserContext:
        context = browser.new_context(
            base_url=live_server.url,
            viewport={"width": width, "height": height},
            locale=locale,
            **kwargs,
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make

    failed = any(
        getattr(request.node, f"rep_{when}", None) is not None
        and getattr(request.node, f"rep_{when}").failed
        for when in ("setup", "call")
    )
    for i, context in enumerate(contexts):
        if failed:
            ARTIFACTS.mkdir(exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.name)
            for j, page in enumerate(context.pages):
                shot = ARTIFACTS / f"{name}-ctx{i}-page{j}.png"
                try:
                    page.screenshot(path=str(shot), full_page=True)
                except Exception:  # noqa: S112 - a screenshot must never hide the failure
                    continue
        context.close()
