"""A columnar fast path for big chat-downloader JSON files (no Django).

:func:`fast_chat_blocks` reads a chat-downloader file (format ``chat-downloader``, see
:mod:`.importers.chat_downloader`) in blocks of Arrow tables in :data:`schema.ARROW_SCHEMA`,
the same :class:`~liveops.events.fastimport.Block` as the CSV fast path. Concatenating the
blocks' tables and running their ``items`` through ``services.import_items`` gives exactly
the events, rejections, skips and event ids of the row importer + ``import_items``.

How a block is made (three stages, each in its own thread, so the two cores are used):

1. **Records.** A JSON array (chat-downloader's own output: pretty-printed with
   ``--indent``, one object per line, or all on one line) is split into its items by DuckDB
   (``read_json_objects(format='array')``, built in, streaming, flat memory), which returns
   each item's exact text — the row importer's ``raw``. JSON lines are split here (numpy
   finds the newlines; blank lines are counted, as the row importer counts them). Item
   ``N`` / line ``N`` are the row importer's locations.
2. **Columns.** pyarrow's JSON reader parses the block's items (concatenated, zero copy)
   into typed columns: ``message_type``, ``timestamp``, ``message``, ``message_id``,
   ``author`` (object with ``id`` / ``name`` / ``display_name``, or the 2020 name string),
   ``author_id``, ``author_name``, ``bits``, ``money.text``, ``amount``. It refuses a record
   whose field has another type or a repeated key; such records are found by bisection and
   handed to the row importer's code.
3. **Events.** Every record is checked with ``orjson.loads`` — the parser of the row
   importer — so a record the row importer calls broken (NaN, a trailing comma, a number
   beyond a double, nesting deeper than 1 024 …; DuckDB and pyarrow are more lenient) is
   never taken on the fast path. The importer's mapping and ``schema.validate``'s checks are
   then done on the columns with ``pyarrow.compute``: text messages, paid messages and
   stickers (the amount text, e.g. ``"$5.00"``, is read once per distinct text by the
   importer's own :func:`~liveops.events.importers.money.parse_money`), memberships and
   Twitch subscriptions become table rows; tickers and other message types become the
   importer's ``Skipped`` items. Whatever the columns cannot settle exactly (a timestamp
   not in microseconds, Twitch bits and raids, gift purchases, ids or names over the
   limits, a viewer id that is not ASCII, a field whose ``null`` and absence differ …) runs
   through the row importer's own code (``ChatDownloaderImporter._item``) and
   ``schema.validate``: an accepted record joins the table in file order, anything else
   (``Problem``, ``Skipped``, a record ``validate`` rejects) is returned in ``items`` with
   its ``fallback`` entry.

Block contract (as ``services.import_items`` uses it): ``table`` holds every event of the
block that ``validate`` accepts, in file order, ids set (source ``message_id``, else the
stable hash of ``raw`` with the ``#n`` numbering of one ``RepeatCounter`` fed in file
order); ``items`` are the block's other records as the row importer yields them (ids of
records without one already set), so ``validate`` rejects every ``Record`` among them with
the row path's reason. ``records`` = ``table.num_rows + len(items)``; ``first_row`` /
``last_row`` / ``row_numbers`` are item numbers (array) or line numbers (JSON lines): the
number in the row importer's ``"item N"`` / ``"line N"`` (``Block.locations`` says
``"row N"``: use :func:`locations` here).

``None`` is returned (the caller uses the row importer) when the file is gzipped, is not a
JSON array or JSON lines (concatenated pretty-printed objects), its path looks like a glob
pattern to DuckDB, or its timestamps are replaced by ``base_ts + time_in_seconds`` (the
2020 Twitch download-time files, ``time_base=offset``). Option errors raise
``ImportFormatError`` with the row importer's message.

If DuckDB cannot read the array further (a syntax error in an item, a raw control
character or a lone surrogate in a string, an unclosed array, text or a second array after
the first …), :class:`~liveops.events.fastimport.FastPathAborted` is raised between
blocks: every item up to ``resume_after_row`` was delivered (DuckDB reads ahead, so that is
up to ≈ 20 MB before the broken item); the caller continues with the row importer, skipping
its ``"item N"`` records with ``N <= resume_after_row`` — but not its ``"line N"`` ones,
which are text after the array — and numbering repeats with ``repeats``. JSON lines never
abort (a broken line is a record like any other).

Measured (bench/bench_fastchat.py, 2 cores, 1 M YouTube messages): parse + validate ≈
420 000 records/s for one compact object per line (422 MiB), ≈ 360 000 records/s for the
CLI's ``--indent 4`` layout (703 MiB); ≈ 4.2–4.8 s of CPU per million records over the
three threads (DuckDB ≈ 0.9 s, pyarrow ≈ 1.4 s, orjson ≈ 1.0 s, the rest ≈ 1 s). Peak
resident memory ≈ 500 MiB whatever the file size (the same for 0.4 and 1.3 GB: a block is
≈ 16 MiB of JSON and at most a few blocks are in flight).
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from typing import Any, Final

import numpy as np
import orjson
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.json as pajson  # type: ignore[import-untyped]

from liveops.events import schema
from liveops.events.fastimport import Block, FastPathAborted
from liveops.events.importers import chat_downloader as cd
from liveops.events.importers.base import ImportFormatError, Item, Record, Skipped
from liveops.events.importers.money import format_amount, parse_money
from liveops.events.importers.safety import HEAD_BYTES
from liveops.events.ingest import RepeatCounter, with_raw

__all__ = ["Block", "FastPathAborted", "fast_chat_blocks", "locations"]

#: Aim for blocks of about this many bytes of JSON (rows = this / average record size).
BLOCK_BYTES: Final = 16 << 20
_MIN_ROWS: Final = 1024
_MAX_ROWS: Final = 131_072
#: Records handed to the row code one by one when a block's typed parse keeps failing.
_BISECT_BUDGET: Final = 256
_LINE_CHUNK: Final = 16 << 20
_MONEY_CACHE: Final = 4096

_BOM: Final = b"\xef\xbb\xbf"
_ASCII_WS: Final = " \t\n\r\x0b\x0c"  # bytes.strip()
_PY_WS: Final = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())  # str.strip()
_GLOB: Final = frozenset("*?[]{}")
_DONE: Final = object()

# message categories (per distinct message_type)
_ROW: Final = 0  # the row importer's code decides
_COMMENT: Final = 1
_PAID: Final = 2
_MEMBER: Final = 3
_SKIP: Final = 4

_AUTHOR_OBJECT: Final = pa.struct(
    [("id", pa.string()), ("name", pa.string()), ("display_name", pa.string())]
)


def _columns_schema(author: str) -> pa.Schema:
    return pa.schema(
        [
            ("message_type", pa.string()),
            ("timestamp", pa.int64()),
            ("message", pa.string()),
            ("message_id", pa.string()),
            ("author", _AUTHOR_OBJECT if author == "object" else pa.string()),
            ("author_id", pa.string()),
            ("author_name", pa.string()),
            ("bits", pa.int64()),
            ("money", pa.struct([("text", pa.string())])),
            ("amount", pa.string()),
        ]
    )


def locations(block: Block, unit: str = "item") -> list[str]:
    """``"item N"`` (arrays) or ``"line N"`` (JSON lines) of each table row of ``block``."""
    return [f"{unit} {n}" for n in block.row_numbers.to_pylist()]


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Setup:
    path: str
    shape: str  # "array" | "lines"
    author: str  # "object" | "string": the author column's type for the typed parse
    rows: int  # records per block
    ctx: Any  # chat_downloader._Context
    workspace_id: int
    session_id: int
    platform: str | None  # the import's default platform (validate's)


def fast_chat_blocks(
    path: str | os.PathLike[str],
    *,
    workspace_id: int,
    session_id: int,
    platform: str | None,
    options: Mapping[str, Any] | None = None,
    repeats: RepeatCounter | None = None,
    block_rows: int | None = None,
) -> Iterator[Block] | None:
    """Blocks of a chat-downloader file (see the module docstring), or None: use the row path.

    ``platform`` is the import's default platform (``services.import_items``' ``platform``).
    Raises :class:`ImportFormatError` where the row importer raises it before any record
    (bad ``base_ts`` / ``time_base`` / ``platform`` / ``yen`` options) and
    :class:`FastPathAborted` midway (see the module docstring).
    """
    opts: Mapping[str, Any] = options or {}
    base = opts.get("base_ts")  # the row importer's order of checks, and its messages
    base_us = None if base in (None, "") else cd._dt_to_us(cd.parse_base_ts(base))
    time_base = opts.get("time_base") or "auto"
    if time_base not in ("auto", "timestamp", "offset"):
        raise ImportFormatError(
            f"option time_base {time_base!r}: expected 'auto', 'timestamp' or 'offset'."
        )
    option_platform = cd._option_platform(opts)
    yen = cd._option_yen(opts)
    schema._check_int64(workspace_id, "workspace_id")
    schema._check_int64(session_id, "session_id")
    if platform is not None and (
        not isinstance(platform, str) or len(platform) > schema.MAX_PLATFORM
    ):
        return None
    name = os.fspath(path)
    if not isinstance(name, str) or _GLOB & set(name) or name.startswith("~"):
        return None
    sniffed = _sniff(name)
    if sniffed is None:
        return None
    shape, head_values = sniffed
    if time_base == "auto":
        use_offset = cd._download_time_stamps([cd._decode(v) for v in head_values])
    else:
        use_offset = time_base == "offset"
    if use_offset:
        return None
    author = "object"
    for value in head_values:
        obj = cd._decode(value)
        if isinstance(obj, dict) and isinstance(obj.get("author"), str | dict):
            author = "object" if isinstance(obj["author"], dict) else "string"
            break
    sizes = [len(value.raw) for value in head_values]
    average = max(64, sum(sizes) // len(sizes)) if sizes else 512
    rows = block_rows or min(_MAX_ROWS, max(_MIN_ROWS, BLOCK_BYTES // average))
    ctx = cd._Context(base_us, False, option_platform, yen)
    setup = _Setup(name, shape, author, rows, ctx, workspace_id, session_id, platform)
    return _blocks(setup, repeats if repeats is not None else RepeatCounter())


def _sniff(path: str) -> tuple[str, list[cd.JsonValue]] | None:
    """("array" | "lines", the first 50 records as the row importer reads them) or None."""
    with open(path, "rb") as stream:
        head = stream.read(HEAD_BYTES)
        if head[:2] == b"\x1f\x8b":
            return None
        text = head[len(_BOM) :] if head.startswith(_BOM) else head
        text = text.lstrip()
        if not text:
            return None
        stream.seek(0)
        values = cd.iter_json_values(stream)
        first = list(islice(values, cd._DETECT_ITEMS))
    if text[:1] == b"[":
        return "array", first
    if text[:1] == b"{" and _is_json_lines(path):
        return "lines", first
    return None


def _is_json_lines(path: str) -> bool:
    """The row importer's JSON-lines test: the first non-blank text is ``{`` and the first
    line (to its newline) parses on its own."""
    with open(path, "rb") as stream:
        found = cd.first_text(stream, 1 << 20)
        if found is None or found[0][found[1] : found[1] + 1] != b"{":
            return False
        return cd.first_line_parses(found[0], found[1], stream, 1 << 20)[1]


# --------------------------------------------------------------------------------------------
# Stage 1: records (DuckDB for arrays, numpy for JSON lines)
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Records:
    """One block's records: their text (valid UTF-8) and item / line numbers."""

    raw: Any  # pa.StringArray, one entry per record
    numbers: Any  # np.ndarray[int64]
    raw_bytes: dict[int, bytes] = field(default_factory=dict)  # records that are not UTF-8


class _Unreadable(Exception):
    """DuckDB cannot read the array further: the fast path stops (FastPathAborted)."""


def _array_records(path: str, rows: int, stop: threading.Event) -> Iterator[_Records]:
    import duckdb  # imported here: 60 ms that only array imports pay

    con = duckdb.connect(config={"threads": 1})
    try:
        con.execute("SET enable_progress_bar = false")  # no bar drawn on a terminal
        try:
            reader = con.sql(
                "SELECT json FROM read_json_objects(?, format='array', compression='none')",
                params=[path],
            ).to_arrow_reader(rows)
        except duckdb.Error as exc:
            raise _Unreadable(str(exc).splitlines()[0]) from None
        number = 0
        while not stop.is_set():
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except (duckdb.Error, OSError, pa.ArrowException) as exc:
                # DuckDB's errors come through pyarrow's stream reader as OSError
                raise _Unreadable(str(exc).splitlines()[0]) from None
            n = batch.num_rows
            if not n:
                continue
            raw = batch.column(0)
            if raw.type != pa.string():
                raw = raw.cast(pa.string())
            yield _Records(raw, np.arange(number + 1, number + n + 1, dtype=np.int64))
            number += n
    finally:
        con.close()


def _line_records(path: str, rows: int, stop: threading.Event) -> Iterator[_Records]:
    """Non-blank lines, stripped as ``bytes.strip()`` does, with their 1-based numbers."""
    line = 0  # lines before the current chunk
    carry = b""
    first = True
    with open(path, "rb") as stream:
        while not stop.is_set():
            chunk = stream.read(_LINE_CHUNK)
            data = carry + chunk
            if first:
                data = data[len(_BOM) :] if data.startswith(_BOM) else data
                first = False
            if chunk:
                cut = data.rfind(b"\n")
                if cut < 0:
                    carry = data
                    continue
                body, carry = data[: cut + 1], data[cut + 1 :]
            else:
                body, carry = data, b""
            if body:
                records, count = _split_lines(body, line)
                line += count
                for start in range(0, len(records.raw), rows):
                    yield _Records(
                        records.raw.slice(start, rows),
                        records.numbers[start : start + rows],
                        {i - start: b for i, b in records.raw_bytes.items()
                         if start <= i < start + rows},
                    )  # fmt: skip
            if not chunk:
                return


def _split_lines(body: bytes, before: int) -> tuple[_Records, int]:
    """The non-blank lines of ``body`` (whole lines; the last may lack its newline)."""
    arr = np.frombuffer(body, dtype=np.uint8)
    ends = np.flatnonzero(arr == 10)
    if not len(ends) or ends[-1] != len(arr) - 1:
        ends = np.append(ends, len(arr))  # a last line without a newline
    count = len(ends)
    offsets = np.empty(count + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = np.minimum(ends + 1, len(arr))
    lines = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), count, [None, pa.py_buffer(offsets), pa.py_buffer(body)]
    )
    raw_bytes: dict[int, bytes] = {}
    try:
        text = lines.cast(pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowException):  # some lines are not UTF-8
        values = lines.to_pylist()
        fixed = []
        for i, value in enumerate(values):
            try:
                value.decode("utf-8")
            except UnicodeDecodeError:
                raw_bytes[i] = value.strip()
                value = b"\x00"  # a placeholder, never parsed: the row code reads raw_bytes
            fixed.append(value)
        text = pa.array(fixed, pa.large_binary()).cast(pa.large_string())
    text = pc.utf8_trim(text, characters=_ASCII_WS)
    keep = pc.greater(pc.binary_length(text), 0)
    if raw_bytes:
        keep = pc.or_(keep, pa.array([i in raw_bytes for i in range(count)]))
    kept = np.flatnonzero(keep.to_numpy(zero_copy_only=False))
    numbers = kept.astype(np.int64) + before + 1
    raw = text.filter(keep).cast(pa.string())
    moved = {int(j): raw_bytes[int(i)] for j, i in enumerate(kept) if int(i) in raw_bytes}
    return _Records(raw, numbers, moved), count


# --------------------------------------------------------------------------------------------
# Stage 2: typed columns (pyarrow's JSON reader over the block's concatenated records)
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Parsed:
    records: _Records
    columns: Any  # pa.Table in _columns_schema(author); all-null rows where refused
    author: str
    refused: Any  # np.ndarray[bool]: the typed parse refused the record


def _typed_parse(raw: Any, lo: int, hi: int, columns: pa.Schema) -> Any:
    """The records lo..hi as one table, or None if pyarrow refuses any of them."""
    if hi <= lo:
        return columns.empty_table()
    offsets = np.frombuffer(raw.buffers()[1], dtype=np.int32)
    start = int(offsets[raw.offset + lo])
    end = int(offsets[raw.offset + hi])
    data = raw.buffers()[2].slice(start, end - start)
    try:
        table = pajson.read_json(
            pa.BufferReader(data),
            read_options=pajson.ReadOptions(
                use_threads=False, block_size=max(1 << 20, end - start + 1)
            ),
            parse_options=pajson.ParseOptions(
                explicit_schema=columns,
                unexpected_field_behavior="ignore",
                newlines_in_values=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    if table.num_rows != hi - lo:
        return None
    return table


def _parse_columns(records: _Records, author: str) -> _Parsed:
    raw = records.raw
    n = len(raw)
    refused = np.zeros(n, dtype=bool)
    # only objects go to pyarrow (a record that is `null` first in a block crashes it);
    # records that are not UTF-8 are only read by the row code
    objects = _b(pc.starts_with(raw, "{")).to_numpy(zero_copy_only=False)
    for i in records.raw_bytes:
        objects[i] = False
    if objects.all():
        for variant in (author, "string" if author == "object" else "object"):
            table = _typed_parse(raw, 0, n, _columns_schema(variant))
            if table is not None:
                return _Parsed(records, table, variant, refused)
    columns = _columns_schema(author)
    pieces: list[Any] = []
    budget = [_BISECT_BUDGET]

    def nulls(lo: int, hi: int) -> None:
        refused[lo:hi] = True
        pieces.append(pa.table([pa.nulls(hi - lo, f.type) for f in columns], schema=columns))

    def bisect(lo: int, hi: int) -> None:
        """Parse lo..hi (objects only), halving around the records pyarrow refuses."""
        table = _typed_parse(raw, lo, hi, columns) if budget[0] > 0 else None
        if table is not None:
            pieces.append(table)
        elif hi - lo == 1 or budget[0] <= 0:
            budget[0] -= 1
            nulls(lo, hi)
        else:
            mid = (lo + hi) // 2
            bisect(lo, mid)
            bisect(mid, hi)

    lo = 0
    for stop in [*np.flatnonzero(~objects).tolist(), n]:
        if stop > lo:
            bisect(lo, stop)
        if stop < n:
            nulls(stop, stop + 1)
        lo = stop + 1
    table = pa.concat_tables(pieces).combine_chunks() if pieces else columns.empty_table()
    return _Parsed(records, table, author, refused)


# --------------------------------------------------------------------------------------------
# Stage 3: events
# --------------------------------------------------------------------------------------------


def _category(mtype: str) -> tuple[int, str | None]:
    """(category, skip reason) of a message_type, as ChatDownloaderImporter._item reads it."""
    if mtype.startswith("ticker_"):
        return _SKIP, cd.TICKER_REASON
    if mtype in cd._COUNTED_ELSEWHERE:
        return _SKIP, cd._COUNTED_ELSEWHERE[mtype]
    if mtype in cd._COMMENT_TYPES:
        return _COMMENT, None
    if mtype in cd._PAID_TYPES:
        return _PAID, None
    if mtype in cd._MEMBERSHIP_TYPES:
        return _MEMBER, None
    if mtype in cd._GIFT_PURCHASE_TYPES or mtype == "raid":
        return _ROW, None
    shown = mtype if cd._TYPE_NAME.fullmatch(mtype) else "other message type"
    return _SKIP, f"not an audience event ({shown})"


def _b(arr: Any) -> Any:
    """A boolean array without nulls (null → False)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return pc.fill_null(arr, False)


def _nonempty(arr: Any) -> Any:
    """Strings, with "" as null (Python's truthiness of a str)."""
    return pc.if_else(_b(pc.equal(arr, "")), pa.scalar(None, pa.string()), arr)


def _field(struct: Any, name: str) -> Any:
    child = pc.struct_field(struct, name)
    return pc.if_else(pc.is_valid(struct), child, pa.scalar(None, child.type))


@dataclass(slots=True)
class _Money:
    """``parse_money`` + ``validate``'s amount / currency rules, once per distinct text."""

    yen: str
    cache: dict[str, tuple[Decimal, str] | None] = field(default_factory=dict)

    def get(self, text: str) -> tuple[Decimal, str] | None:
        if text not in self.cache:
            if len(self.cache) >= _MONEY_CACHE:
                self.cache.clear()  # a file of ever new amount texts: keep memory flat
            self.cache[text] = self._read(text)
        return self.cache[text]

    def _read(self, text: str) -> tuple[Decimal, str] | None:
        try:
            money = parse_money(text, yen=self.yen)
            amount = schema._parse_amount(format_amount(money.amount))
            currency = schema._parse_currency(money.currency)
        except Exception:  # MoneyError, schema._Reject: the row code says what is wrong
            return None
        if amount is None or currency is None:
            return None
        return amount, currency


_IMPORTER: Final = cd.ChatDownloaderImporter()


def _events(
    parsed: _Parsed, setup: _Setup, repeats: RepeatCounter, money: _Money, unit: str
) -> Block:
    records = parsed.records
    raw = records.raw
    numbers = records.numbers
    n = len(raw)
    cols = parsed.columns
    ctx = setup.ctx

    # --- every record through orjson, the row importer's parser -----------------------
    offsets = np.frombuffer(raw.buffers()[1], dtype=np.int32)[raw.offset : raw.offset + n + 1]
    bounds = offsets.tolist()
    data = memoryview(raw.buffers()[2]) if n else memoryview(b"")

    def raw_bytes(i: int) -> bytes:
        """The record's bytes, as the row importer reads them."""
        found = records.raw_bytes.get(i)
        return found if found is not None else data[bounds[i] : bounds[i + 1]].tobytes()

    broken = np.zeros(n, dtype=bool)
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    for i in range(n):
        try:
            loads(data[bounds[i] : bounds[i + 1]])
        except decode_error:
            broken[i] = True
    for i in records.raw_bytes:
        broken[i] = True
    is_object = _b(pc.starts_with(raw, "{"))
    usable = pc.and_(is_object, pa.array(~(broken | parsed.refused)))

    def col(name: str) -> Any:
        c = cols.column(name)
        return c.chunk(0) if c.num_chunks == 1 else c.combine_chunks()

    # --- message type → category --------------------------------------------------------
    mt = col("message_type")
    uniq = [v for v in pc.unique(mt).to_pylist() if v is not None]
    cats = [_category(v) for v in uniq]
    value_set = pa.array(uniq, pa.string())
    where = pc.index_in(mt, value_set=value_set)
    cat = pc.take(pa.array([c for c, _ in cats], pa.int8()), where)
    reason = pc.take(pa.array([r for _, r in cats], pa.string()), where)
    money_col = col("money")
    amount_col = col("amount")
    paid = pc.or_(pc.is_valid(money_col), pc.is_valid(amount_col))
    no_type = pc.and_(usable, pc.is_null(mt))
    ticker_less: Any = None
    no_type_np = _b(no_type).to_numpy(zero_copy_only=False)
    # 2020 schema: no message_type; a ticker is told by the key ticker_duration (even null)
    presence: dict[int, dict[str, bool]] = {}
    for k in np.flatnonzero(no_type_np).tolist():
        obj = loads(raw_bytes(k))
        presence[k] = {"ticker_duration": "ticker_duration" in obj, "bits": "bits" in obj}
    if presence:
        ticker_less = pa.array(
            [not presence[i]["ticker_duration"] if i in presence else None for i in range(n)],
            pa.bool_(),
        )
        defaulted = pc.if_else(paid, pa.scalar(_PAID, pa.int8()), pa.scalar(_COMMENT, pa.int8()))
        cat = pc.if_else(
            no_type,
            pc.if_else(ticker_less, defaulted, pa.scalar(_SKIP, pa.int8())),
            cat,
        )
        reason = pc.if_else(
            no_type,
            pc.if_else(ticker_less, pa.scalar(None, pa.string()), pa.scalar(cd.TICKER_REASON)),
            reason,
        )
        mt_eff = pc.if_else(
            no_type,
            pc.if_else(paid, pa.scalar("paid_message"), pa.scalar("text_message")),
            mt,
        )
    else:
        mt_eff = mt
    cat = pc.if_else(usable, cat, pa.scalar(_ROW, pa.int8()))
    cat = pc.fill_null(cat, _ROW)
    is_skip = _b(pc.equal(cat, _SKIP))
    is_comment = _b(pc.equal(cat, _COMMENT))
    is_paid = _b(pc.equal(cat, _PAID))
    is_member = _b(pc.equal(cat, _MEMBER))
    candidate = pc.or_(pc.or_(is_comment, is_paid), is_member)
    to_row = pc.invert(pc.or_(candidate, is_skip))  # the row code decides

    def refuse(mask: Any) -> None:
        nonlocal to_row
        to_row = pc.or_(to_row, pc.and_(candidate, _b(mask)))

    # Twitch bits: gift amounts, and "bits" in the record makes it Twitch
    refuse(pc.is_valid(col("bits")))

    # --- time: timestamp in µs (the common case); other units and offsets → row code ------
    stamp = col("timestamp")
    in_us = _b(pc.and_(pc.greater_equal(stamp, 10**14), pc.less(stamp, 10**17)))
    refuse(pc.invert(in_us))
    ms = pc.divide(pc.add(pc.if_else(in_us, stamp, 10**14), 500), 1000)
    refuse(pc.less(ms, schema._TS_MIN_MS))
    refuse(pc.greater_equal(ms, schema._TS_MAX_MS))

    # --- author -----------------------------------------------------------------------------
    author = col("author")
    author_id = col("author_id")
    author_name = col("author_name")
    if parsed.author == "object":
        has_author = pc.is_valid(author)
        aid = _field(author, "id")
        # "id" present with null and "id" absent differ (author.get("id", author_id))
        refuse(pc.and_(pc.and_(has_author, pc.is_null(aid)), pc.is_valid(author_id)))
        vid = pc.if_else(has_author, aid, author_id)
        name = pc.if_else(
            has_author,
            pc.coalesce(
                _nonempty(_field(author, "display_name")),
                _nonempty(_field(author, "name")),
                author_name,
            ),
            author_name,
        )
    else:
        vid = author_id
        name = pc.if_else(pc.is_valid(author), author, author_name)
    vid = _nonempty(vid)
    name = _nonempty(name)
    refuse(pc.greater(pc.utf8_length(vid), schema.MAX_ID))
    refuse(pc.greater(pc.utf8_length(name), schema.MAX_NAME))

    # --- text and id ------------------------------------------------------------------------
    message = col("message")
    text = pc.if_else(is_comment, pc.fill_null(message, ""), _nonempty(message))
    refuse(pc.greater(pc.utf8_length(text), schema.MAX_TEXT))
    message_id = _nonempty(col("message_id"))
    refuse(pc.greater(pc.utf8_length(message_id), schema.MAX_ID))
    refuse(pc.equal(pc.utf8_trim(message_id, characters=_PY_WS), ""))

    # --- platform -------------------------------------------------------------------------
    if ctx.platform is not None:
        row_platform = pa.repeat(pa.scalar(ctx.platform), n)
    else:
        refuse(pc.invert(_b(pc.string_is_ascii(pc.fill_null(vid, "")))))
        youtube = _b(pc.match_substring_regex(vid, r"^UC[A-Za-z0-9_-]{22}$"))
        twitch = _b(pc.match_substring_regex(vid, r"^[0-9]+$"))
        twitch_type = _b(pc.is_in(mt_eff, value_set=pa.array(sorted(cd._TWITCH_TYPES))))
        open_ = pc.invert(pc.or_(pc.or_(youtube, twitch), twitch_type))
        has_bits = np.zeros(n, dtype=bool)
        open_np = _b(pc.and_(open_, candidate)).to_numpy(zero_copy_only=False)
        for k in np.flatnonzero(open_np & ~_b(to_row).to_numpy(zero_copy_only=False)).tolist():
            if k in presence:
                has_bits[k] = presence[k]["bits"]
            else:
                has_bits[k] = "bits" in loads(raw_bytes(k))
        paid_like = pc.or_(
            pc.or_(paid, _b(pc.is_in(mt_eff, value_set=pa.array(sorted(cd._PAID_TYPES))))),
            _b(pc.equal(mt_eff, "membership_item")),
        )
        row_platform = pc.case_when(
            pc.make_struct(
                youtube, pc.or_(pc.or_(twitch, twitch_type), pa.array(has_bits)), paid_like
            ),
            "youtube",
            "twitch",
            "youtube",
        )
    final_platform = (
        pc.fill_null(row_platform, setup.platform) if setup.platform is not None else row_platform
    )

    # --- money of paid messages ---------------------------------------------------------------
    decimal = pa.decimal128(schema.AMOUNT_PRECISION, schema.AMOUNT_SCALE)
    amount = pa.nulls(n, decimal)
    currency = pa.nulls(n, pa.string())
    paid_rows = pc.and_(is_paid, pc.invert(to_row))
    if pc.any(paid_rows).as_py():
        money_text = _field(money_col, "text")
        effective = pc.if_else(
            _b(pc.and_(pc.is_valid(money_col), pc.is_valid(_nonempty(money_text)))),
            money_text,
            amount_col,
        )
        effective = pc.if_else(paid_rows, effective, pa.scalar(None, pa.string()))
        blank = pc.equal(pc.utf8_trim(effective, characters=_PY_WS), "")
        refuse(pc.and_(paid_rows, pc.or_(pc.is_null(effective), _b(blank))))
        texts = [t for t in pc.unique(effective).to_pylist() if t is not None]
        read = [money.get(t) for t in texts]
        idx = pc.index_in(effective, value_set=pa.array(texts, pa.string()))
        amount = pc.take(pa.array([r[0] if r else None for r in read], decimal), idx)
        currency = pc.take(pa.array([r[1] if r else None for r in read], pa.string()), idx)
        refuse(pc.and_(paid_rows, pc.is_null(amount)))

    # --- the rows the row code handles, in file order ------------------------------------------
    to_row_np = _b(to_row).to_numpy(zero_copy_only=False)
    fast = pc.and_(candidate, pc.invert(to_row))
    fast_np = _b(fast).to_numpy(zero_copy_only=False)
    skip_np = is_skip.to_numpy(zero_copy_only=False) & ~to_row_np
    id_null_np = pc.is_null(message_id).to_numpy(zero_copy_only=False)

    def location(i: int) -> str:
        return f"{unit} {numbers[i]}"

    def text_of(i: int) -> str:
        return cd.decode_raw(raw_bytes(i))

    row_items: dict[int, Item] = {}
    for k in np.flatnonzero(to_row_np).tolist():
        record = cd.JsonValue(location(k), raw_bytes(k))
        row_items[k] = _IMPORTER._item(record, cd._decode(record), ctx)

    # ids: one RepeatCounter, fed in file order (table rows and row-code records alike)
    hashed: dict[int, str] = {}
    for i in sorted(
        [int(i) for i in np.flatnonzero(fast_np & id_null_np)]
        + [i for i, item in row_items.items()
           if isinstance(item, Record) and not item.fields.get("event_id")]
    ):  # fmt: skip
        item = row_items.get(i)
        hashed_raw = item.raw.encode() if isinstance(item, Record) else raw_bytes(i)
        base = schema.stable_event_id(hashed_raw)
        k = repeats.occurrence(base)
        event_id = base if k == 0 else f"{base}#{k}"
        if isinstance(item, Record):
            item.fields["event_id"] = event_id
        else:
            hashed[i] = event_id

    slow_events: list[tuple[int, schema.NormalizedEvent]] = []
    fallback: list[dict[str, Any]] = []
    items: list[Item] = []
    skips = {int(i) for i in np.flatnonzero(skip_np)}
    reasons = reason.to_pylist() if skips else []
    for i in sorted(set(row_items) | skips):
        item = row_items.get(i)
        if item is None:
            item = Skipped(location(i), reasons[i], text_of(i))
        elif isinstance(item, Record):
            fields = {k: v for k, v in item.fields.items() if not k.startswith("_")}
            result = schema.validate(
                fields,
                workspace_id=setup.workspace_id,
                session_id=setup.session_id,
                platform=setup.platform,
            )
            if isinstance(result, schema.NormalizedEvent):
                slow_events.append((i, with_raw(result, item.raw)))
                continue
        fallback.append({"number": int(numbers[i]), "location": item.location, "raw": item.raw})
        items.append(item)

    # --- the table ----------------------------------------------------------------------------
    event_id = message_id
    if hashed:
        order = sorted(hashed)
        mask = np.zeros(n, dtype=bool)
        mask[order] = True
        event_id = pc.replace_with_mask(
            message_id, pa.array(mask), pa.array([hashed[i] for i in order], pa.string())
        )
    kind = pc.if_else(is_comment, pa.scalar("comment"), pa.scalar("gift"))
    quantity = pc.if_else(is_comment, pa.scalar(None, pa.int64()), pa.scalar(1, pa.int64()))
    m = int(fast_np.sum())
    now_ms = time.time_ns() // 1_000_000
    ts_type = pa.timestamp("ms", tz="UTC")
    varying = pa.table(
        {
            "event_id": event_id,
            "ts": ms,
            "kind": kind,
            "viewer_id": vid,
            "viewer_name": name,
            "text": text,
            "quantity": quantity,
            "amount": amount,
            "currency": currency,
            "platform": final_platform,
            "raw": raw,
        }
    ).filter(pa.array(fast_np))  # one filter for all columns (much cheaper than one each)

    def f(name: str) -> Any:
        column = varying.column(name)
        return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()

    arrays = [
        f("event_id"),
        pa.repeat(pa.scalar(setup.workspace_id, pa.int64()), m),
        pa.repeat(pa.scalar(setup.session_id, pa.int64()), m),
        f("ts").cast(ts_type).cast(schema._TS_TYPE),
        f("kind"),
        f("viewer_id"),
        f("viewer_name"),
        f("text"),
        f("quantity"),
        f("amount"),
        f("currency"),
        pa.nulls(m, pa.string()),
        pa.nulls(m, pa.string()),
        f("platform").cast(pa.string()),
        f("raw"),
        pa.repeat(pa.scalar(now_ms, pa.int64()), m).cast(ts_type).cast(schema._TS_TYPE),
    ]
    table = pa.Table.from_arrays(arrays, schema=schema.ARROW_SCHEMA)
    row_numbers = pa.array(numbers[fast_np])
    if slow_events:
        slow = schema.to_arrow([e for _, e in slow_events])
        at = np.concatenate([np.flatnonzero(fast_np), [i for i, _ in slow_events]])
        rank = np.argsort(at, kind="stable")
        table = pa.concat_tables([table, slow]).take(pa.array(rank))
        row_numbers = pa.array(numbers[at[rank]])
    return Block(
        table=table,
        fallback=fallback,
        items=items,
        records=n,
        first_row=int(numbers[0]) if n else 0,
        last_row=int(numbers[-1]) if n else 0,
        row_numbers=row_numbers,
    )


# --------------------------------------------------------------------------------------------
# The pipeline
# --------------------------------------------------------------------------------------------


def _stage(
    source: Callable[[threading.Event], Iterator[Any]],
    stop: threading.Event,
    name: str,
    depth: int = 1,
) -> tuple[queue.Queue[Any], threading.Thread]:
    """Run ``source`` in a thread, handing its values over a bounded queue."""
    handoff: queue.Queue[Any] = queue.Queue(maxsize=depth)

    def put(value: Any) -> bool:
        while not stop.is_set():
            try:
                handoff.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for value in source(stop):
                if not put(value):
                    return
            put(_DONE)
        except BaseException as exc:  # handed to the consumer
            put(exc)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return handoff, thread


def _drain(stop: threading.Event, pairs: list[tuple[queue.Queue[Any], threading.Thread]]) -> None:
    stop.set()
    for handoff, thread in pairs:
        while thread.is_alive():
            with contextlib.suppress(queue.Empty):
                handoff.get(timeout=0.05)
        thread.join()


def _blocks(setup: _Setup, repeats: RepeatCounter) -> Iterator[Block]:
    stop = threading.Event()
    unit = "item" if setup.shape == "array" else "line"
    reader = _array_records if setup.shape == "array" else _line_records
    records_q, records_t = _stage(
        lambda s: reader(setup.path, setup.rows, s), stop, "fastchat-records"
    )

    def columns(s: threading.Event) -> Iterator[Any]:
        author = setup.author
        while not s.is_set():
            try:
                got = records_q.get(timeout=0.1)
            except queue.Empty:
                continue  # (and see whether the consumer has gone)
            if got is _DONE:
                return
            if isinstance(got, BaseException):
                raise got
            parsed = _parse_columns(got, author)
            author = parsed.author
            yield parsed

    parsed_q, parsed_t = _stage(columns, stop, "fastchat-columns")
    money = _Money(setup.ctx.yen)
    delivered = 0
    try:
        while True:
            got = parsed_q.get()
            if got is _DONE:
                return
            if isinstance(got, _Unreadable):
                raise FastPathAborted(delivered, repeats, str(got))
            if isinstance(got, BaseException):
                raise got
            block = _events(got, setup, repeats, money, unit)
            if block.records:
                delivered = block.last_row
            yield block
    finally:
        _drain(stop, [(parsed_q, parsed_t), (records_q, records_t)])
