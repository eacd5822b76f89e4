"""The session digest: what the metric definitions need of a session's events, kept small,
window-independent and mergeable, so that a review reads it instead of the raw events.

A 4-hour live can carry ten million events; grouping them by viewer and by second, and
pairing enters with leaves, takes seconds however the SQL is written (bench/README.md,
"Review computation"). Almost all of that work does not depend on the live's start and
end, so it is done once, as the events arrive, and kept per session:

=========== ====================================================================== ==========
table       rows                                                                    merge
=========== ====================================================================== ==========
viewers     one per viewer id: last event, events per kind, first enter (time and  group by
            source), last leave, latest display name                               viewer
seconds     one per UTC second: first/last event, events, entries, exits, comments, Σ per
            likes (Σ count), shares, follows, gifts (Σ count), clicks, orders       second
sources     entries per (second, traffic source)                                    Σ
commerce    the order, refund, gift and product-click events themselves             union
snapshots   the online-count snapshots themselves (``ts_ms``, ``online``)           union
visits      enter/leave events of viewers with two or more enters or leaves         see below
pairs       watch intervals of those viewers: each enter with its next leave        see below
            (METRICS.md *watch intervals*), nested ones merged (``enter_ms`` =
            earliest enter, ``leave_ms`` null = no leave after it)
questions   the comments that ask something (``metrics.is_question``): time, viewer union
host        the comments of the host account itself (``host_id``, the platform     union
            account's id): its replies in chat, for ``answered_60s_rate``
=========== ====================================================================== ==========

Viewers with at most one enter and one leave keep no visit rows: their row says when they
entered and left. Merging a digest with the digest of newer events re-pairs only the
viewers the newer events touch (their old visits, or the visits their row implies, plus the
new ones), so keeping a live's digest current costs work proportional to what arrived.

Window-dependent figures are derived when a review is computed (``analytics.metrics``): a
count inside the live ``[start, end]`` is the digest's count minus the count of the raw
events outside the window — which, for a session whose events all fall inside it, is no
raw read at all (the seconds table says so); open watch intervals close at ``min(last
event + 60 s, end)`` and are clipped to the window then.

Ties (documented decisions): the first enter's source is the source of the earliest enter;
of several enters in that millisecond, the greatest source (so a source wins over none,
stored as ""). The display name is the name on the latest event that has one; of several
names in one millisecond, either may be taken.

The digest is a set of Arrow tables plus the event-store version it covers; :func:`save`
and :func:`load` keep it as uncompressed Arrow IPC files in a folder (written to a new
folder and swapped in, so readers never see half a digest), memory-mapped when read: a
review starts computing at once instead of decoding files (Parquet took 0.12–0.35 s for a
10 M-event session's digest). This module imports no Django.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import ibis  # type: ignore[import-untyped]
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from liveops.analytics import metrics as m
from liveops.analytics.engine import Engine

__all__ = [
    "FORMAT",
    "SECOND_COUNTS",
    "TABLES",
    "VIEWER_COUNTS",
    "Digest",
    "advance",
    "build",
    "load",
    "outside",
    "save",
]

Table = Any
#: Version of the stored layout; a digest of another format is rebuilt.
FORMAT: Final = 2
TABLES: Final = (
    "viewers",
    "seconds",
    "sources",
    "commerce",
    "snapshots",
    "visits",
    "pairs",
    "questions",
    "host",
)
#: Per-viewer event counts: column → kind (one list: ``analytics.metrics``).
VIEWER_COUNTS: Final = m.VIEWER_COUNTS
#: Per-second sums (as ``metrics.activity_per_second``): column → (kind, Σ count?).
SECOND_COUNTS: Final[dict[str, tuple[str, bool]]] = {
    "entries": ("enter", False),
    "exits": ("leave", False),
    "comments": ("comment", False),
    "likes": ("like", True),
    "shares": ("share", False),
    "follows": ("follow", False),
    "gifts": ("gift", True),
    "clicks": ("product_click", False),
    "orders": ("order", False),
}
_NULL_MS: Final = ibis.null("int64")
#: Rows per record batch in a saved digest (the engines scan batches in parallel).
_CHUNK_ROWS: Final = 128 * 1024


@dataclass(slots=True)
class Digest:
    """A session's digest: Arrow tables (:data:`TABLES`) covering the events of the event
    store up to ``version`` (-1: built from files, no store version)."""

    version: int
    tables: dict[str, pa.Table] = field(default_factory=dict)
    #: The host account's viewer id whose comments the ``host`` table holds (None: unknown,
    #: so answers cannot be told apart).
    host_id: str | None = None
    #: A combined digest (:func:`combine`): its members' viewer-id prefixes, digests and
    #: event files, for reading the events outside a window.
    members: tuple[tuple[str, Digest, tuple[str, ...]], ...] = ()

    @property
    def events(self) -> int:
        """Number of events the digest covers."""
        seconds = self.tables["seconds"]
        return int(pa.compute.sum(seconds["events"]).as_py() or 0) if seconds.num_rows else 0

    def span_ms(self) -> tuple[int | None, int | None]:
        """First and last event time (UTC ms), None without events."""
        seconds = self.tables["seconds"]
        if seconds.num_rows == 0:
            return None, None
        first = pa.compute.min(seconds["first_ms"]).as_py()
        last = pa.compute.max(seconds["last_ms"]).as_py()
        return int(first), int(last)


# --------------------------------------------------------------------------------------------
# Digest of raw events
# --------------------------------------------------------------------------------------------


def _count(condition: Any) -> Any:
    return _sum(ibis.ifelse(condition, 1, 0))


def _sum(value: Any) -> Any:
    """Σ as int64 (DuckDB sums integers into 128 bits, which Ibis sees as a decimal)."""
    return value.sum().cast("int64")


def _viewer_counts_raw(events: Table) -> Table:
    """Events per viewer and kind only (what the events outside a window subtract)."""
    t = events.filter(events.viewer_id.notnull())
    aggs: dict[str, Any] = {"n_events": t.count().cast("int64")}
    for column, name in VIEWER_COUNTS.items():
        aggs[column] = _count(t.kind == name)
    return t.group_by("viewer_id").aggregate(**aggs)


def _viewers_raw(events: Table) -> Table:
    t = events.filter(events.viewer_id.notnull())
    kind = t.kind
    aggs: dict[str, Any] = {"last_ms": t.ts_ms.max(), "n_events": t.count().cast("int64")}
    for column, name in VIEWER_COUNTS.items():
        aggs[column] = _count(kind == name)
    aggs["first_enter_ms"] = ibis.ifelse(kind == "enter", t.ts_ms, _NULL_MS).min()
    aggs["last_leave_ms"] = ibis.ifelse(kind == "leave", t.ts_ms, _NULL_MS).max()
    aggs["name_ms"] = ibis.ifelse(t.viewer_name.notnull(), t.ts_ms, _NULL_MS).max()
    core = t.group_by("viewer_id").aggregate(**aggs)
    enters = t.filter(kind == "enter").select(
        "viewer_id", "ts_ms", first_enter_source=ibis.coalesce(t.source, "")
    )
    named = t.filter(t.viewer_name.notnull()).select("viewer_id", "ts_ms", "viewer_name")
    return _with_firsts(core, enters, "ts_ms", named, "ts_ms")


def _with_firsts(core: Table, enters: Table, enter_key: str, named: Table, name_key: str) -> Table:
    """``core`` plus the source of each viewer's earliest enter (of several in that
    millisecond, the greatest: a source wins over none) and the name on the latest named
    event (rows with a key and a value only: the engines differ on nulls in arg_max)."""
    first = enters.group_by("viewer_id").aggregate(at=enters[enter_key].min())
    earliest = enters.inner_join(
        first, [enters.viewer_id == first.viewer_id, enters[enter_key] == first.at]
    )
    sources = earliest.group_by("viewer_id").aggregate(
        first_enter_source=earliest.first_enter_source.max()
    )
    names = named.group_by("viewer_id").aggregate(
        viewer_name=named.viewer_name.argmax(named[name_key])
    )
    out = core.left_join(sources, "viewer_id").left_join(names, "viewer_id")
    return out.select(*core.columns, "first_enter_source", "viewer_name")


def _seconds_raw(events: Table) -> Table:
    kind = events.kind
    count = ibis.coalesce(events.quantity, ibis.literal(1, type="int64"))
    aggs: dict[str, Any] = {
        "first_ms": events.ts_ms.min(),
        "last_ms": events.ts_ms.max(),
        "events": events.count().cast("int64"),
    }
    for column, (name, summed) in SECOND_COUNTS.items():
        aggs[column] = ibis.ifelse(kind == name, count, 0).sum() if summed else _count(kind == name)
    return events.group_by(second=events.ts_ms // m.SECOND_MS).aggregate(**aggs)


def _sources_raw(events: Table) -> Table:
    t = events.filter(events.kind == "enter")
    return t.group_by([(t.ts_ms // m.SECOND_MS).name("second"), "source"]).aggregate(
        entries=t.count().cast("int64")
    )


def _commerce_raw(events: Table) -> Table:
    t = events.filter(events.kind.isin(list(m.COMMERCE_KINDS)))
    return t.select(
        "viewer_id", "ts_ms", "kind", "quantity", "amount", "currency", "product_id", "platform"
    )


def _snapshots_raw(events: Table) -> Table:
    t = events.filter((events.kind == "online_count") & events.quantity.notnull())
    return t.select("ts_ms", online=t.quantity)


def _visits_raw(events: Table) -> Table:
    t = events.filter(events.kind.isin(["enter", "leave"]) & events.viewer_id.notnull())
    return t.select(
        "viewer_id", "ts_ms", is_leave=ibis.ifelse(t.kind == "leave", 1, 0).cast("int64")
    )


# --------------------------------------------------------------------------------------------
# Merging
# --------------------------------------------------------------------------------------------


def _merge_viewers(union: Table) -> Table:
    """Viewer rows of two digests (or of one digest's pieces) combined per viewer."""
    u = union
    aggs: dict[str, Any] = {"last_ms": u.last_ms.max(), "n_events": _sum(u.n_events)}
    for column in VIEWER_COUNTS:
        aggs[column] = _sum(u[column])
    aggs["first_enter_ms"] = u.first_enter_ms.min()
    aggs["last_leave_ms"] = u.last_leave_ms.max()
    aggs["name_ms"] = u.name_ms.max()
    core = u.group_by("viewer_id").aggregate(**aggs)
    enters = u.filter(u.first_enter_ms.notnull() & u.first_enter_source.notnull())
    named = u.filter(u.name_ms.notnull() & u.viewer_name.notnull())
    return _with_firsts(core, enters, "first_enter_ms", named, "name_ms")


def _sum_by(old: pa.Table, new: pa.Table, keys: list[str]) -> pa.Table:
    """Rows of two digests' additive tables (seconds, sources) combined per key: Σ, except
    ``first_ms`` (min) and ``last_ms`` (max). Small tables: Arrow, in this process."""
    both = pa.concat_tables([old, new.select(old.column_names).cast(old.schema)])
    how = {
        c: "min" if c == "first_ms" else "max" if c == "last_ms" else "sum"
        for c in old.column_names
        if c not in keys
    }
    merged = both.group_by(keys, use_threads=False).aggregate(list(how.items()))
    columns = [c if c in keys else f"{c}_{how[c]}" for c in old.column_names]
    return merged.select(columns).rename_columns(old.column_names).cast(old.schema)


def _keeps_visits(viewers: Table) -> Any:
    """Viewers whose visits are stored: two or more enters or leaves (else the row holds
    them)."""
    return (viewers.n_enter >= 2) | (viewers.n_leave >= 2)


def _has_pairs(viewers: Table) -> Any:
    """Viewers whose watch intervals are stored: an enter, and not exactly one enter with at
    most one leave (``metrics`` takes that one interval from the row)."""
    return (viewers.n_enter >= 2) | ((viewers.n_enter == 1) & (viewers.n_leave >= 2))


def _implied_visits(viewers: Table) -> Table:
    """The enter/leave events a viewer row with at most one of each stands for."""
    few = viewers.filter((viewers.n_enter <= 1) & (viewers.n_leave <= 1))
    enters = few.filter(few.n_enter == 1).select(
        "viewer_id", ts_ms="first_enter_ms", is_leave=ibis.literal(0, type="int64")
    )
    leaves = few.filter(few.n_leave == 1).select(
        "viewer_id", ts_ms="last_leave_ms", is_leave=ibis.literal(1, type="int64")
    )
    return enters.union(leaves, distinct=False)


def _pair(visits: Table) -> Table:
    """Each enter with the viewer's next leave strictly after it (METRICS.md *watch
    intervals*), nested intervals merged: (``viewer_id``, ``enter_ms``, ``leave_ms``).

    A reverse running minimum of leave times per viewer; on equal times enters come first,
    so a leave at the enter's own millisecond is not its leave (a reconnect). Enters with
    the same next leave are nested: only the earliest is kept; enters with no later leave
    (``leave_ms`` null) likewise.
    """
    order = ibis.cumulative_window(
        group_by=visits.viewer_id,
        order_by=[ibis.desc(visits.ts_ms), visits.is_leave],
    )
    next_leave = ibis.ifelse(visits.is_leave == 1, visits.ts_ms, _NULL_MS).min().over(order)
    paired = visits.mutate(leave_ms=next_leave).filter(lambda t: t.is_leave == 0)
    return paired.group_by(["viewer_id", "leave_ms"]).aggregate(enter_ms=paired.ts_ms.min())


def _questions_raw(events: Table) -> Table:
    t = events.filter((events.kind == "comment") & events.text.notnull())
    t = t.filter(m.is_question(t.text))
    return t.select("ts_ms", "viewer_id")


def _host_raw(events: Table, host_id: str | None) -> Table:
    if not host_id:
        return events.filter(ibis.literal(False)).select("ts_ms")
    t = events.filter((events.kind == "comment") & (events.viewer_id == host_id))
    return t.select("ts_ms")


def _raw_parts(engine: Engine, files: Sequence[str], host_id: str | None) -> dict[str, Table]:
    events = engine.events(list(files))
    return {
        "questions": _questions_raw(events),
        "host": _host_raw(events, host_id),
        "viewers": _viewers_raw(events),
        "seconds": _seconds_raw(events),
        "sources": _sources_raw(events),
        "commerce": _commerce_raw(events),
        "snapshots": _snapshots_raw(events),
        "visits": _visits_raw(events),
    }


def _execute(engine: Engine, expr: Table, schema_of: pa.Table | None = None) -> pa.Table:
    table = engine.execute(expr)
    if schema_of is not None and table.schema != schema_of.schema:
        table = table.cast(schema_of.schema)
    return table


def build(
    engine: Engine, files: Sequence[str], *, version: int = -1, host_id: str | None = None
) -> Digest:
    """The digest of the events in ``files`` (Parquet files of the event store);
    ``host_id``: the viewer id of the session's own account (its chat replies)."""
    return advance(engine, None, files, version=version, host_id=host_id)


def advance(
    engine: Engine,
    base: Digest | None,
    files: Sequence[str],
    *,
    version: int = -1,
    host_id: str | None = None,
) -> Digest:
    """``base`` plus the events in ``files`` (events newer than those ``base`` covers; no
    event may be in both) — or the digest of ``files`` alone when ``base`` is None (then
    ``host_id`` is the host's id; a base keeps its own)."""
    host = base.host_id if base is not None else host_id
    try:
        raw = _raw_parts(engine, files, host)
        digest = (
            _first(engine, raw, version) if base is None else _merge(engine, base, raw, version)
        )
    finally:
        engine.release()
    digest.host_id = host or None
    return digest


def _first(engine: Engine, raw: dict[str, Table], version: int) -> Digest:
    viewers = engine.cache(raw["viewers"])
    visits_all = engine.cache(raw["visits"])
    keep = viewers.filter(_keeps_visits(viewers)).select("viewer_id")
    visits = engine.cache(visits_all.semi_join(keep, "viewer_id"))
    with_pairs = viewers.filter(_has_pairs(viewers)).select("viewer_id")
    pairs = _pair(visits.semi_join(with_pairs, "viewer_id"))
    out = {
        "questions": _execute(engine, raw["questions"]),
        "host": _execute(engine, raw["host"]),
        "viewers": _execute(engine, viewers),
        "seconds": _execute(engine, raw["seconds"]),
        "sources": _execute(engine, raw["sources"]),
        "commerce": _execute(engine, raw["commerce"]),
        "snapshots": _execute(engine, raw["snapshots"]),
        "visits": _execute(engine, visits),
        "pairs": _execute(engine, pairs),
    }
    return Digest(version, _normalise(out))


def _split(table: pa.Table, ids: pa.Array) -> tuple[pa.Table, pa.Table]:
    """The rows of ``table`` whose viewer id is in ``ids``, and the others."""
    hit = pc.fill_null(pc.is_in(table["viewer_id"], value_set=ids), False)
    return table.filter(hit), table.filter(pc.invert(hit))


def _merge(engine: Engine, base: Digest, raw: dict[str, Table], version: int) -> Digest:
    """``base`` plus the raw digest of newer events, touching only what they touch: the
    rows of viewers without new events are copied as they are (Arrow filters), the engine
    merges the few others — so a refresher step costs in proportion to what arrived."""
    new_viewers = _execute(engine, raw["viewers"])
    new_visits = _execute(engine, raw["visits"])
    out: dict[str, pa.Table] = {}
    # viewers: merge the rows of the viewers with new events, keep the others
    old_touched, old_rest = _split(base.tables["viewers"], new_viewers["viewer_id"])
    merged = engine.cache(
        _merge_viewers(
            engine.table(old_touched).union(
                engine.table(new_viewers).select(*old_touched.column_names)
            )
        )
    )
    out["viewers"] = pa.concat_tables(
        [old_rest, _execute(engine, merged).select(old_rest.column_names).cast(old_rest.schema)]
    )
    for name, keys in (("seconds", ["second"]), ("sources", ["second", "source"])):
        out[name] = _sum_by(base.tables[name], _execute(engine, raw[name]), keys)
    for name in ("commerce", "snapshots", "questions", "host"):
        out[name] = pa.concat_tables(
            [base.tables[name], _execute(engine, raw[name], base.tables[name])]
        )
    # visits: the new ones are appended, with those the rows of viewers who now keep
    # visits stood for; pairs: those of the viewers with new enters/leaves are redone
    touched = pc.unique(new_visits["viewer_id"])
    _, pairs_rest = _split(base.tables["pairs"], touched)
    before, _ = _split(old_touched, touched)  # their rows before these events
    keep = merged.filter(_keeps_visits(merged)).select("viewer_id")
    added = engine.cache(
        _implied_visits(engine.table(before))
        .union(engine.table(new_visits).select(*_SCHEMAS["visits"].names), distinct=False)
        .semi_join(keep, "viewer_id")
    )
    stored = engine.table(base.tables["visits"]).semi_join(
        engine.table(pa.table({"viewer_id": touched})), "viewer_id"
    )
    with_pairs = merged.filter(_has_pairs(merged)).select("viewer_id")
    pairs_new = _execute(
        engine, _pair(stored.union(added, distinct=False).semi_join(with_pairs, "viewer_id"))
    )
    visits = base.tables["visits"]
    out["visits"] = pa.concat_tables(
        [visits, _execute(engine, added).select(visits.column_names).cast(visits.schema)]
    )
    out["pairs"] = pa.concat_tables(
        [pairs_rest, pairs_new.select(pairs_rest.column_names).cast(pairs_rest.schema)]
    )
    return Digest(version, _normalise(out))


#: The stored schema of each table (the engines differ in integer widths and decimal types).
_SCHEMAS: Final[dict[str, pa.Schema]] = {
    "viewers": pa.schema(
        [
            ("viewer_id", pa.string()),
            ("last_ms", pa.int64()),
            ("n_events", pa.int64()),
            *[(column, pa.int64()) for column in VIEWER_COUNTS],
            ("first_enter_ms", pa.int64()),
            ("first_enter_source", pa.string()),
            ("last_leave_ms", pa.int64()),
            ("name_ms", pa.int64()),
            ("viewer_name", pa.string()),
        ]
    ),
    "seconds": pa.schema(
        [
            ("second", pa.int64()),
            ("first_ms", pa.int64()),
            ("last_ms", pa.int64()),
            ("events", pa.int64()),
            *[(column, pa.int64()) for column in SECOND_COUNTS],
        ]
    ),
    "sources": pa.schema(
        [("second", pa.int64()), ("source", pa.string()), ("entries", pa.int64())]
    ),
    "commerce": pa.schema(
        [
            ("viewer_id", pa.string()),
            ("ts_ms", pa.int64()),
            ("kind", pa.string()),
            ("quantity", pa.int64()),
            ("amount", pa.decimal128(18, 4)),
            ("currency", pa.string()),
            ("product_id", pa.string()),
            ("platform", pa.string()),
        ]
    ),
    "snapshots": pa.schema([("ts_ms", pa.int64()), ("online", pa.int64())]),
    "visits": pa.schema(
        [("viewer_id", pa.string()), ("ts_ms", pa.int64()), ("is_leave", pa.int64())]
    ),
    "pairs": pa.schema(
        [("viewer_id", pa.string()), ("leave_ms", pa.int64()), ("enter_ms", pa.int64())]
    ),
    "questions": pa.schema([("ts_ms", pa.int64()), ("viewer_id", pa.string())]),
    "host": pa.schema([("ts_ms", pa.int64())]),
}


def _normalise(tables: dict[str, pa.Table]) -> dict[str, pa.Table]:
    out = {}
    for name, schema in _SCHEMAS.items():
        table = tables[name].select(schema.names)
        out[name] = table.cast(schema) if table.schema != schema else table
    return out


def empty() -> Digest:
    """The digest of no events."""
    return Digest(-1, {name: schema.empty_table() for name, schema in _SCHEMAS.items()})


# --------------------------------------------------------------------------------------------
# Outside the window
# --------------------------------------------------------------------------------------------


def outside(
    engine: Engine, digest: Digest, files: Sequence[str], window: m.Window
) -> Digest | None:
    """The digest of the events in ``files`` outside ``window`` (before its start or after
    its end) — None when the digest shows there are none, so nothing is read. For a
    combined digest, its members' own files are read (``files`` is not used)."""
    if digest.members:
        parts = [
            (prefix, outside(engine, member, member_files, window))
            for prefix, member, member_files in digest.members
        ]
        present = [(prefix, part) for prefix, part in parts if part is not None]
        if not present:
            return None
        return Digest(digest.version, _concatenate(present, ("viewers", "seconds", "sources")))
    first, last = digest.span_ms()
    if first is None or last is None or (first >= window.start_ms and last <= window.end_ms):
        return None
    try:
        events = engine.events(list(files))
        # on ``ts`` itself (not the computed ts_ms), so the Parquet reader skips row groups
        # and pages by their statistics; ts is millisecond-aligned (event schema)
        start = datetime.fromtimestamp(window.start_ms / 1000, UTC)
        after = datetime.fromtimestamp((window.end_ms + 1) / 1000, UTC)
        out = events.filter((events.ts < start) | (events.ts >= after))
        out = engine.cache(out.select("ts_ms", "kind", "viewer_id", "quantity", "source"))
        tables = {
            "viewers": _execute(engine, _viewer_counts_raw(out)),
            "seconds": _execute(engine, _seconds_raw(out)),
            "sources": _execute(engine, _sources_raw(out)),
        }
    finally:
        engine.release()
    return Digest(digest.version, tables)


# --------------------------------------------------------------------------------------------
# Simulcast: several sessions of one event
# --------------------------------------------------------------------------------------------

#: Tables whose rows carry a viewer id (prefixed when sessions are combined).
_VIEWER_TABLES: Final = ("viewers", "commerce", "visits", "pairs", "questions")


def _concatenate(
    parts: Sequence[tuple[str, Digest]], names: Sequence[str], *, streams: bool = False
) -> dict[str, pa.Table]:
    """The tables ``names`` of several digests as one: viewer ids prefixed (viewers of
    different platform accounts are different people, whatever their ids), per-second and
    per-source rows summed, snapshot rows tagged with their ``stream`` (the part's index)."""
    out: dict[str, pa.Table] = {}
    for name in names:
        pieces = []
        for index, (prefix, part) in enumerate(parts):
            table = part.tables[name]
            if name in _VIEWER_TABLES:
                ids = table["viewer_id"]
                table = table.set_column(
                    table.schema.get_field_index("viewer_id"),
                    "viewer_id",
                    pc.binary_join_element_wise(pa.scalar(prefix), ids, ""),
                )
            if name == "snapshots" and streams:
                table = table.append_column(
                    "stream", pa.array([index] * table.num_rows, type=pa.int64())
                )
            pieces.append(table)
        merged = pa.concat_tables(pieces, promote_options="permissive")
        if name == "seconds":
            merged = _sum_by(merged.slice(0, 0), merged, ["second"])
        elif name == "sources":
            merged = _sum_by(merged.slice(0, 0), merged, ["second", "source"])
        out[name] = merged
    return out


def combine(members: Sequence[tuple[str, Digest, Sequence[str]]]) -> Digest:
    """One digest of several sessions of one event (a simulcast): ``members`` are
    (viewer-id prefix, the session's digest, its event files). Counts add up, viewers stay
    apart (prefixed ids), online counts add up per platform (snapshots keep their stream)."""
    parts = [(prefix, digest) for prefix, digest, _ in members]
    tables = _concatenate(parts, TABLES, streams=True)
    hosts = [digest.host_id for _, digest, _ in members if digest.host_id]
    return Digest(
        -1,
        tables,
        host_id="|".join(hosts) or None,
        members=tuple((prefix, digest, tuple(files)) for prefix, digest, files in members),
    )


# --------------------------------------------------------------------------------------------
# Storage
# --------------------------------------------------------------------------------------------


def save(digest: Digest, folder: Path) -> None:
    """Write ``digest`` to ``folder`` (replacing what is there): Arrow IPC files + manifest.json.

    The files go to a new sibling folder that is then renamed into place, so a reader sees
    the old digest or the new one, never a mix; a crash leaves at most a stray folder.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.parent / f".{folder.name}.{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        for name in TABLES:
            table = digest.tables[name]
            with (
                pa.OSFile(str(staging / f"{name}.arrow"), "wb") as sink,
                pa.ipc.new_file(sink, table.schema) as writer,
            ):
                writer.write_table(table, max_chunksize=_CHUNK_ROWS)
        manifest = {"format": FORMAT, "version": digest.version, "host_id": digest.host_id}
        (staging / "manifest.json").write_text(json.dumps(manifest))
        retired = folder.parent / f".{folder.name}.old.{uuid.uuid4().hex}"
        if folder.exists():
            os.replace(folder, retired)
        os.replace(staging, folder)
        shutil.rmtree(retired, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _read(path: Path) -> pa.Table:
    """An Arrow IPC file, memory-mapped: no copy, no decoding (the pages come from the OS
    cache or disk as the engine touches them)."""
    with pa.memory_map(str(path), "r") as source:
        return pa.ipc.open_file(source).read_all()


def load(folder: Path, *, tables: Sequence[str] = TABLES) -> Digest | None:
    """The digest saved in ``folder``; None when there is none (or of another format)."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        if manifest.get("format") != FORMAT:
            return None
        loaded = {name: _read(folder / f"{name}.arrow") for name in tables}
    except (OSError, ValueError, pa.ArrowException):
        return None
    return Digest(int(manifest["version"]), loaded, host_id=manifest.get("host_id") or None)
