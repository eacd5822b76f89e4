"""Series generation, rescheduling, feeds, frequency targets and settings (through services)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from liveops.planning import calendar, series_services
from liveops.planning.models import LiveSession, PlanningSettings, Room
from liveops.workspaces.models import AuditEntry
from tests.factories import AccountFactory, MembershipFactory, SessionFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")


def _series(rrule: str = "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=16", **kw: object):  # type: ignore[no-untyped-def]
    ws = kw.pop("workspace", None) or WorkspaceFactory(time_zone="Asia/Shanghai")
    host = kw.pop("host", None) or MembershipFactory(workspace=ws).user
    account = kw.pop("account", None) or AccountFactory(workspace=ws)
    series = series_services.series_create(
        workspace=ws,
        by=host,
        title="护肤夜话",
        accounts=[account],
        hosts=[host],
        rrule=rrule,
        dtstart=datetime(2026, 12, 1, 20, 0, tzinfo=SH),
        default_duration_min=120,
        **kw,  # type: ignore[arg-type]
    )
    return series, ws, host, account


def test_generate_makes_one_session_per_occurrence_with_hosts_and_audit() -> None:
    series, ws, host, _account = _series()
    created = series_services.series_generate_sessions(series=series, by=host)
    assert len(created) == 16
    first = LiveSession.objects.order_by("scheduled_start").first()
    assert first is not None and first.scheduled_start == datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert list(first.hosts.all()) == [host]
    assert first.status == "planned" and first.series == series
    assert AuditEntry.objects.filter(workspace=ws, action="series.generate").count() == 1
    # Running again adds nothing (already generated).
    assert series_services.series_generate_sessions(series=series, by=host) == []


def test_more_than_500_is_refused_next_to_the_field() -> None:
    with pytest.raises(ValidationError) as exc:
        _series("FREQ=DAILY;COUNT=501")
    assert "more than 500" in exc.value.message_dict["rrule"][0]


def test_generation_is_all_or_nothing_on_conflict() -> None:
    series, ws, host, account = _series("FREQ=WEEKLY;BYDAY=TU;COUNT=4")
    # The third Tuesday is already taken on the account.
    blocker = SessionFactory(
        workspace=ws,
        account=account,
        scheduled_start=datetime(2026, 12, 15, 20, 30, tzinfo=SH),
        scheduled_end=datetime(2026, 12, 15, 21, 0, tzinfo=SH),
    )
    with pytest.raises(ValidationError) as exc:
        series_services.series_generate_sessions(series=series, by=host)
    assert "2026-12-15 20:00" in exc.value.message_dict["__all__"][0]
    assert list(LiveSession.objects.all()) == [blocker]


def test_generation_refuses_self_overlap_between_new_sessions() -> None:
    series, *_ = _series("FREQ=HOURLY;COUNT=3")  # 2-hour sessions every hour
    with pytest.raises(ValidationError):
        series_services.series_generate_sessions(series=series, by=None)
    assert not LiveSession.objects.exists()


def test_reschedule_checks_host_room_and_keeps_length() -> None:
    ws = WorkspaceFactory()
    host = MembershipFactory(workspace=ws).user
    room = Room.objects.create(workspace=ws, name="一号棚")
    a = SessionFactory(workspace=ws, scheduled_start=datetime(2026, 12, 1, 12, tzinfo=UTC))
    b = SessionFactory(workspace=ws, scheduled_start=datetime(2026, 12, 2, 12, tzinfo=UTC))
    a.hosts.set([host])
    b.hosts.set([host])
    LiveSession.objects.filter(pk__in=[a.pk, b.pk]).update(room=room)
    b.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        series_services.session_reschedule(
            session=b, by=host, start=datetime(2026, 12, 1, 13, tzinfo=UTC)
        )
    text = " ".join(exc.value.message_dict["scheduled_start"])
    assert "Host" in text and "一号棚" in text
    b.refresh_from_db()
    assert b.scheduled_start == datetime(2026, 12, 2, 12, tzinfo=UTC)
    moved = series_services.session_reschedule(
        session=b, by=host, start=datetime(2026, 12, 3, 12, tzinfo=UTC)
    )
    assert moved.scheduled_end - moved.scheduled_start == timedelta(hours=2)  # type: ignore[operator]
    assert AuditEntry.objects.filter(action="session.reschedule").count() == 1


def test_gap_setting_is_used() -> None:
    ws = WorkspaceFactory()
    account = AccountFactory(workspace=ws)
    SessionFactory(
        workspace=ws,
        account=account,
        scheduled_start=datetime(2026, 12, 1, 10, tzinfo=UTC),
        scheduled_end=datetime(2026, 12, 1, 12, tzinfo=UTC),
    )
    later = SessionFactory(workspace=ws, account=account)
    start = datetime(2026, 12, 1, 12, 45, tzinfo=UTC)
    series_services.planning_settings_update(workspace=ws, by=None, min_gap_minutes=60)
    with pytest.raises(ValidationError):
        series_services.session_reschedule(session=later, by=None, start=start)
    series_services.planning_settings_update(workspace=ws, by=None, min_gap_minutes=45)
    assert PlanningSettings.objects.get(workspace=ws).min_gap_minutes == 45
    series_services.session_reschedule(session=later, by=None, start=start)  # exactly 45


def test_frequency_table_counts_per_iso_week() -> None:
    ws = WorkspaceFactory(time_zone="Asia/Shanghai")
    account = AccountFactory(workspace=ws)
    series_services.frequency_target_set(account=account, by=None, lives_per_week=3)
    # Mon 2026-11-30 is ISO week 49. Sunday 23:30 local still belongs to week 49.
    for when in [
        datetime(2026, 11, 30, 20, tzinfo=SH),
        datetime(2026, 12, 6, 23, 30, tzinfo=SH),
        datetime(2026, 12, 7, 0, 30, tzinfo=SH),  # week 50
    ]:
        SessionFactory(workspace=ws, account=account, scheduled_start=when)
    SessionFactory(workspace=ws, account=account, status="draft")  # drafts do not count
    with timezone.override(SH):
        rows = calendar.frequency_table(workspace=ws, first_monday=date(2026, 11, 30), weeks=2)
    (row,) = rows
    assert [(c.week, c.planned, c.target, c.short) for c in row.cells] == [
        ("2026-W49", 2, 3, True),
        ("2026-W50", 1, 3, True),
    ]


def _unfold(text: str) -> list[str]:
    lines: list[str] = []
    for raw in text.split("\r\n"):
        if raw.startswith(" "):
            lines[-1] += raw[1:]
        elif raw:
            lines.append(raw)
    return lines


def test_ics_is_folded_crlf_and_escaped() -> None:
    ws = WorkspaceFactory(slug="xinghe")
    host = MembershipFactory(workspace=ws).user
    room = Room.objects.create(workspace=ws, name="A棚, 二楼; 东侧")
    title = "双十二，大促\\预热; 第一场, 护肤专场 " + "超长标题" * 20 + "\n第二行"
    session = SessionFactory(workspace=ws, title=title, room=room)
    session.hosts.set([host])
    SessionFactory(workspace=ws, title="别人的场")  # not in the host's feed
    feed, token = series_services.feed_create(workspace=ws, by=None, user=host)
    found = calendar.feed_get_by_token(slug="xinghe", token=token)
    assert found == feed
    text = calendar.ics_render(name="LiveOps", events=calendar.feed_events(feed=feed))
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    lines = _unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert lines.count("BEGIN:VEVENT") == 1
    props = dict(line.split(":", 1) for line in lines)
    assert props["SUMMARY"].startswith("双十二，大促\\\\预热\\; 第一场\\, 护肤专场")
    assert props["SUMMARY"].endswith("\\n第二行")
    assert props["LOCATION"] == "A棚\\, 二楼\\; 东侧"
    assert props["DTSTART"].endswith("Z") and props["UID"] == f"session-{session.pk}@xinghe.liveops"
    for key in ("DTSTAMP", "DTEND"):
        assert key in props
    series_services.feed_revoke(feed=feed, by=None)
    assert calendar.feed_get_by_token(slug="xinghe", token=token) is None


def test_second_series_in_the_same_room_is_refused_with_the_reason() -> None:
    ws = WorkspaceFactory(time_zone="Asia/Shanghai")
    room = series_services.room_create(workspace=ws, by=None, name="一号棚")
    with pytest.raises(ValidationError):
        series_services.room_create(workspace=ws, by=None, name="一号棚")
    first, *_ = _series("FREQ=WEEKLY;COUNT=2", workspace=ws, room=room, generate=True)
    with pytest.raises(ValidationError) as exc:
        _series("FREQ=WEEKLY;COUNT=2", workspace=ws, room=room, generate=True)
    assert "一号棚" in exc.value.message_dict["__all__"][0]
    # One transaction: the refused series is not saved either.
    assert [s.title for s in ws.series.all()] == [first.title]
    assert LiveSession.objects.count() == 2
    assert AuditEntry.objects.filter(action="room.create").count() == 1


def test_series_default_template_lands_on_every_generated_session() -> None:
    from liveops.planning import runofshow_queries
    from liveops.planning.models import RunOfShowTemplate
    from liveops.planning.series_services import series_create

    owner = MembershipFactory()
    ws = owner.workspace
    account = AccountFactory(workspace=ws)
    template = RunOfShowTemplate.objects.create(
        workspace=ws,
        name="标准带货",
        segments=[
            {"kind": "opening", "title": "开场", "duration_s": 600},
            {"kind": "product", "title": "讲解", "duration_s": 1800},
        ],
    )
    series = series_create(
        workspace=ws,
        by=owner.user,
        title="周二带货",
        accounts=[account],
        dtstart=datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
        rrule="FREQ=WEEKLY;COUNT=3",
        default_duration_min=60,
        template=template,
        generate=True,
        kpi_targets={"gmv": "50000.00"},
    )
    sessions = list(series.sessions.all())
    assert len(sessions) == 3
    for session in sessions:
        titles = [s.title for s in runofshow_queries.ros_segments(session=session)]
        assert titles == ["开场", "讲解"]
        assert session.kpi_targets == {"gmv": "50000.00"}
