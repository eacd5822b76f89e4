"""Twitch chat: raw IRC lines (``twitch-irc``) and text chat logs (``twitch-log``).

twitch-irc
----------

One raw IRCv3 line per line, as a bot with the ``twitch.tv/tags twitch.tv/commands``
capabilities receives it::

    @badge-info=;bits=100;display-name=Foo;id=b34c…;tmi-sent-ts=1714575842000;user-id=123
      :foo!foo@foo.tmi.twitch.tv PRIVMSG #channel :cheer100 hello

Tag values are unescaped as IRCv3 says (``\\s`` space, ``\\:`` ``;``, ``\\\\`` ``\\``,
``\\r``, ``\\n``; any other escaped character is itself; a trailing lone ``\\`` is dropped).
``tmi-sent-ts`` (ms) → ts, ``id`` → event_id, ``user-id`` → viewer_id, ``display-name``
(else ``login``, else the prefix nick) → viewer_name, platform ``twitch``.

=====================================================  =====================================
line                                                   item
=====================================================  =====================================
PRIVMSG                                                ``comment`` (``/me`` text unwrapped)
PRIVMSG with ``bits`` > 0 (a cheer)                    ``gift``, quantity = bits, amount =
                                                       bits × 0.01 USD (what Twitch pays the
                                                       streamer per bit), text = message
USERNOTICE sub, resub, extendsub, primepaidupgrade,    ``gift``, quantity 1, no amount (the
giftpaidupgrade, anongiftpaidupgrade                   price depends on tier, region and
                                                       Prime; the plan is in the text);
                                                       text = the viewer's message, else
                                                       ``system-msg``
USERNOTICE subgift, anonsubgift                        ``gift`` by the gifter, quantity 1
USERNOTICE submysterygift, anonsubmysterygift          Skipped: Twitch follows it with one
                                                       subgift per recipient, counted there
USERNOTICE raid                                        ``enter`` by the raiding channel,
                                                       source ``"raid"``, quantity =
                                                       ``msg-param-viewerCount`` (the raiders
                                                       themselves are anonymous; PV counts the
                                                       raid as one entry)
other USERNOTICE (ritual, announcement,                Skipped, reason names the msg-id
bitsbadgetier, charity …)
CLEARCHAT, CLEARMSG                                    Skipped (moderation)
PING, JOIN, PART, ROOMSTATE, USERSTATE, NOTICE,        Skipped (protocol, not audience
numerics …                                             events; JOIN/PART are batched and
                                                       unreliable, see METRICS.md)
a line that is not IRC                                 Problem
=====================================================  =====================================

twitch-log
----------

Text logs as common loggers write them (one message per line)::

    [2024-05-01 15:04:02 UTC] name: text          OverRustleLogs style
    [2024-5-1 15:04:02] #channel name: text       justinlog / rustlog (UTC)
    [15:04:02] name: text                         Chatterino (date in the file name)
    [15:04:02] #channel name: text
    [2024-05-01 15:04:02] <name> text             IRC clients (mode prefixes @ + % ~ & dropped)

All lines are ``comment`` (platform ``twitch``, viewer_name = the name; a text log has no
user id or message id, so the pipeline hashes the line — Twitch refuses identical messages
from one user within 30 s, so two identical lines are two real messages only if a logger
wrote them twice). A zone after the time (``UTC``, ``Z``, ``+02:00``) is used; a dated line
without one is in ``options["tz"]`` (default UTC: justinlog and rustlog write UTC). A
time-only line needs a date: ``options["date"]`` (the log's first day, ``2024-05-01``) or
``options["base_ts"]`` (the session start; the first line is put on the day that puts it
within 12 h of it); its zone is ``options["tz"]``, else the offset of ``base_ts``, else
UTC. After the first line the date rolls over when the clock goes back by more than five
minutes (midnight). Without a date every time-only line is a Problem saying how to give one.
Lines starting with ``#`` (logger comments such as Chatterino's ``# Start logging at …``)
and lines with a time but no ``name:`` speaker (the loggers' sub / ban / timeout notices)
are Skipped; any other line is a Problem naming the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any, BinaryIO, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from liveops.events.importers.base import ImportFormatError, Item, Problem, Record, Skipped
from liveops.events.importers.chat_downloader import iso_from_us, parse_base_ts
from liveops.events.importers.money import format_amount

__all__ = ["TwitchIrcImporter", "TwitchLogImporter", "parse_irc_line", "unescape_tag"]

BIT_VALUE: Final = Decimal("0.01")  # USD the streamer receives per bit

_PREVIEW: Final = 60


def _preview(text: str) -> str:
    return text if len(text) <= _PREVIEW else text[: _PREVIEW - 1] + "…"


def _lines(stream: BinaryIO) -> Iterator[tuple[int, str]]:
    """Numbered, decoded, non-blank lines (without their line break)."""
    for number, data in enumerate(stream, 1):
        line = data.decode("utf-8", "replace").rstrip("\r\n")
        if number == 1:
            line = line.removeprefix("\ufeff")
        if line.strip():
            yield number, line


# --------------------------------------------------------------------------------------------
# IRC
# --------------------------------------------------------------------------------------------

_ESCAPE: Final = re.compile(r"\\(.?)", re.DOTALL)
_ESCAPES: Final = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}
_COMMAND: Final = re.compile(r"[A-Z]+|\d{3}")
_MSG_ID: Final = re.compile(r"[a-z0-9_-]{1,40}")


def unescape_tag(value: str) -> str:
    """IRCv3 message-tag value unescaping (``\\s`` → space, ``\\:`` → ``;`` …)."""
    if "\\" not in value:
        return value
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), value)


class IrcLine:
    """One parsed IRC line."""

    __slots__ = ("command", "params", "prefix", "tags", "trailing")

    def __init__(
        self,
        tags: dict[str, str],
        prefix: str | None,
        command: str,
        params: list[str],
        trailing: str | None,
    ) -> None:
        self.tags = tags
        self.prefix = prefix
        self.command = command
        self.params = params
        self.trailing = trailing

    @property
    def nick(self) -> str | None:
        if self.prefix and "!" in self.prefix:
            return self.prefix.split("!", 1)[0]
        return None


def parse_irc_line(line: str) -> IrcLine | None:
    """``@tags :prefix COMMAND params :trailing`` → IrcLine, or None if it is not IRC."""
    rest = line.rstrip("\r\n")
    tags: dict[str, str] = {}
    if rest.startswith("@"):
        raw_tags, _, rest = rest[1:].partition(" ")
        for pair in raw_tags.split(";"):
            if pair:
                key, _, value = pair.partition("=")
                tags[key] = unescape_tag(value)
    rest = rest.lstrip(" ")
    prefix = None
    if rest.startswith(":"):
        prefix, _, rest = rest[1:].partition(" ")
        rest = rest.lstrip(" ")
    trailing: str | None = None
    if rest.startswith(":"):
        return None
    head, sep, tail = rest.partition(" :")
    if sep:
        trailing = tail
    parts = head.split()
    if not parts or not _COMMAND.fullmatch(parts[0]):
        return None
    return IrcLine(tags, prefix, parts[0], parts[1:], trailing)


_SUBSCRIPTIONS: Final = frozenset(
    {"sub", "resub", "extendsub", "primepaidupgrade", "giftpaidupgrade", "anongiftpaidupgrade"}
)
_SUB_GIFTS: Final = frozenset({"subgift", "anonsubgift"})
_MYSTERY_GIFTS: Final = frozenset({"submysterygift", "anonsubmysterygift"})
MODERATION_REASON: Final = "moderation (message deleted / user timed out or banned)"
MYSTERY_REASON: Final = "gift-sub announcement (each gift is its own subgift)"
_PROTOCOL: Final = frozenset(
    {
        "PING",
        "PONG",
        "CAP",
        "JOIN",
        "PART",
        "ROOMSTATE",
        "USERSTATE",
        "GLOBALUSERSTATE",
        "NOTICE",
        "HOSTTARGET",
        "RECONNECT",
        "WHISPER",
        "PASS",
        "NICK",
        "MODE",
    }
)


class TwitchIrcImporter:
    """Raw Twitch IRC (IRCv3 tags) lines: chat, cheers, subs, gift subs, raids."""

    name = "twitch-irc"
    label = "Twitch IRC log (raw IRCv3 lines)"

    def sniff(self, head: bytes, filename: str) -> bool:
        lines = [ln for ln in head.decode("utf-8", "replace").splitlines() if ln.strip()][:20]
        if len(lines) > 1 and not head.endswith(b"\n"):
            lines = lines[:-1]  # the last line may be cut
        if not lines:
            return False
        parsed = [parse_irc_line(ln.removeprefix("\ufeff")) for ln in lines]
        irc = [p for p in parsed if p is not None and (p.prefix or p.tags or p.command == "PING")]
        twitch = any(
            p.command in ("PRIVMSG", "USERNOTICE", "CLEARCHAT", "ROOMSTATE")
            or "tmi-sent-ts" in p.tags
            or "tmi.twitch.tv" in (p.prefix or "")
            for p in irc
        )
        return twitch and len(irc) * 2 > len(lines)

    def parse(self, stream: BinaryIO, *, options: dict[str, Any] | None = None) -> Iterator[Item]:
        for number, line in _lines(stream):
            yield self._item(number, line)

    def _item(self, number: int, line: str) -> Item:
        location = f"line {number}"
        msg = parse_irc_line(line)
        bare = msg is not None and not msg.tags and msg.prefix is None
        if bare and msg is not None and msg.command not in _PROTOCOL:
            msg = None  # a bare word is not IRC unless it is a known command (PING …)
        if msg is None:
            return Problem(
                location,
                "bad_line",
                "row",
                f"{location} is not an IRC line ({_preview(line)!r}); expected "
                "'@tags :nick!nick@nick.tmi.twitch.tv PRIVMSG #channel :text'. Fix or delete "
                "the line.",
                line,
            )
        command = msg.command
        if command in ("CLEARCHAT", "CLEARMSG"):
            return Skipped(location, MODERATION_REASON, line)
        if command.isdigit():
            return Skipped(location, "IRC server reply (numeric)", line)
        if command not in ("PRIVMSG", "USERNOTICE"):
            known = command if command in _PROTOCOL else "other command"
            return Skipped(location, f"IRC {known} (not an audience event)", line)
        tags = msg.tags
        fields: dict[str, Any] = {"platform": "twitch"}
        text = msg.trailing
        if command == "PRIVMSG":
            text = text or ""
            if text.startswith("\x01ACTION ") and text.endswith("\x01"):
                text = text[8:-1]
            bits = tags.get("bits", "")
            if bits.isdigit() and int(bits) > 0:
                amount = format_amount(int(bits) * BIT_VALUE)
                fields.update(kind="gift", quantity=int(bits), amount=amount, currency="USD")
            else:
                fields["kind"] = "comment"
            fields["text"] = text
        else:
            msg_id = tags.get("msg-id", "")
            system = tags.get("system-msg") or None
            if msg_id in _MYSTERY_GIFTS:
                return Skipped(location, MYSTERY_REASON, line)
            if msg_id in _SUBSCRIPTIONS or msg_id in _SUB_GIFTS:
                fields.update(kind="gift", quantity=1)
                if text or system:
                    fields["text"] = text or system
            elif msg_id == "raid":
                fields.update(kind="enter", source="raid")
                viewers = tags.get("msg-param-viewerCount", "")
                if viewers.isdigit():
                    fields["quantity"] = int(viewers)
            else:
                shown = msg_id if _MSG_ID.fullmatch(msg_id) else "other msg-id"
                reason = f"USERNOTICE {shown} (not an audience event)"
                return Skipped(location, reason, line)
        sent = tags.get("tmi-sent-ts", "")
        if not sent.isdigit():
            return Problem(
                location,
                "bad_timestamp",
                "ts",
                f"{location}: {command} without a tmi-sent-ts tag, so its time is unknown; "
                "log raw lines with the twitch.tv/tags capability.",
                line,
            )
        fields["ts"] = iso_from_us(int(sent) * 1000)
        if tags.get("id"):
            fields["event_id"] = tags["id"]
        if tags.get("user-id"):
            fields["viewer_id"] = tags["user-id"]
        name = tags.get("display-name") or tags.get("login") or msg.nick
        if name:
            fields["viewer_name"] = name
        return Record(location, fields, line)


# --------------------------------------------------------------------------------------------
# Text logs
# --------------------------------------------------------------------------------------------

_LOG: Final = re.compile(
    r"\[(?:(?P<date>\d{4}-\d{1,2}-\d{1,2})[ T])?"
    r"(?P<time>\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)"
    r"(?:\s*(?P<zone>UTC|GMT|Z|[+-]\d{2}:?\d{2}))?\]"
    r"\s+(?:#(?P<channel>\S+)\s+)?"
    r"(?:<[@+%~&]?(?P<angle>[^>\s]+)>\s?(?P<angle_text>.*)"
    r"|(?P<name>[^\s:<>]+):\s?(?P<text>.*)"
    r"|(?P<system>.*))",
    re.DOTALL,
)
_ROLLBACK: Final = timedelta(minutes=5)
_NEAR: Final = timedelta(hours=12)
COMMENT_REASON: Final = "logger comment line"
SYSTEM_REASON: Final = "system or moderation line (no 'name: text' speaker)"
_FORMATS: Final = (
    "expected '[2024-05-01 15:04:02 UTC] name: text', '[15:04:02] #channel name: text' or "
    "'[2024-05-01 15:04:02] <name> text'"
)


def _zone(value: Any, name: str) -> tzinfo:
    if isinstance(value, tzinfo):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ImportFormatError(
            f"option {name} {value!r}: give e.g. 'UTC', '+08:00' or 'Asia/Shanghai'."
        )
    text = value.strip()
    if text.upper() in ("UTC", "Z", "GMT"):
        return UTC
    offset = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", text)
    if offset:
        sign = -1 if offset.group(1) == "-" else 1
        delta = timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3)))
        return timezone(sign * delta)
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImportFormatError(
            f"option {name} {value!r} is not a time zone; give e.g. 'UTC', '+08:00' or "
            "'Asia/Shanghai'."
        ) from None


def _line_zone(token: str) -> tzinfo:
    if token in ("UTC", "GMT", "Z"):
        return UTC
    digits = token.replace(":", "")
    sign = -1 if digits[0] == "-" else 1
    return timezone(sign * timedelta(hours=int(digits[1:3]), minutes=int(digits[3:5])))


def _clock(text: str) -> time:
    hour, minute, *rest = text.split(":")
    second, micro = 0, 0
    if rest:
        whole, _, fraction = rest[0].partition(".")
        second = int(whole)
        micro = int((fraction + "000000")[:6]) if fraction else 0
    return time(int(hour), int(minute), second, micro)


class _Calendar:
    """Puts time-only lines on a date (see the module docstring)."""

    def __init__(self, first_day: date | None, base: datetime | None, zone: tzinfo) -> None:
        self.first_day = first_day
        self.base = base.astimezone(zone).replace(tzinfo=None) if base is not None else None
        self.last: datetime | None = None

    def place(self, clock: time) -> datetime | None:
        if self.last is not None:
            when = datetime.combine(self.last.date(), clock)
            if when < self.last - _ROLLBACK:
                when += timedelta(days=1)
        elif self.first_day is not None:
            when = datetime.combine(self.first_day, clock)
        elif self.base is not None:
            when = datetime.combine(self.base.date(), clock)
            if when < self.base - _NEAR:
                when += timedelta(days=1)
            elif when > self.base + _NEAR:
                when -= timedelta(days=1)
        else:
            return None
        self.last = when
        return when


class TwitchLogImporter:
    """Twitch chat text logs (OverRustleLogs, justinlog/rustlog, Chatterino, IRC clients)."""

    name = "twitch-log"
    label = "Twitch chat text log"

    def sniff(self, head: bytes, filename: str) -> bool:
        text = head.decode("utf-8", "replace").removeprefix("\ufeff")
        lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")][:20]
        if len(lines) > 1 and not head.endswith(b"\n"):
            lines = lines[:-1]
        if not lines:
            return False
        chat = 0
        for line in lines:
            match = _LOG.fullmatch(line)
            if match and (match.group("name") or match.group("angle")):
                chat += 1
        return chat * 2 > len(lines)

    def parse(self, stream: BinaryIO, *, options: dict[str, Any] | None = None) -> Iterator[Item]:
        opts: Mapping[str, Any] = options or {}
        base = None if opts.get("base_ts") in (None, "") else parse_base_ts(opts["base_ts"])
        first_day: date | None = None
        if opts.get("date") not in (None, ""):
            raw_day = opts["date"]
            if isinstance(raw_day, date) and not isinstance(raw_day, datetime):
                first_day = raw_day
            else:
                try:
                    first_day = date.fromisoformat(str(raw_day).strip())
                except ValueError:
                    raise ImportFormatError(
                        f"option date {raw_day!r}: give the log's first day as YYYY-MM-DD."
                    ) from None
        dated_zone = _zone(opts["tz"], "tz") if opts.get("tz") else UTC
        if opts.get("tz"):
            clock_zone = dated_zone
        elif base is not None and base.tzinfo is not None:
            clock_zone = base.tzinfo
        else:
            clock_zone = UTC
        calendar = _Calendar(first_day, base, clock_zone)
        for number, line in _lines(stream):
            yield self._item(number, line, calendar, dated_zone, clock_zone)

    def _item(
        self, number: int, line: str, calendar: _Calendar, dated_zone: tzinfo, clock_zone: tzinfo
    ) -> Item:
        location = f"line {number}"
        if line.startswith("#"):
            return Skipped(location, COMMENT_REASON, line)
        match = _LOG.fullmatch(line)
        if match is None:
            return Problem(
                location,
                "bad_line",
                "row",
                f"{location} is not a chat log line ({_preview(line)!r}); {_FORMATS}. Fix or "
                "delete the line.",
                line,
            )
        try:
            clock = _clock(match.group("time"))
            day = match.group("date")
            when: datetime | None
            if day:
                year, month, dom = (int(part) for part in day.split("-"))
                when = datetime.combine(date(year, month, dom), clock)
                calendar.last = when
                zone = _line_zone(match.group("zone")) if match.group("zone") else dated_zone
            else:
                when = calendar.place(clock)
                zone = _line_zone(match.group("zone")) if match.group("zone") else clock_zone
        except ValueError as exc:
            return Problem(
                location,
                "bad_timestamp",
                "ts",
                f"{location}: the date or time in {_preview(line)!r} is invalid ({exc}); fix "
                "the line.",
                line,
            )
        if match.group("system") is not None:
            return Skipped(location, SYSTEM_REASON, line)
        if when is None:
            return Problem(
                location,
                "bad_timestamp",
                "ts",
                f"{location} has a time but no date ({match.group('time')}); re-import with the "
                "log's date (option date=2024-05-01) or the session start (option base_ts).",
                line,
            )
        name = match.group("name") or match.group("angle")
        text = match.group("text") if match.group("name") else match.group("angle_text")
        fields: dict[str, Any] = {
            "kind": "comment",
            "ts": when.replace(tzinfo=zone).isoformat(),
            "viewer_name": name,
            "text": text or "",
            "platform": "twitch",
        }
        return Record(location, fields, line)
