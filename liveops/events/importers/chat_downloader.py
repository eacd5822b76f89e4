"""chat-downloader JSON (https://github.com/xenova/chat-downloader), format ``chat-downloader``.

The file is what ``chat_downloader URL --output chat.json`` writes: a JSON array of message
objects (possibly gigabytes, possibly left unclosed by an interrupted download), or JSON
lines (one message object per line). Both are read incrementally: :func:`iter_json_values`
splits the byte stream (1 MiB reads) into top-level values / array items with a small scanner
that tracks string and escape state and bracket depth, and each item is decoded on its own
with orjson, so memory stays flat whatever the file size (about 4 MB traced peak on a 50 MB
file; ~100 000 messages/s on one core).

Mapping (one item per message object):

=============================================  ==============================================
message                                        item
=============================================  ==============================================
``text_message`` (or no ``message_type`` and   ``comment``, text = ``message`` ("" when null)
no amount: the 2020 schema)
``paid_message``, ``paid_sticker`` (or an      ``gift``, quantity 1, amount + currency from
``amount`` string / ``money`` object in the    the ``money.text`` / ``amount`` string
2020 schema)                                   (:mod:`.money`: ``"$5.00"`` → 5.00 USD,
                                               bare ``¥`` → JPY), text = the message
``membership_item`` (YouTube new member or     ``gift``, quantity 1, no amount (the price of
membership milestone)                          a membership level is not in the chat): a
                                               membership is paid, so it is a gift, not a
                                               free ``follow``; same rule for Twitch subs
Twitch ``text_message`` with ``bits`` > 0      ``gift``, quantity = bits, amount = bits ×
                                               0.01 USD (what Twitch pays per bit)
Twitch ``subscription``, ``resubscription``,   ``gift``, quantity 1, by the subscriber /
``subscription_gift`` …                        the gifter
Twitch ``raid``                                ``enter``, source ``"raid"``, viewer = the
                                               raiding channel, quantity = raiders
``mystery_subscription_gift``                  Skipped: each gift arrives as its own
                                               ``subscription_gift`` and is counted there
``ticker_*`` items (2020 schema: any item      Skipped: a ticker repeats a paid message or a
with ``ticker_duration``)                      membership already in the chat
anything else (engagement, mode changes,       Skipped with the message_type as the reason
placeholders, banners, deletions …)
=============================================  ==============================================

Authors: the 2020 schema has ``author`` (a name string) and sometimes ``author_id``; the
current one has an ``author`` object ``{"name", "id", "display_name", …}``. ``viewer_id`` is
the platform id when the file has one, otherwise absent (names are not unique on YouTube);
``viewer_name`` is the display name. ``message_id`` becomes ``event_id``; without it the
pipeline hashes the raw item.

Timestamps: ``timestamp`` is UNIX **microseconds** (kept exactly, as an ISO-8601 UTC string).
Some files carry download times instead of send times (the 2020 Twitch replay: all its
timestamps fall within one second although ``time_in_seconds`` spans an hour). The importer
looks at the first 50 items: when ``time_in_seconds`` spans ≥ 60 s but the timestamps span
less than a tenth of that, the timestamps are not send times and ``ts`` = the session start
(``options["base_ts"]``) + ``time_in_seconds``; without ``base_ts`` every message is a Problem
saying so. ``options["time_base"]`` = ``"timestamp"`` / ``"offset"`` overrides the detection;
``"offset"`` is also the way to re-base a replay on a session start.

Options: ``base_ts`` (ISO-8601 with offset, epoch seconds/ms, or an aware datetime),
``time_base`` (``auto`` | ``timestamp`` | ``offset``), ``platform`` (``youtube`` |
``twitch``; otherwise inferred per message from the author id or paid fields), ``yen``
(``JPY`` default, ``CNY`` for a source that writes yuan as a bare ``¥``).

The helpers :func:`iter_json_values`, :func:`parse_base_ts` and :func:`iso_from_us` are shared
with the YouTube actions and Twitch importers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from itertools import chain, islice
from typing import Any, BinaryIO, Final

import orjson

from liveops.events.importers.base import ImportFormatError, Item, Problem, Record, Skipped
from liveops.events.importers.money import MoneyError, format_amount, parse_money

__all__ = [
    "ChatDownloaderImporter",
    "JsonValue",
    "iso_from_us",
    "iter_json_values",
    "parse_base_ts",
]

CHUNK_SIZE: Final = 1 << 20
#: Problems keep at most this much of a broken record's text.
RAW_LIMIT: Final = 64 * 1024

# --------------------------------------------------------------------------------------------
# Streaming JSON splitter
# --------------------------------------------------------------------------------------------

# One token: a whole string (group 1 is the closing quote; absent when the string runs past
# the end of the buffer) or one structural character. Everything else (numbers, literals,
# whitespace, colons) needs no tracking to find where an item ends.
_TOKEN: Final = re.compile(rb'"(?:[^"\\]++|\\.)*+(")?|[\[\]{},]', re.DOTALL)
_OPEN: Final = frozenset(b"[{")
_CLOSE: Final = frozenset(b"]}")
_QUOTE: Final = ord('"')
_COMMA: Final = ord(",")
_ARRAY_START: Final = ord("[")
_ARRAY_END: Final = ord("]")
_BOM: Final = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class JsonValue:
    """One top-level record of a JSON file: its location, its bytes, or why it is broken."""

    location: str
    raw: bytes
    error: str | None = None
    decoded: tuple[Any] | None = None  # (value,) when the splitter already decoded it


def _cut(raw: bytes) -> bytes:
    return raw if len(raw) <= RAW_LIMIT else raw[:RAW_LIMIT]


def iter_json_values(stream: BinaryIO, *, chunk_size: int = CHUNK_SIZE) -> Iterator[JsonValue]:
    """Yield the records of a JSON file without ever holding more than one record.

    * a JSON array → its items (``"item N"``, 1-based; several arrays in a row continue the
      numbering; an array left unclosed by an interrupted download still yields every
      complete item, and a cut last item comes back with ``error`` set);
    * JSON lines (the first line is a complete JSON value) → one value per non-blank line
      (``"line N"``); a broken line stays a single broken value;
    * otherwise concatenated / pretty-printed JSON values → each top-level value
      (``"line N"`` where it starts).

    Array items of objects are found by :func:`_fast_item` (C-speed searches, the item
    decoded once by orjson and handed over in ``decoded``); anything it cannot settle (a
    scalar item, brackets inside strings, broken JSON) goes through the exact scanner, which
    tracks string / escape state and bracket depth token by token. Callers decode the values
    without ``decoded`` themselves and report failures.
    """
    found = first_text(stream, chunk_size)
    if found is None:
        return
    buf, start = found
    if buf[start] == ord("{"):
        buf, parses = first_line_parses(buf, start, stream, chunk_size)
        if parses:
            yield from _json_lines(buf, stream, chunk_size)
            return
    yield from _scan(buf, stream, chunk_size)


def first_text(stream: BinaryIO, chunk_size: int) -> tuple[bytes, int] | None:
    """Read until the first non-blank byte (a UTF-8 BOM dropped): the bytes read and that
    byte's offset; None for a blank stream."""
    buf = b""
    while True:
        chunk = stream.read(chunk_size)
        if not chunk:
            return None
        buf += chunk
        if buf.startswith(_BOM):
            buf = buf[len(_BOM) :]
        if buf.strip():
            return buf, len(buf) - len(buf.lstrip())


def first_line_parses(
    buf: bytes, start: int, stream: BinaryIO, chunk_size: int
) -> tuple[bytes, bool]:
    """Whether the line from ``start`` to its newline is a JSON value on its own (the
    JSON-lines test), reading on to the newline; also the bytes read so far."""
    newline = buf.find(b"\n", start)
    while newline < 0:
        chunk = stream.read(chunk_size)
        if not chunk:
            break
        searched = len(buf)
        buf += chunk
        newline = buf.find(b"\n", searched)
    try:
        orjson.loads(buf[start:] if newline < 0 else buf[start:newline])
    except orjson.JSONDecodeError:
        return buf, False
    return buf, True


def _json_lines(buf: bytes, stream: BinaryIO, chunk_size: int) -> Iterator[JsonValue]:
    number = 0
    parts = [buf]  # pieces of the current (unfinished) line
    has_newline = b"\n" in buf
    while True:
        if has_newline:
            lines = b"".join(parts).split(b"\n")
            parts = [lines.pop()]
            for line in lines:
                number += 1
                text = line.strip()
                if text:
                    yield JsonValue(f"line {number}", text)
        chunk = stream.read(chunk_size)
        if not chunk:
            break
        parts.append(chunk)
        has_newline = b"\n" in chunk
    last = b"".join(parts).strip()
    if last:
        yield JsonValue(f"line {number + 1}", last)


_WS: Final = frozenset(b" \t\r\n")
_MORE: Final = "more"  # _fast_item: the buffer ends before the item can be told apart
# a closing bracket followed by the separator of array items: where an item may end
_OBJECT_END: Final = re.compile(rb"}[ \t\r\n]*[,\]]")
_ARRAY_ITEM_END: Final = re.compile(rb"\][ \t\r\n]*[,\]]")
_OUTSIDE: Final = (
    "text outside any JSON value: remove it (the file must be a JSON array, JSON lines or "
    "JSON objects)"
)
_MAX_CANDIDATES: Final = 32
_MAX_PARSES: Final = 3


def _fast_item(buf: bytes, mark: int) -> tuple[int, int, Any, bytes] | str | None:
    """Find and decode the array item starting at ``mark`` with C-speed searches only.

    Candidates are the closing brackets followed by ``,`` or ``]`` where the bracket counts
    balance; the first candidate orjson accepts is the item's exact end (a JSON parser reads
    a prefix exactly as it reads the whole text, so a prefix that parses as one complete
    value ends where the item ends). Returns ``(end, separator position, value, raw)``,
    ``_MORE`` when the buffer ends too early, or None to let the exact scanner do this item
    (a scalar item, brackets inside strings, broken JSON).
    """
    size = len(buf)
    start = mark
    while start < size and buf[start] in _WS:
        start += 1
    if start >= size:
        return _MORE
    opening = buf[start]
    if opening == ord("{"):
        candidates = _OBJECT_END
    elif opening == ord("["):
        candidates = _ARRAY_ITEM_END
    else:
        return None
    counted = start
    balance = parses = 0
    tried = 0
    for candidate in candidates.finditer(buf, start + 1):
        tried += 1
        if tried > _MAX_CANDIDATES:
            return None
        search = candidate.start() + 1
        sep = candidate.end() - 1
        balance += (
            buf.count(b"{", counted, search)
            + buf.count(b"[", counted, search)
            - buf.count(b"}", counted, search)
            - buf.count(b"]", counted, search)
        )
        counted = search
        if balance:
            continue
        raw = buf[start:search]
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            parses += 1
            if parses >= _MAX_PARSES:
                return None
            continue
        return search, sep, value, raw
    return _MORE  # no (more) candidates in the buffer: the item goes on after it


def _scan(buf: bytes, stream: BinaryIO, chunk_size: int) -> Iterator[JsonValue]:
    depth = 0
    in_array = False  # the current top-level value is an array whose items we yield
    at_item = False  # in an array at depth 1, ``mark`` is where the next item starts
    mark = 0  # start of the pending region: current item / value, or end of the last value
    item = 0  # items yielded from arrays
    line = 1  # line number at ``line_pos``
    line_pos = 0
    pos = 0
    eof = cut_string = False
    finditer = _TOKEN.finditer
    while True:
        if at_item:
            fast = _fast_item(buf, mark)
            if isinstance(fast, tuple):
                end, sep, value, raw = fast
                item += 1
                yield JsonValue(f"item {item}", raw, decoded=(value,))
                mark = pos = sep + 1
                if buf[sep] == _ARRAY_END:
                    depth = 0
                    in_array = at_item = False
                continue
            if fast is None or eof:
                at_item = False  # the exact scanner reads this item
                pos = mark
        if not at_item:
            cut_string = found_item = False
            for match in finditer(buf, pos):
                start = match.start()
                char = buf[start]
                if char == _QUOTE:
                    if match.start(1) < 0:  # the string goes on in the next chunk
                        cut_string = True
                        pos = start
                        break
                    continue
                if depth == 0:
                    if char not in _OPEN:
                        continue  # stray text; reported with the gap below
                    line += buf.count(b"\n", line_pos, start)
                    line_pos = start
                    gap = buf[mark:start].strip()
                    if gap:
                        yield JsonValue(f"line {line}", _cut(gap), _OUTSIDE)
                    depth = 1
                    in_array = char == _ARRAY_START
                    mark = match.end() if in_array else start
                    if in_array:
                        found_item = True
                        break
                elif char in _OPEN:
                    depth += 1
                elif char in _CLOSE:
                    depth -= 1
                    if depth == 0:
                        end = match.end()
                        if in_array:
                            last = buf[mark:start].strip()
                            if last:
                                item += 1
                                yield JsonValue(f"item {item}", last)
                        else:
                            yield JsonValue(f"line {line}", buf[mark:end])
                        mark = end
                elif char == _COMMA and depth == 1 and in_array:
                    item += 1
                    value_raw = buf[mark:start].strip()
                    if value_raw:
                        yield JsonValue(f"item {item}", value_raw)
                    else:
                        yield JsonValue(
                            f"item {item}",
                            b"",
                            "empty item (two commas in a row): remove one comma",
                        )
                    mark = match.end()
                    found_item = True
                    break
            else:
                pos = len(buf)
            if found_item:
                at_item = True
                pos = mark
                continue
        if eof:
            break
        chunk = stream.read(chunk_size)
        if not chunk:
            eof = True  # one more pass: the exact scanner reads what is left
            if at_item:
                continue
            break
        # drop what is done; keep the pending item (and count the lines we drop)
        line += buf.count(b"\n", line_pos, mark)
        buf = buf[mark:] + chunk
        pos -= mark
        mark = line_pos = 0
    tail = buf[mark:].strip()
    if not tail:
        return
    if depth == 0:
        line += buf.count(b"\n", line_pos, mark)
        yield JsonValue(f"line {line}", _cut(tail), _OUTSIDE)
    elif in_array and depth == 1 and not cut_string:
        item += 1  # the array was never closed; its last item may still be complete
        yield JsonValue(f"item {item}", tail)
    else:
        where = f"item {item + 1}" if in_array else f"line {line}"
        yield JsonValue(
            where,
            _cut(tail),
            "the file ends in the middle of this record: it is truncated (an interrupted "
            "download?): the records before it were read; download the chat again or delete "
            "this cut record",
        )


# --------------------------------------------------------------------------------------------
# Time helpers
# --------------------------------------------------------------------------------------------

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def iso_from_us(us: int) -> str:
    """UNIX microseconds → ISO-8601 UTC text, exactly (``…T18:59:32.190236+00:00``)."""
    return (_EPOCH + timedelta(microseconds=us)).isoformat()


def epoch_to_us(value: int | float | Decimal) -> int:
    """Epoch seconds / ms / µs / ns, told apart by magnitude (as the event schema does)."""
    if type(value) is int and 100_000_000_000_000 <= value < 100_000_000_000_000_000:
        return value  # microseconds, the common case
    number = Decimal(value) if not isinstance(value, Decimal) else value
    size = abs(number)
    if size < Decimal("1e11"):
        scaled = number * 1_000_000
    elif size < Decimal("1e14"):
        scaled = number * 1000
    elif size < Decimal("1e17"):
        scaled = number
    else:
        scaled = number / 1000
    return int(scaled.to_integral_value())


def _dt_to_us(value: datetime) -> int:
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def parse_base_ts(value: Any, name: str = "base_ts") -> datetime:
    """An option giving a session start → aware datetime; raises ImportFormatError.

    Accepts an aware ``datetime``, ISO-8601 text with an offset or ``Z``, or epoch seconds /
    milliseconds (a number or numeric text).
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ImportFormatError(f"option {name} {value.isoformat()} has no time zone.")
        return value
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        try:
            return _EPOCH + timedelta(microseconds=epoch_to_us(value))
        except (OverflowError, InvalidOperation, ValueError):
            pass
    elif isinstance(value, str):
        text = value.strip()
        try:
            return _EPOCH + timedelta(microseconds=epoch_to_us(Decimal(text)))
        except (InvalidOperation, OverflowError, ValueError):
            pass
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            if parsed.tzinfo is None:
                raise ImportFormatError(
                    f"option {name} {value!r} has no time zone; add one, e.g. "
                    f"'{text}+08:00' or '{text}Z'."
                )
            return parsed
    raise ImportFormatError(
        f"option {name} {value!r} is not a time; give e.g. '2024-05-01T20:00:00+08:00' or "
        "epoch seconds."
    )


def number_or_none(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return float(value) if "." in value else int(value)
        except ValueError:
            return None
    return None


def decode_raw(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


# --------------------------------------------------------------------------------------------
# The importer
# --------------------------------------------------------------------------------------------

_COMMENT_TYPES: Final = frozenset(
    {"text_message", "highlighted_message", "send_message_in_subscriber_only_mode"}
)
_PAID_TYPES: Final = frozenset({"paid_message", "paid_sticker"})
_MEMBERSHIP_TYPES: Final = frozenset(
    {
        "membership_item",
        # Twitch subscriptions: paid by the viewer (or by the gifter, who is the author)
        "subscription",
        "resubscription",
        "extend_subscription",
        "prime_paid_upgrade",
        "gift_paid_upgrade",
        "anonymous_gift_paid_upgrade",
        "subscription_gift",
        "anonymous_subscription_gift",
    }
)
_GIFT_PURCHASE_TYPES: Final = frozenset({"sponsorships_gift_purchase_announcement"})
_COUNTED_ELSEWHERE: Final = {
    "mystery_subscription_gift": "gift-sub announcement (each gift is its own subgift)",
    "anonymous_mystery_subscription_gift": "gift-sub announcement (each gift is its own subgift)",
    "sponsorships_gift_redemption_announcement": (
        "gift membership received (counted at the gifter's purchase)"
    ),
}
_TWITCH_TYPES: Final = frozenset(
    {
        "subscription",
        "resubscription",
        "extend_subscription",
        "prime_paid_upgrade",
        "gift_paid_upgrade",
        "anonymous_gift_paid_upgrade",
        "subscription_gift",
        "anonymous_subscription_gift",
        "mystery_subscription_gift",
        "anonymous_mystery_subscription_gift",
        "raid",
    }
)
_YOUTUBE_ID: Final = re.compile(r"UC[\w-]{22}")
_TYPE_NAME: Final = re.compile(r"[a-z_]{1,40}")
_FIRST_NUMBER: Final = re.compile(r"\d+")
TICKER_REASON: Final = "ticker repeating a paid message or membership"
_DETECT_ITEMS: Final = 50


@dataclass(frozen=True, slots=True)
class _Context:
    base_us: int | None
    use_offset: bool
    platform: str | None
    yen: str


def _option_platform(options: Mapping[str, Any]) -> str | None:
    platform = options.get("platform")
    if platform in (None, ""):
        return None
    if platform not in ("youtube", "twitch"):
        raise ImportFormatError(f"option platform {platform!r}: expected 'youtube' or 'twitch'.")
    return str(platform)


def _option_yen(options: Mapping[str, Any]) -> str:
    yen = options.get("yen") or "JPY"
    if yen not in ("JPY", "CNY"):
        raise ImportFormatError(f"option yen {yen!r}: expected 'JPY' or 'CNY'.")
    return str(yen)


def _download_time_stamps(objects: list[Any]) -> bool:
    """True when the items' timestamps cannot be send times (see the module docstring)."""
    pairs = []
    for obj in objects:
        if isinstance(obj, dict):
            stamp = number_or_none(obj.get("timestamp"))
            offset = number_or_none(obj.get("time_in_seconds"))
            if stamp is not None and offset is not None:
                pairs.append((epoch_to_us(stamp) / 1e6, float(offset)))
    if len(pairs) < 2:
        return False
    stamps = [p[0] for p in pairs]
    offsets = [p[1] for p in pairs]
    offset_span = max(offsets) - min(offsets)
    return offset_span >= 60 and (max(stamps) - min(stamps)) * 10 < offset_span


class ChatDownloaderImporter:
    """chat-downloader JSON array / JSON lines (YouTube, Twitch …), 2020 and current schema."""

    name = "chat-downloader"
    label = "chat-downloader JSON (YouTube / Twitch chat replay)"

    def sniff(self, head: bytes, filename: str) -> bool:
        text = head.lstrip(_BOM + b" \t\r\n")
        if not text.startswith((b"[", b"{")):
            return False
        if b"Renderer" in text or b"ChatItemAction" in text:
            return False  # raw YouTube innertube actions
        if b'"message_type"' in text or b'"time_in_seconds"' in text:
            return True
        return b'"timestamp"' in text and b'"author"' in text and b'"message"' in text

    def parse(self, stream: BinaryIO, *, options: dict[str, Any] | None = None) -> Iterator[Item]:
        opts: Mapping[str, Any] = options or {}
        base = opts.get("base_ts")
        base_us = None if base in (None, "") else _dt_to_us(parse_base_ts(base))
        time_base = opts.get("time_base") or "auto"
        if time_base not in ("auto", "timestamp", "offset"):
            raise ImportFormatError(
                f"option time_base {time_base!r}: expected 'auto', 'timestamp' or 'offset'."
            )
        values = iter_json_values(stream)
        head = [(value, _decode(value)) for value in islice(values, _DETECT_ITEMS)]
        if time_base == "auto":
            use_offset = _download_time_stamps([obj for _, obj in head])
        else:
            use_offset = time_base == "offset"
        ctx = _Context(base_us, use_offset, _option_platform(opts), _option_yen(opts))
        rest = ((value, _decode(value)) for value in values)
        for value, obj in chain(head, rest):
            yield self._item(value, obj, ctx)

    # -- one message ---------------------------------------------------------------------

    def _item(self, value: JsonValue, obj: Any, ctx: _Context) -> Item:
        location = value.location
        raw = decode_raw(value.raw)
        if value.error is not None:
            return Problem(location, "bad_json", "row", f"{location}: {value.error}.", raw)
        if isinstance(obj, _Bad):
            return Problem(
                location,
                "bad_json",
                "row",
                f"{location} is not valid JSON ({obj.message}); fix or remove this item.",
                raw,
            )
        if not isinstance(obj, dict):
            return Problem(
                location,
                "bad_row",
                "row",
                f"{location} is a JSON {type(obj).__name__}, not a message object; remove it, "
                "or import the file with its own format if it is not chat-downloader output.",
                raw,
            )
        mtype = obj.get("message_type")
        if not isinstance(mtype, str):
            mtype = None
        if (mtype or "").startswith("ticker_") or (mtype is None and "ticker_duration" in obj):
            return Skipped(location, TICKER_REASON, raw)
        if mtype in _COUNTED_ELSEWHERE:
            return Skipped(location, _COUNTED_ELSEWHERE[mtype], raw)
        paid = obj.get("money") is not None or obj.get("amount") is not None
        bits = number_or_none(obj.get("bits")) or 0
        if mtype is None:
            mtype = "paid_message" if paid else "text_message"
        fields: dict[str, Any] = {}
        if mtype in _COMMENT_TYPES and isinstance(bits, int) and bits > 0:
            fields.update(kind="gift", quantity=bits, amount=format_amount(bits * Decimal("0.01")))
            fields["currency"] = "USD"
        elif mtype in _COMMENT_TYPES:
            fields["kind"] = "comment"
        elif mtype in _PAID_TYPES:
            fields.update(kind="gift", quantity=1)
            problem = self._money(obj, fields, ctx, location, raw)
            if problem is not None:
                return problem
        elif mtype in _MEMBERSHIP_TYPES:
            fields.update(kind="gift", quantity=1)
        elif mtype in _GIFT_PURCHASE_TYPES:
            found = _FIRST_NUMBER.search(str(obj.get("message") or ""))
            fields.update(kind="gift", quantity=int(found.group()) if found else 1)
        elif mtype == "raid":
            fields.update(kind="enter", source="raid")
            raiders = number_or_none(obj.get("number_of_raiders"))
            if isinstance(raiders, int):
                fields["quantity"] = raiders
        else:
            shown = mtype if _TYPE_NAME.fullmatch(mtype) else "other message type"
            return Skipped(location, f"not an audience event ({shown})", raw)
        try:
            fields["ts"] = self._ts(obj, ctx, location)
        except _TimeError as exc:
            return Problem(location, "bad_timestamp", "ts", str(exc), raw)
        self._author(obj, fields, mtype)
        message_text = obj.get("message")
        if fields["kind"] == "comment":
            fields["text"] = message_text if isinstance(message_text, str) else ""
        elif isinstance(message_text, str) and message_text:
            fields["text"] = message_text
        message_id = obj.get("message_id")
        if isinstance(message_id, str | int) and not isinstance(message_id, bool) and message_id:
            fields["event_id"] = str(message_id)
        platform = ctx.platform or self._platform(obj, fields, mtype, paid)
        if platform:
            fields["platform"] = platform
        return Record(location, fields, raw)

    @staticmethod
    def _money(
        obj: dict[str, Any], fields: dict[str, Any], ctx: _Context, location: str, raw: str
    ) -> Problem | None:
        money = obj.get("money")
        text: Any = obj.get("amount")
        code: Any = None
        number: Any = None
        if isinstance(money, dict):
            text = money.get("text") or text
            code = money.get("currency")
            number = money.get("amount")
        if isinstance(text, str) and text.strip():
            try:
                parsed = parse_money(text, yen=ctx.yen)
            except MoneyError as exc:
                if not (isinstance(code, str) and number is not None):
                    return Problem(
                        location,
                        "bad_amount",
                        "amount",
                        f"{location}: {exc}",
                        raw,
                    )
            else:
                fields["amount"] = parsed.amount_text
                fields["currency"] = parsed.currency
                return None
        if isinstance(number, int | float) and not isinstance(number, bool):
            fields["amount"] = format_amount(Decimal(repr(number)))
            if isinstance(code, str) and len(code) == 3 and code.isupper():
                fields["currency"] = code
            return None
        return Problem(
            location,
            "missing_field",
            "amount",
            f"{location} is a paid message without a readable amount (amount / money "
            "missing); fix the item or remove it.",
            raw,
        )

    @staticmethod
    def _ts(obj: dict[str, Any], ctx: _Context, location: str) -> str:
        """ISO-8601 text; raises _TimeError saying what is wrong and how to fix it."""
        offset = number_or_none(obj.get("time_in_seconds"))
        stamp = number_or_none(obj.get("timestamp"))
        try:
            if not ctx.use_offset and stamp is not None:
                return iso_from_us(epoch_to_us(stamp))
            if offset is None:
                what = "time_in_seconds" if ctx.use_offset else "timestamp"
                raise _TimeError(
                    f"{location} has no {what}, so its time is unknown; add it or remove the item."
                )
            if ctx.base_us is None:
                why = (
                    "the file's timestamps are download times, not send times (they span "
                    "far less than time_in_seconds)"
                    if ctx.use_offset
                    else "it has no timestamp, only time_in_seconds (a video offset)"
                )
                raise _TimeError(
                    f"{location}: {why}; re-import with the session start as base_ts (e.g. "
                    "base_ts=2024-05-01T20:00:00+00:00): ts = base_ts + time_in_seconds."
                )
            return iso_from_us(ctx.base_us + round(offset * 1_000_000))
        except (OverflowError, ValueError, InvalidOperation):
            raise _TimeError(
                f"{location}: timestamp {obj.get('timestamp')!r} is out of range."
            ) from None

    @staticmethod
    def _author(obj: dict[str, Any], fields: dict[str, Any], mtype: str) -> None:
        author = obj.get("author")
        viewer_id: Any = obj.get("author_id")
        name: Any = obj.get("author_name")
        if isinstance(author, dict):
            viewer_id = author.get("id", viewer_id)
            name = author.get("display_name") or author.get("name") or name
        elif isinstance(author, str):
            name = author
        if mtype == "raid":
            name = obj.get("raider_display_name") or obj.get("raider_name") or name
        if isinstance(viewer_id, int) and not isinstance(viewer_id, bool):
            viewer_id = str(viewer_id)
        if isinstance(viewer_id, str) and viewer_id:
            fields["viewer_id"] = viewer_id
        if isinstance(name, str) and name:
            fields["viewer_name"] = name

    @staticmethod
    def _platform(
        obj: dict[str, Any], fields: dict[str, Any], mtype: str, paid: bool
    ) -> str | None:
        viewer_id = fields.get("viewer_id")
        if isinstance(viewer_id, str):
            if _YOUTUBE_ID.fullmatch(viewer_id):
                return "youtube"
            if viewer_id.isdigit():
                return "twitch"
        if mtype in _TWITCH_TYPES or "bits" in obj:
            return "twitch"
        if paid or mtype in _PAID_TYPES or mtype == "membership_item":
            return "youtube"
        return None


class _TimeError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class _Bad:
    message: str


def _decode(value: JsonValue) -> Any:
    if value.error is not None:
        return _Bad(value.error)
    if value.decoded is not None:
        return value.decoded[0]
    try:
        return orjson.loads(value.raw)
    except orjson.JSONDecodeError as exc:
        return _Bad(str(exc))
