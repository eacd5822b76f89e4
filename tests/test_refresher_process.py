"""`liveops serve` runs the analytics refresher in a process of its own, at idle priority,
and the refresher does not outlive the server, even one killed with SIGKILL."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from bench._server import Server, migrate, throwaway_env

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux /proc")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _policy(pid: int) -> int:
    return os.sched_getscheduler(pid)


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_the_refresher_runs_apart_at_idle_priority_and_dies_with_the_server(
    tmp_path: Path,
) -> None:
    env = throwaway_env(tmp_path)
    migrate(env)
    with Server(env) as server:
        assert server.proc is not None
        deadline = time.monotonic() + 30
        refreshers: list[int] = []
        while time.monotonic() < deadline and not refreshers:
            refreshers = [
                pid for pid in _children(server.proc.pid) if "liveops.cli refresh" in _cmdline(pid)
            ]
            time.sleep(0.2)
        assert len(refreshers) == 1, "serve starts one refresher process"
        refresher = refreshers[0]
        assert _policy(refresher) == os.SCHED_IDLE
        server.kill9()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _alive(refresher):
            time.sleep(0.2)
        assert not _alive(refresher), "the refresher outlived a killed server"
