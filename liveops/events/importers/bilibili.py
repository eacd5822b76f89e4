"""Bilibili live messages as blivedm receives them (format ``bilibili-blivedm``).

Input: JSON lines, one websocket command per line, exactly as blivedm (or any recorder of
the Bilibili live websocket) hands it over: ``{"cmd": "DANMU_MSG", "info": [...]}``,
``{"cmd": "SEND_GIFT", "data": {...}}`` … Two recorder habits are accepted as well:

* wrapped messages: ``{"ts": 1717243200.5, "data": {"cmd": ...}}`` (also ``message`` /
  ``msg`` / ``command`` / ``raw`` / ``payload`` as the key, and ``time`` / ``timestamp`` /
  ``received_at`` / ``recv_time`` as the recorder's clock);
* suffixed cmds: ``"DANMU_MSG:4:0:2:2:2:0"`` is ``DANMU_MSG`` (what blivedm does too).

Blank lines are not records. A line longer than 1 MiB, a line that is not JSON, or a
known cmd whose shape is broken becomes a :class:`Problem`.

Mapping (one record per line; ``platform`` is always ``bilibili``)
------------------------------------------------------------------

=========================== ============= ====================================================
cmd                         kind          fields
=========================== ============= ====================================================
DANMU_MSG                   comment       ts = info[0][4] (ms), text = info[1],
                                          viewer = info[2][0] / info[2][1]; event id from
                                          ``id_str`` in info[0][15].extra, else info[9].ct
SEND_GIFT                   gift          quantity = num; gold coins: amount = total_coin ÷
                                          1000 CNY (total_coin is what was paid — for a blind
                                          box the box price, not the prize value; price × num
                                          when absent); silver coins: amount 0 CNY (silver
                                          gifts are free; ``_note`` says so); event id = tid
GUARD_BUY (舰长/提督/总督)   gift          quantity = num, amount = price × num ÷ 1000 CNY
SUPER_CHAT_MESSAGE          gift          quantity 1, amount = price (already CNY), text =
                                          message; event id = data.id
INTERACT_WORD msg_type 1    enter
INTERACT_WORD msg_type 2/4/5 follow        (2 follow, 4 special follow, 5 mutual follow)
INTERACT_WORD msg_type 3    share
LIKE_INFO_V3_CLICK          like          quantity 1
ONLINE_RANK_COUNT           online_count  quantity = data.count, source =
                                          ``bilibili_online_rank`` — Bilibili caps this
                                          figure (≈10 000) and counts only ranked viewers: it
                                          is NOT the real online count, and the source lets
                                          analytics label it as such
=========================== ============= ====================================================

Skipped, with a reason: LIKE_INFO_V3_UPDATE (the room's running like total; mapping it would
count the likes LIKE_INFO_V3_CLICK already counts), WATCHED_CHANGE (cumulative "watched"
count: neither an event nor an online count), COMBO_SEND (summary of SEND_GIFTs already
counted), USER_TOAST_MSG(_V2) (repeats a GUARD_BUY), SUPER_CHAT_MESSAGE_JPN (translation of
a SUPER_CHAT_MESSAGE), ENTRY_EFFECT (entry animation of an INTERACT_WORD enter),
INTERACT_WORD with another msg_type, and every other cmd (room, PK, rank, banner …
messages: not audience events). ``*_V2`` commands carrying a protobuf payload (``data.pb``,
e.g. SEND_GIFT_V2, INTERACT_WORD_V2) are audience events this importer cannot decode: they
become Problems, so the loss is visible.

Viewers: uid 0 means Bilibili hid the user (not logged-in recorders see masked names);
such records keep ``viewer_name`` but get no ``viewer_id``, so they do not merge into one
fake viewer.

Timestamps: the message's own time (DANMU ms; SEND_GIFT ``timestamp``, GUARD_BUY and
SUPER_CHAT ``start_time``, INTERACT_WORD ``trigger_time``/``timestamp``; a top-level
``send_time``), else the recorder's wrapper time, else — for messages Bilibili sends without
a time (ONLINE_RANK_COUNT, LIKE_INFO_V3_CLICK) — the time of the previous timed message in
the file (messages arrive in order, so the error is the gap between messages; the record
carries ``_ts_estimated``; disable with ``options["carry_timestamps"] = False``). With none
of these the line is a Problem. Numbers are seconds, ms, µs or ns by magnitude
(< 1e11 s, < 1e14 ms, < 1e17 µs, else ns — see :func:`safety.epoch_to_ms`); ISO-8601
strings with an offset are accepted in wrappers.

Event ids are namespaced (``bilibili:gift:<tid>``, ``bilibili:sc:<id>``,
``bilibili:dm:<id_str>``); records without a source id get the pipeline's hash of the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any, BinaryIO, Final

import orjson

from .base import ImportFormatError, Item, Problem, Record, Skipped
from .safety import MAX_LINE_BYTES, epoch_to_ms, read_lines

__all__ = ["GOLD_PER_CNY", "BilibiliImporter"]

#: Bilibili's published rate: 1000 gold coins (金瓜子) = ¥1.
GOLD_PER_CNY: Final = 1000
PLATFORM: Final = "bilibili"
ONLINE_RANK_SOURCE: Final = "bilibili_online_rank"

_WRAPPER_KEYS: Final = ("data", "message", "msg", "command", "raw", "payload", "body")
_WRAPPER_TS_KEYS: Final = ("ts", "time", "timestamp", "received_at", "recv_time", "recv_ts")

_INTERACT_KINDS: Final[dict[int, str]] = {
    1: "enter",
    2: "follow",
    3: "share",
    4: "follow",
    5: "follow",
}

_SKIP_REASONS: Final[dict[str, str]] = {
    "LIKE_INFO_V3_UPDATE": (
        "LIKE_INFO_V3_UPDATE: the room's running like total, not an event "
        "(likes are counted from LIKE_INFO_V3_CLICK)"
    ),
    "WATCHED_CHANGE": "WATCHED_CHANGE: cumulative watched count, not an event",
    "COMBO_SEND": "COMBO_SEND: combo summary of SEND_GIFT messages already counted",
    "USER_TOAST_MSG": "USER_TOAST_MSG: repeats a GUARD_BUY already counted",
    "USER_TOAST_MSG_V2": "USER_TOAST_MSG_V2: repeats a GUARD_BUY already counted",
    "SUPER_CHAT_MESSAGE_JPN": (
        "SUPER_CHAT_MESSAGE_JPN: translation of a SUPER_CHAT_MESSAGE already counted"
    ),
    "SUPER_CHAT_MESSAGE_DELETE": "SUPER_CHAT_MESSAGE_DELETE: moderation, not an audience event",
    "ENTRY_EFFECT": "ENTRY_EFFECT: entry animation (the entry is the INTERACT_WORD)",
    "ENTRY_EFFECT_MUST_RECEIVE": "ENTRY_EFFECT_MUST_RECEIVE: entry animation",
    "_HEARTBEAT": "_HEARTBEAT: blivedm heartbeat (popularity), not an event",
}

_SNIFF_CMD: Final = re.compile(rb'"cmd"\s*:\s*"[A-Z0-9_]+(?::[0-9:]*)?"')
_PROTOBUF_EVENTS: Final = frozenset({"SEND_GIFT_V2", "INTERACT_WORD_V2", "DANMU_MSG_V2"})
_PROTOBUF_NOTE: Final = (
    "carries a protobuf payload (data.pb) that this importer does not decode; record with a "
    "tool that decodes it (blivedm ≥ 1.1 turns SEND_GIFT_V2 into gift messages)"
)


class _BadShape(Exception):
    """A known cmd whose fields are missing or of the wrong type."""


def _as_int(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise _BadShape(f"{what} must be a whole number, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise _BadShape(f"{what} must be a whole number, got {value!r}")


def _opt_int(value: Any) -> int | None:
    try:
        return None if value is None or value == "" else _as_int(value, "")
    except _BadShape:
        return None


def _viewer_id(uid: Any) -> str | None:
    """uid as text; 0 / empty (a hidden user) → None."""
    if uid is None or isinstance(uid, bool):
        return None
    text = str(uid).strip()
    return None if text in ("", "0") else text


def _cny_from_gold(gold: int) -> str:
    """Gold coins → CNY at 1000:1, exact (at most 3 decimals)."""
    return format(Decimal(gold).scaleb(-3).quantize(Decimal("0.001")), "f")


def _wrapper_ts(value: Any, time_zone: Any) -> int | None:
    if isinstance(value, str) and not value.strip().replace(".", "", 1).isdigit():
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        if parsed.tzinfo is None:
            if time_zone is None:
                return None
            parsed = parsed.replace(tzinfo=time_zone)
        return int(parsed.timestamp() * 1000)
    return epoch_to_ms(value)


class BilibiliImporter:
    """Bilibili live websocket messages (blivedm), one JSON object per line."""

    name = "bilibili-blivedm"
    label = "Bilibili live messages (blivedm JSON lines)"

    def sniff(self, head: bytes, filename: str) -> bool:
        for line in _complete_lines(head)[:20]:
            obj = _loads(line)
            if isinstance(obj, dict):
                message, _ = _unwrap(obj)
                if message is not None and isinstance(message.get("cmd"), str):
                    return True
        # a first line longer than the head: fall back to a textual look
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        return text.startswith(b"{") and _SNIFF_CMD.search(head[:4096]) is not None

    def parse(self, stream: BinaryIO, *, options: dict[str, Any] | None = None) -> Iterator[Item]:
        opts = options or {}
        carry = bool(opts.get("carry_timestamps", True))
        time_zone = _zone(opts.get("time_zone"))
        last_ts: int | None = None
        for number, line in read_lines(stream, max_line_bytes=MAX_LINE_BYTES):
            location = f"line {number}"
            if line is None:
                yield Problem(
                    location,
                    "too_long",
                    "row",
                    f"{location} is longer than {MAX_LINE_BYTES} bytes; a Bilibili message is "
                    "far smaller. The file is probably not JSON lines (one message per line).",
                    "",
                )
                continue
            if number == 1 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            if not line.strip():
                continue
            raw = line.decode("utf-8", "replace").rstrip("\r\n")
            obj = _loads(line)
            if not isinstance(obj, dict):
                what = "not JSON" if obj is _INVALID else "not a JSON object"
                yield Problem(
                    location,
                    "bad_row",
                    "row",
                    f"{location} is {what}; each line must be one Bilibili message object "
                    'such as {"cmd": "DANMU_MSG", "info": [...]}.',
                    raw,
                )
                continue
            message, wrapper_ts = _unwrap(obj)
            if message is None:
                yield Problem(
                    location,
                    "bad_row",
                    "cmd",
                    f'{location} has no "cmd": it is not a Bilibili live message (expected '
                    'e.g. {"cmd": "DANMU_MSG", ...} or a recorder wrapper {"ts": ..., '
                    '"data": {"cmd": ...}}).',
                    raw,
                )
                continue
            cmd = str(message["cmd"]).split(":", 1)[0]
            try:
                item, own_ts = _convert(cmd, message, location, raw)
            except (_BadShape, KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
                detail = str(exc) if isinstance(exc, _BadShape) else f"{type(exc).__name__}: {exc}"
                yield Problem(
                    location,
                    "bad_row",
                    "row",
                    f"{location}: {cmd} message is not in the shape blivedm receives ({detail}).",
                    raw,
                )
                continue
            if not isinstance(item, Record):
                if own_ts is not None:
                    last_ts = own_ts
                yield item
                continue
            ts = own_ts
            if ts is None and wrapper_ts is not None:
                ts = _wrapper_ts(wrapper_ts, time_zone)
            if ts is None:
                ts = _wrapper_ts(message.get("send_time"), time_zone)
            if ts is not None:
                last_ts = ts
            elif carry and last_ts is not None:
                ts = last_ts
                item.fields["_ts_estimated"] = True
            else:
                yield Problem(
                    location,
                    "missing_field",
                    "ts",
                    f"{location}: {cmd} carries no time and no earlier message gives one; "
                    'record with a wrapper that stamps each message, e.g. {"ts": '
                    '1717243200123, "data": {...}}.',
                    raw,
                )
                continue
            item.fields["ts"] = ts
            yield item


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------

_INVALID: Final = object()


def _loads(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        pass
    try:  # integers beyond 64 bits (orjson refuses them)
        import json

        return json.loads(line.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return _INVALID


def _complete_lines(head: bytes) -> list[bytes]:
    """Whole lines of the head (the last one may be cut), blank ones dropped."""
    head = head.removeprefix(b"\xef\xbb\xbf")
    cut = head.rfind(b"\n")
    lines = head[: cut + 1].splitlines() if cut >= 0 else []
    if cut < 0 and head.rstrip().endswith(b"}"):
        lines = [head]
    return [line for line in lines if line.strip()]


def _unwrap(obj: dict[str, Any]) -> tuple[dict[str, Any] | None, Any]:
    """(message with a "cmd", the recorder's timestamp or None)."""
    if isinstance(obj.get("cmd"), str):
        return obj, None
    for key in _WRAPPER_KEYS:
        inner = obj.get(key)
        if isinstance(inner, str) and inner.lstrip().startswith("{"):
            parsed = _loads(inner.encode("utf-8"))
            inner = parsed if isinstance(parsed, dict) else None
        if isinstance(inner, dict) and isinstance(inner.get("cmd"), str):
            wrapper_ts = next(
                (obj[k] for k in _WRAPPER_TS_KEYS if obj.get(k) not in (None, "")), None
            )
            return inner, wrapper_ts
    return None, None


def _zone(name: Any) -> Any:
    """The time zone for naive wrapper timestamps (``options["time_zone"]``)."""
    if not name:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(str(name).strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ImportFormatError(
            f"time zone {name!r} is unknown; use an IANA name such as Asia/Shanghai or UTC."
        ) from None


def _data(message: dict[str, Any]) -> dict[str, Any]:
    data = message.get("data")
    if not isinstance(data, dict):
        raise _BadShape('"data" must be an object')
    return data


def _convert(cmd: str, message: dict[str, Any], location: str, raw: str) -> tuple[Item, int | None]:
    """The item for one message and the message's own timestamp (ms) if it has one."""
    if cmd == "DANMU_MSG":
        return _danmaku(message, location, raw)
    if cmd == "SEND_GIFT":
        return _gift(_data(message), location, raw)
    if cmd == "GUARD_BUY":
        return _guard(_data(message), location, raw)
    if cmd == "SUPER_CHAT_MESSAGE":
        return _super_chat(_data(message), location, raw)
    if cmd == "INTERACT_WORD":
        return _interact(_data(message), location, raw)
    if cmd == "LIKE_INFO_V3_CLICK":
        data = _data(message)
        fields: dict[str, Any] = {"kind": "like", "quantity": 1, "platform": PLATFORM}
        _viewer(fields, data.get("uid"), data.get("uname"))
        return Record(location, fields, raw), _own_ts(data, "timestamp")
    if cmd == "ONLINE_RANK_COUNT":
        data = _data(message)
        count = _as_int(data.get("count"), "data.count")
        fields = {
            "kind": "online_count",
            "quantity": count,
            "source": ONLINE_RANK_SOURCE,
            "platform": PLATFORM,
        }
        return Record(location, fields, raw), None
    if cmd in _SKIP_REASONS:
        return Skipped(location, _SKIP_REASONS[cmd], raw), None
    data_obj = message.get("data")
    if cmd in _PROTOBUF_EVENTS and isinstance(data_obj, dict) and "pb" in data_obj:
        problem = Problem(location, "bad_row", "row", f"{location}: {cmd} {_PROTOBUF_NOTE}.", raw)
        return problem, None
    return Skipped(location, f"{cmd}: not an audience event", raw), None


def _viewer(fields: dict[str, Any], uid: Any, name: Any) -> None:
    viewer_id = _viewer_id(uid)
    if viewer_id is not None:
        fields["viewer_id"] = viewer_id
    if isinstance(name, str) and name:
        fields["viewer_name"] = name


def _own_ts(data: dict[str, Any], *keys: str) -> int | None:
    for key in keys:
        ts = epoch_to_ms(data.get(key))
        if ts is not None:
            return ts
    return None


def _danmaku(message: dict[str, Any], location: str, raw: str) -> tuple[Item, int | None]:
    info = message.get("info")
    if not isinstance(info, list) or len(info) < 3:
        raise _BadShape('"info" must be a list [meta, text, [uid, uname, ...], ...]')
    meta, text, user = info[0], info[1], info[2]
    if not isinstance(meta, list) or not isinstance(user, list) or len(user) < 2:
        raise _BadShape("info[0] and info[2] must be lists")
    if not isinstance(text, str):
        raise _BadShape(f"info[1] (the comment text) must be a string, got {text!r}")
    ts = epoch_to_ms(meta[4]) if len(meta) > 4 else None
    check = info[9] if len(info) > 9 and isinstance(info[9], dict) else {}
    if ts is None:
        ts = epoch_to_ms(check.get("ts"))
    mode_info = meta[15] if len(meta) > 15 and isinstance(meta[15], dict) else {}
    uid: Any = user[0]
    if _viewer_id(uid) is None:
        mode_user = mode_info.get("user")
        if isinstance(mode_user, dict):
            uid = mode_user.get("uid", uid)
    fields: dict[str, Any] = {"kind": "comment", "text": text, "platform": PLATFORM}
    _viewer(fields, uid, user[1])
    id_str = _danmaku_id(mode_info)
    if id_str:
        fields["event_id"] = f"bilibili:dm:{id_str}"
    elif check.get("ct") and ts is not None:
        fields["event_id"] = f"bilibili:dm:{ts}:{_viewer_id(uid) or 0}:{check['ct']}"
    return Record(location, fields, raw), ts


def _danmaku_id(mode_info: dict[str, Any]) -> str | None:
    extra = mode_info.get("extra")
    if isinstance(extra, str) and extra:
        try:
            extra = orjson.loads(extra)
        except orjson.JSONDecodeError:
            return None
    if isinstance(extra, dict):
        value = extra.get("id_str")
        if isinstance(value, str) and value:
            return value
    return None


def _gift(data: dict[str, Any], location: str, raw: str) -> tuple[Item, int | None]:
    num = _as_int(data.get("num"), "data.num")
    coin_type = str(data.get("coin_type") or "gold").lower()
    fields: dict[str, Any] = {
        "kind": "gift",
        "quantity": num,
        "currency": "CNY",
        "platform": PLATFORM,
    }
    name = data.get("giftName")
    if isinstance(name, str):
        fields["_gift_name"] = name
    if coin_type == "silver":
        fields["amount"] = "0"
        fields["_note"] = "silver-coin gift: free to send, worth 0 CNY"
    else:
        total = _opt_int(data.get("total_coin"))
        if not total:
            total = _as_int(data.get("price"), "data.price") * num
        fields["amount"] = _cny_from_gold(total)
        fields["_gold"] = total
    _viewer(fields, data.get("uid"), data.get("uname"))
    tid = data.get("tid")
    if tid not in (None, "", 0, "0"):
        fields["event_id"] = f"bilibili:gift:{tid}"
    return Record(location, fields, raw), _own_ts(data, "timestamp")


def _guard(data: dict[str, Any], location: str, raw: str) -> tuple[Item, int | None]:
    num = _as_int(data.get("num"), "data.num")
    price = _as_int(data.get("price"), "data.price")
    fields: dict[str, Any] = {
        "kind": "gift",
        "quantity": num,
        "amount": _cny_from_gold(price * num),
        "currency": "CNY",
        "platform": PLATFORM,
        "_gold": price * num,
    }
    name = data.get("gift_name")
    if isinstance(name, str):
        fields["_gift_name"] = name
    _viewer(fields, data.get("uid"), data.get("username"))
    return Record(location, fields, raw), _own_ts(data, "start_time", "timestamp")


def _super_chat(data: dict[str, Any], location: str, raw: str) -> tuple[Item, int | None]:
    price = data.get("price")
    if isinstance(price, bool) or not isinstance(price, int | float | str):
        raise _BadShape(f"data.price (CNY) must be a number, got {price!r}")
    amount = Decimal(str(price))
    fields: dict[str, Any] = {
        "kind": "gift",
        "quantity": 1,
        "amount": format(amount, "f"),
        "currency": "CNY",
        "platform": PLATFORM,
        "_gift_name": "SUPER_CHAT",
    }
    message = data.get("message")
    if isinstance(message, str):
        fields["text"] = message
    user_info = data.get("user_info")
    name = user_info.get("uname") if isinstance(user_info, dict) else None
    _viewer(fields, data.get("uid"), name)
    sc_id = data.get("id")
    if sc_id not in (None, "", 0, "0"):
        fields["event_id"] = f"bilibili:sc:{sc_id}"
    return Record(location, fields, raw), _own_ts(data, "start_time", "ts")


def _interact(data: dict[str, Any], location: str, raw: str) -> tuple[Item, int | None]:
    msg_type = _as_int(data.get("msg_type"), "data.msg_type")
    ts = _own_ts(data, "trigger_time", "timestamp")
    kind = _INTERACT_KINDS.get(msg_type)
    if kind is None:
        return Skipped(location, f"INTERACT_WORD msg_type {msg_type}: not mapped", raw), ts
    fields: dict[str, Any] = {"kind": kind, "platform": PLATFORM}
    _viewer(fields, data.get("uid"), data.get("uname"))
    return Record(location, fields, raw), ts
