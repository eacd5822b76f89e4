"""The background refresher of the web process: keeps materialised results current.

Every ``LIVEOPS_LIVE_REFRESH_SECONDS`` it recomputes the sessions whose data changed since
their result (live sessions receiving events, finished imports). A page asking for a
session whose result is stale also recomputes it on the spot (``services.session_materialize``
with its fingerprint check), so the refresher only makes results *early*, never correct.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections

log = logging.getLogger(__name__)
_started = threading.Event()


def _loop(stop: threading.Event) -> None:
    from liveops.analytics.services import sessions_refresh

    interval = float(settings.LIVEOPS_LIVE_REFRESH_SECONDS)
    while not stop.wait(interval):
        try:
            close_old_connections()
            sessions_refresh()
        except Exception:  # keep refreshing; the error is in the log
            log.exception("analytics refresher: a round failed")
        finally:
            close_old_connections()


def start_refresher() -> threading.Event | None:
    """Start the refresher thread once per process; returns its stop event."""
    if _started.is_set():
        return None
    _started.set()
    stop = threading.Event()
    threading.Thread(target=_loop, args=(stop,), name="analytics-refresher", daemon=True).start()
    return stop
