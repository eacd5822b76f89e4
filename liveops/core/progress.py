"""A one-line progress display for long CLI work, only when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """``Progress(total, label)``; call ``update(done, note)``; ``close()`` at the end.

    On a terminal it redraws one line (percentage, rate, note) at most 10 times a second;
    otherwise (logs, CI) it prints nothing, so machine-readable stdout stays clean.
    """

    def __init__(self, total: int | None, label: str, stream: TextIO | None = None) -> None:
        self.total = total or None
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.started = time.monotonic()
        self._last = 0.0

    def update(self, done: int, note: str = "") -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.1:
            return
        self._last = now
        elapsed = max(now - self.started, 1e-6)
        if self.total:
            share = min(done / self.total, 1.0)
            bar = "█" * int(share * 24) + "░" * (24 - int(share * 24))
            head = f"{self.label} {bar} {share:6.1%}"
        else:
            head = f"{self.label} {done:,}"
        self.stream.write(f"\r{head}  {note}  {elapsed:5.0f}s ")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
