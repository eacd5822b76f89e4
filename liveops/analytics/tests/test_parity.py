"""The same metric definitions give the same figures on DuckDB and on Spark (local mode).

A generated session (``liveops.events.generator``: re-entries, silent leaves, snapshots,
orders, refunds, gifts, promotion sources) is computed on both engines: counts and money
must be equal, averages equal to 1e-9 relative. One Spark session for the module (its
start-up takes seconds); the whole module stays well under a minute.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from liveops.analytics.engine import Engine, open_engine, stop_spark
from liveops.analytics.results import SessionMetrics
from liveops.analytics.runner import compute_session
from liveops.events.generator import generate
from liveops.events.schema import ARROW_SCHEMA

START = datetime(2025, 3, 29, 23, 50, tzinfo=UTC)  # crosses midnight
DURATION_S = 1500
_FILE_SCHEMA = pa.schema([f for f in ARROW_SCHEMA if f.name not in ("workspace_id", "session_id")])


def _generated(root: Path, session: int, seed: int, start: datetime, n: int) -> list[str]:
    rows = list(
        generate(
            n_events=n,
            duration_s=DURATION_S,
            viewers=n // 10,
            start=start,
            seed=seed,
            segments=[(120, 420), (420, 700), (700, 1000, "lucky_draw")],
        )
    )
    columns: dict[str, list[Any]] = {f.name: [] for f in _FILE_SCHEMA}
    for row in rows:
        ts = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=row["ts"])
        for name, values in columns.items():
            if name in ("ts", "ingested_at"):
                values.append(ts)
            elif name == "raw":
                values.append("{}")
            elif name == "amount":
                values.append(None if row.get("amount") is None else Decimal(str(row["amount"])))
            else:
                values.append(row.get(name))
    folder = root / "events" / "workspace_id=1" / f"session_id={session}"
    folder.mkdir(parents=True)
    half = len(rows) // 2  # two files, as after an append and before compaction
    table = pa.table(columns, schema=_FILE_SCHEMA)
    paths = [folder / "part-0.parquet", folder / "part-1.parquet"]
    pq.write_table(table.slice(0, half), paths[0])
    pq.write_table(table.slice(half), paths[1])
    return [str(p) for p in paths]


@pytest.fixture(scope="module")
def spark() -> Iterator[Engine]:
    engine = open_engine("spark")
    yield engine
    engine.close()
    stop_spark()


@pytest.fixture(scope="module")
def duckdb() -> Iterator[Engine]:
    with open_engine("duckdb") as engine:
        yield engine


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    root = tmp_path_factory.mktemp("parity")
    return {
        "prior": _generated(root, 1, 11, START - timedelta(days=7), 1500),
        "session": _generated(root, 2, 12, START, 6000),
        "next": _generated(root, 3, 13, START + timedelta(days=7), 1500),
    }


def _compute(engine: Engine, files: dict[str, list[str]]) -> SessionMetrics:
    at = START.__add__
    stats = pa.table(
        {
            "minute": [START + timedelta(minutes=i) for i in range(3)],
            "impressions": [900, None, 700],
        }
    )
    return compute_session(
        engine,
        events_files=files["session"],
        start=START,
        end=at(timedelta(seconds=DURATION_S)),
        currency="CNY",
        gift_rates={"douyin": Decimal("0.1")},
        segments=[
            ("warm", "Warm-up", at(timedelta(0)), at(timedelta(minutes=2)), None, None),
            ("p1", "Product 1", at(timedelta(minutes=2)), at(timedelta(minutes=7)), None, None),
            (
                "draw",
                "Lucky draw",
                None,
                None,
                at(timedelta(seconds=690)),
                at(timedelta(seconds=1010)),
            ),
        ],
        minute_stats=stats,
        prior_viewer_files=files["prior"],
        next_session_files=files["next"],
    )


def _assert_same(a: Any, b: Any, where: str) -> None:
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), where
        for field in dataclasses.fields(a):
            _assert_same(getattr(a, field.name), getattr(b, field.name), f"{where}.{field.name}")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            _assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), f"{where}: {a} != {b}"
    else:  # ints, Decimals, strings, datetimes, None: exactly
        assert type(a) is type(b) and a == b, f"{where}: {a!r} != {b!r}"


def test_duckdb_and_spark_agree(duckdb: Engine, spark: Engine, files: dict[str, list[str]]) -> None:
    on_duckdb = _compute(duckdb, files)
    on_spark = _compute(spark, files)
    assert (on_duckdb.engine, on_spark.engine) == ("duckdb", "spark")
    _assert_same(
        dataclasses.replace(on_duckdb, engine="-"),
        dataclasses.replace(on_spark, engine="-"),
        "metrics",
    )
    # the session is not trivial: every section has figures to compare
    s = on_duckdb.summary
    assert s["uv"] > 300 and s["pv"] > s["uv"] and s["orders"] > 0
    assert s["returning_viewers"] and s["return_rate_next"] and s["gift_revenue"]
    assert on_duckdb.grains["pcu"] == "snapshots" and on_duckdb.retention
    # nobody is watching at the live's first instant; later segments have a retention
    assert [seg.retention is None for seg in on_duckdb.segments] == [True, False, False]
    assert on_duckdb.products and on_duckdb.channels and on_duckdb.top_viewers["spend"]


def test_empty_session_agrees(duckdb: Engine, spark: Engine) -> None:
    def empty(engine: Engine) -> SessionMetrics:
        return compute_session(
            engine, events_files=[], start=START, end=START + timedelta(minutes=3), currency="CNY"
        )

    _assert_same(
        dataclasses.replace(empty(duckdb), engine="-"),
        dataclasses.replace(empty(spark), engine="-"),
        "empty",
    )
