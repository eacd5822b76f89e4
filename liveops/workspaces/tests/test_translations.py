"""The interface is Simplified Chinese by default and English on request, every string
translated: the catalogue is complete and compiled, and pages render in the chosen language."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import AccountFactory, MembershipFactory, SessionFactory

ROOT = Path(__file__).resolve().parents[3]

NAV_ZH = ["计划", "推广", "直播", "分析", "报告", "观众", "项目", "设置"]
NAV_EN = ["Plan", "Promote", "Live", "Analyze", "Reports", "Audience", "Projects", "Settings"]


def _nav(html: str) -> list[str]:
    nav = re.search(r'<nav class="sidenav".*?</nav>', html, re.S)
    assert nav, "no side navigation on the page"
    return re.findall(r'data-module="\w+">([^<]+)<', nav.group(0))


def test_catalogue_covers_the_code_and_is_compiled() -> None:
    """scripts/check_translations.py: every msgid extracted, translated, not fuzzy,
    placeholders kept, and the committed .mo matches the .po."""
    result = subprocess.run(
        [sys.executable, "scripts/check_translations.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_pages_render_in_chinese_by_default(login: Callable[..., Client]) -> None:
    membership = MembershipFactory(role="owner", user__language="zh-hans")
    ws = membership.workspace
    SessionFactory(workspace=ws, account=AccountFactory(workspace=ws, platform="douyin"))
    SessionFactory(workspace=ws, status="draft")
    html = login(membership.user).get(reverse("planning:session_list", kwargs={"ws": ws.slug}))
    text = html.content.decode()
    assert _nav(text) == NAV_ZH
    assert "<h1>直播场次</h1>" in text
    assert ">抖音</span>" in text  # platform choice label
    assert ">已排期</span>" in text  # session status labels
    assert ">草稿</span>" in text
    assert "退出登录" in text


@pytest.mark.django_db
def test_pages_render_in_english_when_chosen(login: Callable[..., Client]) -> None:
    membership = MembershipFactory(role="owner", user__language="en")
    ws = membership.workspace
    html = login(membership.user).get(reverse("planning:session_list", kwargs={"ws": ws.slug}))
    text = html.content.decode()
    assert _nav(text) == NAV_EN
    assert "<h1>Live sessions</h1>" in text
    assert "Sign out" in text
