"""The background refresher: keeps materialised results current, in its own process.

Every ``LIVEOPS_LIVE_REFRESH_SECONDS`` it recomputes the sessions whose data changed since
their result (live sessions receiving events, finished imports) and keeps their digests
current (``services.session_digest``). A page asking for a session whose result is stale
also recomputes it on the spot (``services.session_materialize`` with its fingerprint
check), so the refresher only makes results *early*, never correct.

Why a process of its own: a computation is seconds of CPU, much of it Python (expression
building, shaping, hot words). As a thread of the web process it held the interpreter lock
the ingest API needs to acknowledge batches: at 20 000 events/s for 120 s, p99 ack latency
was 475 ms with the refresher thread and 239 ms without it (bench/README.md). As a
separate process scheduled ``SCHED_IDLE`` (Linux; elsewhere ``nice`` 10) it only takes the
CPU time the web process leaves.

``liveops serve`` starts it with :func:`start_refresher` and stops it on exit; if the
server dies without stopping it (SIGKILL), it notices that its parent is gone and exits.
``liveops refresh`` runs the same loop on its own (for example on a worker host).
"""

from __future__ import annotations

import atexit
import logging
import os
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.db import close_old_connections

log = logging.getLogger(__name__)
_lock = threading.Lock()
_child: subprocess.Popen[bytes] | None = None

#: Scheduling priority of the refresher process where SCHED_IDLE is missing (not Linux).
NICENESS = 10


def _lower_priority() -> None:
    """Run the refresher only on CPU time the web process leaves idle: Linux SCHED_IDLE,
    else ``nice``."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        os.nice(NICENESS)


def refresh_forever(*, every: float | None = None, parent: int | None = None) -> None:
    """Refresh stale results every ``every`` seconds (default: the setting) — or, when a
    round takes longer, after twice its time, so refreshing uses at most a third of a core
    — until the process ``parent`` (if given) is gone."""
    from liveops.analytics.services import sessions_refresh

    interval = float(settings.LIVEOPS_LIVE_REFRESH_SECONDS if every is None else every)
    while parent is None or os.getppid() == parent:
        started = time.monotonic()
        try:
            close_old_connections()
            sessions_refresh()
        except Exception:  # keep refreshing; the error is in the log
            log.exception("analytics refresher: a round failed")
        finally:
            close_old_connections()
        took = time.monotonic() - started
        # at least the interval between starts, and twice the round's own time: a big live
        # gets fresh figures a little less often rather than taking a core from ingest
        time.sleep(max(0.2, interval - took, 2 * took))


def start_refresher() -> subprocess.Popen[bytes] | None:
    """Start the refresher process once per process (None when it runs already or the
    interval is 0: refreshing disabled); it is stopped when this process exits."""
    global _child
    if float(settings.LIVEOPS_LIVE_REFRESH_SECONDS) <= 0:
        return None
    with _lock:
        if _child is not None and _child.poll() is None:
            return None
        command = [sys.executable, "-m", "liveops.cli", "refresh", "--parent", str(os.getpid())]
        _child = subprocess.Popen(command, preexec_fn=_lower_priority)  # noqa: S603
        atexit.register(stop_refresher)
        return _child


def stop_refresher() -> None:
    """Stop the refresher process this process started, if any."""
    global _child
    with _lock:
        child, _child = _child, None
    if child is None or child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
