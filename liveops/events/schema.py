"""The canonical LiveOps event schema, enforced in one place.

Every raw live event — from the ingest API, an importer, a connector or the replayer — goes
through :func:`validate`, which returns either a :class:`NormalizedEvent` or a
:class:`Rejection` saying what is wrong and how to fix it. It never raises for a bad row, so
callers can keep rejected rows with their reason instead of dropping them silently.
:func:`to_arrow` turns normalised events into an Arrow table with :data:`ARROW_SCHEMA`, the
schema of the event store (``liveops.events.store``).

This module imports no Django: it runs in web workers, CLI importers, benchmarks and Spark
jobs alike.

Fields (``ARROW_SCHEMA``, in this order)
----------------------------------------

============== ======================== =====================================================
field          Arrow type               meaning
============== ======================== =====================================================
event_id       string, required         the source's own id, else ``stable_event_id(raw)``
                                        (``"h:"`` + 32 hex chars); unique per workspace
workspace_id   int64, required          tenant; from the caller (API key), never the row
session_id     int64, required          live session; from the caller
ts             timestamp[us, UTC], req. when it happened, UTC, whole milliseconds (Delta
                                        stores timestamps in microseconds, so the Arrow
                                        type is ``us``; values are always ms-aligned)
kind           string, required         one of :data:`KINDS`
viewer_id      string                   platform user id (numbers are turned into text)
viewer_name    string                   display name
text           string                   comment text
quantity       int64                    like count, gift count, items ordered, or the
                                        online count of an ``online_count`` snapshot
amount         decimal128(18, 4)        money, exact: order value, refunded value, gift value
currency       string                   ISO 4217 code (3 upper-case letters)
product_id     string                   product clicked / ordered / refunded
source         string                   traffic source, tracking code or passphrase
platform       string                   douyin, tiktok, bilibili, twitch, youtube …
raw            string, required         the raw record as JSON text (audit, re-parsing)
ingested_at    timestamp[us, UTC], req. when LiveOps accepted it, ms-aligned
============== ======================== =====================================================

Money: ``amount`` is ``decimal128(18, 4)`` — exact (no float rounding), independent of the
currency's minor unit (JPY has 0 decimals, CNY 2, KWD 3; gift values in platform coins may be
fractional after conversion), and a native DECIMAL in Delta, Parquet, DuckDB and Spark. Up to
14 integer digits and 4 decimals; more decimals are rejected (``bad_amount``), never rounded.
Send amounts as strings (``"12.50"``) or integers; floats are accepted through their shortest
repr (``0.1`` → ``0.1``), which is exact for any value a human typed.
An amount without a currency is in the session's currency (orders, refunds) or in the
platform's virtual unit (gifts: Douyin/TikTok diamonds, Bilibili gold); the analytics layer
converts.

Timestamps: ISO-8601 strings with an offset or ``Z`` (naive strings are rejected: the sender
must say which zone), aware ``datetime`` objects, or epoch numbers (int, float or a numeric
string) whose unit is told by magnitude: ``< 1e11`` seconds, ``< 1e14`` milliseconds,
``< 1e17`` microseconds, else nanoseconds. Results are rounded to whole milliseconds (UTC) and
must fall between 2000-01-01 and 2100-01-01 (anything else is a unit or clock error).

Kind rules (beyond the common fields):

* ``comment`` needs ``text`` (a string; may be empty, e.g. a sticker-only comment).
* ``like`` — ``quantity`` is the number of likes in the event, defaults to 1.
* ``gift`` needs ``quantity`` (number of gifts) or ``amount`` (their value), or both.
* ``order`` and ``refund`` need ``amount`` (refunds carry the refunded value as a positive
  amount; GMV subtracts it).
* ``product_click`` needs ``product_id``.
* ``online_count`` needs ``quantity`` (the platform's online count at ``ts``).
* ``quantity`` is never negative (``bad_quantity``); ``amount`` never negative
  (``negative_amount``).

Unknown keys are allowed and kept in ``raw``. ``workspace_id`` / ``session_id`` keys in the
row, when present, must match the caller's (``mismatch``) — a row cannot move itself into
another tenant or session.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import orjson
import pyarrow as pa  # type: ignore[import-untyped]

__all__ = [
    "ARROW_SCHEMA",
    "KINDS",
    "MAX_CURRENCY",
    "MAX_ID",
    "MAX_NAME",
    "MAX_PLATFORM",
    "MAX_RAW_BYTES",
    "MAX_SOURCE",
    "MAX_TEXT",
    "REJECTION_CODES",
    "NormalizedEvent",
    "Rejection",
    "stable_event_id",
    "to_arrow",
    "validate",
]

# --------------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------------

KINDS: Final[frozenset[str]] = frozenset(
    {
        "enter",
        "leave",
        "comment",
        "like",
        "gift",
        "follow",
        "share",
        "order",
        "refund",
        "product_click",
        "online_count",
    }
)

#: Length limits, in characters (``raw`` in UTF-8 bytes).
MAX_TEXT: Final = 2000
MAX_ID: Final = 128
MAX_NAME: Final = 128
MAX_SOURCE: Final = 256
MAX_PLATFORM: Final = 32
MAX_CURRENCY: Final = 3
MAX_RAW_BYTES: Final = 64 * 1024

#: Every ``Rejection.code`` :func:`validate` can return.
REJECTION_CODES: Final[frozenset[str]] = frozenset(
    {
        "bad_row",  # the row is not a JSON object / not serialisable to JSON
        "missing_field",  # a required field is absent, null or empty
        "bad_type",  # a field has the wrong type
        "bad_kind",  # kind is not one of KINDS
        "bad_timestamp",  # unparsable, naive, or out of range
        "too_long",  # a string exceeds its documented limit
        "bad_currency",  # not a 3-letter ISO 4217 code
        "bad_amount",  # not a finite decimal, more than 4 decimals, or out of range
        "negative_amount",  # amount < 0
        "bad_quantity",  # quantity negative or outside int64
        "mismatch",  # row's workspace_id/session_id differs from the caller's
    }
)

AMOUNT_PRECISION: Final = 18
AMOUNT_SCALE: Final = 4
_AMOUNT_QUANTUM: Final = Decimal(1).scaleb(-AMOUNT_SCALE)
_AMOUNT_LIMIT: Final = Decimal(10) ** (AMOUNT_PRECISION - AMOUNT_SCALE)
_INT64_MAX: Final = 2**63 - 1
_INT64_MIN: Final = -(2**63)

_TS_MIN_MS: Final = int(datetime(2000, 1, 1, tzinfo=UTC).timestamp() * 1000)
_TS_MAX_MS: Final = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp() * 1000)
_CURRENCY_RE: Final = re.compile(r"[A-Z]{3}")
_NUMERIC_RE: Final = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")

_TS_TYPE: Final = pa.timestamp("us", tz="UTC")
_EPOCH_S_BELOW: Final = Decimal("1e11")  # 1e11 s is year 5138; 1e11 ms is 1973
_EPOCH_MS_BELOW: Final = Decimal("1e14")
_EPOCH_US_BELOW: Final = Decimal("1e17")
_WHOLE_RE: Final = re.compile(r"\s*[+-]?\d{1,30}\s*")

ARROW_SCHEMA: Final[pa.Schema] = pa.schema(
    [
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("workspace_id", pa.int64(), nullable=False),
        pa.field("session_id", pa.int64(), nullable=False),
        pa.field("ts", _TS_TYPE, nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("viewer_id", pa.string()),
        pa.field("viewer_name", pa.string()),
        pa.field("text", pa.string()),
        pa.field("quantity", pa.int64()),
        pa.field("amount", pa.decimal128(AMOUNT_PRECISION, AMOUNT_SCALE)),
        pa.field("currency", pa.string()),
        pa.field("product_id", pa.string()),
        pa.field("source", pa.string()),
        pa.field("platform", pa.string()),
        pa.field("raw", pa.string(), nullable=False),
        pa.field("ingested_at", _TS_TYPE, nullable=False),
    ]
)

#: Column names of ARROW_SCHEMA, in order.
COLUMNS: Final[tuple[str, ...]] = tuple(ARROW_SCHEMA.names)


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


# Not frozen: building frozen dataclasses costs 3× more, and millions are built per import.
@dataclass(slots=True)
class NormalizedEvent:
    """One valid event, normalised. ``ts_ms`` / ``ingested_at_ms`` are UTC epoch milliseconds."""

    event_id: str
    workspace_id: int
    session_id: int
    ts_ms: int
    kind: str
    viewer_id: str | None
    viewer_name: str | None
    text: str | None
    quantity: int | None
    amount: Decimal | None
    currency: str | None
    product_id: str | None
    source: str | None
    platform: str | None
    raw: str
    ingested_at_ms: int

    @property
    def ts(self) -> datetime:
        """``ts_ms`` as an aware UTC datetime."""
        return datetime.fromtimestamp(self.ts_ms / 1000, tz=UTC)


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a row was refused: a machine ``code``, the ``field`` at fault, a human ``message``.

    ``field`` is ``"row"`` when the row as a whole is at fault. ``event_id`` is the id the row
    would have had (its own or the stable hash), when one could be determined, so a rejected
    row can be stored and looked up with its reason.
    """

    code: str
    field: str
    message: str
    event_id: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {
            "code": self.code,
            "field": self.field,
            "message": self.message,
            "event_id": self.event_id,
        }


class _Reject(Exception):
    """Internal control flow of validate(); never escapes it."""

    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.message = message


# --------------------------------------------------------------------------------------------
# Stable ids
# --------------------------------------------------------------------------------------------


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Decimal | datetime):
        return str(obj)
    if isinstance(obj, bytes | bytearray | memoryview):
        return bytes(obj).decode("utf-8", "backslashreplace")
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    return str(obj)


def _dumps(obj: Any, *, canonical: bool) -> bytes:
    """JSON bytes of ``obj``; canonical = sorted keys, compact. Raises TypeError/ValueError."""
    option = orjson.OPT_NON_STR_KEYS | (orjson.OPT_SORT_KEYS if canonical else 0)
    try:
        return orjson.dumps(obj, default=_json_default, option=option)
    except (orjson.JSONEncodeError, TypeError):
        # orjson refuses integers beyond 64 bits and mixed-type keys when sorting; the
        # standard library does neither, at a lower speed.
        text = json.dumps(
            obj,
            default=_json_default,
            ensure_ascii=False,
            separators=(",", ":"),
            sort_keys=canonical,
            allow_nan=True,
        )
        return text.encode("utf-8", "surrogatepass")


def stable_event_id(raw: bytes | Mapping[str, Any]) -> str:
    """A stable id for a record that has none: ``"h:"`` + the first 32 hex chars of SHA-256.

    The hash is taken over canonical JSON (sorted keys, no whitespace), so the same record
    gives the same id whatever its key order or formatting; bytes that are not JSON are hashed
    as they are. 128 bits make an accidental collision negligible (≈1e-15 at 1e12 events).
    Records that are genuinely identical (same fields, same ``ts``) get the same id and are
    stored once — sources that can emit identical records must send their own ids.
    """
    if isinstance(raw, bytes | bytearray | memoryview):
        data = bytes(raw)
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError:
            canonical = data
        else:
            canonical = _dumps(parsed, canonical=True)
    elif isinstance(raw, Mapping):
        canonical = _dumps(dict(raw), canonical=True)
    else:
        raise TypeError(f"stable_event_id() takes bytes or a dict, not {type(raw).__name__}")
    return "h:" + hashlib.sha256(canonical).hexdigest()[:32]


# --------------------------------------------------------------------------------------------
# Field parsers (raise _Reject)
# --------------------------------------------------------------------------------------------


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _opt_str(row: Mapping[str, Any], name: str, limit: int, *, id_like: bool = False) -> str | None:
    value = row.get(name)
    if value is None:
        return None
    if id_like and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        kinds = "a string or an integer" if id_like else "a string"
        raise _Reject(
            "bad_type",
            name,
            f"{name} must be {kinds}, got {type(value).__name__} {_show(value)}.",
        )
    try:
        if not value.isascii():
            value.encode("utf-8")
    except UnicodeEncodeError:
        raise _Reject(
            "bad_type", name, f"{name} is not valid Unicode text (lone surrogate)."
        ) from None
    if len(value) > limit:
        raise _Reject(
            "too_long",
            name,
            f"{name} is {len(value)} characters long; the limit is {limit}. Shorten it.",
        )
    return value


def _epoch_to_ms(number: Decimal, name: str) -> int:
    """Epoch seconds / ms / µs / ns (told apart by magnitude) → ms, exactly."""
    magnitude = abs(number)
    if magnitude < _EPOCH_S_BELOW:
        ms = number * 1000
    elif magnitude < _EPOCH_MS_BELOW:
        ms = number
    elif magnitude < _EPOCH_US_BELOW:
        ms = number / 1000
    else:
        ms = number / 1_000_000
    try:
        whole = round(ms)
    except (InvalidOperation, OverflowError, ValueError):
        whole = _TS_MAX_MS
    return _check_ts_range(whole, name)


def _check_ts_range(ms: int, name: str) -> int:
    if not _TS_MIN_MS <= ms < _TS_MAX_MS:
        raise _Reject(
            "bad_timestamp",
            name,
            f"{name} {ms} ms since 1970 is outside 2000-01-01..2100-01-01; "
            "check the unit (seconds or milliseconds since 1970-01-01 UTC).",
        )
    return ms


def _datetime_to_ms(value: datetime, name: str) -> int:
    if value.tzinfo is None or value.utcoffset() is None:
        raise _Reject(
            "bad_timestamp",
            name,
            f"{name} {value.isoformat()!r} has no time zone; add an offset such as 'Z' "
            "or '+08:00' (or send epoch milliseconds).",
        )
    # exact integer arithmetic (value.timestamp() is a float and can land 1 ms off)
    delta = value.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    exact_us = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    ms = (exact_us + 500) // 1000
    return _check_ts_range(ms, name)


def parse_timestamp(value: Any, name: str = "ts") -> int:
    """Parse a timestamp (see the module docstring) to UTC epoch ms; raises ``ValueError``."""
    try:
        return _parse_ts(value, name)
    except _Reject as exc:
        raise ValueError(exc.message) from None


def _parse_ts(value: Any, name: str) -> int:
    if type(value) is int and _TS_MIN_MS <= value < _TS_MAX_MS:
        return value  # epoch ms, the common case: the magnitude rule gives ms here
    if value is None or value == "":
        raise _Reject("missing_field", name, f"{name} is required: when the event happened.")
    if isinstance(value, bool):
        raise _Reject("bad_type", name, f"{name} must be an ISO-8601 string or a number.")
    if isinstance(value, datetime):
        return _datetime_to_ms(value, name)
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise _Reject("bad_timestamp", name, f"{name} must be finite, got {value!r}.")
        return _epoch_to_ms(Decimal(value), name)
    if isinstance(value, str):
        text = value.strip()
        if _NUMERIC_RE.fullmatch(text):
            try:
                return _epoch_to_ms(Decimal(text), name)
            except (InvalidOperation, OverflowError):
                pass
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise _Reject(
                "bad_timestamp",
                name,
                f"{name} {_show(value)} is not ISO-8601; send e.g. '2025-06-01T20:00:00.123Z' "
                "or epoch milliseconds.",
            ) from None
        return _datetime_to_ms(parsed, name)
    raise _Reject(
        "bad_type",
        name,
        f"{name} must be an ISO-8601 string or a number, got {type(value).__name__}.",
    )


def _parse_quantity(value: Any) -> int | None:
    name = "quantity"
    if value is None:
        return None
    number: int
    if isinstance(value, bool):
        raise _Reject("bad_type", name, "quantity must be a whole number, not a boolean.")
    whole_float = isinstance(value, float) and value.is_integer()
    if isinstance(value, int):
        number = value
    elif whole_float or (isinstance(value, str) and _WHOLE_RE.fullmatch(value)):
        number = int(value)
    else:
        raise _Reject("bad_type", name, f"quantity must be a whole number, got {_show(value)}.")
    if number < 0:
        raise _Reject("bad_quantity", name, f"quantity must be 0 or more, got {number}.")
    if number > _INT64_MAX:
        raise _Reject("bad_quantity", name, f"quantity {number} does not fit in 64 bits.")
    return number


def _parse_amount(value: Any) -> Decimal | None:
    name = "amount"
    if value is None:
        return None
    if isinstance(value, bool):
        raise _Reject("bad_type", name, "amount must be a number or a decimal string.")
    try:
        if isinstance(value, Decimal):
            number = value
        elif isinstance(value, int):
            number = Decimal(value)
        elif isinstance(value, float):
            number = Decimal(repr(value))
        elif isinstance(value, str) and _NUMERIC_RE.fullmatch(value.strip()):
            number = Decimal(value.strip())
        else:
            raise _Reject(
                "bad_type",
                name,
                f"amount must be a number or a decimal string like '12.50', got {_show(value)}.",
            )
    except InvalidOperation:
        raise _Reject("bad_amount", name, f"amount {_show(value)} is not a number.") from None
    if not number.is_finite():
        raise _Reject("bad_amount", name, f"amount must be finite, got {_show(value)}.")
    if number < 0:
        raise _Reject(
            "negative_amount",
            name,
            f"amount must be 0 or more, got {number}; refunds are kind 'refund' with a "
            "positive amount.",
        )
    if number >= _AMOUNT_LIMIT:
        raise _Reject(
            "bad_amount",
            name,
            f"amount {_show(value)} is too large (limit {_AMOUNT_LIMIT - _AMOUNT_QUANTUM}).",
        )
    try:
        quantized = number.quantize(_AMOUNT_QUANTUM)
    except InvalidOperation:
        quantized = None
    if quantized is None or quantized != number:
        raise _Reject(
            "bad_amount",
            name,
            f"amount {_show(value)} has more than {AMOUNT_SCALE} decimal places; "
            "money is stored exactly, so round it at the source.",
        )
    return quantized + 0  # + 0 turns -0 into 0


def _parse_currency(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Reject(
            "bad_type", "currency", f"currency must be a string, got {type(value).__name__}."
        )
    code = value.strip().upper()
    if not _CURRENCY_RE.fullmatch(code):
        raise _Reject(
            "bad_currency",
            "currency",
            f"currency {_show(value)} is not a 3-letter ISO 4217 code such as 'CNY' or 'USD'.",
        )
    return code


def _check_owner(row: Mapping[str, Any], name: str, expected: int) -> None:
    value = row.get(name)
    if value is None:
        return
    if isinstance(value, bool) or str(value).strip() != str(expected):
        raise _Reject(
            "mismatch",
            name,
            f"the row says {name}={_show(value)} but it was sent to {name}={expected}; "
            f"remove {name} from the row or send it to the right place.",
        )


def _check_int64(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise ValueError(f"{name} {value} does not fit in int64")
    return value


# --------------------------------------------------------------------------------------------
# validate
# --------------------------------------------------------------------------------------------


def validate(
    row: Any,
    *,
    workspace_id: int,
    session_id: int,
    platform: str | None = None,
    ingested_at_ms: int | None = None,
) -> NormalizedEvent | Rejection:
    """Check and normalise one raw event row; never raises for a bad row.

    ``workspace_id`` and ``session_id`` come from the caller (the API key / the URL / the
    import job), never from the row. ``platform`` is the default for rows that name none.
    ``ingested_at_ms`` defaults to now. Invalid *arguments* (a non-int workspace_id) are
    programming errors and raise ``TypeError``/``ValueError``.

    See the module docstring for the field, timestamp and kind rules.
    """
    _check_int64(workspace_id, "workspace_id")
    _check_int64(session_id, "session_id")
    if platform is not None and (not isinstance(platform, str) or len(platform) > MAX_PLATFORM):
        raise ValueError(f"platform must be a string of at most {MAX_PLATFORM} characters")
    if ingested_at_ms is None:
        ingested_at_ms = time.time_ns() // 1_000_000
    if not isinstance(row, Mapping):
        return Rejection(
            "bad_row", "row", f"an event must be a JSON object, got {type(row).__name__}."
        )
    try:
        raw_bytes = _dumps(row if type(row) is dict else dict(row), canonical=False)
    except (TypeError, ValueError, RecursionError) as exc:
        return Rejection("bad_row", "row", f"the row cannot be written as JSON: {exc}.")
    if len(raw_bytes) > MAX_RAW_BYTES:
        return Rejection(
            "too_long",
            "raw",
            f"the row is {len(raw_bytes)} bytes as JSON; the limit is {MAX_RAW_BYTES}. "
            "Drop bulky fields before sending.",
        )
    event_id: str | None = None
    try:
        event_id = _opt_str(row, "event_id", MAX_ID, id_like=True)
        if event_id is None:
            event_id = stable_event_id(row)
        elif not event_id.strip():
            event_id = None
            raise _Reject(
                "missing_field",
                "event_id",
                "event_id is empty; send the source's id or leave the field out "
                "(a stable hash of the record is used then).",
            )
        return _validate(
            row,
            event_id=event_id,
            raw=raw_bytes.decode("utf-8", "replace"),
            workspace_id=workspace_id,
            session_id=session_id,
            platform=platform,
            ingested_at_ms=ingested_at_ms,
        )
    except _Reject as exc:
        return Rejection(exc.code, exc.field, exc.message, event_id)
    except Exception as exc:  # defensive: validate() must not raise for any row
        return Rejection("bad_row", "row", f"the row could not be read: {exc!r}.", event_id)


def _validate(
    row: Mapping[str, Any],
    *,
    event_id: str,
    raw: str,
    workspace_id: int,
    session_id: int,
    platform: str | None,
    ingested_at_ms: int,
) -> NormalizedEvent:
    _check_owner(row, "workspace_id", workspace_id)
    _check_owner(row, "session_id", session_id)

    kind_value = row.get("kind")
    if kind_value is None or kind_value == "":
        raise _Reject(
            "missing_field", "kind", f"kind is required: one of {', '.join(sorted(KINDS))}."
        )
    if not isinstance(kind_value, str):
        raise _Reject("bad_type", "kind", f"kind must be a string, got {_show(kind_value)}.")
    kind = kind_value.strip().lower()
    if kind not in KINDS:
        raise _Reject(
            "bad_kind",
            "kind",
            f"kind {_show(kind_value)} is unknown; use one of {', '.join(sorted(KINDS))}.",
        )

    ts_ms = _parse_ts(row.get("ts"), "ts")
    viewer_id = _opt_str(row, "viewer_id", MAX_ID, id_like=True)
    viewer_name = _opt_str(row, "viewer_name", MAX_NAME)
    text = _opt_str(row, "text", MAX_TEXT)
    product_id = _opt_str(row, "product_id", MAX_ID, id_like=True)
    source = _opt_str(row, "source", MAX_SOURCE)
    row_platform = _opt_str(row, "platform", MAX_PLATFORM)
    quantity = _parse_quantity(row.get("quantity"))
    amount = _parse_amount(row.get("amount"))
    currency = _parse_currency(row.get("currency"))

    if kind == "comment" and text is None:
        raise _Reject("missing_field", "text", "a comment needs text (the comment itself).")
    elif kind == "like" and quantity is None:
        quantity = 1
    elif kind == "gift" and quantity is None and amount is None:
        raise _Reject(
            "missing_field",
            "quantity",
            "a gift needs quantity (number of gifts) or amount (their value), or both.",
        )
    elif kind in ("order", "refund") and amount is None:
        raise _Reject(
            "missing_field",
            "amount",
            f"an {kind} needs amount (the {'order' if kind == 'order' else 'refunded'} value, "
            "0 or more).",
        )
    elif kind == "product_click" and product_id is None:
        raise _Reject(
            "missing_field", "product_id", "a product_click needs product_id (what was clicked)."
        )
    elif kind == "online_count" and quantity is None:
        raise _Reject(
            "missing_field",
            "quantity",
            "an online_count snapshot needs quantity (the online count at ts).",
        )

    return NormalizedEvent(
        event_id=event_id,
        workspace_id=workspace_id,
        session_id=session_id,
        ts_ms=ts_ms,
        kind=kind,
        viewer_id=viewer_id,
        viewer_name=viewer_name,
        text=text,
        quantity=quantity,
        amount=amount,
        currency=currency,
        product_id=product_id,
        source=source,
        platform=row_platform if row_platform is not None else platform,
        raw=raw,
        ingested_at_ms=ingested_at_ms,
    )


# --------------------------------------------------------------------------------------------
# Arrow
# --------------------------------------------------------------------------------------------


def _ms_array(values: list[int]) -> Any:
    return pa.array(values, type=pa.int64()).cast(pa.timestamp("ms", tz="UTC")).cast(_TS_TYPE)


def to_arrow(events: Sequence[NormalizedEvent]) -> pa.Table:
    """Events → an Arrow table with :data:`ARROW_SCHEMA`, built column by column."""
    columns: list[Any] = [
        pa.array([e.event_id for e in events], type=pa.string()),
        pa.array([e.workspace_id for e in events], type=pa.int64()),
        pa.array([e.session_id for e in events], type=pa.int64()),
        _ms_array([e.ts_ms for e in events]),
        pa.array([e.kind for e in events], type=pa.string()),
        pa.array([e.viewer_id for e in events], type=pa.string()),
        pa.array([e.viewer_name for e in events], type=pa.string()),
        pa.array([e.text for e in events], type=pa.string()),
        pa.array([e.quantity for e in events], type=pa.int64()),
        pa.array([e.amount for e in events], type=pa.decimal128(AMOUNT_PRECISION, AMOUNT_SCALE)),
        pa.array([e.currency for e in events], type=pa.string()),
        pa.array([e.product_id for e in events], type=pa.string()),
        pa.array([e.source for e in events], type=pa.string()),
        pa.array([e.platform for e in events], type=pa.string()),
        pa.array([e.raw for e in events], type=pa.string()),
        _ms_array([e.ingested_at_ms for e in events]),
    ]
    return pa.Table.from_arrays(columns, schema=ARROW_SCHEMA)


def empty_table() -> pa.Table:
    """An empty table with :data:`ARROW_SCHEMA`."""
    return ARROW_SCHEMA.empty_table()
