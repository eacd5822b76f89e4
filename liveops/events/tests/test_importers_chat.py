"""Chat importers: chat-downloader JSON, YouTube innertube actions, Twitch IRC and text logs.

Real recordings are read from ``/work/shared/realdata`` (``../shared/realdata`` next to the
repository) and never copied into it; every synthetic file is built inside the tests.
"""

from __future__ import annotations

import io
import json
import re
import tracemalloc
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liveops.events.importers.base import Item, Problem, Record, Skipped
from liveops.events.importers.chat_downloader import ChatDownloaderImporter, iter_json_values
from liveops.events.importers.money import MoneyError, parse_money
from liveops.events.importers.twitch import TwitchIrcImporter, TwitchLogImporter, unescape_tag
from liveops.events.importers.youtube_actions import YouTubeActionsImporter

REALDATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "realdata"
REPLAY = REALDATA / "yt-chat-replay-2020"
ACTIONS = REALDATA / "yt-innertube-actions"
needs_realdata = pytest.mark.skipif(
    not REALDATA.is_dir(),
    reason=f"real recordings not found at {REALDATA} (the shared realdata folder beside the "
    "repository); these tests read them in place and never copy them",
)

CD = ChatDownloaderImporter()
YT = YouTubeActionsImporter()
IRC = TwitchIrcImporter()
LOG = TwitchLogImporter()


def parse(importer: Any, data: bytes | Path, options: dict[str, Any] | None = None) -> list[Item]:
    if isinstance(data, Path):
        with data.open("rb") as stream:
            return list(importer.parse(stream, options=options))
    return list(importer.parse(io.BytesIO(data), options=options))


def tally(items: Iterable[Item]) -> Counter[str]:
    """record:<kind> / problem:<code> / skipped (one key per outcome)."""
    counts: Counter[str] = Counter()
    for item in items:
        if isinstance(item, Record):
            counts[f"record:{item.fields['kind']}"] += 1
        elif isinstance(item, Problem):
            counts[f"problem:{item.code}"] += 1
        else:
            counts["skipped"] += 1
    return counts


def records(items: Iterable[Item]) -> list[Record]:
    return [item for item in items if isinstance(item, Record)]


def only(items: list[Item]) -> Item:
    assert len(items) == 1, items
    return items[0]


# ============================================================================================
# Real recordings
# ============================================================================================


@needs_realdata
def test_chat_downloader_real_youtube_replay_counts() -> None:
    path = REPLAY / "example.json"
    messages = json.loads(path.read_text("utf-8"))
    expected = Counter(
        "skipped"
        if "ticker_duration" in m
        else ("record:gift" if m.get("amount") else "record:comment")
        for m in messages
    )
    items = parse(CD, path)
    assert tally(items) == expected == Counter({"record:comment": 3358})
    assert len(items) == len(messages)
    first = records(items)[0].fields
    assert first == {
        "kind": "comment",
        "ts": "2020-05-30T18:59:32.190236+00:00",  # timestamp 1590865172190236 µs
        "viewer_name": "glady beitia",
        "text": ":washhands:Lelys desde chiriqui",
    }
    assert all("viewer_id" not in r.fields for r in records(items))  # 2020 schema: no id


@needs_realdata
def test_chat_downloader_real_superchats_counts_and_money() -> None:
    path = REPLAY / "_YouTube__Get_superchat_messages_from_live_chat_replay.json"
    messages = json.loads(path.read_text("utf-8"))
    tickers = [m for m in messages if "ticker_duration" in m]
    paid = [m for m in messages if "ticker_duration" not in m]
    items = parse(CD, path)
    assert tally(items) == Counter({"record:gift": len(paid), "skipped": len(tickers)})
    assert (len(paid), len(tickers)) == (62, 52)
    assert len(items) == len(messages)
    assert {i.reason for i in items if isinstance(i, Skipped)} == {
        "ticker repeating a paid message or membership"
    }

    # independent money total per currency: a test-local reading of the amount strings
    symbols = {"$": "USD", "CA$": "CAD", "A$": "AUD", "NZ$": "NZD", "£": "GBP", "¥": "JPY"}
    want: Counter[str] = Counter()
    for m in paid:
        marker, number = re.fullmatch(r"(\D+?)\s?([\d,.]+)", m["amount"]).groups()  # type: ignore[union-attr]
        currency = symbols.get(marker.strip(), marker.strip())
        want[currency] += Decimal(number.replace(",", ""))  # type: ignore[assignment]
    got: Counter[str] = Counter()
    for r in records(items):
        got[r.fields["currency"]] += Decimal(r.fields["amount"])  # type: ignore[assignment]
        assert r.fields["quantity"] == 1
        assert r.fields["platform"] == "youtube"
        assert r.fields["viewer_id"].startswith("UC")
    assert got == want
    assert got["JPY"] == Decimal(500 * 3 + 1220 + 1000 + 610)  # "¥1,220" is 1220 yen


@needs_realdata
def test_chat_downloader_real_twitch_replay_uses_offsets() -> None:
    path = REPLAY / "_Twitch__Get_live_chat_replay.json"
    messages = json.loads(path.read_text("utf-8"))

    # without a session start: every message explains the download-time stamps and the fix
    items = parse(CD, path)
    assert tally(items) == Counter({"problem:bad_timestamp": 19})
    problem = items[0]
    assert isinstance(problem, Problem) and problem.location == "item 1"
    assert "download times" in problem.message and "base_ts" in problem.message

    start = datetime(2019, 7, 7, 18, 0, tzinfo=UTC)
    items = parse(CD, path, {"base_ts": start.isoformat()})
    assert tally(items) == Counter({"record:comment": len(messages)})
    for item, message in zip(records(items), messages, strict=True):
        when = start + timedelta(seconds=message["time_in_seconds"])
        assert datetime.fromisoformat(item.fields["ts"]) == when
        assert item.fields["viewer_name"] == message["author"]
        assert item.fields["text"] == message["message"]


def _actions_by_kind(actions: list[dict[str, Any]]) -> Counter[str]:
    """Independent classification of innertube actions by their key names."""
    counts: Counter[str] = Counter()
    for action in actions:
        (key,) = [k for k in action if k != "clickTrackingParams"]
        if key in ("addChatItemAction", "replaceChatItemAction"):
            item = action[key].get("item") or action[key].get("replacementItem")
            (renderer,) = item
            if renderer == "liveChatTextMessageRenderer":
                counts["record:comment"] += 1
                continue
            if renderer in (
                "liveChatPaidMessageRenderer",
                "liveChatPaidStickerRenderer",
                "liveChatMembershipItemRenderer",
            ):
                counts["record:gift"] += 1
                continue
        counts["skipped"] += 1
    return counts


@needs_realdata
def test_youtube_actions_real_array_counts() -> None:
    path = ACTIONS / "youtube_actions.json"
    actions = json.loads(path.read_text("utf-8"))
    items = parse(YT, path)
    assert tally(items) == _actions_by_kind(actions)
    assert tally(items) == Counter({"record:comment": 1, "record:gift": 2, "skipped": 16})
    assert len(items) == len(actions)
    by_location = {i.location: i for i in items}
    sticker = by_location["item 5"]
    assert isinstance(sticker, Record)
    assert sticker.fields["amount"] == "9.99" and sticker.fields["currency"] == "USD"
    member = by_location["item 3"]
    assert isinstance(member, Record)
    assert member.fields == {
        "platform": "youtube",
        "ts": "2020-04-25T21:55:37.705592+00:00",
        "event_id": "ChwKGkNQallvTmJJaE9rQ0ZZek5nZ29kdVZ3S2Z3",
        "viewer_id": "UCz4FjAv44II95JampuGwDTg",
        "viewer_name": "bifta89",
        "kind": "gift",
        "quantity": 1,
        "text": "New member",
    }
    reasons = Counter(i.reason for i in items if isinstance(i, Skipped))
    assert reasons["ticker repeating a paid message or membership"] == 3
    assert reasons["moderation (message deleted / author banned)"] == 2
    assert reasons["charity donation (goes to a nonprofit)"] == 1


@needs_realdata
def test_youtube_actions_real_response_counts() -> None:
    path = ACTIONS / "other_youtube_actions.json"
    response = json.loads(path.read_text("utf-8"))
    actions = response["contents"]["liveChatRenderer"]["actions"]
    items = parse(YT, path)
    assert tally(items) == _actions_by_kind(actions)
    assert tally(items) == Counter({"record:comment": 9, "skipped": 2})
    assert len(items) == len(actions)  # the input panel's template action is not an event
    first = records(items)[0]
    assert first.location == "line 1, action 1"
    assert first.fields["text"] == "PSIPHI" and first.fields["viewer_name"] == "PSI"
    assert orjson.loads(first.raw) == actions[0]


@needs_realdata
def test_real_files_are_sniffed_by_their_importer() -> None:
    importers = [CD, YT, IRC, LOG]
    expected = {
        REPLAY / "example.json": CD,
        REPLAY / "_YouTube__Get_superchat_messages_from_live_chat_replay.json": CD,
        REPLAY / "_Twitch__Get_live_chat_replay.json": CD,
        ACTIONS / "youtube_actions.json": YT,
        ACTIONS / "other_youtube_actions.json": YT,
    }
    for path, owner in expected.items():
        head = path.read_bytes()[:65536]
        assert [i for i in importers if i.sniff(head, path.name)] == [owner], path.name


# ============================================================================================
# chat-downloader: schemas, layouts, broken files
# ============================================================================================

OLD_SCHEMA = [
    {
        "author": "Old Viewer",
        "author_id": "UCaaaaaaaaaaaaaaaaaaaaaa",
        "message": "hi",
        "time_in_seconds": 1.5,
        "time_text": "0:01",
        "timestamp": 1600000000000000,
    },
    {
        "amount": "CA$10.00",
        "author": "Old Payer",
        "author_id": "UCbbbbbbbbbbbbbbbbbbbbbb",
        "message": None,
        "time_in_seconds": 2,
        "time_text": "0:02",
        "timestamp": 1600000001000000,
    },
]
NEW_SCHEMA = [
    {
        "action_type": "add_chat_item",
        "author": {"id": "UCaaaaaaaaaaaaaaaaaaaaaa", "name": "New Viewer", "images": []},
        "message": "hi",
        "message_id": "msg-1",
        "message_type": "text_message",
        "time_in_seconds": 1.5,
        "time_text": "0:01",
        "timestamp": 1600000000000000,
    },
    {
        "action_type": "add_chat_item",
        "author": {"id": "UCbbbbbbbbbbbbbbbbbbbbbb", "name": "New Payer"},
        "message": None,
        "message_id": "msg-2",
        "message_type": "paid_message",
        "money": {"amount": 10.0, "currency": "CAD", "currency_symbol": "CA$", "text": "CA$10.00"},
        "time_in_seconds": 2,
        "time_text": "0:02",
        "timestamp": 1600000001000000,
    },
]


def test_chat_downloader_old_and_new_author_schema(tmp_path: Path) -> None:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(OLD_SCHEMA))
    new.write_text(json.dumps(NEW_SCHEMA, indent=4))
    old_items, new_items = records(parse(CD, old)), records(parse(CD, new))
    common_comment = {
        "kind": "comment",
        "ts": "2020-09-13T12:26:40+00:00",
        "viewer_id": "UCaaaaaaaaaaaaaaaaaaaaaa",
        "text": "hi",
        "platform": "youtube",
    }
    assert old_items[0].fields == {**common_comment, "viewer_name": "Old Viewer"}
    assert new_items[0].fields == {
        **common_comment,
        "viewer_name": "New Viewer",
        "event_id": "msg-1",
    }
    common_gift = {
        "kind": "gift",
        "quantity": 1,
        "amount": "10.00",
        "currency": "CAD",
        "ts": "2020-09-13T12:26:41+00:00",
        "viewer_id": "UCbbbbbbbbbbbbbbbbbbbbbb",
        "platform": "youtube",
    }
    assert old_items[1].fields == {**common_gift, "viewer_name": "Old Payer"}
    assert new_items[1].fields == {**common_gift, "viewer_name": "New Payer", "event_id": "msg-2"}
    assert [r.location for r in old_items] == ["item 1", "item 2"]
    assert orjson.loads(new_items[1].raw) == NEW_SCHEMA[1]


def test_chat_downloader_json_lines_equal_array() -> None:
    lines = b"\n".join(orjson.dumps(m) for m in NEW_SCHEMA) + b"\n"
    from_lines = parse(CD, lines)
    from_array = parse(CD, json.dumps(NEW_SCHEMA).encode())
    assert [r.location for r in from_lines] == ["line 1", "line 2"]
    assert [r.fields for r in records(from_lines)] == [r.fields for r in records(from_array)]


def test_chat_downloader_message_types() -> None:
    base = {"timestamp": 1600000000000000, "time_in_seconds": 0}
    twitch_author = {"id": "123", "name": "viewer", "display_name": "Viewer"}
    messages = [
        {**base, "message_type": "membership_item", "message": "Welcome!", "author": {"id": "UCx"}},
        {**base, "message_type": "ticker_paid_message_item", "money": {"text": "$5.00"}},
        {**base, "message_type": "viewer_engagement_message", "message": "Live chat replay is on"},
        {**base, "message_type": "text_message", "bits": 250, "message": "cheer250",
         "author": twitch_author},
        {**base, "message_type": "subscription_gift", "author": twitch_author},
        {**base, "message_type": "mystery_subscription_gift", "author": twitch_author},
        {**base, "message_type": "raid", "number_of_raiders": 42, "raider_display_name": "Raider",
         "author": {"id": "999", "name": "raider"}},
        {**base, "message_type": "paid_message", "money": {"text": "kr 50"}},
        {"message_type": "text_message", "message": "no time"},
    ]  # fmt: skip
    items = parse(CD, json.dumps(messages).encode())
    assert [type(i).__name__ for i in items] == [
        "Record", "Skipped", "Skipped", "Record", "Record", "Skipped", "Record", "Problem",
        "Problem",
    ]  # fmt: skip
    member, cheer, gift, raid = records(items)
    assert member.fields["kind"] == "gift" and member.fields["quantity"] == 1
    assert "amount" not in member.fields and member.fields["text"] == "Welcome!"
    assert cheer.fields | {} == {
        "kind": "gift", "quantity": 250, "amount": "2.50", "currency": "USD",
        "ts": "2020-09-13T12:26:40+00:00", "viewer_id": "123", "viewer_name": "Viewer",
        "text": "cheer250", "platform": "twitch",
    }  # fmt: skip
    assert gift.fields["kind"] == "gift" and gift.fields["viewer_id"] == "123"
    assert raid.fields["kind"] == "enter" and raid.fields["source"] == "raid"
    assert raid.fields["quantity"] == 42 and raid.fields["viewer_name"] == "Raider"
    bad_money, no_time = items[7], items[8]
    assert isinstance(bad_money, Problem) and bad_money.field == "amount"
    assert "SEK" in bad_money.message and "ISO 4217" in bad_money.message
    assert isinstance(no_time, Problem) and no_time.field == "ts" and "item 9" in no_time.message


def test_chat_downloader_broken_and_unfinished_files() -> None:
    good = json.dumps(NEW_SCHEMA[0])
    # an item with a syntax error: a Problem for it, the next items still read
    items = parse(CD, f'[{good}, {{"message": "x", oops}}, {good}]'.encode())
    assert tally(items) == Counter({"record:comment": 2, "problem:bad_json": 1})
    assert items[1].location == "item 2"
    # an array never closed (interrupted download): every complete item is read
    assert tally(parse(CD, f"[{good}, {good}".encode())) == Counter({"record:comment": 2})
    # the last item cut in the middle: a Problem saying the file is truncated
    items = parse(CD, f"[{good}, {good[:40]}".encode())
    assert tally(items) == Counter({"record:comment": 1, "problem:bad_json": 1})
    assert isinstance(items[1], Problem) and "truncated" in items[1].message
    # not a message object
    assert tally(parse(CD, b"[1, 2]")) == Counter({"problem:bad_row": 2})
    assert parse(CD, b"") == [] and parse(CD, b"[]") == []


def test_chat_downloader_time_base_options() -> None:
    messages = [{**NEW_SCHEMA[0], "time_in_seconds": 90, "timestamp": 1600000000000000}]
    data = json.dumps(messages).encode()
    offset = only(parse(CD, data, {"time_base": "offset", "base_ts": 1714575600}))
    assert isinstance(offset, Record)
    assert offset.fields["ts"] == "2024-05-01T15:01:30+00:00"
    stamp = only(parse(CD, data, {"base_ts": "2024-05-01T15:00:00Z"}))  # auto: timestamps
    assert isinstance(stamp, Record) and stamp.fields["ts"] == "2020-09-13T12:26:40+00:00"


def test_chat_downloader_json_lines_broken_line_is_one_problem() -> None:
    good = orjson.dumps(NEW_SCHEMA[0])
    data = good + b'\n{"message": "cut in the mid\n\n' + good + b"\n"
    items = parse(CD, data)
    assert [(type(i).__name__, i.location) for i in items] == [
        ("Record", "line 1"),
        ("Problem", "line 2"),
        ("Record", "line 4"),
    ]
    assert isinstance(items[1], Problem) and "fix or remove" in items[1].message


def test_youtube_actions_replace_unknown_and_replay_lines() -> None:
    text = {
        "liveChatTextMessageRenderer": {
            "id": "held-1",
            "timestampUsec": "1600000000000000",
            "message": {"runs": [{"text": "approved "}, {"emoji": {"emojiId": "😀",
                                                                   "shortcuts": [":grin:"]}}]},
            "authorName": {"simpleText": "Held"},
            "authorExternalChannelId": "UC" + "h" * 22,
        }
    }  # fmt: skip
    actions = [
        {"addChatItemAction": {"item": {"liveChatPlaceholderItemRenderer": {"id": "held-1"}}}},
        {"replaceChatItemAction": {"targetItemId": "held-1", "replacementItem": text}},
        {"someFutureAction": {"x": 1}},
    ]
    line = orjson.dumps({"clickTrackingParams": "x", "replayChatItemAction": {"actions": actions}})
    items = parse(YT, line + b"\n")
    assert [(type(i).__name__, i.location) for i in items] == [
        ("Skipped", "line 1, action 1"),
        ("Record", "line 1, action 2"),
        ("Problem", "line 1, action 3"),
    ]
    shown = items[1]
    assert isinstance(shown, Record)
    assert shown.fields["event_id"] == "held-1" and shown.fields["text"] == "approved 😀"
    unknown = items[2]
    assert isinstance(unknown, Problem) and "someFutureAction" in unknown.message


# ============================================================================================
# Money
# ============================================================================================


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("$5.00", "5.00", "USD"),
        ("$0.99", "0.99", "USD"),
        ("CA$10.00", "10.00", "CAD"),
        ("A$5.00", "5.00", "AUD"),
        ("NZ$2.00", "2.00", "NZD"),
        ("HK$78.00", "78.00", "HKD"),
        ("R$25,00", "25.00", "BRL"),
        ("£4.99", "4.99", "GBP"),
        ("€5.00", "5.00", "EUR"),
        ("5,00 €", "5.00", "EUR"),
        ("1.234,50 €", "1234.50", "EUR"),
        ("1 000,00 €", "1000.00", "EUR"),
        ("₹199.00", "199.00", "INR"),
        ("¥500", "500", "JPY"),
        ("¥1,220", "1220", "JPY"),
        ("￥1,000", "1000", "JPY"),
        ("CN¥88.00", "88.00", "CNY"),
        ("₩5,000", "5000", "KRW"),
        ("₩1,000,000", "1000000", "KRW"),
        ("RUB\u00a0100.00", "100.00", "RUB"),
        ("CLP\u00a02,500", "2500", "CLP"),
        ("PHP\u00a0250.00", "250.00", "PHP"),
        ("CZK\u00a050.00", "50.00", "CZK"),
        ("PLN 25.00", "25.00", "PLN"),
        ("25.00 USD", "25.00", "USD"),
        ("KWD 1.250", "1.250", "KWD"),
        ("$1,234.56", "1234.56", "USD"),
    ],
)
def test_parse_money(text: str, amount: str, currency: str) -> None:
    money = parse_money(text)
    assert (money.amount_text, money.currency) == (amount, currency)
    assert money.amount == Decimal(amount)


def test_parse_money_yen_rule_and_errors() -> None:
    assert parse_money("¥500", yen="CNY").currency == "CNY"
    assert parse_money("5.00", default_currency="USD").currency == "USD"
    for bad, hint in [
        ("kr 50", "SEK"),
        ("5.00", "no currency"),
        ("$5 USD", "both"),
        ("Ω5", "unknown currency symbol"),
        ("$", "no amount"),
        ("$1,2.3", "grouping"),
    ]:
        with pytest.raises(MoneyError, match=hint):
            parse_money(bad)


# ============================================================================================
# Twitch IRC
# ============================================================================================


def test_unescape_tag() -> None:
    assert unescape_tag(r"Foo\sBar") == "Foo Bar"
    assert unescape_tag(r"a\:b\\c\rd\ne") == "a;b\\c\rd\ne"
    assert unescape_tag("x\\") == "x"  # a trailing lone backslash is dropped
    assert unescape_tag(r"\q") == "q"  # an unknown escape is the character itself


IRC_LINES = [
    r"@badge-info=subscriber/8;badges=subscriber/6;bits=100;display-name=Foo\sBar;"
    r"id=id-1;room-id=1;tmi-sent-ts=1714575842000;user-id=123 "
    r":foo!foo@foo.tmi.twitch.tv PRIVMSG #chan :cheer100 nice stream",
    r"@display-name=Baz;id=id-2;tmi-sent-ts=1714575843000;user-id=124 "
    ":baz!baz@baz.tmi.twitch.tv PRIVMSG #chan :\x01ACTION waves\x01",
    r"@display-name=Sub;id=id-3;login=sub;msg-id=sub;msg-param-sub-plan=1000;"
    r"system-msg=Sub\ssubscribed\sat\sTier\s1.;tmi-sent-ts=1714575844000;user-id=125 "
    ":tmi.twitch.tv USERNOTICE #chan",
    r"@display-name=Re;id=id-4;login=re;msg-id=resub;msg-param-cumulative-months=5;"
    r"system-msg=Re\ssubscribed\sfor\s5\smonths!;tmi-sent-ts=1714575845000;user-id=126 "
    ":tmi.twitch.tv USERNOTICE #chan :five months\\s already",
    r"@display-name=Gifter;id=id-5;login=gifter;msg-id=subgift;"
    r"msg-param-recipient-display-name=Lucky;system-msg=Gifter\sgifted\sa\sTier\s1\ssub\sto"
    r"\sLucky!;tmi-sent-ts=1714575846000;user-id=127 :tmi.twitch.tv USERNOTICE #chan",
    r"@display-name=Gifter;id=id-6;login=gifter;msg-id=submysterygift;"
    r"msg-param-mass-gift-count=5;tmi-sent-ts=1714575846000;user-id=127 "
    ":tmi.twitch.tv USERNOTICE #chan",
    r"@display-name=Raider;id=id-7;login=raider;msg-id=raid;msg-param-viewerCount=321;"
    r"tmi-sent-ts=1714575847000;user-id=128 :tmi.twitch.tv USERNOTICE #chan",
    r"@ban-duration=600;room-id=1;target-user-id=5;tmi-sent-ts=1714575848000 "
    ":tmi.twitch.tv CLEARCHAT #chan :troll",
    r"@login=troll;target-msg-id=id-9;tmi-sent-ts=1714575849000 :tmi.twitch.tv CLEARMSG "
    "#chan :bad words",
    "PING :tmi.twitch.tv",
    ":foo!foo@foo.tmi.twitch.tv JOIN #chan",
    "@emote-only=0;room-id=1 :tmi.twitch.tv ROOMSTATE #chan",
    ":tmi.twitch.tv 001 justinfan123 :Welcome, GLHF!",
    ":foo!foo@foo.tmi.twitch.tv PRIVMSG #chan :logged without tags",
    "this is not irc",
]


def test_twitch_irc_lines() -> None:
    items = parse(IRC, ("\r\n".join(IRC_LINES) + "\r\n").encode())
    assert len(items) == len(IRC_LINES)
    by_line = {int(i.location.split()[1]): i for i in items}
    cheer = by_line[1]
    assert isinstance(cheer, Record)
    assert cheer.fields == {
        "platform": "twitch", "kind": "gift", "quantity": 100, "amount": "1.00",
        "currency": "USD", "text": "cheer100 nice stream", "ts": "2024-05-01T15:04:02+00:00",
        "event_id": "id-1", "viewer_id": "123", "viewer_name": "Foo Bar",
    }  # fmt: skip
    assert cheer.raw == IRC_LINES[0]
    action = by_line[2]
    assert isinstance(action, Record) and action.fields["kind"] == "comment"
    assert action.fields["text"] == "waves"
    sub, resub, subgift = by_line[3], by_line[4], by_line[5]
    assert isinstance(sub, Record) and isinstance(resub, Record) and isinstance(subgift, Record)
    assert sub.fields["kind"] == "gift" and sub.fields["quantity"] == 1
    assert sub.fields["text"] == "Sub subscribed at Tier 1."  # system-msg, unescaped
    assert resub.fields["text"] == "five months\\s already"  # the trailing is not a tag
    assert subgift.fields["viewer_name"] == "Gifter" and subgift.fields["viewer_id"] == "127"
    assert subgift.fields["text"] == "Gifter gifted a Tier 1 sub to Lucky!"
    assert isinstance(by_line[6], Skipped) and "subgift" in by_line[6].reason
    raid = by_line[7]
    assert isinstance(raid, Record)
    assert (raid.fields["kind"], raid.fields["source"], raid.fields["quantity"]) == (
        "enter", "raid", 321,
    )  # fmt: skip
    for number in (8, 9):
        assert isinstance(by_line[number], Skipped)
        assert by_line[number].reason.startswith("moderation")  # type: ignore[union-attr]
    for number in (10, 11, 12, 13):
        assert isinstance(by_line[number], Skipped)
    untagged, garbage = by_line[14], by_line[15]
    assert isinstance(untagged, Problem) and "tmi-sent-ts" in untagged.message
    assert isinstance(garbage, Problem) and "line 15" in garbage.message
    assert "PRIVMSG #channel" in garbage.message  # says what a good line looks like


# ============================================================================================
# Twitch text logs
# ============================================================================================


def test_twitch_log_dated_shapes() -> None:
    lines = [
        "[2024-05-01 15:04:02 UTC] name1: hello: there",
        "[2024-5-1 15:04:03] #channel name2: justinlog style",
        "[2024-05-01 15:04:04] <@name3> irc style",
        "[2024-05-01 15:04:05 +02:00] name4: with an offset",
        "[2024-05-01 15:04:06] #channel name5 has been timed out for 10 seconds",
        "# Start logging at 2024-05-01 15:00:00 UTC",
        "not a log line at all",
        "[2024-02-30 10:00:00] x: bad date",
    ]
    items = parse(LOG, "\n".join(lines).encode())
    got = [
        (r.fields["ts"], r.fields["viewer_name"], r.fields["text"])
        for r in items
        if isinstance(r, Record)
    ]
    assert got == [
        ("2024-05-01T15:04:02+00:00", "name1", "hello: there"),
        ("2024-05-01T15:04:03+00:00", "name2", "justinlog style"),
        ("2024-05-01T15:04:04+00:00", "name3", "irc style"),
        ("2024-05-01T15:04:05+02:00", "name4", "with an offset"),
    ]
    assert [type(i).__name__ for i in items[4:]] == ["Skipped", "Skipped", "Problem", "Problem"]
    bad = items[6]
    assert isinstance(bad, Problem) and bad.location == "line 7" and bad.code == "bad_line"
    assert "'not a log line at all'" in bad.message and "name: text" in bad.message
    assert isinstance(items[7], Problem) and items[7].code == "bad_timestamp"
    # tz option: dated lines without a zone are read in it
    shifted = records(parse(LOG, lines[2].encode(), {"tz": "Asia/Shanghai"}))
    assert shifted[0].fields["ts"] == "2024-05-01T15:04:04+08:00"


def test_twitch_log_time_only_needs_a_date() -> None:
    data = b"[23:59:58] #chan early: one\n[23:59:59] late: two\n[00:00:01] <next> three\n"
    items = parse(LOG, data)
    assert tally(items) == Counter({"problem:bad_timestamp": 3})
    assert isinstance(items[0], Problem)
    assert "option date=" in items[0].message and "base_ts" in items[0].message

    with_date = records(parse(LOG, data, {"date": "2024-05-01"}))
    assert [r.fields["ts"] for r in with_date] == [
        "2024-05-01T23:59:58+00:00",
        "2024-05-01T23:59:59+00:00",
        "2024-05-02T00:00:01+00:00",  # rolled over at midnight
    ]
    # the session start gives the day (the first line is within 12 h of it) and the zone
    with_base = records(parse(LOG, data, {"base_ts": "2024-05-02T00:30:00+08:00"}))
    assert with_base[0].fields["ts"] == "2024-05-01T23:59:58+08:00"
    assert with_base[2].fields["ts"] == "2024-05-02T00:00:01+08:00"


# ============================================================================================
# Property tests: generated files parse to the generated counts, identically every time
# ============================================================================================

_words = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=30)
_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=12)
_AMOUNTS = [("$5.00", "USD"), ("¥1,000", "JPY"), ("CA$10.00", "CAD"), ("RUB\u00a0100.00", "RUB")]


@st.composite
def _cd_message(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    offset = draw(st.integers(0, 36_000))
    base: dict[str, Any] = {"timestamp": 1_600_000_000_000_000 + offset * 1_000_000,
                            "time_in_seconds": offset, "message": draw(_words)}  # fmt: skip
    name, new = draw(_names), draw(st.booleans())
    if new:
        base["author"] = {"name": name, "id": "UC" + name.ljust(22, "x")[:22]}
        base["message_id"] = draw(st.uuids()).hex
    else:
        base["author"] = name
    shape = draw(st.sampled_from(["comment", "paid", "membership", "ticker", "engagement"]))
    amount, currency = draw(st.sampled_from(_AMOUNTS))
    if shape == "comment":
        base["message_type" if new else "_"] = "text_message"
        return "record:comment", base
    if shape == "paid":
        if new:
            base.update(message_type="paid_message", money={"text": amount, "currency": currency})
        else:
            base["amount"] = amount
        return "record:gift", base
    if shape == "membership":
        base["message_type"] = "membership_item"
        return "record:gift", base
    if shape == "ticker":
        if new:
            base["message_type"] = "ticker_paid_message_item"
        else:
            base.update(amount=amount, ticker_duration=120)
        return "skipped", base
    base["message_type"] = "viewer_engagement_message"
    return "skipped", base


@settings(max_examples=60, deadline=None)
@given(
    messages=st.lists(_cd_message(), max_size=25),
    layout=st.sampled_from(["compact", "indent", "lines"]),
    ascii_only=st.booleans(),
)
def test_chat_downloader_property(
    messages: list[tuple[str, dict[str, Any]]], layout: str, ascii_only: bool
) -> None:
    objects = [m for _, m in messages]
    if layout == "lines":
        data = "".join(json.dumps(o, ensure_ascii=ascii_only) + "\n" for o in objects).encode()
    else:
        indent = 4 if layout == "indent" else None
        data = json.dumps(objects, indent=indent, ensure_ascii=ascii_only).encode()
    items = parse(CD, data)
    assert tally(items) == Counter(kind for kind, _ in messages)
    assert parse(CD, data) == items  # deterministic: a re-import adds nothing
    for item, (_, obj) in zip(items, messages, strict=True):
        if isinstance(item, Record) and item.fields["kind"] == "comment":
            assert item.fields["text"] == obj["message"]


def _json_values() -> st.SearchStrategy[Any]:
    scalars = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | _words
    )
    tricky = st.sampled_from(['"', "\\", "}, {", "], [", '\\"}]', "{", "]"])
    return st.recursive(
        scalars | tricky,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(_words | tricky, inner, max_size=4)
        ),
        max_leaves=12,
    )


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(_json_values(), max_size=8),
    indent=st.sampled_from([None, 1, 4]),
    chunk_size=st.integers(1, 64),
)
def test_streaming_splitter_matches_json_loads(
    values: list[Any], indent: int | None, chunk_size: int
) -> None:
    data = json.dumps(values, indent=indent).encode()
    split = list(iter_json_values(io.BytesIO(data), chunk_size=chunk_size))
    assert all(v.error is None for v in split)
    assert [json.loads(v.raw) for v in split] == json.loads(data)
    assert [v.location for v in split] == [f"item {n}" for n in range(1, len(values) + 1)]


@st.composite
def _yt_action(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    renderer: dict[str, Any] = {
        "id": draw(st.uuids()).hex,
        "timestampUsec": str(1_600_000_000_000_000 + draw(st.integers(0, 10**10))),
        "authorName": {"simpleText": draw(_names)},
        "authorExternalChannelId": "UC" + "x" * 22,
    }
    text = draw(_words)
    runs = [{"text": text}, {"emoji": {"emojiId": "UCx/y", "shortcuts": [":yay:"],
                                       "isCustomEmoji": True}}]  # fmt: skip
    shape = draw(st.sampled_from(
        ["text", "paid", "sticker", "member", "ticker", "delete", "engagement", "replace"]
    ))  # fmt: skip
    amount = draw(st.sampled_from(_AMOUNTS))[0]

    def add(name: str, body: dict[str, Any]) -> dict[str, Any]:
        return {"addChatItemAction": {"item": {name: body}, "clientId": "c"}}

    if shape == "text":
        return "record:comment", add(
            "liveChatTextMessageRenderer", {**renderer, "message": {"runs": runs}}
        )
    if shape == "paid":
        body = {**renderer, "purchaseAmountText": {"simpleText": amount}, "message": {"runs": runs}}
        return "record:gift", add("liveChatPaidMessageRenderer", body)
    if shape == "sticker":
        body = {**renderer, "purchaseAmountText": {"simpleText": amount}}
        return "record:gift", add("liveChatPaidStickerRenderer", body)
    if shape == "member":
        body = {**renderer, "headerSubtext": {"runs": [{"text": "New member"}]}}
        return "record:gift", add("liveChatMembershipItemRenderer", body)
    if shape == "ticker":
        inner = {"liveChatTickerPaidMessageItemRenderer": {"id": renderer["id"]}}
        return "skipped", {"addLiveChatTickerItemAction": {"item": inner, "durationSec": "10"}}
    if shape == "delete":
        return "skipped", {"markChatItemAsDeletedAction": {"targetItemId": renderer["id"]}}
    if shape == "engagement":
        return "skipped", add("liveChatViewerEngagementMessageRenderer", renderer)
    placeholder = {"liveChatPlaceholderItemRenderer": {"id": renderer["id"]}}
    return "skipped", {"replaceChatItemAction": {"targetItemId": renderer["id"],
                                                 "replacementItem": placeholder}}  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    actions=st.lists(_yt_action(), min_size=1, max_size=20),
    layout=st.sampled_from(["array", "response", "replay-lines"]),
)
def test_youtube_actions_property(actions: list[tuple[str, dict[str, Any]]], layout: str) -> None:
    bodies = [a for _, a in actions]
    if layout == "array":
        data = json.dumps(bodies, indent=2).encode()
    elif layout == "response":
        response = {"responseContext": {}, "continuationContents": {
            "liveChatContinuation": {"continuations": [], "actions": bodies}}}  # fmt: skip
        data = json.dumps(response, indent=1).encode()
    else:
        data = b"".join(
            orjson.dumps({"replayChatItemAction": {"actions": [a], "videoOffsetTimeMsec": "0"}})
            + b"\n"
            for a in bodies
        )
    items = parse(YT, data)
    assert tally(items) == Counter(kind for kind, _ in actions)
    assert parse(YT, data) == items
    for item, (kind, action) in zip(items, actions, strict=True):
        if kind == "record:comment":
            assert isinstance(item, Record)
            renderer = action["addChatItemAction"]["item"]["liveChatTextMessageRenderer"]
            assert item.fields["text"] == renderer["message"]["runs"][0]["text"] + ":yay:"
            assert item.fields["event_id"] == renderer["id"]


def _tag(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\:")
        .replace(" ", "\\s")
        .replace("\r", "\\r")
        .replace("\n", "\\n")
    )


_irc_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=30
)
_display = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)


@st.composite
def _irc_line(draw: st.DrawFn) -> tuple[str, str, str | None]:
    """(expected outcome, line, expected display name of a record)."""
    name = draw(_display)
    tags = {
        "display-name": _tag(name),
        "id": draw(st.uuids()).hex,
        "tmi-sent-ts": str(1_714_575_842_000 + draw(st.integers(0, 10**8))),
        "user-id": str(draw(st.integers(1, 10**9))),
    }
    shape = draw(st.sampled_from(
        ["chat", "cheer", "sub", "subgift", "mystery", "raid", "clearchat", "ping", "join"]
    ))  # fmt: skip
    text = draw(_irc_text)
    notice = ":tmi.twitch.tv USERNOTICE #chan"
    if shape in ("chat", "cheer"):
        if shape == "cheer":
            tags["bits"] = str(draw(st.integers(1, 10_000)))
        outcome = "record:gift" if shape == "cheer" else "record:comment"
        return outcome, f"@{_join(tags)} :u!u@u.tmi.twitch.tv PRIVMSG #chan :{text}", name
    if shape in ("sub", "subgift", "mystery", "raid"):
        tags["msg-id"] = {"sub": "resub", "subgift": "subgift", "mystery": "submysterygift",
                          "raid": "raid"}[shape]  # fmt: skip
        tags["system-msg"] = _tag(text)
        tags["msg-param-viewerCount"] = "12"
        outcome = {"sub": "record:gift", "subgift": "record:gift", "mystery": "skipped",
                   "raid": "record:enter"}[shape]  # fmt: skip
        return outcome, f"@{_join(tags)} {notice}", name
    if shape == "clearchat":
        target = draw(_names)
        return "skipped", f"@ban-duration=5 :tmi.twitch.tv CLEARCHAT #chan :{target}", None
    if shape == "ping":
        return "skipped", "PING :tmi.twitch.tv", None
    return "skipped", ":u!u@u.tmi.twitch.tv JOIN #chan", None


def _join(tags: dict[str, str]) -> str:
    return ";".join(f"{k}={v}" for k, v in tags.items())


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(_irc_line(), max_size=25), crlf=st.booleans())
def test_twitch_irc_property(lines: list[tuple[str, str, str | None]], crlf: bool) -> None:
    end = "\r\n" if crlf else "\n"
    data = "".join(line + end for _, line, _ in lines).encode()
    items = parse(IRC, data)
    assert tally(items) == Counter(kind for kind, _, _ in lines)
    assert parse(IRC, data) == items
    for item, (_, line, name) in zip(items, lines, strict=True):
        assert item.raw == line
        if isinstance(item, Record):
            assert item.fields["viewer_name"] == name  # tag escaping round-trips


@st.composite
def _log_line(draw: st.DrawFn) -> tuple[str, str]:
    name, text = draw(_names), draw(_irc_text)
    stamp = datetime(2024, 5, 1, tzinfo=UTC) + timedelta(seconds=draw(st.integers(0, 86_399)))
    shape = draw(st.sampled_from(["rustle", "justinlog", "irc", "comment", "bad"]))
    if shape == "rustle":
        return "record:comment", f"[{stamp:%Y-%m-%d %H:%M:%S} UTC] {name}: {text}"
    if shape == "justinlog":
        return "record:comment", f"[{stamp:%Y-%m-%d %H:%M:%S}] #chan {name}: {text}"
    if shape == "irc":
        return "record:comment", f"[{stamp:%Y-%m-%d %H:%M:%S}] <{name}> {text}"
    if shape == "comment":
        return "skipped", f"# {text}"
    return "problem:bad_line", f"garbage {name} {text}"


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(_log_line(), max_size=25))
def test_twitch_log_property(lines: list[tuple[str, str]]) -> None:
    data = "".join(line + "\n" for _, line in lines).encode()
    items = parse(LOG, data)
    assert tally(items) == Counter(kind for kind, _ in lines)
    assert parse(LOG, data) == items


# ============================================================================================
# Streaming: flat memory on a big file
# ============================================================================================


def test_chat_downloader_streams_a_big_file_in_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    author_images = [{"url": f"https://yt3.ggpht.com/a/{n}=s{n}", "width": n, "height": n}
                     for n in (32, 64, 128)]  # fmt: skip
    count = 0
    with path.open("wb") as out:
        out.write(b"[\n")
        while out.tell() < 50_000_000:
            message = {
                "action_type": "add_chat_item",
                "author": {"id": f"UC{count % 9000:022d}", "name": f"viewer {count % 9000}",
                           "images": author_images, "badges": [{"title": "Member (2 months)"}]},
                "message": "hello [world] {ok} \"quoted\" \u2764 " * (1 + count % 5),
                "message_id": f"id-{count}",
                "message_type": "text_message",
                "time_in_seconds": count / 10,
                "time_text": "0:00",
                "timestamp": 1_600_000_000_000_000 + count * 100_000,
            }  # fmt: skip
            out.write(
                (b",\n" if count else b"") + orjson.dumps(message, option=orjson.OPT_INDENT_2)
            )
            count += 1
        out.write(b"\n]\n")
    size = path.stat().st_size
    parsed = 0
    tracemalloc.start()
    try:
        with path.open("rb") as stream:
            for item in CD.parse(stream):
                assert isinstance(item, Record)
                parsed += 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert parsed == count
    assert peak < 20_000_000, f"peak {peak / 1e6:.1f} MB while reading {size / 1e6:.0f} MB"


def test_youtube_actions_empty_polls_and_foreign_objects() -> None:
    empty_poll = {"responseContext": {}, "continuationContents": {"liveChatContinuation": {}}}
    data = orjson.dumps(empty_poll) + b"\n" + orjson.dumps({"kind": "comment"}) + b"\n"
    items = parse(YT, data)
    assert isinstance(items[0], Skipped) and items[0].reason == "chat response without actions"
    assert isinstance(items[1], Problem) and items[1].location == "line 2"
    assert "remove it" in items[1].message
