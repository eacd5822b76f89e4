"""Products lineup, run-of-show segments and cues, templates, copying and the brand profile."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from liveops.planning import runofshow as ros
from liveops.planning import runofshow_queries as rosq
from liveops.planning.models import Cue, LiveSession, RunOfShowTemplate, Segment
from liveops.workspaces.models import AuditEntry, User, Workspace
from tests.factories import SessionFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

MIN = 60


@pytest.fixture
def session(workspace: Workspace) -> LiveSession:
    start = timezone.now().replace(microsecond=0) + timedelta(days=1)
    return SessionFactory(
        workspace=workspace, scheduled_start=start, scheduled_end=start + timedelta(hours=1)
    )


def seg(session: LiveSession, title: str, minutes: int, **kw: object) -> Segment:
    return ros.segment_create(
        session=session, by=None, kind="other", title=title, duration_s=minutes * MIN, **kw
    )


def layout(session: LiveSession) -> list[tuple[str, int, int]]:
    return [(s.title, s.offset_s, s.duration_s) for s in session.segments.order_by("position")]


def field_errors(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return exc.value.message_dict


# --- Segments ---------------------------------------------------------------------------


def test_segments_are_contiguous_and_an_explicit_later_start_leaves_a_gap(
    session: LiveSession,
) -> None:
    seg(session, "开场", 5)
    seg(session, "预热", 10)
    seg(session, "产品", 10, offset_s=20 * MIN)

    assert layout(session) == [
        ("开场", 0, 5 * MIN),
        ("预热", 5 * MIN, 10 * MIN),
        ("产品", 20 * MIN, 10 * MIN),
    ]


def test_overlapping_start_is_refused_next_to_the_field(session: LiveSession) -> None:
    seg(session, "开场", 10)

    with pytest.raises(ValidationError) as exc:
        seg(session, "抢先", 5, offset_s=5 * MIN)

    assert "offset_s" in field_errors(exc)
    assert "开场" in field_errors(exc)["offset_s"][0]
    assert session.segments.count() == 1


@pytest.mark.parametrize("duration", [0, -60])
def test_zero_or_negative_duration_is_refused(session: LiveSession, duration: int) -> None:
    with pytest.raises(ValidationError) as exc:
        ros.segment_create(session=session, by=None, kind="other", title="x", duration_s=duration)

    assert "duration_s" in field_errors(exc)
    assert not session.segments.exists()


def test_run_of_show_longer_than_the_session_is_refused(session: LiveSession) -> None:
    seg(session, "A", 40)

    with pytest.raises(ValidationError) as exc:
        seg(session, "B", 21)

    assert "longer than the session" in field_errors(exc)["duration_s"][0]
    seg(session, "B", 20)  # exactly the session's hour fits


def test_editing_a_duration_over_the_session_length_changes_nothing(
    session: LiveSession,
) -> None:
    a = seg(session, "A", 30)
    seg(session, "B", 20)

    with pytest.raises(ValidationError):
        ros.segment_update(segment=a, by=None, kind="other", title="A2", duration_s=45 * MIN)

    assert layout(session) == [("A", 0, 30 * MIN), ("B", 30 * MIN, 20 * MIN)]


def test_a_session_without_times_has_no_length_limit(workspace: Workspace) -> None:
    session = SessionFactory(workspace=workspace, scheduled_start=None, scheduled_end=None)

    seg(session, "长", 600)

    assert ros.session_duration_s(session) is None


def test_editing_a_duration_moves_later_segments_and_keeps_their_gaps(
    session: LiveSession,
) -> None:
    a = seg(session, "A", 5)
    seg(session, "B", 5, offset_s=10 * MIN)  # 5 min gap

    ros.segment_update(segment=a, by=None, kind="opening", title="A", duration_s=8 * MIN)

    assert layout(session) == [("A", 0, 8 * MIN), ("B", 13 * MIN, 5 * MIN)]


def test_reorder_recomputes_offsets_from_order_and_durations(session: LiveSession) -> None:
    a, b, c = seg(session, "A", 5), seg(session, "B", 10), seg(session, "C", 15)

    ros.segment_reorder(session=session, by=None, order=[c.pk, a.pk, b.pk])

    assert layout(session) == [
        ("C", 0, 15 * MIN),
        ("A", 15 * MIN, 5 * MIN),
        ("B", 20 * MIN, 10 * MIN),
    ]
    entry = AuditEntry.objects.filter(action="segment.reorder").get()
    assert entry.after == {"order": [c.pk, a.pk, b.pk]}


def test_reorder_with_a_stale_list_is_refused(session: LiveSession) -> None:
    a, b = seg(session, "A", 5), seg(session, "B", 5)

    with pytest.raises(ValidationError):
        ros.segment_reorder(session=session, by=None, order=[b.pk])
    with pytest.raises(ValidationError):
        ros.segment_reorder(session=session, by=None, order=[b.pk, a.pk, 999999])

    assert layout(session)[0][0] == "A"


def test_delete_moves_later_segments_up(session: LiveSession) -> None:
    a = seg(session, "A", 5)
    seg(session, "B", 5)

    ros.segment_delete(segment=a, by=None)

    assert layout(session) == [("B", 0, 5 * MIN)]


def test_product_from_another_session_cannot_be_linked(session: LiveSession) -> None:
    other = SessionFactory(workspace=session.workspace)
    product = ros.product_create(session=other, by=None, name="别的")

    with pytest.raises(ValidationError) as exc:
        seg(session, "A", 5, product=product)

    assert "product" in field_errors(exc)


# --- Cues -------------------------------------------------------------------------------


def test_cue_outside_its_segment_is_refused(session: LiveSession) -> None:
    s = seg(session, "A", 5)

    ros.cue_create(segment=s, by=None, at_s=0, kind="music", description="BGM 1")
    for at in (5 * MIN, 6 * MIN, -1):
        with pytest.raises(ValidationError) as exc:
            ros.cue_create(segment=s, by=None, at_s=at, kind="music", description="BGM 2")
        assert "at_s" in field_errors(exc)

    assert s.cues.count() == 1


def test_shortening_a_segment_below_its_cues_is_refused(session: LiveSession) -> None:
    s = seg(session, "A", 5)
    ros.cue_create(segment=s, by=None, at_s=4 * MIN, kind="lighting", description="暖光")

    with pytest.raises(ValidationError) as exc:
        ros.segment_update(segment=s, by=None, kind="other", title="A", duration_s=3 * MIN)

    assert "duration_s" in field_errors(exc)


# --- Products ---------------------------------------------------------------------------


def test_products_add_edit_reorder_delete(session: LiveSession) -> None:
    a = ros.product_create(
        session=session,
        by=None,
        name="口红",
        sku="LP-01",
        price=Decimal("199"),
        live_price=Decimal("129"),
        stock=300,
    )
    b = ros.product_create(session=session, by=None, name="面霜")
    s = seg(session, "讲解", 5, product=a)

    ros.product_update(product=b, by=None, name="面霜 50ml", live_price=Decimal("89"))
    ros.product_reorder(session=session, by=None, order=[b.pk, a.pk])
    assert [p.name for p in rosq.ros_products(session=session)] == ["面霜 50ml", "口红"]

    ros.product_delete(product=a, by=None)
    s.refresh_from_db()
    assert s.product is None
    assert [p.position for p in rosq.ros_products(session=session)] == [0]


def test_product_validation(session: LiveSession) -> None:
    with pytest.raises(ValidationError) as exc:
        ros.product_create(session=session, by=None, name=" ", price=Decimal("-1"), stock=-2)

    assert set(field_errors(exc)) == {"name", "price", "stock"}


# --- Templates and copying --------------------------------------------------------------


def _build(session: LiveSession) -> None:
    p = ros.product_create(session=session, by=None, name="口红", sku="LP-01")
    a = seg(session, "开场", 5, talking_points="欢迎", host_lines="大家好")
    ros.cue_create(segment=a, by=None, at_s=30, kind="music", description="开场曲")
    seg(session, "口红讲解", 10, offset_s=10 * MIN, product=p)


def test_template_round_trip_replace(session: LiveSession, workspace: Workspace) -> None:
    _build(session)
    template = ros.template_save(session=session, by=None, name="标准场")
    target = SessionFactory(
        workspace=workspace,
        scheduled_start=session.scheduled_start,
        scheduled_end=session.scheduled_end,
    )
    ros.product_create(session=target, by=None, name="口红 新批次", sku="LP-01")
    seg(target, "旧的", 5)

    count = ros.template_apply(session=target, template=template, by=None, mode="replace")

    assert count == 2
    assert layout(target) == layout(session)
    first, second = rosq.ros_segments(session=target)
    assert (first.talking_points, first.host_lines) == ("欢迎", "大家好")
    assert [(c.at_s, c.kind, c.description) for c in first.cues.all()] == [(30, "music", "开场曲")]
    assert second.product is not None and second.product.sku == "LP-01"
    assert second.product.session_id == target.pk


def test_template_append_goes_after_the_last_segment(session: LiveSession) -> None:
    _build(session)
    template = ros.template_save(session=session, by=None, name="t")
    # 20 minutes planned; appending 20 more fits the hour.
    ros.template_apply(session=session, template=template, by=None, mode="append")

    assert [o for _, o, _ in layout(session)] == [0, 10 * MIN, 20 * MIN, 30 * MIN]


def test_applying_a_template_longer_than_the_session_changes_nothing(
    session: LiveSession,
) -> None:
    _build(session)
    template = ros.template_save(session=session, by=None, name="t")
    for _ in range(2):
        ros.template_apply(session=session, template=template, by=None, mode="append")
    before = layout(session)
    cues = Cue.objects.count()

    with pytest.raises(ValidationError):
        ros.template_apply(session=session, template=template, by=None, mode="append")
    with pytest.raises(ValidationError):
        ros.template_apply(session=session, template=template, by=None, mode="sideways")

    assert layout(session) == before
    assert Cue.objects.count() == cues


def test_template_names_are_unique_and_a_damaged_template_is_refused(
    session: LiveSession, workspace: Workspace
) -> None:
    _build(session)
    ros.template_save(session=session, by=None, name="t")
    with pytest.raises(ValidationError):
        ros.template_save(session=session, by=None, name="t")
    broken = RunOfShowTemplate.objects.create(
        workspace=workspace, name="broken", segments=[{"title": "x", "duration_s": -5}]
    )
    with pytest.raises(ValidationError):
        ros.template_apply(session=session, template=broken, by=None, mode="replace")
    assert len(layout(session)) == 2


def test_copy_from_an_earlier_session(session: LiveSession, workspace: Workspace) -> None:
    earlier = SessionFactory(
        workspace=workspace,
        scheduled_start=session.scheduled_start - timedelta(days=7),
        scheduled_end=session.scheduled_end - timedelta(days=7),
    )
    _build(earlier)

    ros.session_copy_run_of_show(session=session, source=earlier, by=None, mode="replace")

    assert layout(session) == layout(earlier)
    assert rosq.copy_sources(session=session) == [earlier]
    assert AuditEntry.objects.filter(action="segment.copy").count() == 1


def test_copy_from_another_workspace_is_refused(session: LiveSession) -> None:
    foreign = SessionFactory(workspace=WorkspaceFactory())
    seg(foreign, "A", 5)

    with pytest.raises(ValidationError):
        ros.session_copy_run_of_show(session=session, source=foreign, by=None, mode="replace")


# --- Brand profile ----------------------------------------------------------------------


def test_brand_profile_update_is_audited(workspace: Workspace, owner: User) -> None:
    profile = ros.brand_profile_update(
        workspace=workspace,
        by=owner,
        positioning="国货美妆",
        tone="亲切",
        personas=[{"name": "学生党", "age_band": "18-24"}],
        pillars=["成分", " ", "妆教"],
        taboo_words=["秒杀", "秒杀", " 神器 "],
        use_builtin_taboo=False,
    )

    assert profile.pillars == ["成分", "妆教"]
    assert profile.taboo_words == ["秒杀", "神器"]
    assert AuditEntry.objects.filter(action="brand_profile.update", actor=owner).exists()


# --- Pages ------------------------------------------------------------------------------


def test_editor_shows_errors_next_to_the_field_and_saves_nothing(
    session: LiveSession, owner: User, login: Callable[[User], Client]
) -> None:
    seg(session, "开场", 10)
    url = reverse("planning:segment_save", kwargs={"ws": session.workspace.slug, "pk": session.pk})

    response = login(owner).post(
        url,
        {
            "newseg-title": "抢先",
            "newseg-kind": "other",
            "newseg-duration_s": "5",
            "newseg-offset_s": "0:05:00",
        },
    )

    assert response.status_code == 200
    assert "开场" in response.content.decode()
    assert 'class="field has-error"' in response.content.decode()
    assert session.segments.count() == 1


def test_editor_highlights_taboo_words_as_warnings(
    session: LiveSession, owner: User, login: Callable[[User], Client]
) -> None:
    seg(session, "讲解", 5, host_lines="全网最低价，绝对好用")
    url = reverse("planning:ros_detail", kwargs={"ws": session.workspace.slug, "pk": session.pk})

    body = login(owner).get(url).content.decode()

    assert '<mark class="taboo"' in body
    assert "绝对</mark>" in body


def test_editor_query_count_is_bounded(
    session: LiveSession,
    owner: User,
    login: Callable[[User], Client],
    django_assert_max_num_queries: Callable[..., object],
) -> None:
    for i in range(8):
        s = seg(session, f"S{i}", 5)
        ros.cue_create(segment=s, by=None, at_s=0, kind="music", description="m")
    client = login(owner)
    url = reverse("planning:ros_detail", kwargs={"ws": session.workspace.slug, "pk": session.pk})
    with django_assert_max_num_queries(30):  # type: ignore[operator]
        assert client.get(url).status_code == 200


def test_reorder_endpoint_accepts_json_and_returns_times(
    session: LiveSession, owner: User, login: Callable[[User], Client]
) -> None:
    a, b = seg(session, "A", 5), seg(session, "B", 10)
    url = reverse(
        "planning:segment_reorder", kwargs={"ws": session.workspace.slug, "pk": session.pk}
    )

    response = login(owner).post(url, {"order": [b.pk, a.pk]}, content_type="application/json")

    assert response.status_code == 200
    assert response.json()["times"][str(b.pk)]["offset"] == "0:00:00"
    assert [t for t, _, _ in layout(session)] == ["B", "A"]
    bad = login(owner).post(url, {"order": [a.pk]}, content_type="application/json")
    assert bad.status_code == 400


def test_print_view_shows_clock_times_in_the_workspace_zone(
    workspace: Workspace, owner: User, login: Callable[[User], Client]
) -> None:
    start = datetime(2030, 5, 1, 20, 0, tzinfo=ZoneInfo(workspace.time_zone))
    session = SessionFactory(
        workspace=workspace, scheduled_start=start, scheduled_end=start + timedelta(hours=1)
    )
    p = ros.product_create(session=session, by=None, name="口红", live_price=Decimal("129"))
    seg(session, "开场", 5)
    s = seg(session, "讲解", 10, product=p, host_lines="绝对好用")
    ros.cue_create(segment=s, by=None, at_s=90, kind="overlay", description="价格贴片")
    kw = {"ws": workspace.slug, "pk": session.pk}

    body = login(owner).get(reverse("planning:ros_print", kwargs=kw)).content.decode()

    assert "20:05:00" in body and "20:06:30" in body and "¥129.00" in body
    assert "绝对</mark>" in body
    export = login(owner).get(reverse("planning:ros_export", kwargs=kw))
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    assert export.content[:2] == b"PK"


def test_viewer_sees_the_run_of_show_without_edit_forms(
    session: LiveSession,
    member_factory: Callable[..., object],
    login: Callable[[User], Client],
) -> None:
    seg(session, "开场", 5)
    viewer = member_factory(session.workspace, "viewer").user  # type: ignore[attr-defined]
    url = reverse("planning:ros_detail", kwargs={"ws": session.workspace.slug, "pk": session.pk})

    body = login(viewer).get(url).content.decode()

    assert "开场" in body
    assert "data-sortable" not in body and "segment_id" not in body
