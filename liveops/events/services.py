"""Writes around the event store: quarantine, tallies and file imports."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa  # type: ignore[import-untyped]
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from liveops.events.bulk import assign_event_id, fast_items
from liveops.events.fastimport import Block, TableTally, tally_table
from liveops.events.importers.base import Item, Problem, Skipped
from liveops.events.importers.tabular import MINUTE_INT_FIELDS
from liveops.events.ingest import Outcome, RepeatCounter, prepare, rejection_id, with_raw
from liveops.events.models import ImportJob, ImportStatus, IngestTally, MinuteStat, RejectedRow
from liveops.events.runtime import event_store
from liveops.events.schema import (
    NormalizedEvent,
    Rejection,
    parse_timestamp,
    to_arrow,
    validate,
)
from liveops.planning.models import LiveSession
from liveops.planning.services import session_mark_live

IMPORT_BATCH = 50_000
#: Events of the columnar fast path's blocks stored per commit.
FAST_BATCH = 100_000
log = logging.getLogger(__name__)


@dataclass(slots=True)
class Tallied:
    """Counts of one stored batch, in the shape both the API and importers record."""

    accepted: int = 0
    duplicate: int = 0
    rejected: list[tuple[str, Rejection, str]] = field(default_factory=list)  # where, why, raw
    by_kind: dict[str, int] = field(default_factory=dict)
    first_ms: int | None = None
    last_ms: int | None = None

    def add(self, table: TableTally) -> None:
        """Add the counts of a stored Arrow table (``fastimport.tally_table``)."""
        self.accepted += table.accepted
        self.duplicate += table.duplicate
        for kind, n in table.by_kind.items():
            self.by_kind[kind] = self.by_kind.get(kind, 0) + n
        for ms in (table.first_ms, table.last_ms):
            if ms is not None:
                self.first_ms = ms if self.first_ms is None else min(self.first_ms, ms)
                self.last_ms = ms if self.last_ms is None else max(self.last_ms, ms)

    def count(self, event: NormalizedEvent) -> None:
        self.accepted += 1
        self.by_kind[event.kind] = self.by_kind.get(event.kind, 0) + 1
        self.first_ms = event.ts_ms if self.first_ms is None else min(self.first_ms, event.ts_ms)
        self.last_ms = event.ts_ms if self.last_ms is None else max(self.last_ms, event.ts_ms)


def _dt(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC)


@transaction.atomic
def batch_record(*, session: LiveSession, origin: str, tallied: Tallied) -> None:
    """Keep a batch's rejected rows (once each) and add its counts to the session tally."""
    if tallied.rejected:
        RejectedRow.objects.bulk_create(
            [
                RejectedRow(
                    workspace_id=session.workspace_id,
                    session=session,
                    origin=origin[:40],
                    event_id=rejection_id(rejection, raw)[:140],
                    location=where[:60],
                    code=rejection.code[:40],
                    field=rejection.field[:60],
                    message=rejection.message[:400],
                    raw=raw,
                )
                for where, rejection, raw in tallied.rejected
            ],
            ignore_conflicts=True,
        )
    tally, _ = IngestTally.objects.select_for_update().get_or_create(session=session)
    by_kind = dict(tally.by_kind)
    for kind, n in tallied.by_kind.items():
        by_kind[kind] = by_kind.get(kind, 0) + n
    first, last = _dt(tallied.first_ms), _dt(tallied.last_ms)
    _maybe_live(session, tallied)
    IngestTally.objects.filter(pk=tally.pk).update(
        accepted=F("accepted") + tallied.accepted,
        duplicate=F("duplicate") + tallied.duplicate,
        rejected=F("rejected") + len(tallied.rejected),
        by_kind=by_kind,
        first_ts=min(filter(None, [tally.first_ts, first]), default=None),
        last_ts=max(filter(None, [tally.last_ts, last]), default=None),
        updated_at=timezone.now(),
    )


#: Events at most this old make a session that has not started yet live.
LIVE_FRESHNESS = timedelta(minutes=5)


def _maybe_live(session: LiveSession, tallied: Tallied) -> None:
    if not tallied.accepted or session.status not in ("draft", "planned", "ready"):
        return
    last = _dt(tallied.last_ms)
    if last is not None and last >= timezone.now() - LIVE_FRESHNESS:
        first = _dt(tallied.first_ms) or last
        marked = session_mark_live(session=session, at=first)
        session.status, session.actual_start = marked.status, marked.actual_start


def tally_reconcile(*, workspace_id: int, session_id: int) -> None:
    """Set a session's accepted count and kinds from the store, the source of truth.

    The tally is updated right after each commit; a crash between the two leaves events
    stored but not counted (their retry is then counted as duplicates). Background
    compaction and `liveops compact` call this to put the figures right.
    """
    by_kind = event_store().count_by_kind(workspace_id, session_id)
    IngestTally.objects.filter(session_id=session_id).update(
        accepted=sum(by_kind.values()), by_kind=dict(sorted(by_kind.items()))
    )


def tallied_of(outcome: Outcome, events: Iterable[tuple[int, NormalizedEvent]]) -> Tallied:
    """The counts of an API outcome (rows addressed as "item N", 0-based like the response)."""
    accepted = set(outcome.accepted)
    tallied = Tallied(duplicate=len(outcome.duplicate))
    tallied.rejected = [(f"item {i}", r, raw) for i, r, raw in outcome.rejected]
    for index, event in events:
        if index in accepted:
            tallied.count(event)
    return tallied


def ingest_rows(*, session: LiveSession, rows: list[Any], origin: str = "api") -> Outcome:
    """Validate, store and record one batch synchronously (the API, tests, small callers)."""
    from liveops.events.ingest import outcome_of

    batch = prepare(
        rows,
        workspace_id=session.workspace_id,
        session_id=session.pk,
        platform=session.account.platform,
    )
    accepted_ids: list[str] = []
    if batch.events:
        accepted_ids = event_store().append(to_arrow(batch.events)).accepted_ids
    outcome = outcome_of(batch, accepted_ids)
    batch_record(
        session=session,
        origin=origin,
        tallied=tallied_of(outcome, zip(batch.event_index, batch.events, strict=True)),
    )
    return outcome


# -- file imports --------------------------------------------------------------------------


def _minute_stat(session: LiveSession, fields: dict[str, Any]) -> MinuteStat | Rejection:
    try:
        ms = parse_timestamp(fields.get("minute"), "minute")
    except Exception as exc:  # parse_timestamp explains itself
        return Rejection("bad_timestamp", "minute", str(exc))
    minute = datetime.fromtimestamp(ms // 60_000 * 60, tz=UTC)
    stat = MinuteStat(
        workspace_id=session.workspace_id,
        session=session,
        minute=minute,
        platform=str(fields.get("platform") or session.account.platform),
    )
    for name in MINUTE_INT_FIELDS:
        value = fields.get(name)
        if value in (None, ""):
            continue
        try:
            number = int(Decimal(str(value)))
        except (InvalidOperation, ValueError):
            return Rejection("bad_type", name, f"{name} “{value}” is not a whole number.")
        if number < 0:
            return Rejection("bad_quantity", name, f"{name} cannot be negative ({number}).")
        setattr(stat, name, number)
    if fields.get("gmv") not in (None, ""):
        try:
            stat.gmv = Decimal(str(fields["gmv"])).quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            return Rejection("bad_amount", "gmv", f"gmv “{fields['gmv']}” is not a number.")
    return stat


def _store_minute_stats(session: LiveSession, stats: list[MinuteStat]) -> tuple[int, int]:
    """Upsert per-minute rows; a minute already imported is replaced (re-import is idempotent)."""
    if not stats:
        return 0, 0
    latest: dict[datetime, MinuteStat] = {s.minute: s for s in stats}
    existing = set(
        MinuteStat.objects.filter(session=session, minute__in=list(latest)).values_list(
            "minute", flat=True
        )
    )
    MinuteStat.objects.bulk_create(
        list(latest.values()),
        update_conflicts=True,
        unique_fields=["session", "minute"],
        update_fields=[*MINUTE_INT_FIELDS, "gmv", "platform"],
    )
    new = len(latest) - len(existing)
    return new, len(stats) - new


def import_items(
    *,
    job: ImportJob,
    items: Iterable[Item | Block],
    platform: str | None = None,
    progress: Callable[[ImportJob], None] | None = None,
    bytes_read: Callable[[], int] | None = None,
) -> ImportJob:
    """Run an importer's items through validation into the store, in batches of 50 000.

    Every record ends counted once: accepted, duplicate, rejected (kept in the quarantine
    with its location and reason) or skipped (not an audience event; reason counted).
    ``items`` may also carry the Arrow blocks of a columnar fast path (``events.bulk``):
    each block is stored as one batch together with its rows left to the row path.
    """
    session = job.session
    platform = platform or session.account.platform
    origin = f"import:{job.pk}"
    repeats = RepeatCounter()
    events: list[NormalizedEvent] = []
    tables: list[pa.Table] = []
    stats: list[MinuteStat] = []
    tallied = Tallied()
    skipped: dict[str, int] = dict(job.skipped)

    def flush() -> None:
        nonlocal events, tables, stats, tallied
        if events or tables:
            combined = pa.concat_tables([to_arrow(events), *tables]) if tables else None
            combined = combined if combined is not None else to_arrow(events)
            stored = event_store().append(combined)
            counted = tally_table(combined, stored.accepted_ids, stored.accepted_mask)
            tallied.add(counted)
        new, replaced = _store_minute_stats(session, stats)
        batch_record(session=session, origin=origin, tallied=tallied)
        job.accepted += tallied.accepted + new
        job.duplicate += tallied.duplicate + replaced
        job.rejected += len(tallied.rejected)
        kinds = dict(job.by_kind)
        for kind, n in tallied.by_kind.items():
            kinds[kind] = kinds.get(kind, 0) + n
        if new:
            kinds["minute_stats"] = kinds.get("minute_stats", 0) + new
        job.by_kind = dict(sorted(kinds.items()))
        job.skipped = dict(skipped)
        if bytes_read is not None:
            job.bytes_read = bytes_read()
        job.save()
        events, tables, stats, tallied = [], [], [], Tallied()
        if progress is not None:
            progress(job)

    def take(item: Item) -> None:
        job.records += 1
        if isinstance(item, Skipped):
            skipped[item.reason] = skipped.get(item.reason, 0) + 1
        elif isinstance(item, Problem):
            tallied.rejected.append(
                (item.location, Rejection(item.code, item.field or "row", item.message), item.raw)
            )
        elif item.fields.get("_target") == "minute_stats":
            stat = _minute_stat(session, item.fields)
            if isinstance(stat, MinuteStat):
                stats.append(stat)
            else:
                tallied.rejected.append((item.location, stat, item.raw))
        else:
            fields = {k: v for k, v in item.fields.items() if not k.startswith("_")}
            assign_event_id(fields, item.raw, repeats)
            result = validate(
                fields, workspace_id=session.workspace_id, session_id=session.pk, platform=platform
            )
            if isinstance(result, NormalizedEvent):
                events.append(with_raw(result, item.raw))
            else:
                tallied.rejected.append((item.location, result, item.raw))

    for item in items:
        if isinstance(item, Block):
            job.records += item.table.num_rows
            tables.append(item.table)
            for row_item in item.items:
                take(row_item)
            if sum(t.num_rows for t in tables) + len(events) >= FAST_BATCH:
                flush()  # one store commit per ≈ 100 000 events: commits cost ~20–40 ms each
            continue
        take(item)
        if len(events) + len(stats) + len(tallied.rejected) >= IMPORT_BATCH:
            flush()
    flush()
    return job


def import_job_create(
    *, session: LiveSession, filename: str, path: str, fmt: str, size: int, by: Any = None
) -> ImportJob:
    return ImportJob.objects.create(
        workspace_id=session.workspace_id,
        session=session,
        filename=filename[:255],
        path=path[:500],
        format=fmt,
        size_bytes=size,
        created_by=by,
        status=ImportStatus.RUNNING,
    )


def import_job_finish(*, job: ImportJob, error: str = "") -> ImportJob:
    job.status = ImportStatus.FAILED if error else ImportStatus.DONE
    job.error = error
    job.finished_at = timezone.now()
    job.save()
    return job


def import_file(
    *,
    session: LiveSession,
    path: str,
    filename: str | None = None,
    fmt: str | None = None,
    options: dict[str, Any] | None = None,
    by: Any = None,
    job: ImportJob | None = None,
    progress: Callable[[ImportJob], None] | None = None,
) -> ImportJob:
    """Import one file into a session: checked, format detected, streamed, batched.

    Safe to repeat: events already stored are counted as duplicates, so importing the
    same file again adds nothing. A file-level problem found before reading (too big,
    wrong type, a zip bomb, unknown format) fails the job with a message saying what and
    how to fix and stores nothing; one found midway (a gzip that unpacks past its cap)
    fails the job but keeps what was already accepted. A bad record is a rejected row with
    its line/row and field.
    """
    import os

    from django.conf import settings

    from liveops.events.importers import registry, safety
    from liveops.events.importers.base import ImportFormatError

    name = filename or os.path.basename(path)
    options = dict(options or {})
    start = session.actual_start or session.scheduled_start
    if start is not None:
        # Recordings that only carry offsets from the start (chat replays) or time-only log
        # lines are placed on the session's own start unless told otherwise.
        options.setdefault("base_ts", start.isoformat())
        options.setdefault(
            "date", start.astimezone(ZoneInfo(session.workspace.time_zone)).date().isoformat()
        )
    if job is None:
        job = import_job_create(
            session=session, filename=name, path=path, fmt=fmt or "", size=0, by=by
        )
    else:
        job.status = ImportStatus.RUNNING
        job.save(update_fields=["status", "updated_at"])
    try:
        checked = safety.check_file(path, max_bytes=settings.LIVEOPS_IMPORT_MAX_BYTES)
        job.size_bytes = checked.size
        if not fmt:
            with safety.open_maybe_gzip(path) as probe:
                fmt = registry.detect(safety.read_head(probe, safety.HEAD_BYTES), name)
        with safety.open_maybe_gzip(path) as stream:
            importer = registry.FORMATS.get(fmt)
            if importer is None:
                raise ImportFormatError(
                    f"unknown format {fmt!r}; use one of: {', '.join(sorted(registry.FORMATS))}."
                )
            job.format = fmt
            job.save()
            raw_file = getattr(stream, "raw", None)
            position = (lambda: raw_file.tell()) if raw_file is not None else None
            fast = fast_items(
                fmt=fmt,
                path=path,
                importer=importer,
                options=options,
                workspace_id=session.workspace_id,
                session_id=session.pk,
                platform=session.account.platform,
                size=checked.size,
            )
            import_items(
                job=job,
                items=fast if fast is not None else importer.parse(stream, options=options),
                progress=progress,
                bytes_read=None if fast is not None else _safe_tell(position),
            )
    except ImportFormatError as exc:
        return import_job_finish(job=job, error=str(exc))
    except Exception as exc:
        import_job_finish(job=job, error=f"internal error: {exc!r}")
        raise
    job.bytes_read = job.size_bytes
    return import_job_finish(job=job)


def _safe_tell(tell: Callable[[], int] | None) -> Callable[[], int] | None:
    if tell is None:
        return None

    def position() -> int:
        try:
            return int(tell())
        except (OSError, ValueError):
            return 0

    return position


UPLOAD_SUFFIXES = (".json", ".jsonl", ".ndjson", ".txt", ".log", ".csv", ".tsv", ".xlsx", ".gz")


def import_upload(
    *,
    session: LiveSession,
    upload: Any,
    fmt: str | None,
    options: dict[str, Any],
    by: Any,
) -> ImportJob:
    """Keep an uploaded file under the data folder and import it (in the background).

    The stored name is ours (a random hex name), never the uploader's; the original name
    is only shown. The size was already checked from Content-Length before the upload was
    read (RequestSizeLimitMiddleware); content is checked by the import itself.
    """
    import os
    import uuid
    from pathlib import Path

    from django.conf import settings

    suffix = "".join(Path(upload.name).suffixes[-2:]).lower()
    if not suffix.endswith(UPLOAD_SUFFIXES):
        raise ValidationError(
            _(
                "Files of this type cannot be imported: %(name)s. Use JSON, NDJSON, text logs, "
                "CSV, XLSX or their .gz."
            )
            % {"name": upload.name}
        )
    folder = Path(settings.DATA_DIR) / "uploads" / str(session.workspace_id)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{uuid.uuid4().hex}{suffix}"
    with open(target, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    os.chmod(target, 0o600)
    job = import_job_create(
        session=session,
        filename=os.path.basename(upload.name),
        path=str(target),
        fmt=fmt or "",
        size=upload.size,
        by=by,
    )
    if settings.LIVEOPS_IMPORT_INLINE:
        return import_file(
            session=session,
            path=str(target),
            filename=job.filename,
            fmt=fmt,
            options=options,
            job=job,
        )
    threading.Thread(
        target=_import_in_background,
        args=(job.pk, fmt, options),
        name=f"import-{job.pk}",
        daemon=True,
    ).start()
    return job


def _import_in_background(job_id: int, fmt: str | None, options: dict[str, Any]) -> None:
    """Web uploads are imported by a thread of the web process; the page polls the job."""
    from django.db import close_old_connections, connection

    close_old_connections()
    try:
        job = ImportJob.objects.select_related("session__account", "session__workspace").get(
            pk=job_id
        )
        import_file(
            session=job.session,
            path=job.path,
            filename=job.filename,
            fmt=fmt,
            options=options,
            job=job,
        )
    except Exception:
        log.exception("import job %s failed", job_id)
    finally:
        connection.close()


def session_compact(*, session: LiveSession, vacuum: bool = True) -> None:
    """Merge the session's small event files (and vacuum unless told not to)."""
    event_store().compact(session.workspace_id, session.pk, vacuum=vacuum)


def viewer_erase(*, workspace_id: int, viewer_id: str) -> int:
    """Delete every event of ``viewer_id`` in the workspace (privacy); how many rows."""
    return event_store().erase_viewer(workspace_id, viewer_id)
