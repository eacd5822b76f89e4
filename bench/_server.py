"""A throwaway LiveOps server for benchmarks and the kill test (tests/test_ingest_kill.py).

    env = throwaway_env(tmp)            # LIVEOPS_DATA_DIR, SQLite DATABASE_URL, dev settings
    migrate(env)                        # manage.py migrate into tmp/db.sqlite3
    ids = provision(env)                # workspace, account, session, API key (JSON)
    with Server(env, port=free_port()) as server:   # `liveops serve`, waits for /healthz
        ...
        server.kill9(); server.start()  # crash and restart on the same port

Everything runs in subprocesses started with fork+exec (``subprocess``), so the calling
process may use deltalake before or after without tripping its fork check. All traffic stays
on 127.0.0.1. The server's stdout/stderr go to ``<data dir>/server-N.log``.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
LIVEOPS = VENV_BIN / "liveops"

_PROVISION = r"""
import json
import django
django.setup()
from django.db import transaction
from liveops.planning.services import session_create
from liveops.workspaces.services import account_create, api_key_create, workspace_create

with transaction.atomic():
    ws = workspace_create(name="Kill and bench", owner=None)
    account = account_create(workspace=ws, by=None, platform="douyin", name="Douyin main")
    session = session_create(workspace=ws, by=None, account=account, title="Throwaway live")
    _key, secret = api_key_create(workspace=ws, name="bench", by=None)
print(json.dumps({"workspace_id": ws.pk, "workspace_slug": ws.slug,
                  "account_id": account.pk, "session_id": session.pk, "api_key": secret}))
"""


def throwaway_env(tmp: Path, **extra: str) -> dict[str, str]:
    """Environment for subprocesses: data and SQLite database inside ``tmp``, dev settings."""
    tmp = Path(tmp)
    tmp.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    for name in ("PYTEST_CURRENT_TEST", "PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER"):
        env.pop(name, None)
    env.update(
        LIVEOPS_DATA_DIR=str(tmp),
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        DJANGO_SETTINGS_MODULE="config.settings.dev",
        PYTHONUNBUFFERED="1",
        PYTHONPATH=str(REPO),
        **extra,
    )
    return env


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        timeout=180,
    )


def provision(env: dict[str, str]) -> dict[str, Any]:
    """Create a workspace, a Douyin account, a session and an API key; return their ids."""
    done = subprocess.run(
        [sys.executable, "-c", _PROVISION],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(port: int, path: str, timeout: float = 2.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Server:
    """One ``liveops serve`` process (or ``python -m uvicorn``) on 127.0.0.1:port."""

    def __init__(
        self,
        env: dict[str, str],
        *,
        port: int | None = None,
        command: list[str] | None = None,
        log_dir: Path | None = None,
    ) -> None:
        self.env = env
        self.port = port or free_port()
        self.command = command or [str(LIVEOPS), "serve", "--host", "127.0.0.1"]
        self.log_dir = Path(log_dir or env["LIVEOPS_DATA_DIR"])
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.last_start_seconds = 0.0
        self._log: Any = None

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def start(self, timeout: float = 60.0) -> float:
        """Start the server and wait until /healthz answers 200; returns the seconds it took."""
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("the server is already running")
        self.starts += 1
        self._close_log()
        self._log = open(self.log_dir / f"server-{self.starts}.log", "wb")  # noqa: SIM115
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            [*self.command, "--port", str(self.port)],
            cwd=REPO,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = started + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"the server exited with {self.proc.returncode} while starting; "
                    f"see {self._log.name}:\n{self.log_tail()}"
                )
            try:
                status, _ = get(self.port, "/healthz", timeout=1.0)
                if status == 200:
                    break
            except OSError:
                pass
            if time.perf_counter() > deadline:
                raise TimeoutError(f"no /healthz within {timeout}s; see {self._log.name}")
            time.sleep(0.05)
        self.last_start_seconds = time.perf_counter() - started
        return self.last_start_seconds

    def kill9(self) -> None:
        """SIGKILL the server (no cleanup of any kind) and reap it."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        """Graceful stop (SIGTERM, then SIGKILL after 10 s)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        self._close_log()

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError, AttributeError):
            if self._log is not None:
                self._log.flush()
            text = (self.log_dir / f"server-{self.starts}.log").read_text(errors="replace")
            return "\n".join(text.splitlines()[-lines:])
        return ""

    def _close_log(self) -> None:
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._log.close()
            self._log = None

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def post_events(
    conn: http.client.HTTPConnection,
    session_id: int,
    api_key: str,
    body: bytes,
    *,
    ndjson_gzip: bool = False,
    errors_only: bool = True,
) -> tuple[int, bytes]:
    """POST one pre-serialised batch on an open connection; returns (status, body)."""
    headers = {"Authorization": f"Bearer {api_key}"}
    if ndjson_gzip:
        headers["Content-Type"] = "application/x-ndjson"
        headers["Content-Encoding"] = "gzip"
    else:
        headers["Content-Type"] = "application/json"
    path = f"/api/v1/sessions/{session_id}/events"
    if errors_only:
        path += "?results=errors"
    conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()
