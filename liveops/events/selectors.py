"""Reads about a session's live data (counts, quarantine, imports, minute stats)."""

from __future__ import annotations

from django.db.models import QuerySet

from liveops.events.models import ImportJob, IngestTally, MinuteStat, RejectedRow
from liveops.planning.models import LiveSession


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
