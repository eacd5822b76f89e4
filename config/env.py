"""The one place that reads the process environment.

Every setting that differs between machines comes from here; settings modules import
these values and never call ``os.environ`` themselves.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


DATA_DIR = Path(os.environ.get("LIVEOPS_DATA_DIR") or BASE_DIR / "var").resolve()
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'liveops.sqlite3'}"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
ALLOWED_HOSTS = _list("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = _list("CSRF_TRUSTED_ORIGINS")
DEBUG = _bool("LIVEOPS_DEBUG", False)
SSL_REDIRECT = _bool("LIVEOPS_SSL_REDIRECT", True)
BEHIND_TLS_PROXY = _bool("LIVEOPS_BEHIND_TLS_PROXY", False)
HSTS_SECONDS = _int("LIVEOPS_HSTS_SECONDS", 31_536_000)
HSTS_PRELOAD = _bool("LIVEOPS_HSTS_PRELOAD", True)
LOG_LEVEL = os.environ.get("LIVEOPS_LOG_LEVEL", "INFO")
IMPORT_MAX_BYTES = _int("LIVEOPS_IMPORT_MAX_BYTES", 2 * 1024**3)
#: "duckdb" (in-process, default) or "spark" (see docs/scaling.md).
ANALYTICS_ENGINE = os.environ.get("LIVEOPS_ANALYTICS_ENGINE", "duckdb").strip().lower() or "duckdb"
#: Spark master URL when the engine is spark (local[2] when unset).
SPARK_MASTER = os.environ.get("LIVEOPS_SPARK_MASTER", "").strip() or None
#: Seconds between rounds of the analytics refresher (0: no refresher).
LIVE_REFRESH_SECONDS = float(os.environ.get("LIVEOPS_LIVE_REFRESH_SECONDS") or 5)
#: DuckDB worker threads of a computation (0: one per core).
ANALYTICS_THREADS = _int("LIVEOPS_ANALYTICS_THREADS", 0)
