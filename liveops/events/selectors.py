"""Reads about a session's live data (counts, quarantine, imports, minute stats)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from liveops.events.models import ImportJob, IngestTally, MinuteStat, RejectedRow
from liveops.events.timeslots import MinuteRow
from liveops.planning.models import LiveSession, SessionStatus
from liveops.workspaces.models import Workspace


def tally_get(*, session: LiveSession) -> IngestTally | None:
    return IngestTally.objects.filter(session=session).first()


def rejected_list(*, session: LiveSession, limit: int = 100) -> QuerySet[RejectedRow]:
    return RejectedRow.objects.filter(session=session)[:limit]


def rejected_count(*, session: LiveSession) -> int:
    return RejectedRow.objects.filter(session=session).count()


def import_job_list(*, session: LiveSession) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(session=session).select_related("created_by")


def import_job_get(*, session: LiveSession, pk: int) -> ImportJob | None:
    return ImportJob.objects.filter(session=session, pk=pk).first()


def minute_stat_count(*, session: LiveSession) -> int:
    return MinuteStat.objects.filter(session=session).count()


def timeslot_rows(*, workspace: Workspace) -> list[MinuteRow]:
    """Imported per-minute statistics of the workspace's ended sessions, as plain rows."""
    rows = (
        MinuteStat.objects.filter(
            workspace=workspace,
            session__workspace=workspace,
            session__status__in=[SessionStatus.ENDED, SessionStatus.REVIEWED],
        )
        .order_by("session_id", "minute")
        .values_list("session_id", "minute", "online", "gmv", "new_follows")
    )
    return [
        MinuteRow(session_id=sid, minute=minute, online=online, gmv=gmv, new_follows=follows)
        for sid, minute, online, gmv, follows in rows.iterator(chunk_size=5000)
    ]


def session_event_files(*, session: LiveSession) -> list[str]:
    """The event store's active Parquet files of a session (for the analytics engine)."""
    from liveops.events.runtime import event_store

    return event_store().file_uris(session.workspace_id, session.pk)


def session_event_snapshot(*, session: LiveSession) -> tuple[int, list[str]]:
    """The event store's version and the session's active files at that version."""
    from liveops.events.runtime import event_store

    return event_store().session_snapshot(session.workspace_id, session.pk)


def session_event_files_since(
    *, session: LiveSession, version: int
) -> tuple[int, list[str], list[str]] | None:
    """The session's events committed after ``version``: ``(version now, files they were
    added in, the session's active files now)``; None when the data since is not just
    additions (see ``EventStore.session_added_since``)."""
    from liveops.events.runtime import event_store

    return event_store().session_added_since(session.workspace_id, session.pk, version)


MINUTE_STAT_COLUMNS = (
    "minute", "online", "entries", "exits", "comments", "likes", "new_follows", "orders",
    "gmv", "impressions",
)  # fmt: skip


def minute_stats_rows(*, session: LiveSession) -> list[dict[str, object]]:
    """A session's imported per-minute platform statistics as plain rows (UTC minutes)."""
    return list(
        MinuteStat.objects.filter(session=session).order_by("minute").values(*MINUTE_STAT_COLUMNS)
    )


def minute_stats_fingerprint(*, session: LiveSession) -> str:
    """Changes whenever the session's minute stats change (count, newest row)."""
    from django.db.models import Count, Max

    agg = MinuteStat.objects.filter(session=session).aggregate(n=Count("id"), last=Max("id"))
    return f"{agg['n']}:{agg['last']}"


def comment_text_counts(*, session: LiveSession, limit: int = 20_000) -> list[tuple[str, int]]:
    """The session's distinct comment texts with how often each was sent, most frequent first.

    Chat repeats itself ("666", "主播好"), so the distinct texts are far fewer than the
    comments: word counts weighted by these counts equal counts over every comment.
    """
    from liveops.events.runtime import event_store

    store = event_store()
    with store._duckdb() as con:
        relation = store.duckdb_relation(con, session.workspace_id, session.pk)
        rows = (
            relation.filter("kind = 'comment' AND text <> ''")
            .aggregate("text, count(*) AS n", "text")
            .order("n DESC, text")
            .limit(limit)
            .fetchall()
        )
    return [(str(text), int(n)) for text, n in rows]


def comment_rows(
    *, session: LiveSession, limit: int = 50_000
) -> tuple[list[tuple[Any, str, str]], int]:
    """Up to ``limit`` comments (ts, viewer name, text) in time order, and the total count."""
    from liveops.events.runtime import event_store

    store = event_store()
    with store._duckdb() as con:
        relation = store.duckdb_relation(con, session.workspace_id, session.pk)
        comments = relation.filter("kind = 'comment'")
        total = comments.aggregate("count(*)").fetchall()[0][0]
        rows = (
            comments.order("ts, event_id")
            .select("ts, coalesce(viewer_name, viewer_id, ''), coalesce(text, '')")
            .limit(limit)
            .fetchall()
        )
    return [(ts, str(name), str(text)) for ts, name, text in rows], int(total)
