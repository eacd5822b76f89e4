"""A columnar fast path for big CSV files of events (no Django).

:func:`fast_csv_blocks` streams a UTF-8 CSV of events with ``pyarrow.csv.open_csv`` (flat
memory) and turns each block into an Arrow table in :data:`schema.ARROW_SCHEMA` with
``pyarrow.compute``. It only *accepts* rows it can prove the row path (``tabular`` importer
+ ``schema.validate`` as in ``services.import_items``) would accept with the same values:
plain cell shapes (digits, ``12.50``, ISO date-times with or without offset, epoch s / ms /
µs numbers, known kind words). Every other non-empty row is a *fallback* row: it is run
through the tabular importer's own row code (``_Table._row``) here, in file order, so the
caller gets the exact ``Record`` / ``Problem`` / ``Skipped`` the row importer would yield,
with ``event_id`` already filled in for records without one (hash of ``raw`` + the same
``#n`` numbering as ``ingest.RepeatCounter``, which is shared with the fast rows and fed in
file order, so ids are identical to the row path's). The caller validates those items as
``import_items`` does (``schema.validate``; it then rejects the rows that are wrong, with
the exact message).

``None`` is returned (caller: use the row importer) when the file is not plain UTF-8, is
gzipped, has a title row above the header (or a ``header_row`` other than 1), is not an
events table, or the options are ones the fast path does not model.

If pyarrow cannot read a later block (a row with the wrong number of cells, invalid UTF-8
midway), :class:`FastPathAborted` is raised *between* blocks: everything up to
``resume_after_row`` was yielded; the caller continues with the row importer, dropping items
of rows ``<= resume_after_row`` and using ``repeats`` as its RepeatCounter.

Used by ``services.import_file`` through ``events.bulk`` for CSV event files of 256 KiB and
more (bench/README.md: ≈ 240 000 rows/s end to end).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.csv as pacsv  # type: ignore[import-untyped]

from liveops.events import schema
from liveops.events.importers import tabular
from liveops.events.importers.base import ImportFormatError, Item, Record
from liveops.events.importers.safety import HEAD_BYTES
from liveops.events.ingest import RepeatCounter

__all__ = ["Block", "FastPathAborted", "TableTally", "fast_csv_blocks", "tally_table"]

#: Characters Python's ``str.strip()`` removes (``str.isspace``), for ``pc.utf8_trim``.
_PY_WS = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
_BLOCK_SIZE = 8 << 20

_HM = r"([01][0-9]|2[0-3]):[0-5][0-9]"
_ISO_RE = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[T ]"
    + _HM
    + r"(:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-]"
    + _HM
    + r")?$"
)
_ISO_AWARE_RE = r"(Z|[+-][0-9]{2}:[0-9]{2})$"
_EPOCH_RE = r"^[1-9][0-9]{8,16}$"
_COUNT_RE = r"^[0-9]{1,18}$"
_AMOUNT_RE = r"^[0-9]{1,14}(\.[0-9]{1,4})?$"
_CTRL_RE = r"[\x00-\x1f]"
_SUPPORTED_OPTIONS = frozenset(
    {
        "target", "mapping", "time_zone", "date", "start", "default_kind", "kind_values",
        "platform", "currency", "header_row", "encoding", "delimiter", "base_ts",
    }
)  # fmt: skip


class FastPathAborted(Exception):
    """pyarrow could not read a block; continue with the row importer after a row."""

    def __init__(self, resume_after_row: int, repeats: RepeatCounter, reason: str) -> None:
        super().__init__(f"fast CSV path stopped after row {resume_after_row}: {reason}")
        self.resume_after_row = resume_after_row
        self.repeats = repeats
        self.reason = reason


@dataclass(slots=True)
class Block:
    """One block of the file: accepted events + the rows left to the row path."""

    table: pa.Table  # ARROW_SCHEMA; rows the row path would accept with these values
    fallback: list[dict[str, Any]]  # {"number", "location", "cells", "raw"} in file order
    items: list[Item]  # the tabular items for ``fallback`` (empty rows dropped), ids set
    records: int  # records of the block (non-empty rows) = len(table) + len(items)
    first_row: int
    last_row: int
    row_numbers: Any = None  # pa.Array: the "row N" number of each table row

    @property
    def locations(self) -> list[str]:
        """``"row N"`` of each table row, as the row importer names it."""
        return [f"row {n}" for n in self.row_numbers.to_pylist()]


# --------------------------------------------------------------------------------------------
# Header / file checks
# --------------------------------------------------------------------------------------------


def _open(path: Any) -> Any:
    if isinstance(path, str | bytes) or hasattr(path, "__fspath__"):
        return open(path, "rb")
    return path


def _head_rows(head: bytes, delimiter: str) -> list[list[str]]:
    text = head.decode("utf-8", "replace").lstrip("\ufeff")
    cut = text.rfind("\n")
    text = text[: cut + 1] if cut >= 0 else text
    rows = []
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        rows.append(row)
        if len(rows) >= 2:
            break
    return rows


def _prepare(path: Any, options: Mapping[str, Any]) -> tuple[list[str], str] | None:
    if set(options) - _SUPPORTED_OPTIONS:
        return None
    if options.get("target") not in (None, "", "events"):
        return None
    if str(options.get("header_row") or "1") != "1":
        return None
    if str(options.get("encoding") or "utf-8").lower().replace("_", "-") not in (
        "utf-8", "utf8", "utf-8-sig",
    ):  # fmt: skip
        return None
    stream = _open(path)
    try:
        head = stream.read(HEAD_BYTES)
        if hasattr(stream, "seek"):
            stream.seek(0)
    finally:
        if stream is not path:
            stream.close()
    if head[:2] == b"\x1f\x8b":
        return None
    try:
        if tabular.detect_encoding(head) not in ("utf-8", "utf-8-sig"):
            return None
    except ImportFormatError:
        return None
    delimiter = options.get("delimiter") or tabular._sniff_delimiter(
        head.decode("utf-8", "replace")
    )
    if len(str(delimiter)) != 1 or delimiter in ('"', "\n", "\r"):
        return None
    rows = _head_rows(head, str(delimiter))
    if not rows or tabular._is_empty(rows[0]):
        return None
    if not options.get("header_row") and not tabular._looks_like_header(rows[0], options):
        return None  # a title row above the header, or no header: the row path decides
    headers = tabular._headers_of(rows[0])
    if len(headers) < 1:
        return None
    target = options.get("target") or tabular.guess_target(headers)
    if target != "events":
        return None
    return headers, str(delimiter)


# --------------------------------------------------------------------------------------------
# Column helpers
# --------------------------------------------------------------------------------------------


def _trim(col: Any) -> Any:
    return pc.utf8_trim(col, characters=_PY_WS)


def _json_fragment(col: Any) -> Any:
    """orjson's string escaping for cells without control characters."""
    if pc.any(pc.match_substring(col, "\\")).as_py():
        col = pc.replace_substring(col, "\\", "\\\\")
    if pc.any(pc.match_substring(col, '"')).as_py():
        col = pc.replace_substring(col, '"', '\\"')
    return col


def _json_objects(keys: list[str], cols: list[Any]) -> Any:
    """'{"k1":"v1",…}' per row from already escaped columns (see _json_fragment)."""
    pieces: list[Any] = []
    for i, (key, col) in enumerate(zip(keys, cols, strict=True)):
        prefix = ("{" if i == 0 else '",') + orjson.dumps(key).decode() + ':"'
        pieces.append(prefix)
        pieces.append(col)
    pieces.append('"}')
    if not keys:
        return pa.array(["{}"] * (len(cols[0]) if cols else 0), pa.string())
    return pc.binary_join_element_wise(*pieces, "")


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


def fast_csv_blocks(
    path: Any,
    *,
    workspace_id: int,
    session_id: int,
    platform: str | None,
    options: Mapping[str, Any] | None = None,
    repeats: RepeatCounter | None = None,
    block_size: int = _BLOCK_SIZE,
) -> Iterator[Block] | None:
    """Blocks of a CSV events file (see the module docstring), or None: use the row path.

    ``platform`` is the import's default platform (``services.import_items``' ``platform``).
    Raises :class:`ImportFormatError` exactly where the row importer raises it before any
    record (bad options, no time column …) and :class:`FastPathAborted` midway (see above).
    """
    opts = dict(options or {})
    prepared = _prepare(path, opts)
    if prepared is None:
        return None
    headers, delimiter = prepared
    table = tabular._Table(opts)  # raises ImportFormatError for bad options, as the row path
    table._set_mapping(headers, 1)  # raises for a missing ts / kind column, as the row path
    columns = dict(table.columns)
    currency = opts.get("currency") or None
    if currency is not None:
        code = str(currency).strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", code):
            return None
    row_platform_default = opts.get("platform") or None
    final_platform = row_platform_default or platform
    if final_platform is not None and (
        not isinstance(final_platform, str) or len(final_platform) > schema.MAX_PLATFORM
    ):
        return None
    # The row path's reading of epoch numbers, probed once: the fast path only takes the
    # shapes the row path accepts (see the report: tabular currently refuses epoch cells).
    epoch = all(
        _ts_python(cell, table) == want
        for cell, want in (
            ("1717243200", 1717243200000),
            ("1717243200123", 1717243200123),
            ("1717243200123500", 1717243200124),
        )
    )
    return _blocks(
        path,
        epoch=epoch,
        headers=headers,
        delimiter=delimiter,
        table=table,
        columns=columns,
        currency=currency,
        platform=final_platform,
        workspace_id=workspace_id,
        session_id=session_id,
        zone=table.clock.zone,
        repeats=repeats if repeats is not None else RepeatCounter(),
        block_size=block_size,
    )


def _blocks(
    path: Any,
    *,
    headers: list[str],
    delimiter: str,
    table: Any,
    columns: dict[str, int],
    currency: str | None,
    platform: str | None,
    workspace_id: int,
    session_id: int,
    zone: Any,
    repeats: RepeatCounter,
    block_size: int,
    epoch: bool,
) -> Iterator[Block]:
    names = [f"c{i}" for i in range(len(headers))]
    read_options = pacsv.ReadOptions(
        column_names=names, skip_rows=1, block_size=block_size, use_threads=True
    )
    parse_options = pacsv.ParseOptions(
        delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False
    )
    convert_options = pacsv.ConvertOptions(
        column_types={n: pa.string() for n in names},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
        check_utf8=True,
    )
    stream = _open(path)
    number = 1  # the header is row 1
    state = {"seen_data": False}
    sorted_keys = sorted(range(len(headers)), key=lambda i: headers[i])
    try:
        try:
            reader = pacsv.open_csv(
                stream,
                read_options=read_options,
                parse_options=parse_options,
                convert_options=convert_options,
            )
        except (pa.ArrowInvalid, pa.ArrowException) as exc:
            raise FastPathAborted(number, repeats, str(exc)) from None
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except (pa.ArrowInvalid, pa.ArrowException) as exc:
                raise FastPathAborted(number, repeats, str(exc)) from None
            if batch.num_rows == 0:
                continue
            block = _block(
                batch,
                first=number + 1,
                headers=headers,
                sorted_keys=sorted_keys,
                table=table,
                columns=columns,
                currency=currency,
                platform=platform,
                workspace_id=workspace_id,
                session_id=session_id,
                zone=zone,
                repeats=repeats,
                state=state,
                epoch=epoch,
            )
            number += batch.num_rows
            yield block
    finally:
        if stream is not path:
            stream.close()


def _ts_python(cell: str, table: Any) -> int | None:
    """The exact row-path ts (tabular clock + schema) of one cell, or None (fallback)."""
    try:
        moment = table.clock.parse(cell)
        if moment is None:
            return None
        value = moment.isoformat() if isinstance(moment, datetime) else moment
        return schema.parse_timestamp(value)
    except Exception:
        return None


def _ts_column(trimmed: Any, table: Any, zone: Any, epoch: bool) -> Any:
    """UTC epoch ms (int64, null where the fast path cannot prove the row path's value)."""
    n = len(trimmed)
    is_epoch = _b(pc.match_substring_regex(trimmed, _EPOCH_RE if epoch else "^$x"))
    is_iso = _b(pc.match_substring_regex(trimmed, _ISO_RE))
    vals = pc.cast(pc.if_else(is_epoch, trimmed, None), pa.int64())
    q = pc.divide(vals, 1000)  # integer division of positives: truncates
    r = pc.subtract(vals, pc.multiply(q, 1000))
    odd = pc.equal(pc.subtract(q, pc.multiply(pc.divide(q, 2), 2)), 1)
    up = pc.or_(pc.greater(r, 500), pc.and_(pc.equal(r, 500), odd))
    us_ms = pc.add(q, pc.cast(up, pa.int64()))  # round half even, like Decimal
    epoch_ms = pc.case_when(
        pc.make_struct(pc.less(vals, 10**11), pc.less(vals, 10**14)),
        pc.multiply(vals, 1000),
        vals,
        us_ms,
    )
    iso_ms = pa.nulls(n, pa.int64())
    if pc.any(is_iso).as_py():
        cells = pc.if_else(is_iso, trimmed, None)
        aware = _b(pc.match_substring_regex(cells, _ISO_AWARE_RE))
        n_iso = pc.sum(is_iso).as_py()
        n_aware = pc.sum(pc.and_(is_iso, aware)).as_py() or 0
        try:
            if n_aware == n_iso:
                stamps = pc.cast(cells, pa.timestamp("us", tz="UTC"))
            elif n_aware == 0 and zone is not None:
                naive = pc.cast(cells, pa.timestamp("us"))
                stamps = pc.assume_timezone(
                    naive, str(zone), ambiguous="earliest", nonexistent="raise"
                )
            else:
                raise ValueError("naive times without time_zone, or mixed")
            us = pc.cast(stamps, pa.int64())
            iso_ms = pc.divide(pc.add(us, 500), 1000)
        except (pa.ArrowInvalid, pa.ArrowException, ValueError):
            iso_ms = pa.array(
                [None if c is None else _ts_python(c, table) for c in cells.to_pylist()],
                pa.int64(),
            )
    ms = pc.coalesce(epoch_ms, iso_ms)
    in_range = pc.and_(pc.greater_equal(ms, schema._TS_MIN_MS), pc.less(ms, schema._TS_MAX_MS))
    return pc.if_else(_b(in_range), ms, None)


def _evict(repeats: RepeatCounter) -> None:
    """RepeatCounter.occurrence's eviction step, verbatim."""
    window = repeats.window
    old, repeats.recent = repeats.recent[:window], repeats.recent[window:]
    counts = repeats.counts
    for k in old:
        left = counts[k] - 1
        if left:
            counts[k] = left
        else:
            del counts[k]


def _b(arr: Any) -> Any:
    """A boolean array without nulls (null → False)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return pc.fill_null(arr, False)


def _block(
    batch: pa.RecordBatch,
    *,
    first: int,
    headers: list[str],
    sorted_keys: list[int],
    table: Any,
    columns: dict[str, int],
    currency: str | None,
    platform: str | None,
    workspace_id: int,
    session_id: int,
    zone: Any,
    repeats: RepeatCounter,
    state: dict[str, Any],
    epoch: bool,
) -> Block:
    n = batch.num_rows
    cols = [batch.column(i) for i in range(batch.num_columns)]
    ts_index = columns["ts"]
    # Only the mapped columns (and those left of the time column, for the totals check) are
    # trimmed. A row whose time cell is blank always falls back: empty rows are found there.
    needed = set(columns.values()) | set(range(ts_index + 1))
    trimmed: list[Any] = [_trim(c) if i in needed else None for i, c in enumerate(cols)]
    bad = pc.equal(trimmed[ts_index], "")

    def refuse(mask: Any) -> None:
        nonlocal bad
        bad = pc.or_(bad, _b(mask))

    # totals rows (first non-empty cell 合计/总计/total …) are Skipped by the row path
    lead = [trimmed[i] for i in range(ts_index + 1)]
    firsts = (
        lead[0]
        if len(lead) == 1
        else pc.coalesce(*[pc.if_else(pc.equal(t, ""), None, t) for t in lead])
    )
    short = pc.if_else(_b(pc.less_equal(pc.utf8_length(firsts), 10)), firsts, None)
    totals = [
        v
        for v in pc.unique(short).to_pylist()
        if v is not None and tabular.normalize_header(v) in tabular._TOTAL_WORDS
    ]
    if totals:
        refuse(pc.is_in(short, value_set=pa.array(totals, pa.string())))

    def col(name: str) -> Any:
        return cols[columns[name]] if name in columns else None

    def tcol(name: str) -> Any:
        return trimmed[columns[name]] if name in columns else None

    out: dict[str, Any] = {}
    ms = _ts_column(tcol("ts"), table, zone, epoch)
    refuse(pc.is_null(ms))
    out["ts"] = ms

    if "kind" in columns:
        kt = tcol("kind")
        keys = pc.unique(kt).to_pylist()
        vals = [
            table.default_kind if text == "" else table.kind_values.get(tabular._kind_key(text))
            for text in keys
        ]
        kind = pc.take(
            pa.array(vals, pa.string()), pc.index_in(kt, value_set=pa.array(keys, pa.string()))
        )
    else:
        kind = pa.array([table.default_kind] * n, pa.string())
    refuse(pc.is_null(kind))
    out["kind"] = kind

    def ident(name: str, limit: int) -> Any:
        t = tcol(name)
        if t is None:
            return pa.nulls(n, pa.string())
        refuse(pc.match_substring_regex(t, r"^(=|')"))  # ="0012", '0012: the row path unwraps
        refuse(pc.greater(pc.utf8_length(t), limit))
        return pc.if_else(pc.equal(t, ""), None, t)

    out["event_id"] = ident("event_id", schema.MAX_ID)
    out["viewer_id"] = ident("viewer_id", schema.MAX_ID)
    out["product_id"] = ident("product_id", schema.MAX_ID)

    def text_field(name: str, limit: int) -> Any:
        t = tcol(name)
        if t is None:
            return pa.nulls(n, pa.string())
        refuse(pc.greater(pc.utf8_length(t), limit))
        return pc.if_else(pc.equal(t, ""), None, t)

    out["viewer_name"] = text_field("viewer_name", schema.MAX_NAME)
    out["source"] = text_field("source", schema.MAX_SOURCE)
    row_platform = text_field("platform", schema.MAX_PLATFORM)
    out["platform"] = pc.fill_null(row_platform, platform) if platform is not None else row_platform

    is_comment = _b(pc.equal(kind, "comment"))
    if "text" in columns:
        raw_text = col("text")  # not stripped: the row path keeps the cell as it is
        refuse(pc.greater(pc.utf8_length(raw_text), schema.MAX_TEXT))
        text = pc.if_else(pc.or_(pc.not_equal(raw_text, ""), is_comment), raw_text, None)
    else:
        text = pa.nulls(n, pa.string())
    refuse(pc.and_(is_comment, pc.is_null(text)))
    out["text"] = text

    if "quantity" in columns:  # plain digits only; other shapes go to the row path
        qt = col("quantity")
        q_plain = _b(pc.match_substring_regex(qt, _COUNT_RE))
        refuse(pc.invert(pc.or_(pc.equal(qt, ""), q_plain)))
        quantity = pc.cast(pc.if_else(q_plain, qt, None), pa.int64())
    else:
        quantity = pa.nulls(n, pa.int64())
    decimal = pa.decimal128(schema.AMOUNT_PRECISION, schema.AMOUNT_SCALE)
    if "amount" in columns:  # plain decimals; zeros past 4 places are fine (1.50000)
        at = col("amount")
        norm = pc.replace_substring_regex(at, r"^([0-9]+\.[0-9]*?)0+$", r"\1")
        norm = pc.replace_substring_regex(norm, r"\.$", "")
        a_plain = _b(pc.match_substring_regex(norm, _AMOUNT_RE))
        refuse(pc.invert(pc.or_(pc.equal(at, ""), a_plain)))
        amount = pc.cast(pc.if_else(a_plain, norm, None), decimal)
    else:
        amount = pa.nulls(n, decimal)
    has_q = pc.is_valid(quantity)
    has_a = pc.is_valid(amount)
    no_q, no_a = pc.invert(has_q), pc.invert(has_a)
    quantity = pc.if_else(
        pc.and_(_b(pc.equal(kind, "like")), no_q), pa.scalar(1, pa.int64()), quantity
    )
    refuse(pc.and_(pc.equal(kind, "gift"), pc.and_(no_q, no_a)))
    refuse(pc.and_(pc.is_in(kind, value_set=pa.array(["order", "refund"])), no_a))
    refuse(pc.and_(pc.equal(kind, "online_count"), no_q))
    refuse(pc.and_(pc.equal(kind, "product_click"), pc.is_null(out["product_id"])))
    out["quantity"] = quantity
    out["amount"] = amount

    if "currency" in columns:
        ct = pc.utf8_upper(tcol("currency"))
        refuse(pc.invert(pc.or_(pc.equal(ct, ""), pc.match_substring_regex(ct, r"^[A-Z]{3}$"))))
        cur = pc.if_else(pc.equal(ct, ""), None, ct)
    else:
        cur = pa.nulls(n, pa.string())
    if currency is not None:
        cur = pc.if_else(
            pc.and_(has_a, pc.is_null(cur)), pa.scalar(str(currency).strip().upper()), cur
        )
    out["currency"] = cur

    # raw (header order, as tabular._raw writes it) and canonical JSON (sorted keys) for ids
    escaped = [_json_fragment(c) for c in cols]
    raw = _json_objects(headers, escaped)
    ctrl = _b(pc.match_substring_regex(raw, _CTRL_RE))
    canonical = _json_objects([headers[i] for i in sorted_keys], [escaped[i] for i in sorted_keys])
    refuse(pc.greater(pc.binary_length(raw), 60_000))
    ok = pc.invert(bad)

    # ---- the ordered pass: ids, repeat numbering, fallback rows -------------------------
    need_hash = pc.and_(ok, pc.is_null(out["event_id"]))
    ok_list = ok.to_pylist()
    first_ok = ok_list.index(True) if True in ok_list else None
    bad_rows = [i for i, good in enumerate(ok_list) if not good]
    ctrl_ok = pc.and_(ctrl, ok)
    ctrl_rows = pc.indices_nonzero(ctrl_ok).to_pylist() if pc.any(ctrl_ok).as_py() else []
    raw_fix: dict[int, str] = {}
    canon_fix: dict[int, bytes] = {}
    for i in ctrl_rows:  # control characters: let orjson escape them, as the row path does
        record = {h: c[i].as_py() for h, c in zip(headers, cols, strict=True)}
        raw_fix[i] = orjson.dumps(record).decode()
        canon_fix[i] = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    need_rows = pc.indices_nonzero(need_hash).to_pylist()
    all_need = len(need_rows) == n
    canon_need = pc.cast(canonical if all_need else pc.filter(canonical, need_hash), pa.binary())
    canon_need = canon_need.to_pylist()
    for j, i in enumerate(need_rows):
        if i in canon_fix:
            canon_need[j] = canon_fix[i]
    sha = hashlib.sha256
    bases = ["h:" + sha(c).hexdigest()[:32] for c in canon_need]
    hashed: list[str] = []

    def count(upto: int, start: int) -> int:
        """RepeatCounter.occurrence over bases[start:upto], inlined (same state, same steps)."""
        counts = repeats.counts
        recent = repeats.recent
        limit = 2 * repeats.window
        add = hashed.append
        for base in bases[start:upto]:
            k = counts.get(base, 0)
            counts[base] = k + 1
            recent.append(base)
            if len(recent) >= limit:
                _evict(repeats)
                recent = repeats.recent
            add(base if k == 0 else f"{base}#{k}")
        return upto

    fallback: list[dict[str, Any]] = []
    items: list[Item] = []
    done = 0
    if bad_rows:
        rows_cache = [c.to_pylist() for c in cols]
        import bisect

        for i in bad_rows:
            done = count(bisect.bisect_left(need_rows, i), done)  # hashed rows before i
            cells = [c[i] for c in rows_cache]
            if tabular._is_empty(cells):
                continue  # not a record
            number = first + i
            table.seen_data = state["seen_data"] or (first_ok is not None and first_ok < i)
            item = table._row(number, cells, headers)
            if isinstance(item, Record) and not item.fields.get("event_id"):
                base = schema.stable_event_id(item.raw.encode())
                k = repeats.occurrence(base)
                item.fields["event_id"] = base if k == 0 else f"{base}#{k}"
            fallback.append(
                {"number": number, "location": f"row {number}", "cells": cells, "raw": item.raw}
            )
            items.append(item)
            state["seen_data"] = True
    count(len(bases), done)
    if first_ok is not None:
        state["seen_data"] = True  # the row path's "a data row was seen" (naive-time rule)

    ids_all = out["event_id"]
    if need_rows:
        ids_all = pc.replace_with_mask(ids_all, need_hash, pa.array(hashed, pa.string()))
    if raw_fix:
        fix_mask = pa.array([i in raw_fix for i in range(n)])
        raw = pc.replace_with_mask(raw, fix_mask, pa.array([raw_fix[i] for i in sorted(raw_fix)]))

    # ---- the table of accepted rows ------------------------------------------------------
    now_ms = time.time_ns() // 1_000_000
    m = pc.sum(ok).as_py() or 0
    ms_type = pa.timestamp("ms", tz="UTC")

    def f(arr: Any) -> Any:
        return pc.filter(arr, ok)

    arrays = [
        f(ids_all),
        pa.repeat(pa.scalar(workspace_id, pa.int64()), m),
        pa.repeat(pa.scalar(session_id, pa.int64()), m),
        f(out["ts"]).cast(ms_type).cast(schema._TS_TYPE),
        f(out["kind"]),
        f(out["viewer_id"]),
        f(out["viewer_name"]),
        f(out["text"]),
        f(out["quantity"]),
        f(out["amount"]),
        f(out["currency"]),
        f(out["product_id"]),
        f(out["source"]),
        f(out["platform"]),
        f(raw),
        pa.repeat(pa.scalar(now_ms, pa.int64()), m).cast(ms_type).cast(schema._TS_TYPE),
    ]
    arrays = [a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a for a in arrays]
    result = pa.Table.from_arrays(arrays, schema=schema.ARROW_SCHEMA)
    return Block(
        table=result,
        fallback=fallback,
        items=items,
        records=m + len(items),
        first_row=first,
        last_row=first + n - 1,
        row_numbers=pc.add(pc.indices_nonzero(ok), first),
    )


@dataclass(slots=True)
class TableTally:
    """What ``services.import_items``' flush counts for events, for one appended table."""

    accepted: int
    duplicate: int
    by_kind: dict[str, int]
    first_ms: int | None
    last_ms: int | None


def tally_table(table: pa.Table, accepted_ids: Any, accepted_mask: Any = None) -> TableTally:
    """Counts of ``table`` after ``EventStore.append(table)`` returned ``accepted_ids``.

    Same rule as ``import_items``: the first row of each accepted id counts as accepted,
    every other row is a duplicate. ``accepted_mask`` (``AppendResult.accepted_mask``, one
    flag per row with exactly that meaning) skips the id lookup.
    """
    if accepted_mask is not None and len(accepted_mask) == table.num_rows:
        mask = accepted_mask
    else:
        ids = table.column("event_id")
        fresh = pa.array(list(accepted_ids), pa.string())
        mask = pc.is_in(ids, value_set=fresh)
        if pc.count_distinct(ids).as_py() != table.num_rows:  # repeated ids inside the table
            seen: set[str] = set()
            wanted = set(fresh.to_pylist())
            firsts = []
            for event_id in ids.to_pylist():
                first = event_id in wanted and event_id not in seen
                seen.add(event_id)
                firsts.append(first)
            mask = pa.array(firsts)
    counted = table.filter(mask)
    by_kind = {row["values"]: row["counts"] for row in pc.value_counts(counted["kind"]).to_pylist()}
    ts = pc.cast(counted["ts"], pa.int64())
    low, high = pc.min_max(ts).values() if counted.num_rows else (None, None)
    return TableTally(
        accepted=counted.num_rows,
        duplicate=table.num_rows - counted.num_rows,
        by_kind=dict(sorted(by_kind.items())),
        first_ms=None if low is None or low.as_py() is None else low.as_py() // 1000,
        last_ms=None if high is None or high.as_py() is None else high.as_py() // 1000,
    )
