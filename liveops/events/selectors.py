"""Reads about a session's live data (counts, quarantine, imports, minute stats)."""

from __future__ import annotations

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
