"""Materialised results: computed from the store, written once, recomputed when data changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from liveops.analytics import services
from liveops.analytics.models import SegmentFigures, SessionMinute, SessionResult
from liveops.events import services as event_services
from liveops.events.services import ingest_rows
from liveops.planning.models import LiveSession, Segment
from tests.factories import SessionFactory

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _at(minutes: float) -> str:
    return (START + timedelta(minutes=minutes)).isoformat()


def _ended_session() -> LiveSession:
    session: LiveSession = SessionFactory(
        scheduled_start=START,
        scheduled_end=START + timedelta(minutes=10),
        actual_start=START,
        actual_end=START + timedelta(minutes=10),
        status="ended",
    )
    Segment.objects.create(session=session, position=0, title="开场", offset_s=0, duration_s=300)
    Segment.objects.create(session=session, position=1, title="讲品", offset_s=300, duration_s=300)
    return session


def _rows() -> list[dict[str, Any]]:
    # a: 0→8 min, comments twice; b: 1→3 min and 5→6 min (re-entry), buys 99.50; c: 2→10 (end)
    return [
        {"event_id": "e1", "kind": "enter", "ts": _at(0), "viewer_id": "a"},
        {"event_id": "e2", "kind": "enter", "ts": _at(1), "viewer_id": "b"},
        {"event_id": "e3", "kind": "comment", "ts": _at(1.5), "viewer_id": "a", "text": "主播好"},
        {"event_id": "e4", "kind": "enter", "ts": _at(2), "viewer_id": "c"},
        {"event_id": "e5", "kind": "leave", "ts": _at(3), "viewer_id": "b"},
        {"event_id": "e6", "kind": "enter", "ts": _at(5), "viewer_id": "b"},
        {"event_id": "e7", "kind": "order", "ts": _at(5.5), "viewer_id": "b", "amount": "99.50"},
        {"event_id": "e8", "kind": "leave", "ts": _at(6), "viewer_id": "b"},
        {"event_id": "e9", "kind": "comment", "ts": _at(7), "viewer_id": "a", "text": "多少钱？"},
        {"event_id": "e10", "kind": "leave", "ts": _at(8), "viewer_id": "a"},
        {"event_id": "e11", "kind": "like", "ts": _at(9), "viewer_id": "c", "quantity": 5},
    ]


def test_materialize_writes_summary_minutes_and_segments() -> None:
    session = _ended_session()
    outcome = ingest_rows(session=session, rows=_rows())
    assert outcome.counts()["accepted"] == 11
    result = services.session_materialize(session=session)
    summary = result.summary
    assert summary["uv"] == 3
    assert summary["pv"] == 4  # entries, the re-entry counted
    assert summary["comments"] == 2 and summary["commenters"] == 1
    assert summary["likes"] == 5
    assert Decimal(summary["gmv"]) == Decimal("99.50")
    assert summary["orders"] == 1 and summary["buyers"] == 1
    # watch: a 8 min, b 2+1 min, c 8 min (to the end) → 19 min over 3 viewers
    assert summary["avg_watch_s"] == pytest.approx(19 * 60 / 3)
    assert summary["pcu"] == 3
    assert result.grains["pcu"] == "events"
    minutes = list(SessionMinute.objects.filter(session=session))
    assert len(minutes) == 10
    assert minutes[0].minute == START
    assert [m.entries for m in minutes[:3]] == [1, 1, 1]
    assert sum(m.comments or 0 for m in minutes) == 2
    segments = list(SegmentFigures.objects.filter(session=session))
    assert [s.title for s in segments] == ["开场", "讲品"]
    assert segments[0].segment is not None
    assert segments[1].figures["orders"] == 1
    assert Decimal(segments[1].figures["gmv"]) == Decimal("99.50")


def test_materialize_is_idempotent_and_recomputes_after_a_late_import() -> None:
    session = _ended_session()
    ingest_rows(session=session, rows=_rows())
    first = services.session_materialize(session=session)
    again = services.session_materialize(session=session)
    assert again.computed_at == first.computed_at  # same inputs: nothing recomputed
    assert SessionResult.objects.count() == 1
    ingest_rows(
        session=session,
        rows=[{"event_id": "late", "kind": "enter", "ts": _at(4), "viewer_id": "d"}],
    )
    late = services.session_materialize(session=session)
    assert late.computed_at > first.computed_at
    assert late.summary["uv"] == 4
    assert SessionMinute.objects.filter(session=session).count() == 10  # replaced, not added


def test_empty_session_has_counts_zero_and_rates_not_available() -> None:
    session = _ended_session()
    result = services.session_materialize(session=session)
    assert result.summary["uv"] == 0
    assert result.summary["comments"] == 0
    assert result.summary["interaction_rate"] is None
    assert result.summary["conversion_rate"] is None
    assert "avg_watch_s" in result.unavailable  # says why


def test_refresh_recomputes_sessions_with_new_data_only() -> None:
    session = _ended_session()
    ingest_rows(session=session, rows=_rows())
    assert services.sessions_refresh() == 1
    assert services.sessions_refresh() == 0
    ingest_rows(
        session=session, rows=[{"event_id": "x", "kind": "like", "ts": _at(9), "viewer_id": "c"}]
    )
    assert services.sessions_refresh() == 1
    assert SessionResult.objects.get(session=session).summary["likes"] == 6


def _from_scratch(session: LiveSession) -> Any:
    """The session's summary computed from its files alone (no stored digest), as stored."""
    from liveops.analytics.engine import open_engine
    from liveops.analytics.runner import compute_session
    from liveops.events import selectors as event_selectors

    with open_engine("duckdb") as engine:
        return services._jsonable(
            compute_session(
                engine,
                events_files=event_selectors.session_event_files(session=session),
                start=session.actual_start,
                end=session.actual_end,
                currency=session.account.currency,
                prior_viewer_files=[],
            ).summary
        )


def test_the_digest_advances_with_new_events_and_rebuilds_after_an_erasure() -> None:
    from liveops.analytics import digest as digests

    session = _ended_session()
    rows = _rows()
    ingest_rows(session=session, rows=rows[:5])
    services.session_materialize(session=session)
    folder = services._digest_folder(session)
    first = digests.load(folder)
    assert first is not None and first.events == 5
    # the rest arrives in three batches (and one event before the start): appended, not rebuilt
    ingest_rows(session=session, rows=rows[5:8])
    ingest_rows(session=session, rows=rows[8:])
    early = [
        {"event_id": "early", "kind": "enter", "ts": _at(-3), "viewer_id": "d"},
        {"event_id": "d1", "kind": "comment", "ts": _at(1), "viewer_id": "d", "text": "来了"},
    ]
    ingest_rows(session=session, rows=early)

    event_services.session_compact(session=session, vacuum=False)
    result = services.session_materialize(session=session)
    advanced = digests.load(folder)
    assert advanced is not None and advanced.events == 13 and advanced.version > first.version
    assert result.summary == _from_scratch(session)
    assert result.summary["uv"] == 4  # d entered before the start: watched from it
    # an erasure is no append: the digest is rebuilt from the files
    event_services.viewer_erase(workspace_id=session.workspace_id, viewer_id="a")
    again = services.session_materialize(session=session, force=True)
    rebuilt = digests.load(folder)
    assert rebuilt is not None and rebuilt.events == 13 - 4  # a had four events
    assert again.summary == _from_scratch(session)
    assert again.summary["uv"] == 3 and again.summary["commenters"] == 1  # d
