"""The same metric definitions give the same figures on DuckDB and on Spark (local mode).

A seeded random session — re-entries, silent leaves, enters before the start and leaves
after the end, reconnects in the same millisecond, viewers without an enter, snapshots,
orders and refunds, gifts in platform units and in the currency, promotion sources — is
computed on both engines: counts and money must be equal, averages equal to 1e-9
relative. One Spark session for the module (its start-up takes seconds); the whole module
stays well under a minute. (The events app's generator is private to that app: app
boundaries.)
"""

from __future__ import annotations

import dataclasses
import math
import random
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
from liveops.analytics.tests.test_metrics import FILE_SCHEMA

START = datetime(2025, 3, 29, 23, 50, tzinfo=UTC)  # crosses midnight
DURATION_S = 1500
SOURCES = ("recommendation", "followers", "search", "link:wechat", "passphrase:福利", None)
PRODUCTS = (("p1", "129.00"), ("p2", "59.90"), ("p3", "9.90"))
INTERACTIONS = (
    ("like", 50),
    ("comment", 20),
    ("product_click", 8),
    ("gift", 4),
    ("follow", 2),
    ("share", 2),
    ("order", 2),
)


def _session(seed: int, start: datetime, viewers: int) -> list[dict[str, Any]]:
    """Events of a seeded random session; 30 % of the viewers come from a shared fan pool."""
    rnd = random.Random(seed)
    t0 = int(start.timestamp() * 1000)
    end = t0 + DURATION_S * 1000
    rows: list[dict[str, Any]] = []

    def add(kind: str, ts: int, viewer: str | None = None, **fields: Any) -> None:
        rows.append({"kind": kind, "ts_ms": ts, "viewer_id": viewer, **fields})

    kinds, weights = zip(*INTERACTIONS, strict=True)
    for i in range(viewers):
        viewer = f"fan{rnd.randrange(200)}" if rnd.random() < 0.3 else f"s{seed}v{i}"
        at = t0 + int(rnd.uniform(-60, DURATION_S) * 1000)
        for _visit in range(1 + (rnd.random() < 0.25) + (rnd.random() < 0.05)):
            if rnd.random() > 0.03:  # a few viewers' enters are never sent
                add("enter", at, viewer, source=rnd.choice(SOURCES))
            if rnd.random() < 0.05:
                add("enter", at + rnd.randrange(3) * 1000, viewer)  # a repeated enter
            stay = int(rnd.lognormvariate(4, 1.3) * 1000) + 1
            for _ in range(min(int(rnd.expovariate(1 / 4)), 40)):
                kind = rnd.choices(kinds, weights)[0]
                ts = at + rnd.randrange(stay)
                if kind in ("like", "gift"):
                    add(
                        kind,
                        ts,
                        viewer,
                        quantity=rnd.choice((1, 1, 2, 10)),
                        amount=(str(rnd.choice((1, 5, 99))) if kind == "gift" else None),
                        currency="CNY" if kind == "gift" and rnd.random() < 0.1 else None,
                    )
                elif kind in ("product_click", "order"):
                    product, price = rnd.choice(PRODUCTS)
                    add(
                        kind,
                        ts,
                        viewer,
                        product_id=product,
                        quantity=1,
                        amount=(price if kind == "order" else None),
                        currency=rnd.choice(("CNY", None)) if kind == "order" else None,
                    )
                    if kind == "order" and rnd.random() < 0.2:
                        add("refund", ts + 5000, viewer, product_id=product, amount=price)
                else:
                    add(kind, ts, viewer)
            if rnd.random() < 0.75:  # some leaves are never sent
                add("leave", at + stay, viewer)
                if rnd.random() < 0.1:
                    add("enter", at + stay, viewer)  # a reconnect in the same millisecond
                    stay += int(rnd.uniform(5, 90) * 1000)
                    add("leave", at + stay, viewer)
            at += stay + int(rnd.uniform(5, 400) * 1000)
    for ts in range(t0, end + 1, 10_000):
        add("online_count", ts, quantity=rnd.randrange(10, 300))
    rows.sort(key=lambda r: r["ts_ms"])
    return rows


def _write(root: Path, session: int, rows: list[dict[str, Any]]) -> list[str]:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    columns: dict[str, list[Any]] = {f.name: [] for f in FILE_SCHEMA}
    for n, row in enumerate(rows):
        ts = epoch + timedelta(milliseconds=row["ts_ms"])
        for name, values in columns.items():
            if name in ("ts", "ingested_at"):
                values.append(ts)
            elif name == "event_id":
                values.append(f"{session}-{n}")
            elif name == "raw":
                values.append("{}")
            elif name == "platform":
                values.append("douyin")
            elif name == "viewer_name":
                values.append(None if row["viewer_id"] is None else f"name {row['viewer_id']}")
            elif name == "amount":
                values.append(None if row.get("amount") is None else Decimal(row["amount"]))
            else:
                values.append(row.get(name))
    folder = root / "events" / "workspace_id=1" / f"session_id={session}"
    folder.mkdir(parents=True)
    table = pa.table(columns, schema=FILE_SCHEMA)
    half = table.num_rows // 2  # two files, as after an append and before compaction
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
        "prior": _write(root, 1, _session(11, START - timedelta(days=7), 150)),
        "session": _write(root, 2, _session(12, START, 600)),
        "next": _write(root, 3, _session(13, START + timedelta(days=7), 150)),
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
    assert all(seg.retention is not None for seg in on_duckdb.segments)
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
