"""The process-wide event store, opened lazily in the process that uses it.

deltalake does not survive ``fork()``: nothing here touches it at import time, so a
pre-fork server may import the app, fork its workers, and each worker opens the store
on its first request.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings

from liveops.events.store import EventStore

log = logging.getLogger(__name__)
_lock = threading.Lock()
_store: EventStore | None = None


def event_store() -> EventStore:
    global _store
    with _lock:
        if _store is None:
            _store = EventStore(settings.DATA_DIR / "store")
        return _store


def reset_event_store() -> None:
    """Forget the store (tests point LIVEOPS data at a temporary folder)."""
    global _store
    with _lock:
        if _store is not None:
            _store.close()
        _store = None


# -- compaction while live -----------------------------------------------------------------
# Every append writes at least one small file per session; commit time and reads slow down
# as files pile up. After COMPACT_EVERY appends to a session, compact it in the background
# (one compaction at a time per process; appends go on meanwhile).
COMPACT_EVERY = 50
#: Live compaction merges only files below this size (see EventStore.compact).
LIVE_TARGET_SIZE = 4 * 1024 * 1024
_appends: dict[tuple[int, int], int] = {}
_compacting = threading.Lock()


def note_append(workspace_id: int, session_id: int) -> None:
    key = (workspace_id, session_id)
    with _lock:
        _appends[key] = _appends.get(key, 0) + 1
        due = _appends[key] >= COMPACT_EVERY
        if due:
            _appends[key] = 0
    if due and _compacting.acquire(blocking=False):
        threading.Thread(target=_compact, args=key, name="liveops-compact", daemon=True).start()


def _compact(workspace_id: int, session_id: int) -> None:
    try:
        event_store().compact(workspace_id, session_id, target_size=LIVE_TARGET_SIZE, vacuum=False)
        from liveops.events.services import tally_reconcile

        tally_reconcile(workspace_id=workspace_id, session_id=session_id)
    except Exception:
        log.exception("background compaction of session %s failed", session_id)
    finally:
        from django.db import connection

        connection.close()
        _compacting.release()
