"""Calendar, series, frequency and feed pages: thin views over the services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from liveops.planning import series_services
from liveops.planning.models import CalendarFeed, LiveSession, Series
from tests.factories import AccountFactory, MembershipFactory, SessionFactory

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def owner_ws(login: Callable[..., Client]):  # type: ignore[no-untyped-def]
    membership = MembershipFactory(workspace__time_zone="Asia/Shanghai")
    return membership, membership.workspace, login(membership.user)


def _url(name: str, ws: object) -> str:
    return reverse(f"planning:{name}", kwargs={"ws": ws.slug})  # type: ignore[attr-defined]


def test_series_form_creates_series_and_sessions_shown_in_month(owner_ws) -> None:  # type: ignore[no-untyped-def]
    membership, ws, client = owner_ws
    account = AccountFactory(workspace=ws)
    response = client.post(
        _url("series_create", ws),
        {
            "title": "护肤夜话",
            "accounts": [account.pk],
            "dtstart": "2026-12-01T20:00",
            "rrule": "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=16",
            "default_duration_min": "120",
            "hosts": [membership.user.pk],
            "format": "ecommerce",
            "generate": "on",
        },
    )
    assert response.status_code == 302
    assert LiveSession.objects.filter(series__title="护肤夜话").count() == 16
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "护肤夜话 12-01" in html and "护肤夜话 12-31" in html
    assert 'data-date="2026-12-03"' in html


def test_series_over_500_shows_error_next_to_the_field(owner_ws) -> None:  # type: ignore[no-untyped-def]
    _m, ws, client = owner_ws
    account = AccountFactory(workspace=ws)
    response = client.post(
        _url("series_create", ws),
        {
            "title": "天天播",
            "accounts": [account.pk],
            "dtstart": "2026-12-01T20:00",
            "rrule": "FREQ=DAILY;COUNT=600",
            "default_duration_min": "60",
            "format": "ecommerce",
        },
    )
    assert response.status_code == 200
    assert "500" in response.context["form"].errors["rrule"][0]
    assert not Series.objects.exists()


def test_month_week_day_views_and_query_count(owner_ws) -> None:  # type: ignore[no-untyped-def]
    _m, ws, client = owner_ws
    for day in range(1, 21):
        SessionFactory(workspace=ws, scheduled_start=datetime(2026, 12, day, 20, tzinfo=SH))
    url = _url("calendar", ws)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, {"view": "month", "date": "2026-12-10"})
    assert response.status_code == 200
    assert response.content.decode().count('class="chip ') == 20
    assert len(ctx.captured_queries) <= 12, [q["sql"] for q in ctx.captured_queries]
    week = client.get(url, {"view": "week", "date": "2026-12-10", "color": "status"})
    assert week.content.decode().count('class="chip ') == 7
    day = client.get(url, {"view": "day", "date": "2026-12-10"})
    assert day.content.decode().count('class="chip ') == 1
    assert "20:00" in day.content.decode()  # shown in the workspace time zone


def test_reschedule_refuses_a_conflict_with_reasons(owner_ws) -> None:  # type: ignore[no-untyped-def]
    _m, ws, client = owner_ws
    account = AccountFactory(workspace=ws, name="主号")
    SessionFactory(
        workspace=ws, account=account, scheduled_start=datetime(2026, 12, 1, 20, tzinfo=SH)
    )
    other = SessionFactory(
        workspace=ws, account=account, scheduled_start=datetime(2026, 12, 2, 20, tzinfo=SH)
    )
    url = _url("calendar_reschedule", ws)
    refused = client.post(url, {"session": other.pk, "start": "2026-12-01T21:00"}).json()
    assert refused["ok"] is False and "主号" in refused["errors"][0]
    ok = client.post(url, {"session": other.pk, "start": "2026-12-03T20:00"}).json()
    assert ok == {"ok": True, "errors": []}
    other.refresh_from_db()
    assert other.scheduled_start == datetime(2026, 12, 3, 20, tzinfo=SH)


def test_session_form_explains_a_conflict_and_saves_nothing(owner_ws) -> None:  # type: ignore[no-untyped-def]
    _m, ws, client = owner_ws
    account = AccountFactory(workspace=ws, name="主号")
    SessionFactory(
        workspace=ws, account=account, scheduled_start=datetime(2026, 12, 1, 20, tzinfo=SH)
    )
    response = client.post(
        _url("session_create", ws),
        {
            "title": "撞车",
            "account": account.pk,
            "status": "planned",
            "scheduled_start": "2026-12-01T21:00",
            "scheduled_end": "2026-12-01T23:00",
        },
    )
    assert response.status_code == 200
    assert "主号" in response.content.decode()
    assert not LiveSession.objects.filter(title="撞车").exists()


def test_feed_url_works_without_login_until_revoked(owner_ws) -> None:  # type: ignore[no-untyped-def]
    _m, ws, client = owner_ws
    SessionFactory(workspace=ws, title="晚8点专场")
    page = client.post(_url("feed_create", ws))
    url = page.context["new_url"]
    assert url.endswith(".ics")
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert not CalendarFeed.objects.filter(token_hash=token).exists()  # stored hashed
    feed_path = reverse("planning:feed_ics", kwargs={"ws": ws.slug, "token": token})
    response = Client().get(feed_path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert "SUMMARY:晚8点专场" in response.content.decode()
    feed = CalendarFeed.objects.get()
    client.post(_url("feed_revoke", ws), {"feed": feed.pk})
    assert Client().get(feed_path).status_code == 404
    other_ws = reverse("planning:feed_ics", kwargs={"ws": "someone-else", "token": token})
    assert Client().get(other_ws).status_code == 404


def test_frequency_page_highlights_gaps(owner_ws) -> None:  # type: ignore[no-untyped-def]
    _m, ws, client = owner_ws
    account = AccountFactory(workspace=ws)
    client.post(_url("frequency_target", ws), {"account": account.pk, "lives_per_week": "3"})
    SessionFactory(
        workspace=ws, account=account, scheduled_start=datetime(2026, 12, 1, 20, tzinfo=SH)
    )
    response = client.get(_url("frequency", ws), {"from": "2026-11-30"})
    html = response.content.decode()
    assert f'data-testid="cell-{account.pk}-2026-W49"' in html
    assert "short" in html and "1 / 3" in html
    client.post(_url("calendar_settings", ws), {"min_gap_minutes": "45"})
    assert series_services.calendar.min_gap(workspace=ws).total_seconds() == 45 * 60


def test_series_edit_updates_and_audits(owner_ws) -> None:  # type: ignore[no-untyped-def]
    _m, ws, client = owner_ws
    account = AccountFactory(workspace=ws)
    series = series_services.series_create(
        workspace=ws,
        by=None,
        title="早场",
        accounts=[account],
        dtstart=datetime(2026, 12, 1, 10, tzinfo=SH),
        rrule="FREQ=DAILY;COUNT=3",
    )
    page = client.get(_url("series_edit", ws), {"series": series.pk})
    assert page.status_code == 200 and "FREQ=DAILY;COUNT=3" in page.content.decode()
    response = client.post(
        _url("series_edit", ws),
        {
            "series": series.pk,
            "title": "早场（新）",
            "accounts": [account.pk],
            "dtstart": "2026-12-01T09:00",
            "rrule": "FREQ=DAILY;COUNT=5",
            "default_duration_min": "90",
            "format": "talk",
        },
    )
    assert response.status_code == 302
    series.refresh_from_db()
    assert (series.title, series.rrule, series.default_duration_min) == (
        "早场（新）",
        "FREQ=DAILY;COUNT=5",
        90,
    )
    assert series.dtstart == datetime(2026, 12, 1, 9, tzinfo=SH)
