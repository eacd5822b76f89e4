"""Douyin / TikTok webcast messages decoded to JSON (format ``douyin-webcast``).

Input: JSON lines, one webcast message per line, as open-source fetchers dump them after
decoding the protobuf frames (DouyinLiveWebFetcher / douyin-live with betterproto or
``MessageToDict``, TikTokLive-style dumps). Shapes accepted:

* envelope: ``{"method": "WebcastChatMessage", "payload": {...decoded message...}}`` (also
  ``type`` / ``event`` / ``msgType`` for the method and ``data`` / ``message`` / ``msg``
  for the payload, plus the recorder's ``ts`` / ``timestamp``);
* flat decoded message: ``{"common": {"method": "WebcastChatMessage", "msgId": "…",
  "createTime": "1717243200123"}, "user": {...}, "content": "…"}``;
* TikTokLive event names: ``CommentEvent``, ``GiftEvent``, ``LikeEvent``, ``JoinEvent``,
  ``FollowEvent``, ``ShareEvent``, ``RoomUserSeqEvent``, ``LiveEndEvent``.

Field names are matched without regard to case or underscores (``nickName``,
``nick_name``, ``nickname`` are one name), and numbers may be JSON numbers or the decimal
strings ``MessageToDict`` writes for 64-bit fields. A payload left as protobuf bytes
(base64) is a Problem: decode it first.

Mapping
-------

======================== ============ ==========================================================
method                   kind         fields
======================== ============ ==========================================================
ChatMessage              comment      text = content; viewer = user.id / user.nickName
EmojiChatMessage         comment      text = defaultContent (the emoji's text)
GiftMessage              gift         see "gift combos" below
LikeMessage              like         quantity = count (likes in this message; ``total``, the
                                      room's running total, is ignored)
MemberMessage            enter        (``memberCount`` is ignored: RoomUserSeq is the snapshot)
SocialMessage            follow/share action 1 → follow, 3 → share (TikTok: FollowEvent /
                                      ShareEvent, or the display text key); others Skipped
RoomUserSeqMessage       online_count quantity = total (current online); ``totalUser`` (cumulative)
                                      is ignored; source = ``<platform>_room_user_seq``
ControlMessage           —            Skipped: status 3 = "live ended", other statuses too
anything else            —            Skipped with the method named (rank, stats, room …)
======================== ============ ==========================================================

Gift combos (连击 / streaks): a comboable gift (``gift.combo`` true on Douyin, ``gift.type``
1 on TikTok; assumed when neither is given) sends a message per step with the streak's
running count in ``repeatCount`` (``comboCount`` when absent) and ``repeatEnd`` = 1 on the
last one. LiveOps counts **deltas**: per streak (viewer, gift id, ``groupId``) it keeps the
last count seen and records only the increase, so a streak 1, 2, 5, end(5) yields gifts of
1, 1, 3 and one Skipped (the end repeats the count), totalling 5 — and a streak whose end
message was lost is still counted up to its last step. A count lower than the last seen
starts a new streak. Non-comboable gifts count every message in full. The count of gifts
in a message step is multiplied by ``groupCount`` (gifts per click) when that is > 1.

Gift value: diamonds (抖币 / coins) per gift × quantity. LiveOps never invents a rate: without
``options["diamond_rate"]`` the amount is the number of diamonds with **no currency** —
the event schema's convention for a gift's platform unit, which the analytics layer converts
with the workspace's configured rate (and ``_value_unit`` says ``diamond``). With
``options["diamond_rate"]`` (e.g. ``"0.1"`` CNY per diamond) and ``options["currency"]``
(required then) the amount is converted, rounded to 4 decimals.

Platform: ``options["platform"]``, else a ``platform`` field in the record, else ``tiktok``
when the user has a ``uniqueId`` (TikTok's @handle), else ``douyin``.

Timestamps: ``common.createTime`` (ms), else the payload's ``eventTime`` / ``sendTime`` /
``createTime`` / ``timestamp``, else the recorder's wrapper time, else the time of the
previous timed message (``_ts_estimated``; off with ``options["carry_timestamps"]`` =
False). Unit by magnitude (< 1e11 s, < 1e14 ms, < 1e17 µs, else ns).

Event ids: ``<platform>:<common.msgId>`` when the message has a non-zero id.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, BinaryIO, Final

import orjson

from .base import ImportFormatError, Item, Problem, Record, Skipped
from .safety import MAX_LINE_BYTES, epoch_to_ms, read_lines

__all__ = ["WebcastImporter"]

#: Most open gift streaks remembered at once (oldest forgotten first; flat memory).
MAX_OPEN_STREAKS: Final = 100_000

_METHOD_KEYS: Final = ("method", "type", "event", "msgtype", "messagetype", "eventtype")
_PAYLOAD_KEYS: Final = ("payload", "data", "message", "msg", "event")
_WRAPPER_TS_KEYS: Final = ("ts", "timestamp", "time", "receivedat", "recvtime")
_PAYLOAD_TS_KEYS: Final = ("eventtime", "sendtime", "createtime", "timestamp", "ts")

#: normalised method (lower case, letters only, without "webcast" / "message" / "event")
_METHODS: Final[dict[str, str]] = {
    "chat": "chat",
    "comment": "chat",
    "emojichat": "emojichat",
    "gift": "gift",
    "like": "like",
    "member": "member",
    "join": "member",
    "social": "social",
    "follow": "follow",
    "share": "share",
    "roomuserseq": "roomuserseq",
    "control": "control",
    "liveend": "control",
}

_SNIFF_RE: Final = re.compile(rb'"(?:method|type|event)"\s*:\s*"Webcast[A-Za-z]+Message"')
_INVALID: Final = object()


def _norm(key: str) -> str:
    return key.replace("_", "").replace("-", "").lower()


def _get(obj: Any, *names: str) -> Any:
    """The first present, non-null value of ``names`` (normalised keys) in a dict."""
    if not isinstance(obj, Mapping):
        return None
    for name in names:
        if name in obj and obj[name] is not None:
            return obj[name]
    normalised = {_norm(k): v for k, v in obj.items() if isinstance(k, str)}
    for name in names:
        value = normalised.get(_norm(name))
        if value is not None:
            return value
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
    return None


def _text_id(value: Any) -> str | None:
    if value is None or isinstance(value, bool | dict | list):
        return None
    text = str(value).strip()
    return None if text in ("", "0") else text


def _method_name(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    letters = re.sub(r"[^a-z]", "", value.lower())
    letters = letters.removeprefix("webcast")
    for suffix in ("message", "event", "msg"):
        if letters.endswith(suffix) and len(letters) > len(suffix):
            letters = letters[: -len(suffix)]
            break
    return letters or None


class WebcastImporter:
    """Douyin / TikTok webcast messages decoded to JSON, one per line."""

    name = "douyin-webcast"
    label = "Douyin / TikTok webcast messages (decoded JSON lines)"

    def sniff(self, head: bytes, filename: str) -> bool:
        head = head.removeprefix(b"\xef\xbb\xbf")
        if not head.lstrip().startswith(b"{"):
            return False
        cut = head.rfind(b"\n")
        lines = head[: cut + 1].splitlines() if cut >= 0 else [head]
        for line in [x for x in lines if x.strip()][:20]:
            obj = _loads(line)
            if isinstance(obj, dict):
                method, _payload, _ts = _split(obj)
                if isinstance(method, str) and method.startswith("Webcast"):
                    return True
        return _SNIFF_RE.search(head[:8192]) is not None

    def parse(self, stream: BinaryIO, *, options: dict[str, Any] | None = None) -> Iterator[Item]:
        opts = options or {}
        rate, currency = _rate(opts)
        fixed_platform = opts.get("platform")
        carry = bool(opts.get("carry_timestamps", True))
        streaks: OrderedDict[tuple[str, str, str], int] = OrderedDict()
        last_ts: int | None = None
        for number, line in read_lines(stream, max_line_bytes=MAX_LINE_BYTES):
            location = f"line {number}"
            if line is None:
                yield Problem(
                    location,
                    "too_long",
                    "row",
                    f"{location} is longer than {MAX_LINE_BYTES} bytes; the file is probably "
                    "not JSON lines (one decoded message per line).",
                    "",
                )
                continue
            if number == 1:
                line = line.removeprefix(b"\xef\xbb\xbf")
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
                    f"{location} is {what}; each line must be one decoded webcast message "
                    'such as {"method": "WebcastChatMessage", "payload": {...}}.',
                    raw,
                )
                continue
            method, payload, wrapper_ts = _split(obj)
            if isinstance(payload, str):
                yield Problem(
                    location,
                    "bad_row",
                    "payload",
                    f"{location}: the {method or 'message'} payload is still encoded "
                    "(protobuf bytes); decode the messages to JSON before importing.",
                    raw,
                )
                continue
            kind = _METHODS.get(_method_name(method) or "")
            if method is None or not isinstance(payload, dict):
                yield Problem(
                    location,
                    "bad_row",
                    "method",
                    f"{location} names no message method; expected e.g. "
                    '{"method": "WebcastChatMessage", "payload": {...}} or a decoded message '
                    'with "common": {"method": ...}.',
                    raw,
                )
                continue
            if kind is None:
                item: Item = Skipped(location, f"{method}: not an audience event", raw)
            else:
                platform = _platform(fixed_platform, obj, payload)
                try:
                    item = _convert(kind, method, payload, location, raw, platform, streaks)
                except (ValueError, TypeError, KeyError) as exc:
                    item = Problem(location, "bad_row", "row", f"{location}: {method}: {exc}", raw)
            own_ts = _message_ts(obj, payload, wrapper_ts)
            if own_ts is not None:
                last_ts = own_ts
            if not isinstance(item, Record):
                yield item
                continue
            fields = item.fields
            if own_ts is not None:
                fields["ts"] = own_ts
            elif carry and last_ts is not None:
                fields["ts"] = last_ts
                fields["_ts_estimated"] = True
            else:
                yield Problem(
                    location,
                    "missing_field",
                    "ts",
                    f"{location}: {method} has no common.createTime and no earlier message "
                    "gives a time; keep the common block when decoding, or wrap each message "
                    'as {"ts": <epoch ms>, ...}.',
                    raw,
                )
                continue
            if "amount" in fields and rate is not None:
                converted = (Decimal(fields["amount"]) * rate).quantize(
                    Decimal("0.0001"), rounding=ROUND_HALF_EVEN
                )
                fields["amount"] = format(converted.normalize(), "f")
                fields["currency"] = currency
            yield item


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _loads(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        pass
    try:  # integers beyond 64 bits
        import json

        return json.loads(line.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return _INVALID


def _rate(opts: dict[str, Any]) -> tuple[Decimal | None, str | None]:
    value = opts.get("diamond_rate")
    if value in (None, ""):
        return None, None
    try:
        rate = Decimal(str(value).strip())
    except InvalidOperation:
        rate = Decimal(-1)
    if not rate.is_finite() or rate <= 0:
        raise ImportFormatError(
            f"diamond_rate {value!r} is not a positive number; give the value of one "
            "diamond in the session currency, e.g. 0.1 (CNY per Douyin diamond)."
        )
    currency = str(opts.get("currency") or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise ImportFormatError(
            "diamond_rate needs currency: the ISO 4217 code the rate is in (e.g. CNY); "
            "without it the amounts stay in diamonds."
        )
    return rate, currency


def _split(obj: dict[str, Any]) -> tuple[str | None, Any, Any]:
    """(method, payload, wrapper timestamp) of one line.

    The payload is the decoded message: the value under ``payload`` / ``data`` / … when the
    line is an envelope, else the line itself. A string payload is still-encoded protobuf.
    """
    method: str | None = None
    for key in _METHOD_KEYS:
        value = _get(obj, key)
        if isinstance(value, str) and value:
            method = value
            break
    payload: Any = obj
    for key in _PAYLOAD_KEYS:
        value = _get(obj, key)
        if isinstance(value, dict) or (isinstance(value, str) and method is not None):
            payload = value
            break
    if isinstance(payload, dict):
        common = _get(payload, "common") or _get(obj, "common")
        inner = _get(common, "method")
        known = _method_name(method) in _METHODS
        if isinstance(inner, str) and inner and not known:
            method = inner
    wrapper_ts = None
    if payload is not obj:
        for key in _WRAPPER_TS_KEYS:
            value = _get(obj, key)
            if value is not None and not isinstance(value, dict | list):
                wrapper_ts = value
                break
    return method, payload, wrapper_ts


def _message_ts(obj: dict[str, Any], payload: dict[str, Any], wrapper_ts: Any) -> int | None:
    common = _get(payload, "common") or _get(obj, "common")
    ts = epoch_to_ms(_get(common, "createTime"))
    if ts is None:
        for key in _PAYLOAD_TS_KEYS:
            ts = epoch_to_ms(_get(payload, key))
            if ts is not None:
                break
    if ts is None:
        ts = epoch_to_ms(wrapper_ts)
    return ts


def _platform(fixed: Any, obj: dict[str, Any], payload: dict[str, Any]) -> str:
    if isinstance(fixed, str) and fixed:
        return fixed
    named = _get(obj, "platform") or _get(payload, "platform")
    if isinstance(named, str) and named:
        return named.lower()
    user = _get(payload, "user")
    return "tiktok" if _get(user, "uniqueId") is not None else "douyin"


def _viewer(fields: dict[str, Any], payload: dict[str, Any]) -> None:
    user = _get(payload, "user", "userInfo", "fromUser")
    source = user if isinstance(user, Mapping) else payload
    viewer_id = _text_id(_get(source, "id", "userId", "uid", "idStr"))
    if viewer_id is None and source is not payload:
        viewer_id = _text_id(_get(payload, "userId", "uid"))
    name = _get(source, "nickName", "nickname", "nick", "uniqueId", "displayId")
    if viewer_id is not None:
        fields["viewer_id"] = viewer_id
    if isinstance(name, str) and name:
        fields["viewer_name"] = name


def _event_id(payload: dict[str, Any], platform: str) -> str | None:
    common = _get(payload, "common")
    msg_id = _text_id(_get(common, "msgId")) or _text_id(_get(payload, "msgId"))
    return f"{platform}:{msg_id}" if msg_id else None


def _convert(
    kind: str,
    method: str,
    payload: dict[str, Any],
    location: str,
    raw: str,
    platform: str,
    streaks: OrderedDict[tuple[str, str, str], int],
) -> Item:
    fields: dict[str, Any] = {"platform": platform}
    event_id = _event_id(payload, platform)
    if event_id:
        fields["event_id"] = event_id
    if kind == "control":
        status = _int(_get(payload, "status", "action"))
        if status == 3 or _method_name(method) == "liveend":
            return Skipped(location, "control: live ended (status 3)", raw)
        return Skipped(location, f"control: room status {status}", raw)
    if kind == "roomuserseq":
        total = _int(_get(payload, "total", "viewerCount", "onlineCount"))
        if total is None:
            raise ValueError("no total (the current online count)")
        fields.update(kind="online_count", quantity=total, source=f"{platform}_room_user_seq")
        return Record(location, fields, raw)
    _viewer(fields, payload)
    if kind in ("chat", "emojichat"):
        text = _get(payload, "content", "comment", "text", "defaultContent")
        if kind == "emojichat" and not isinstance(text, str):
            text = _get(_get(payload, "emojiContent"), "defaultContent") or ""
        if not isinstance(text, str):
            raise ValueError("no content (the comment text)")
        fields.update(kind="comment", text=text)
        return Record(location, fields, raw)
    if kind == "like":
        count = _int(_get(payload, "count", "likeCount"))
        count = 1 if count is None else count
        if count <= 0:
            return Skipped(location, "like message with count 0", raw)
        fields.update(kind="like", quantity=count)
        return Record(location, fields, raw)
    if kind == "member":
        fields["kind"] = "enter"
        return Record(location, fields, raw)
    if kind in ("social", "follow", "share"):
        social = kind if kind != "social" else _social_kind(payload)
        if social is None:
            action = _get(payload, "action")
            return Skipped(location, f"social action {action}: not mapped", raw)
        fields["kind"] = social
        return Record(location, fields, raw)
    return _gift(fields, payload, location, raw, streaks)


def _social_kind(payload: dict[str, Any]) -> str | None:
    action = _int(_get(payload, "action"))
    if action == 1:
        return "follow"
    if action == 3:
        return "share"
    if action is None:
        common = _get(payload, "common")
        display = _get(common, "displayText") or _get(payload, "displayText")
        key = str(_get(display, "key") or _get(payload, "displayType") or "").lower()
        if "follow" in key:
            return "follow"
        if "share" in key:
            return "share"
    return None


def _gift(
    fields: dict[str, Any],
    payload: dict[str, Any],
    location: str,
    raw: str,
    streaks: OrderedDict[tuple[str, str, str], int],
) -> Item:
    gift = _get(payload, "gift", "giftDetails", "giftInfo")
    gift = gift if isinstance(gift, Mapping) else {}
    gift_id = _text_id(_get(payload, "giftId")) or _text_id(_get(gift, "id")) or ""
    count = _int(_get(payload, "repeatCount"))
    if not count:
        count = _int(_get(payload, "comboCount"))
    count = count if count and count > 0 else 1
    group = _int(_get(payload, "groupCount")) or 1
    group = max(group, 1)
    combo_flag = _get(gift, "combo")
    gift_type = _int(_get(gift, "type", "giftType"))
    if combo_flag is not None:
        comboable = bool(combo_flag)
    elif gift_type is not None:
        comboable = gift_type == 1
    else:
        comboable = True
    if comboable:
        ended = bool(_int(_get(payload, "repeatEnd")))
        viewer = str(fields.get("viewer_id") or fields.get("viewer_name") or "")
        key = (viewer, gift_id, _text_id(_get(payload, "groupId")) or "")
        previous = streaks.pop(key, 0)
        delta = count - previous if count >= previous else count
        if not ended:
            streaks[key] = count
            if len(streaks) > MAX_OPEN_STREAKS:
                streaks.popitem(last=False)
        if delta == 0:
            why = "end" if ended else "progress"
            return Skipped(location, f"gift combo {why}: repeats a count already counted", raw)
        count = delta
    quantity = count * group
    name = _get(gift, "name")
    fields.update(kind="gift", quantity=quantity)
    if isinstance(name, str):
        fields["_gift_name"] = name
    diamonds = _int(_get(gift, "diamondCount"))
    if diamonds is None:
        diamonds = _int(_get(payload, "diamondCount"))
    if diamonds is not None and diamonds >= 0:
        fields["amount"] = str(diamonds * quantity)
        fields["_value_unit"] = "diamond"
    return Record(location, fields, raw)
