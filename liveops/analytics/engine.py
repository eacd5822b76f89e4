"""The analytics engines: DuckDB in-process (default) or Apache Spark — the only module that
knows which.

An :class:`Engine` turns Parquet files of the event store into an Ibis table with the
columns the metric definitions read (``metrics.EVENT_COLUMNS``), ``ts_ms`` (``ts`` as UTC
epoch milliseconds) computed with the engine's own function (DuckDB ``epoch_us(ts) // 1000``,
twice as fast as ``epoch_ms``; Spark ``unix_millis``). It registers small Arrow tables,
materialises intermediate results and executes expressions into Arrow tables.
``liveops.analytics.metrics`` defines the figures and ``liveops.analytics.runner`` runs
them; neither knows the engine.

The caller picks the engine by name (``LIVEOPS_ANALYTICS_ENGINE``, read in config/env.py) —
see docs/scaling.md for running on a Spark cluster.

DuckDB
    One in-memory connection per engine, time zone UTC, DuckDB's built-in Parquet reader
    only (``read_parquet(..., hive_partitioning = true)``): no extension is downloaded, so
    it works offline and behind firewalls. Local paths (``file://`` URIs are accepted).
Spark
    One SparkSession per process, created on first use and reused by every engine (startup
    takes seconds): ``spark.master`` from the argument, else ``local[2]``; session time
    zone UTC (Ibis also sets it: timestamps must not move with the driver's zone), no UI;
    in local mode few shuffle partitions (a session's tables are small). Further settings
    come from ``spark_conf`` or Spark's own ``spark-defaults.conf``. Paths are whatever
    Spark's Hadoop file systems read (``abfss://``, local; delta-rs' ``s3://`` is passed as
    ``s3a://``); the partition columns come from the hive-style directories
    (``basePath``). Results are collected as Arrow (``DataFrame.toArrow``), not pandas.

This module imports no Django: services, the CLI and benchmarks call it alike.
"""

from __future__ import annotations

import logging
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, Final

import ibis  # type: ignore[import-untyped]
import pyarrow as pa  # type: ignore[import-untyped]

from liveops.analytics.metrics import EVENT_COLUMNS

__all__ = ["ENGINES", "Engine", "open_engine", "stop_spark"]

Table = Any  # ibis.Table (Ibis ships no type information)

ENGINES: Final = ("duckdb", "spark")

_PARTITION: Final = re.compile(r"/[^/=]+=[^/]*/")
#: What the engines read from the files (``ts_ms`` is computed).
_FILE_COLUMNS: Final = tuple(name for name in EVENT_COLUMNS.names if name != "ts_ms")


class Engine(ABC):
    """An analytics engine: Ibis tables in, Arrow tables out.

    Not thread-safe: run one computation at a time per engine (a DuckDB query already uses
    every core; a Spark session is shared by the process).
    """

    name: str

    @property
    @abstractmethod
    def backend(self) -> Any:
        """The Ibis backend (for expressions that need it)."""

    @abstractmethod
    def events(self, files: Sequence[str]) -> Table:
        """The events in ``files`` (Parquet of the event store): ``EVENT_COLUMNS``.

        No files → an empty table with the same columns.
        """

    def table(self, data: pa.Table) -> Table:
        """A small Arrow table (minute stats, segments) as an Ibis table of this engine."""
        return ibis.memtable(data)

    def cache(self, table: Table) -> Table:
        """Materialise ``table`` once (a temp table / a cached DataFrame) and return it.

        Dropped by :meth:`release`. (Ibis' own ``Table.cache`` cannot drop its tables with
        the sqlglot this project pins.)
        """
        self._count += 1
        name = f"liveops_cache_{id(self):x}_{self._count}"
        cached = self._materialise(name, table)
        self._cached.append(name)
        return cached

    def execute(self, expr: Table) -> pa.Table:
        """Run ``expr`` and return its rows as an Arrow table."""
        return self.backend.to_pyarrow(expr)

    def release(self) -> None:
        """Drop the tables :meth:`cache` and the views :meth:`events` made since the last
        release (the end of one computation)."""
        while self._cached:
            self._drop_table(self._cached.pop())
        while self._views:
            self._drop_view(self._views.pop())

    @abstractmethod
    def _materialise(self, name: str, table: Table) -> Table: ...

    @abstractmethod
    def _drop_table(self, name: str) -> None: ...

    @abstractmethod
    def _drop_view(self, name: str) -> None: ...

    @abstractmethod
    def close(self) -> None:
        """Release the engine's resources."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __init__(self) -> None:
        self._cached: list[str] = []
        self._views: list[str] = []
        self._count = 0

    def _view_name(self) -> str:
        self._count += 1
        name = f"liveops_events_{id(self):x}_{self._count}"
        self._views.append(name)
        return name


# --------------------------------------------------------------------------------------------
# DuckDB
# --------------------------------------------------------------------------------------------


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class DuckDBEngine(Engine):
    """DuckDB in-process, through Ibis (see the module docstring)."""

    name = "duckdb"

    def __init__(self, *, threads: int | None = None, memory_limit: str | None = None) -> None:
        super().__init__()
        self._registered: set[str] = set()
        self._con = ibis.duckdb.connect()
        raw = self._con.con
        raw.execute("SET TimeZone = 'UTC'")
        if threads is not None:
            raw.execute(f"SET threads = {int(threads)}")
        if memory_limit is not None:
            raw.execute(f"SET memory_limit = {_sql_string(memory_limit)}")

    @property
    def backend(self) -> Any:
        return self._con

    def events(self, files: Sequence[str]) -> Table:
        name = self._view_name()
        columns = ", ".join(f'"{column}"' for column in _FILE_COLUMNS)
        if not files:
            empty = EVENT_COLUMNS.to_pyarrow().empty_table()
            self._con.con.register(name, empty)
            self._registered.add(name)
            return self._con.table(name)
        paths = ", ".join(_sql_string(_local_path(f)) for f in files)
        self._con.con.execute(
            f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {columns}, "  # noqa: S608 - quoted paths
            f"epoch_us(ts) // 1000 AS ts_ms FROM read_parquet([{paths}], "
            "hive_partitioning = true, union_by_name = true)"
        )
        return self._con.table(name)

    def table(self, data: pa.Table) -> Table:
        """An Arrow table registered with the connection (zero copy; dropped by release)."""
        name = self._view_name()
        self._con.con.register(name, data)
        self._registered.add(name)
        return self._con.table(name)

    def _materialise(self, name: str, table: Table) -> Table:
        sql = self._con.compile(table)
        raw = self._con.con
        raw.execute(f'CREATE TEMP TABLE "{name}" AS {sql}')
        # DuckDB sums integers into HUGEINT, which Ibis types as decimal(38, 0) when it reads
        # the table back; the expression's own type is int64 (sums of a session's counts fit)
        wide = raw.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = $name "
            "AND data_type = 'HUGEINT'",
            {"name": name},
        ).fetchall()
        for (column,) in wide:
            if table.schema()[column].is_integer():
                raw.execute(f'ALTER TABLE "{name}" ALTER "{column}" TYPE BIGINT')
        return self._con.table(name)

    def _drop_table(self, name: str) -> None:
        self._con.con.execute(f'DROP TABLE IF EXISTS "{name}"')

    def _drop_view(self, name: str) -> None:
        if name in self._registered:
            self._registered.discard(name)
            self._con.con.unregister(name)
        else:
            self._con.con.execute(f'DROP VIEW IF EXISTS "{name}"')

    def close(self) -> None:
        self.release()
        self._con.disconnect()


def _local_path(uri: str) -> str:
    return uri[len("file://") :] if uri.startswith("file://") else uri


# --------------------------------------------------------------------------------------------
# Spark
# --------------------------------------------------------------------------------------------

_spark_lock = threading.Lock()
_spark_session: Any = None
_spark_master: str | None = None


def _spark(master: str | None, conf: Mapping[str, str]) -> Any:
    """The process's SparkSession, created on first use with ``master`` and ``conf``."""
    global _spark_session, _spark_master
    with _spark_lock:
        if _spark_session is not None:
            if master is not None and master != _spark_master:
                raise RuntimeError(
                    f"a Spark session for {_spark_master} is already running in this process"
                )
            return _spark_session
        from pyspark.sql import SparkSession

        chosen = master or "local[2]"
        builder = (
            SparkSession.builder.master(chosen)
            .appName("liveops-analytics")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
        )
        if chosen.startswith("local"):
            builder = builder.config("spark.sql.shuffle.partitions", "4").config(
                "spark.default.parallelism", "2"
            )
        for key, value in conf.items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        logging.getLogger("py4j").setLevel(logging.WARNING)
        _spark_session, _spark_master = session, chosen
        return session


def stop_spark() -> None:
    """Stop the process's SparkSession (tests, shutdown); the next Spark engine starts anew."""
    global _spark_session, _spark_master
    with _spark_lock:
        if _spark_session is not None:
            _spark_session.stop()
        _spark_session, _spark_master = None, None


def _spark_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_decimal(arrow_type):
        return f"DECIMAL({arrow_type.precision},{arrow_type.scale})"
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMP"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "STRING"
    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    if pa.types.is_integer(arrow_type):
        return "BIGINT" if arrow_type.bit_width == 64 else "INT"
    if pa.types.is_floating(arrow_type):
        return "DOUBLE"
    raise ValueError(f"no Spark type for {arrow_type}")


def _spark_schema() -> str:
    return ", ".join(f"`{f.name}` {_spark_type(f.type)}" for f in EVENT_COLUMNS.to_pyarrow())


def _hadoop_uri(uri: str) -> str:
    """delta-rs lists S3 files as ``s3://…``; Hadoop's S3 connector is ``s3a://``."""
    return "s3a://" + uri[len("s3://") :] if uri.startswith("s3://") else uri


def _base_path(files: Sequence[str]) -> str | None:
    """The table root above the hive partition directories (``…/workspace_id=1/…``)."""
    match = _PARTITION.search(files[0])
    return files[0][: match.start() + 1] if match else None


class SparkEngine(Engine):
    """Apache Spark through Ibis; the session is shared by the process (module docstring)."""

    name = "spark"

    def __init__(self, *, master: str | None = None, conf: Mapping[str, str] | None = None):
        super().__init__()
        self._master = master
        self._conf = dict(conf or {})
        self._con: Any = None
        self._frames: dict[str, Any] = {}

    @property
    def backend(self) -> Any:
        if self._con is None:
            session = _spark(self._master, self._conf)
            self._con = ibis.pyspark.connect(session)
        return self._con

    @property
    def session(self) -> Any:
        return self.backend._session

    def events(self, files: Sequence[str]) -> Table:
        from pyspark.sql import functions as F

        session = self.session
        if not files:
            frame = session.createDataFrame([], _spark_schema())
        else:
            paths = [_hadoop_uri(f) for f in files]
            reader = session.read
            base = _base_path(paths)
            if base is not None:
                reader = reader.option("basePath", base)
            frame = reader.parquet(*paths)
            frame = frame.select(*_FILE_COLUMNS).withColumn("ts_ms", F.unix_millis(F.col("ts")))
        name = self._view_name()
        frame.createOrReplaceTempView(name)
        return self.backend.table(name)

    def table(self, data: pa.Table) -> Table:
        """Arrow → a Spark DataFrame with an explicit schema (Ibis' memtables go through
        pandas and fail on null decimals)."""
        schema = ", ".join(f"`{f.name}` {_spark_type(f.type)}" for f in data.schema)
        rows = [tuple(row.values()) for row in data.to_pylist()]
        frame = self.session.createDataFrame(rows, schema)
        name = self._view_name()
        frame.createOrReplaceTempView(name)
        return self.backend.table(name)

    def execute(self, expr: Table) -> pa.Table:
        """Run ``expr`` and collect it as Arrow directly (no pandas round trip)."""
        return self.session.sql(self.backend.compile(expr)).toArrow()

    def _materialise(self, name: str, table: Table) -> Table:
        frame = self.session.sql(self.backend.compile(table)).cache()
        frame.createOrReplaceTempView(name)
        self._frames[name] = frame
        return self.backend.table(name)

    def _drop_table(self, name: str) -> None:
        self.session.catalog.dropTempView(name)
        self._frames.pop(name).unpersist()

    def _drop_view(self, name: str) -> None:
        self.session.catalog.dropTempView(name)

    def close(self) -> None:
        """Release cached tables; the shared session keeps running (:func:`stop_spark`)."""
        self.release()


def open_engine(
    name: str = "duckdb",
    *,
    spark_master: str | None = None,
    spark_conf: Mapping[str, str] | None = None,
    threads: int | None = None,
) -> Engine:
    """An engine by name: ``"duckdb"`` (default) or ``"spark"``.

    ``spark_master`` / ``spark_conf`` configure the process's Spark session the first time
    one is created (e.g. ``spark://host:7077`` and the object-storage credentials provider:
    docs/scaling.md); ``threads`` caps DuckDB's worker threads.
    """
    key = (name or "duckdb").strip().lower()
    if key == "duckdb":
        return DuckDBEngine(threads=threads)
    if key == "spark":
        return SparkEngine(master=spark_master, conf=spark_conf)
    raise ValueError(f"unknown analytics engine {name!r}: use one of {', '.join(ENGINES)}")
