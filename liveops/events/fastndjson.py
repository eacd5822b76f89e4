"""A columnar fast path for NDJSON ingest bodies (no Django).

:func:`fast_prepare` reads an NDJSON body (already gunzipped) with ``pyarrow.json`` (C++,
without the GIL) and validates it with ``pyarrow.compute``. It *accepts* only rows it can
prove the row path (``orjson.loads(line)`` + ``schema.validate``, as ``ingest.parse_body`` and
``ingest.prepare`` do) would accept with the same values; every other row is a *fallback*
row, run through that very row path here, one row at a time. The result, a
:class:`FastBatch`, holds what ``ingest.Prepared`` holds — the events as an Arrow table with
``schema.ARROW_SCHEMA`` in row order, their row indexes, the rejections — and
:func:`outcome_of` turns it into the same ``ingest.Outcome`` as ``ingest.outcome_of``, with
Arrow compute instead of a loop per event. :func:`ndjson_text` is ``parse_body``'s prelude
(gunzip, JSON array or NDJSON).

``raw`` is the line as sent: for NDJSON bodies the stored ``raw`` of an event (and of a
rejected row) is its line, stripped of surrounding whitespace (``line.strip().decode()``),
instead of ``orjson.dumps(orjson.loads(line))``. The two differ only in formatting (key
spacing, ``\\u`` escapes, number spelling, repeated keys); proving them equal column by
column is not possible cheaply, and the line as sent is the better audit record. The row
path must do the same for NDJSON bodies (``ingest.prepare`` keeping each row's line with
``with_raw``), so that both paths store identical rows. Validation itself is unchanged: the
64 KiB limit still applies to the row as ``schema.validate`` serialises it.

Rows: a row is a line of ``body.lstrip().splitlines()`` that is not blank (``bytes.strip``),
numbered from 0 in that order ("item N"), exactly as ``parse_body`` numbers them.

Fast rows (the common shape of well-behaved clients):

* ``event_id`` a string that is not blank, or an integer; ``kind`` a known kind after
  ``strip().lower()`` (ASCII); ``ts`` an integer or a float (epoch s / ms / µs / ns by
  magnitude; floats whose ms fall within 0.01 of a half go to the row path), a string of
  digits, or an ISO-8601 string ``YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]]`` ending in ``Z`` or
  ``±HH:MM``; in 2000..2100;
* ``viewer_id`` / ``product_id`` strings or integers, ``viewer_name`` / ``text`` /
  ``source`` / ``platform`` strings, all within their length limits;
* ``quantity`` an integer ≥ 0, a whole float below 2**53, or a string of digits;
  ``amount`` ≥ 0 with ≤ 4 decimals and < 1e14, as an integer, a plain decimal string
  (``12.50``, ``7``, ``7.``), or a JSON number with a fraction only below 1e11 (≤ 15
  significant digits: the float's shortest repr is then the number as written);
  ``currency`` 3 ASCII letters after ``strip().upper()``;
* the kind rules of ``schema.validate``; ``workspace_id`` / ``session_id`` absent, null or
  equal to the caller's (``7`` or ``"7"``);
* other keys with null, boolean, integer or string values (or lists / objects of those).

Fallback rows (the row path decides, with its exact messages): rows without ``event_id``
(their id is the hash of the canonical JSON), every row the row path may reject, extra keys
holding floats, lines longer than 64 KiB − 256 bytes, values of other shapes (``" 12"``,
``+5``, naive or exotic ISO strings, non-ASCII kinds …).

Types: pyarrow reads each key as one JSON type. ``amount`` numbers are read as float64
(pyarrow's decimal conversion of JSON numbers overflows silently: ``123e36``), and string
amounts are renamed before reading (``"amount":"`` → ``"amount\\u0000s":"``). A key whose
type changes from row to row (``viewer_id`` 12 / ``"a1"``, ``ts`` 1780000000000 /
``"2026-06-01T12:00:00Z"``, ``text`` 5 / ``"hi"``, an extra key …) is renamed by type and the
body read again (``"k":5`` → ``"k\\u0000":5``; strings keep the name, objects, arrays and
booleans get names of their own); floats in ``ts`` / ``quantity`` make them float64. Only
keys can match ``"k":`` in valid JSON; a key spelled with escapes is not renamed, so pyarrow
sees the conflict again (→ None). A renamed known key can hide a repeated key from pyarrow
(orjson keeps the last one), so rows where it may have been renamed go to the row path if
they name it twice or contain a backslash (``\\u`` escapes) anywhere.

``None`` (the caller runs ``parse_body`` + ``prepare`` on the whole body) when the body is not
UTF-8, starts with a byte-order mark, has a lone ``\\r``, a line that is not a JSON object or
that ``orjson`` refuses, more than ``MAX_ROWS`` rows, or when ``pyarrow`` cannot read it: a
key repeated in a row, floats in ids, numbers beyond int64, NaN, an extra key whose nested
types change, a needed renaming when the body contains ``\\u0000`` …
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import orjson
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.json as pajson  # type: ignore[import-untyped]

from liveops.events import schema
from liveops.events.ingest import MAX_BODY_BYTES, MAX_ROWS, Outcome, _gunzip, with_raw
from liveops.events.schema import NormalizedEvent, Rejection

__all__ = ["FastBatch", "fast_prepare", "ndjson_text", "outcome_of"]

#: Characters ``str.strip()`` removes (``str.isspace``), for ``pc.utf8_trim``.
PY_WHITESPACE: Final = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
#: Characters ``bytes.strip()`` removes.
_BYTES_WHITESPACE: Final = " \t\n\r\x0b\x0c"

_MARK: Final = "\x00"  # suffix of renamed keys (see _Plan)
_MARK_JSON: Final = b"\\u0000"  # how the suffix is written; a body containing it → None
_BOM: Final = b"\xef\xbb\xbf"
#: Longer lines go to the row path, which checks the size of the row re-serialised: that is
#: never longer than the line, but for floats in ts / quantity / amount (``1e9`` → 12 bytes).
_RAW_LIMIT: Final = schema.MAX_RAW_BYTES - 256

_AMOUNT: Final = pa.decimal128(schema.AMOUNT_PRECISION, schema.AMOUNT_SCALE)
_MS: Final = pa.timestamp("ms", tz="UTC")
_US_UTC: Final = pa.timestamp("us", tz="UTC")

#: Fields that may be strings in one row and numbers in another: their number type.
_SPLITTABLE: Final[dict[str, Any]] = {
    "event_id": pa.int64(),
    "viewer_id": pa.int64(),
    "product_id": pa.int64(),
    "ts": pa.int64(),
    "quantity": pa.int64(),
    "workspace_id": pa.int64(),
    "session_id": pa.int64(),
}
_DEFAULT_GUESS: Final[dict[str, str]] = {
    "event_id": "s",
    "viewer_id": "s",
    "product_id": "s",
    "ts": "n",
    "quantity": "n",
    "workspace_id": "n",
    "session_id": "n",
}
_STRINGS: Final = ("kind", "viewer_name", "text", "currency", "source", "platform")
_KNOWN: Final = frozenset(_SPLITTABLE) | frozenset(_STRINGS) | {"amount"}
#: amount: JSON numbers are read as float64 under "amount"; strings are renamed before
#: reading (pyarrow's decimal conversion of JSON numbers overflows silently, e.g. 123e36).
_AMOUNT_TEXT: Final = "amount" + "\x00s"
_AMOUNT_STRING_KEYS: Final = (b'"amount":"', b'"amount": "')
_FLOATABLE: Final = ("ts", "quantity")  # float64 columns when floats are sent
_KINDS: Final = pa.array(sorted(schema.KINDS), pa.string())
_ORDER_REFUND: Final = pa.array(["order", "refund"], pa.string())

_HM = r"([01][0-9]|2[0-3]):[0-5][0-9]"
_ISO_AWARE_RE: Final = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[T ]"
    + _HM
    + r"(:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-]"
    + _HM
    + r")$"
)
_DIGITS_RE: Final = r"^[0-9]{1,18}$"
_AMOUNT_TEXT_RE: Final = r"^[0-9]{1,14}(\.[0-9]{0,4}0*)?$"
_CHANGED_RE: Final = re.compile(r"Column\(/([^)]*)\) changed from")

#: Tests set it: an unforeseen error in the column checks raises instead of giving None.
RAISE_ERRORS = False

_BLOCK: Final = 1 << 20
#: One block (most bodies): read in the calling thread, a hand-off to the pool costs more.
_READ_ONE: Final = pajson.ReadOptions(use_threads=False, block_size=_BLOCK)
_READ_MANY: Final = pajson.ReadOptions(use_threads=True, block_size=_BLOCK)


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class FastBatch:
    """One NDJSON batch after validation: what ``ingest.Prepared`` holds, in Arrow.

    ``table`` has ``schema.ARROW_SCHEMA``: every event validation accepted (fast and
    fallback rows), in row order; ``event_index`` (int64 Arrow array) is the row index of
    each. ``rejections`` are ``(row index, Rejection, raw line)`` in row order, as in
    ``Prepared``. ``fallback`` lists the rows that went through the row path.
    """

    workspace_id: int
    session_id: int
    sent: int
    table: Any
    event_index: Any
    rejections: list[tuple[int, Rejection, str]] = field(default_factory=list)
    fallback: list[int] = field(default_factory=list)

    @property
    def size(self) -> int:
        """Number of events (``len(Prepared.events)``)."""
        return int(self.table.num_rows)


# --------------------------------------------------------------------------------------------
# Body
# --------------------------------------------------------------------------------------------


def ndjson_text(body: bytes, *, content_type: str = "", content_encoding: str = "") -> bytes | None:
    """The NDJSON text of a request body as ``parse_body`` reads it, or None.

    None when ``parse_body`` would read a JSON array, or would refuse the body for its size
    or emptiness (call ``parse_body`` then: it raises the right ``BodyError``). Raises
    ``BodyError`` for bad gzip, exactly as ``parse_body`` (same function).
    """
    if len(body) > MAX_BODY_BYTES:
        return None
    if content_encoding.strip().lower() == "gzip" or body[:2] == b"\x1f\x8b":
        body = _gunzip(body)
    text = body.lstrip()
    if not text or (text[:1] == b"[" and "ndjson" not in content_type):
        return None
    return text


def _lines(text: bytes) -> Any:
    """The rows' lines (stripped, non-blank) as an Arrow string array, or None."""
    try:
        utf8 = pa.array([text], pa.binary()).cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowException):
        return None  # not UTF-8: orjson refuses it, parse_body answers 400
    parts = pc.split_pattern(utf8, "\n").flatten()
    trimmed = pc.utf8_trim(parts, characters=_BYTES_WHITESPACE)
    return pc.filter(trimmed, pc.greater(pc.binary_length(trimmed), 0))


@dataclass(slots=True)
class _Plan:
    """How to read the body: the JSON type of each known field, the keys split by type.

    ``guess`` says whether a splittable field (:data:`_SPLITTABLE`) is read as a string
    (``"s"``), an int64 (``"n"``) or a float64 (``"f"``: ``ts`` and ``quantity`` sent as
    floats). A key of ``split`` (known or not) is read per JSON type: strings under its own
    name, numbers and nulls under ``key + "\\x00"``, objects, arrays and booleans under
    ``key + "\\x00o"`` / ``"\\x00a"`` / ``"\\x00b"``. ``amount`` is a float64 column; its
    string values, when the body has some (``amount_text``), are renamed to ``amount\\x00s``.
    """

    guess: dict[str, str]
    split: list[str] = field(default_factory=list)
    amount_text: bool = False

    def number(self, name: str) -> Any:
        return pa.float64() if self.guess[name] == "f" else _SPLITTABLE[name]

    def schema(self) -> Any:
        fields = [pa.field(name, pa.string()) for name in _STRINGS]
        for name in _SPLITTABLE:
            number = self.number(name)
            if name in self.split:
                fields.append(pa.field(name, pa.string()))
                fields.append(pa.field(name + _MARK, number))
            else:
                fields.append(pa.field(name, pa.string() if self.guess[name] == "s" else number))
        fields.append(pa.field("amount", pa.float64()))
        if self.amount_text:
            fields.append(pa.field(_AMOUNT_TEXT, pa.string()))
        return pa.schema(fields)


def _plan_of(line: str) -> _Plan | None:
    """The first row's value types as the initial guess (None: not a JSON object)."""
    try:
        first = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(first, dict):
        return None
    guess = dict(_DEFAULT_GUESS)
    for name in _SPLITTABLE:
        value = first.get(name)  # (amount: always a float64 column + renamed strings)
        if isinstance(value, str):
            guess[name] = "s"
        elif isinstance(value, int) and not isinstance(value, bool):
            guess[name] = "n"
        elif isinstance(value, float) and name in _FLOATABLE:
            guess[name] = "f"
    return _Plan(guess)


def _split_keys(text: bytes, keys: list[str], amount_text: bool) -> Any:
    """The body with each key of ``keys`` renamed by the JSON type of its value (see _Plan).

    ``"k":`` is, in valid JSON, always the end of a key named ``k`` (a quote inside a string
    is escaped), so only keys are renamed; keys written with escapes are not, and pyarrow
    then reports a type conflict again (→ None).
    """
    arr = pa.array([text], pa.binary())
    if amount_text:
        for sep in (":", ": "):
            arr = pc.replace_substring(arr, f'"amount"{sep}"', f'"amount\\u0000s"{sep}"')
    for key in keys:
        name = orjson.dumps(key).decode()[1:-1]
        marked = f'"{name}\\u0000"'
        arr = pc.replace_substring(arr, f'"{name}":', marked + ":")
        for sep in (":", ": "):
            arr = pc.replace_substring(arr, f'{marked}{sep}"', f'"{name}"{sep}"')
            for start, suffix in (("{", "o"), ("[", "a"), ("t", "b"), ("f", "b")):
                arr = pc.replace_substring(
                    arr, f"{marked}{sep}{start}", f'"{name}\\u0000{suffix}"{sep}{start}'
                )
    return arr[0].as_buffer()


#: At most this many keys are split before the fast path gives up on a body.
_MAX_SPLITS: Final = 6


def _read(text: bytes, plan: _Plan) -> Any:
    """Read the body; on a type conflict in a top-level key, split that key and read again."""
    plan.amount_text = any(key in text for key in _AMOUNT_STRING_KEYS)
    while True:
        renamed = plan.split or plan.amount_text
        if renamed and _MARK_JSON in text:
            return None  # the body could contain renamed keys already
        data = _split_keys(text, plan.split, plan.amount_text) if renamed else text
        options = pajson.ParseOptions(
            explicit_schema=plan.schema(), unexpected_field_behavior="infer"
        )
        try:
            return pajson.read_json(
                pa.BufferReader(data),
                read_options=_READ_ONE if len(text) < _BLOCK else _READ_MANY,
                parse_options=options,
            )
        except (pa.ArrowInvalid, pa.ArrowException, UnicodeDecodeError) as exc:
            message = str(exc)
        found = _CHANGED_RE.search(message)
        if found:
            key = found.group(1)
        elif "to int64" in message:  # a float where integers were expected: ts or quantity?
            floatable = [n for n in _FLOATABLE if plan.number(n) == pa.int64()]
            if not floatable:
                return None
            plan.guess[floatable[0]] = "f"
            continue
        else:
            return None
        if (
            key == "amount"
            or "/" in key
            or _MARK in key
            or key in plan.split
            or len(plan.split) >= _MAX_SPLITS
        ):
            return None
        plan.split.append(key)


# --------------------------------------------------------------------------------------------
# Column checks
# --------------------------------------------------------------------------------------------


def _safe_type(type_: Any, depth: int = 0) -> bool:
    """An extra key's type whose values orjson reads as pyarrow did (no NaN, no deep nest)."""
    if depth > 64:
        return False
    if pa.types.is_struct(type_):
        return all(_safe_type(type_.field(i).type, depth + 1) for i in range(type_.num_fields))
    if pa.types.is_list(type_) or pa.types.is_large_list(type_):
        return _safe_type(type_.value_type, depth + 1)
    return bool(
        pa.types.is_null(type_)
        or pa.types.is_boolean(type_)
        or pa.types.is_integer(type_)
        or pa.types.is_string(type_)
        or pa.types.is_large_string(type_)
        or pa.types.is_timestamp(type_)  # inferred from ISO-looking strings
    )


def _present(arr: Any) -> bool:
    return arr is not None and arr.null_count < len(arr)


def _round_div(values: Any, divisor: int) -> Any:
    """values / divisor for values > 0, rounded half to even (as ``round(Decimal)``)."""
    q = pc.divide(values, divisor)
    r = pc.subtract(values, pc.multiply(q, divisor))
    twice = pc.multiply(r, 2)
    odd = pc.equal(pc.bit_wise_and(q, 1), 1)
    up = pc.or_(pc.greater(twice, divisor), pc.and_(pc.equal(twice, divisor), odd))
    return pc.add(q, pc.cast(up, pa.int64()))


def _epoch_ms(values: Any) -> Any:
    """Epoch s / ms / µs / ns (by magnitude, as schema._epoch_to_ms) → ms; null if ≤ 0."""
    positive = pc.greater(values, 0)
    seconds = pc.and_(positive, pc.less(values, 10**11))
    return pc.case_when(
        pc.make_struct(
            seconds,
            pc.and_(positive, pc.less(values, 10**14)),
            pc.and_(positive, pc.less(values, 10**17)),
            positive,
        ),
        pc.multiply_checked(pc.if_else(seconds, values, 0), 1000),
        values,
        _round_div(values, 1000),
        _round_div(values, 1_000_000),
    )


def _amount_of_floats(values: Any, refuse: Any) -> Any:
    """JSON numbers (float64) → decimal128(18, 4) as the row path reads them, else refused.

    The row path takes ``Decimal(int)`` or ``Decimal(repr(float))`` (the same for whole
    values below 1e14, which are exact in float64). Otherwise the value ``k / 10**4`` with
    ``k = round(v * 10**4) < 10**15`` is proven when ``k / 1e4 == v`` in float64: both it and
    ``repr(v)`` have ≤ 15 significant digits and round to ``v``, so they are the same number
    (15 digits survive decimal → double → decimal). Anything else goes to the row path.
    """
    nonneg = pc.greater_equal(values, 0.0)
    whole = pc.and_(pc.and_(nonneg, pc.less(values, 1e14)), pc.equal(pc.floor(values), values))
    scaled = pc.round(pc.multiply(values, 1e4))
    exact = pc.and_(
        pc.and_(nonneg, pc.less(values, 1e11)), pc.equal(pc.divide(scaled, 1e4), values)
    )
    refuse(pc.invert(pc.or_(whole, exact)))
    units = pc.coalesce(
        pc.multiply(pc.cast(pc.if_else(whole, values, None), pa.int64()), 10_000),
        pc.cast(pc.if_else(exact, scaled, None), pa.int64()),
    )
    digits = pc.utf8_lpad(pc.cast(units, pa.string()), width=5, padding="0")
    return pc.cast(pc.replace_substring_regex(digits, r"^([0-9]+)([0-9]{4})$", r"\1.\2"), _AMOUNT)


#: float ts whose ms lie this close to a half are left to the row path (see _epoch_ms_float)
_HALF_MARGIN: Final = 0.01


def _epoch_ms_float(values: Any) -> Any:
    """Epoch s / ms / µs / ns sent as JSON floats → ms, null where not proven.

    The row path rounds ``Decimal(float) * unit`` half to even. Here the same double is
    scaled in float64: the error (< 1e-3 ms for any ts of 2000..2100, a few ulps) only
    matters near a half, so results within ``_HALF_MARGIN`` of one are left to the row
    path; elsewhere the nearest integer is the row path's.
    """
    positive = pc.greater(values, 0.0)
    scaled = pc.case_when(
        pc.make_struct(
            pc.and_(positive, pc.less(values, 1e11)),
            pc.and_(positive, pc.less(values, 1e14)),
            pc.and_(positive, pc.less(values, 1e17)),
            positive,
        ),
        pc.multiply(values, 1000.0),
        values,
        pc.divide(values, 1000.0),
        pc.divide(values, 1e6),
    )
    fine = pc.and_(
        pc.and_(
            pc.greater_equal(scaled, float(schema._TS_MIN_MS - 1)),
            pc.less(scaled, float(schema._TS_MAX_MS + 1)),
        ),
        pc.greater(pc.abs(pc.subtract(pc.subtract(scaled, pc.floor(scaled)), 0.5)), _HALF_MARGIN),
    )
    return pc.cast(pc.round(pc.if_else(fine, scaled, None)), pa.int64())


def _ts_text_ms(text: Any) -> Any:
    """Epoch ms of ts strings (digits, or aware ISO-8601), null where not proven."""
    trimmed = pc.utf8_trim(text, characters=PY_WHITESPACE)
    digits = pc.match_substring_regex(trimmed, _DIGITS_RE)
    ms = _epoch_ms(pc.cast(pc.if_else(digits, trimmed, None), pa.int64()))
    iso = pc.match_substring_regex(trimmed, _ISO_AWARE_RE)
    if pc.any(iso).as_py():
        try:
            stamps = pc.cast(pc.if_else(iso, trimmed, None), _US_UTC)
            us = pc.cast(stamps, pa.int64())
            ms = pc.coalesce(ms, pc.divide(pc.add(us, 500), 1000))
        except (pa.ArrowInvalid, pa.ArrowException):
            pass  # an impossible date (Feb 30) among them: the row path handles them all
    return ms


@dataclass(slots=True)
class _Checks:
    n: int
    masks: list[Any] = field(default_factory=list)

    def refuse(self, mask: Any) -> None:
        """Rows where ``mask`` is true go to the row path (null: not applicable)."""
        self.masks.append(mask)

    def bad(self) -> Any:
        if not self.masks:
            return pa.repeat(pa.scalar(False), self.n)
        out = self.masks[0]
        for mask in self.masks[1:]:
            out = pc.or_kleene(out, mask)
        return pc.fill_null(out, False)


def _col(table: Any, name: str) -> Any:
    """A column as one Arrow array."""
    col = table.column(name)
    return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()


def _mask_of(n: int, rows: Any) -> Any:
    """A boolean array of ``n`` rows, true at ``rows``."""
    mask = np.zeros(n, dtype=bool)
    mask[rows.to_numpy()] = True
    return pa.array(mask)


def _fields(table: Any, plan: _Plan, name: str) -> tuple[Any, Any]:
    """(number column or None, string column or None) of a splittable field or amount."""
    if name == "amount":
        return _col(table, "amount"), _col(table, _AMOUNT_TEXT) if plan.amount_text else None
    if name in plan.split:
        return _col(table, name + _MARK), _col(table, name)
    if plan.guess[name] == "s":
        return None, _col(table, name)
    return _col(table, name), None


def _columns(
    table: Any,
    lines: Any,
    plan: _Plan,
    *,
    backslash: bool,
    workspace_id: int,
    session_id: int,
    platform: str | None,
) -> tuple[dict[str, Any], Any]:
    """The ARROW_SCHEMA columns of every row + the mask of rows the row path must decide."""
    n = table.num_rows
    checks = _Checks(n)
    refuse = checks.refuse
    explicit = set(plan.schema().names)
    for name in table.column_names:
        if name in explicit:
            continue
        if name.split(_MARK)[0] in _KNOWN or not _safe_type(table.schema.field(name).type):
            refuse(pc.is_valid(_col(table, name)))  # a known field of the wrong type, a float
    refuse(pc.greater(pc.binary_length(lines), _RAW_LIMIT))

    # A renamed key hides a repeated key from pyarrow (orjson keeps the last one): a row
    # where a known key may have been renamed must hold it once, and no escaped keys. For a
    # split key that is any row naming it; for amount, the rows with a renamed string.
    renamed = [
        (name, pc.match_substring(lines, f'"{name}"')) for name in plan.split if name in _KNOWN
    ]
    if plan.amount_text:
        renamed.append(("amount", pc.is_valid(_col(table, _AMOUNT_TEXT))))
    for name, mask in renamed:
        rows = pc.indices_nonzero(mask)
        if not len(rows):
            continue
        some = pc.take(lines, rows)
        twice = pc.greater(pc.count_substring_regex(some, f'"{name}"[ \\t]*:'), 1)
        if backslash:
            twice = pc.or_(twice, pc.match_substring(some, "\\"))
        refuse(_mask_of(n, pc.filter(rows, twice)))

    # workspace_id / session_id in the row must be the caller's
    for name, expected in (("workspace_id", workspace_id), ("session_id", session_id)):
        num, txt = _fields(table, plan, name)
        if _present(num):
            refuse(pc.not_equal(num, expected))
        if _present(txt):
            refuse(pc.not_equal(pc.utf8_trim(txt, characters=PY_WHITESPACE), str(expected)))

    out: dict[str, Any] = {}

    def ident(name: str, limit: int) -> Any:
        num, txt = _fields(table, plan, name)
        value = None
        if _present(txt):
            refuse(pc.greater(pc.utf8_length(txt), limit))
            value = txt
        if _present(num):
            as_text = pc.cast(num, pa.string())
            value = as_text if value is None else pc.coalesce(value, as_text)
        return value if value is not None else pa.nulls(n, pa.string())

    event_id = ident("event_id", schema.MAX_ID)
    refuse(pc.is_null(event_id))
    refuse(pc.equal(pc.utf8_length(pc.utf8_trim(event_id, characters=PY_WHITESPACE)), 0))
    out["event_id"] = event_id
    out["viewer_id"] = ident("viewer_id", schema.MAX_ID)
    product_id = ident("product_id", schema.MAX_ID)
    out["product_id"] = product_id

    # kind: strip().lower() in KINDS (ASCII only: Unicode case mapping is the row path's)
    raw_kind = _col(table, "kind")
    exact = pc.is_in(raw_kind, value_set=_KINDS)
    if pc.all(exact).as_py():
        kind = raw_kind
    else:
        trimmed = pc.utf8_trim(raw_kind, characters=PY_WHITESPACE)
        lowered = pc.if_else(pc.string_is_ascii(trimmed), pc.ascii_lower(trimmed), None)
        kind = pc.if_else(pc.is_in(lowered, value_set=_KINDS), lowered, None)
        refuse(pc.is_null(kind))
    out["kind"] = kind

    # ts
    num, txt = _fields(table, plan, "ts")
    ms = None
    if _present(num):
        ms = _epoch_ms_float(num) if pa.types.is_floating(num.type) else _epoch_ms(num)
    if _present(txt):
        text_ms = _ts_text_ms(txt)
        ms = text_ms if ms is None else pc.coalesce(ms, text_ms)
    if ms is None:
        ms = pa.nulls(n, pa.int64())
    in_range = pc.and_(pc.greater_equal(ms, schema._TS_MIN_MS), pc.less(ms, schema._TS_MAX_MS))
    refuse(pc.invert(pc.fill_null(in_range, False)))
    out["ts"] = ms

    def text_field(name: str, limit: int) -> Any:
        col = _col(table, name)
        if _present(col):
            refuse(pc.greater(pc.utf8_length(col), limit))
        return col

    out["viewer_name"] = text_field("viewer_name", schema.MAX_NAME)
    text = text_field("text", schema.MAX_TEXT)
    out["text"] = text
    out["source"] = text_field("source", schema.MAX_SOURCE)
    row_platform = text_field("platform", schema.MAX_PLATFORM)
    out["platform"] = (
        row_platform
        if platform is None or row_platform.null_count == 0
        else pc.fill_null(row_platform, platform)
    )

    # quantity: integers ≥ 0, or strings of digits
    num, txt = _fields(table, plan, "quantity")
    quantity = None
    if _present(num):
        if pa.types.is_floating(num.type):  # whole floats below 2**53: int(value) is exact
            whole = pc.and_(
                pc.and_(pc.greater_equal(num, 0.0), pc.less(num, float(2**53))),
                pc.equal(pc.floor(num), num),
            )
            refuse(pc.invert(whole))
            num = pc.cast(pc.if_else(whole, num, None), pa.int64())
        refuse(pc.less(num, 0))
        quantity = num
    if _present(txt):
        digits = pc.match_substring_regex(txt, _DIGITS_RE)
        refuse(pc.invert(digits))
        as_int = pc.cast(pc.if_else(digits, txt, None), pa.int64())
        quantity = as_int if quantity is None else pc.coalesce(quantity, as_int)
    if quantity is None:
        quantity = pa.nulls(n, pa.int64())

    # amount: exact, ≥ 0, ≤ 4 decimals, < 1e14 (as Decimal(repr(float)) / Decimal(int))
    num, txt = _fields(table, plan, "amount")
    amount = None
    if _present(num):
        amount = _amount_of_floats(num, refuse)
    if _present(txt):
        plain = pc.match_substring_regex(txt, _AMOUNT_TEXT_RE)
        refuse(pc.invert(plain))
        norm = pc.replace_substring_regex(
            pc.if_else(plain, txt, None), r"^([0-9]+\.[0-9]{0,4})0*$", r"\1"
        )
        as_dec = pc.cast(norm, _AMOUNT)
        amount = as_dec if amount is None else pc.coalesce(amount, as_dec)
    if amount is None:
        amount = pa.nulls(n, _AMOUNT)

    # currency: strip().upper() is 3 letters (ASCII)
    cur = _col(table, "currency")
    if _present(cur):
        trimmed = pc.utf8_trim(cur, characters=PY_WHITESPACE)
        upper = pc.ascii_upper(trimmed)
        fine = pc.and_(pc.string_is_ascii(trimmed), pc.match_substring_regex(upper, "^[A-Z]{3}$"))
        refuse(pc.invert(fine))
        cur = upper
    out["currency"] = cur

    # kind rules
    no_q = pc.is_null(quantity)
    no_a = pc.is_null(amount)
    refuse(pc.and_(pc.equal(kind, "comment"), pc.is_null(text)))
    refuse(pc.and_(pc.equal(kind, "gift"), pc.and_(no_q, no_a)))
    refuse(pc.and_(pc.is_in(kind, value_set=_ORDER_REFUND), no_a))
    refuse(pc.and_(pc.equal(kind, "product_click"), pc.is_null(product_id)))
    refuse(pc.and_(pc.equal(kind, "online_count"), no_q))
    like = pc.fill_null(pc.equal(kind, "like"), False)
    out["quantity"] = pc.if_else(pc.and_(like, no_q), pa.scalar(1, pa.int64()), quantity)
    out["amount"] = amount
    return out, checks.bad()


# --------------------------------------------------------------------------------------------
# fast_prepare
# --------------------------------------------------------------------------------------------


def _check_args(workspace_id: int, session_id: int, platform: str | None) -> None:
    schema._check_int64(workspace_id, "workspace_id")
    schema._check_int64(session_id, "session_id")
    if platform is not None and (
        not isinstance(platform, str) or len(platform) > schema.MAX_PLATFORM
    ):
        raise ValueError(f"platform must be a string of at most {schema.MAX_PLATFORM} characters")


def _row_path(
    row: Any,
    raw: str,
    *,
    workspace_id: int,
    session_id: int,
    platform: str | None,
    ingested_at_ms: int,
) -> NormalizedEvent | Rejection:
    """One row as the row path sees it: ``schema.validate(row)``, keeping ``raw`` (the line)."""
    result = schema.validate(
        row,
        workspace_id=workspace_id,
        session_id=session_id,
        platform=platform,
        ingested_at_ms=ingested_at_ms,
    )
    return with_raw(result, raw) if isinstance(result, NormalizedEvent) else result


def _table(columns: dict[str, Any], n: int, workspace_id: int, session_id: int, now: int) -> Any:
    arrays: list[Any] = []
    for name in schema.COLUMNS:
        if name == "workspace_id":
            arrays.append(pa.repeat(pa.scalar(workspace_id, pa.int64()), n))
        elif name == "session_id":
            arrays.append(pa.repeat(pa.scalar(session_id, pa.int64()), n))
        elif name == "ts":
            arrays.append(pc.cast(pc.cast(columns["ts"], _MS), _US_UTC))
        elif name == "ingested_at":
            arrays.append(pa.repeat(pa.scalar(now * 1000, _US_UTC), n))
        else:
            arrays.append(columns[name])
    arrays = [a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a for a in arrays]
    return pa.Table.from_arrays(arrays, schema=schema.ARROW_SCHEMA)


def fast_prepare(
    body: bytes,
    *,
    workspace_id: int,
    session_id: int,
    platform: str | None,
    ingested_at_ms: int | None = None,
) -> FastBatch | None:
    """Validate an NDJSON body (gunzipped, see :func:`ndjson_text`); None: use the row path.

    The result equals ``ingest.prepare(parse_body(body))`` with ``raw`` = the line as sent
    (see the module docstring), ``ingested_at_ms`` (default now) for every event.
    Invalid arguments raise as ``schema.validate`` does.
    """
    _check_args(workspace_id, session_id, platform)
    now = time.time_ns() // 1_000_000 if ingested_at_ms is None else ingested_at_ms
    text = body.lstrip()
    if not text or text[:3] == _BOM:
        return None
    if b"\r" in text and text.count(b"\r") != text.count(b"\r\n"):
        return None  # a lone CR splits lines for Python, not for pyarrow
    lines = _lines(text)
    if lines is None:
        return None
    n = len(lines)
    if n == 0 or n > MAX_ROWS:
        return None
    if not (
        pc.all(pc.starts_with(lines, "{")).as_py() and pc.all(pc.ends_with(lines, "}")).as_py()
    ):
        return None  # not one JSON object per line: the row path decides
    plan = _plan_of(lines[0].as_py())
    if plan is None:
        return None
    table = _read(text, plan)
    if table is None or table.num_rows != n:
        return None
    try:
        columns, bad = _columns(
            table,
            lines,
            plan,
            backslash=b"\\" in text,
            workspace_id=workspace_id,
            session_id=session_id,
            platform=platform,
        )
        columns["raw"] = lines
        ok = pc.invert(bad)
        fast_index = pc.indices_nonzero(ok)
        fast = _table(columns, n, workspace_id, session_id, now)
        if len(fast_index) < n:
            fast = fast.filter(ok)
    except (pa.ArrowException, ValueError, TypeError, OverflowError):
        if RAISE_ERRORS:
            raise
        return None  # a value the checks did not foresee: the row path reads the body
    batch = FastBatch(workspace_id, session_id, n, fast, pc.cast(fast_index, pa.int64()))
    if len(fast_index) == n:
        return batch

    # the row path, for the rows the fast path could not prove
    fallback = pc.indices_nonzero(bad).to_pylist()
    events: list[NormalizedEvent] = []
    event_index: list[int] = []
    for index in fallback:
        line = lines[index].as_py()
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError:
            return None  # parse_body refuses the whole body
        result = _row_path(
            row,
            line,
            workspace_id=workspace_id,
            session_id=session_id,
            platform=platform,
            ingested_at_ms=now,
        )
        if isinstance(result, NormalizedEvent):
            events.append(result)
            event_index.append(index)
        else:
            batch.rejections.append((index, result, line))
    batch.fallback = fallback
    if events:
        merged = pa.concat_tables([fast, schema.to_arrow(events)])
        index_all = pa.concat_arrays([batch.event_index, pa.array(event_index, pa.int64())])
        order = pc.sort_indices(index_all)
        batch.table = merged.take(order)
        batch.event_index = pc.take(index_all, order)
    return batch


# --------------------------------------------------------------------------------------------
# Outcome
# --------------------------------------------------------------------------------------------


def outcome_of(batch: FastBatch, new_ids: Iterable[str]) -> Outcome:
    """``ingest.outcome_of`` for a :class:`FastBatch`, with Arrow compute.

    The first row of each id the store accepted as new is accepted, every other event row is
    a duplicate; ``by_kind`` and first/last ``ts`` count the accepted rows.
    """
    table = batch.table
    sent = batch.sent
    n = table.num_rows
    accepted: list[int] = []
    duplicate: list[int] = []
    by_kind: dict[str, int] = {}
    first = last = None
    event_ids: list[str | None] = [None] * sent
    if n:
        ids = _col(table, "event_id")
        mask = pc.is_in(ids, value_set=pa.array(list(new_ids), pa.string()))
        if pc.count_distinct(ids).as_py() != n:
            # an id repeated inside the batch: only its first row can be accepted. Ids are
            # numbered in order of first appearance, so a row is the first of its id when its
            # number exceeds every number before it.
            group = pc.cast(pc.index_in(ids, value_set=pc.unique(ids)), pa.int64())
            seen = pc.cumulative_max(group)
            before = pa.concat_arrays([pa.array([-1], pa.int64()), seen[:-1]])
            mask = pc.and_(mask, pc.greater(group, before))
        index = batch.event_index
        accepted = pc.filter(index, mask).to_pylist()
        duplicate = pc.filter(index, pc.invert(mask)).to_pylist()
        counted = table.filter(mask)
        if counted.num_rows:
            counts = pc.value_counts(counted.column("kind")).to_pylist()
            by_kind = {row["values"]: row["counts"] for row in counts}
            low, high = pc.min_max(pc.cast(counted.column("ts"), pa.int64())).values()
            first, last = low.as_py() // 1000, high.as_py() // 1000
        if n == sent:
            event_ids = ids.to_pylist()
        else:
            for i, event_id in zip(index.to_pylist(), ids.to_pylist(), strict=True):
                event_ids[i] = event_id
    for i, rejection, _ in batch.rejections:
        event_ids[i] = rejection.event_id
    return Outcome(
        sent, accepted, duplicate, list(batch.rejections), by_kind, event_ids, first, last
    )
