"""The process-wide event store, opened lazily in the process that uses it.

deltalake does not survive ``fork()``: nothing here touches it at import time, so a
pre-fork server may import the app, fork its workers, and each worker opens the store
on its first request.
"""

from __future__ import annotations

import threading

from django.conf import settings

from liveops.events.store import EventStore

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
