"""The columnar chat-downloader fast path gives exactly the row path's events, ids, rejections.

The row path is ``ChatDownloaderImporter.parse`` + what ``services.import_items`` does with
each item (stable ids with one ``RepeatCounter``, ``schema.validate``, ``with_raw``), without
Django. Real recordings are read in place from ``../shared/realdata`` (skipped when absent).
"""

from __future__ import annotations

import gzip
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liveops.events import schema
from liveops.events.fastchat import FastPathAborted, fast_chat_blocks, locations
from liveops.events.importers.base import ImportFormatError, Item, Problem, Skipped
from liveops.events.importers.chat_downloader import ChatDownloaderImporter
from liveops.events.ingest import RepeatCounter, with_raw

REALDATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "realdata"
REPLAY = REALDATA / "yt-chat-replay-2020"
needs_realdata = pytest.mark.skipif(
    not REALDATA.is_dir(),
    reason=f"real recordings not found at {REALDATA} (the shared realdata folder beside the "
    "repository); these tests read them in place and never copy them",
)

WS, SESSION, PLATFORM = 7, 42, "youtube"
CD = ChatDownloaderImporter()
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
T0 = 1_748_779_200_000_000  # µs

Outcome = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]


def _event_row(location: str, event: schema.NormalizedEvent) -> tuple[Any, ...]:
    return (
        location, event.event_id, event.ts_ms, event.kind, event.viewer_id, event.viewer_name,
        event.text, event.quantity, event.amount, event.currency, event.product_id,
        event.source, event.platform, event.raw,
    )  # fmt: skip


def _take(
    item: Item,
    repeats: RepeatCounter,
    out: Outcome,
    platform: str | None,
    *,
    ids_set: bool = False,
) -> None:
    accepted, rejected, skipped = out
    if isinstance(item, Skipped):
        skipped.append((item.location, item.reason, item.raw))
    elif isinstance(item, Problem):
        rejected.append((item.location, item.code, item.field, item.message, item.raw, None))
    else:
        fields = {k: v for k, v in item.fields.items() if not k.startswith("_")}
        if ids_set:
            assert fields.get("event_id"), item  # the fast path numbers repeats itself
        elif not fields.get("event_id"):
            base = schema.stable_event_id(item.raw.encode())
            n = repeats.occurrence(base)
            fields["event_id"] = base if n == 0 else f"{base}#{n}"
        result = schema.validate(fields, workspace_id=WS, session_id=SESSION, platform=platform)
        if isinstance(result, schema.NormalizedEvent):
            assert not ids_set, f"{item.location}: an accepted record left to the caller"
            accepted.append(_event_row(item.location, with_raw(result, item.raw)))
        else:
            rejected.append(
                (item.location, result.code, result.field, result.message, item.raw,
                 result.event_id)
            )  # fmt: skip


def row_path(path: Path, options: dict[str, Any], platform: str | None = PLATFORM) -> Outcome:
    out: Outcome = ([], [], [])
    repeats = RepeatCounter()
    with path.open("rb") as stream:
        for item in CD.parse(stream, options=dict(options)):
            _take(item, repeats, out, platform)
    return out


def fast_path(
    path: Path,
    options: dict[str, Any],
    platform: str | None = PLATFORM,
    *,
    block_rows: int | None = 37,
    counts: dict[str, int] | None = None,
) -> Outcome:
    blocks = fast_chat_blocks(
        path,
        workspace_id=WS,
        session_id=SESSION,
        platform=platform,
        options=dict(options),
        block_rows=block_rows,
    )
    assert blocks is not None
    out: Outcome = ([], [], [])
    unit = "item" if path.read_bytes().lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"[" else "line"
    last = 0
    for block in blocks:
        table = block.table
        assert table.schema == schema.ARROW_SCHEMA
        assert block.records == table.num_rows + len(block.items)
        assert len(block.fallback) == len(block.items)
        assert [f["location"] for f in block.fallback] == [i.location for i in block.items]
        assert last < block.first_row <= block.last_row
        last = block.last_row
        for location, rec in zip(locations(block, unit), table.to_pylist(), strict=True):
            assert rec["workspace_id"] == WS and rec["session_id"] == SESSION
            ts_ms = (rec["ts"] - EPOCH) // timedelta(milliseconds=1)
            out[0].append(
                (location, rec["event_id"], ts_ms, rec["kind"], rec["viewer_id"],
                 rec["viewer_name"], rec["text"], rec["quantity"], rec["amount"],
                 rec["currency"], rec["product_id"], rec["source"], rec["platform"], rec["raw"])
            )  # fmt: skip
        for item in block.items:
            _take(item, RepeatCounter(), out, platform, ids_set=True)
        if counts is not None:
            counts["fast"] = counts.get("fast", 0) + table.num_rows
            counts["items"] = counts.get("items", 0) + len(block.items)
    return out


def _order(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted(rows, key=lambda r: int(str(r[0]).split()[1]))


def compare(
    path: Path,
    options: dict[str, Any] | None = None,
    platform: str | None = PLATFORM,
    block_rows: int | None = 37,
) -> dict[str, int]:
    options = options or {}
    want = row_path(path, options, platform)
    counts: dict[str, int] = {}
    got = fast_path(path, options, platform, block_rows=block_rows, counts=counts)
    assert _order(got[0]) == got[0]  # table rows come in file order
    assert got[0] == want[0]
    assert _order(got[1] + got[2]) == _order(want[1] + want[2])
    assert got[1] == want[1]
    assert got[2] == want[2]
    counts.update(accepted=len(want[0]), rejected=len(want[1]), skipped=len(want[2]))
    return counts


# ============================================================================================
# Files like chat-downloader's
# ============================================================================================


def _indent(text: str, pad: str = "    ") -> str:
    return "".join(pad + line for line in text.splitlines(True))


def write(path: Path, items: list[Any], layout: str, *, bom: bool = False) -> Path:
    """``items``: dicts, or ``str`` for a record written verbatim (broken JSON …)."""

    def text(item: Any, **kw: Any) -> str:
        return item if isinstance(item, str) else json.dumps(item, **kw)

    if layout == "cli":  # chat_downloader --output x.json (indent 4, sorted keys, ASCII)
        body = "[" + ", ".join(
            "\n" + _indent(text(i, indent=4, sort_keys=True)) for i in items
        ) + ("\n]" if items else "]")  # fmt: skip
    elif layout == "oneline":  # chat-downloader 2020 / indent=None
        body = "[" + ", ".join(text(i) for i in items) + "]"
    elif layout == "perline":  # one compact object per line (bench/bench_import.py)
        body = "[\n" + ",\n".join(
            i if isinstance(i, str) else json.dumps(i, separators=(",", ":"), ensure_ascii=False)
            for i in items
        ) + "\n]\n"  # fmt: skip
    elif layout == "lines":  # JSON lines, with blank lines, CRLF and padding here and there
        parts = []
        for n, i in enumerate(items):
            line = i if isinstance(i, str) else json.dumps(i, ensure_ascii=n % 2 == 0)
            if n % 7 == 3:
                parts.append("   ")
            if n % 5 == 2:
                line = "  " + line + " \t"
            parts.append(line + ("\r" if n % 3 == 1 else ""))
        body = "\n".join(parts) + "\n"
    else:
        raise AssertionError(layout)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + body.encode())
    return path


NAMES = ["Ann", "Bob Smith", "小明", "José 🎉", "viewer_1", "", "a\"quote", "back\\slash",
         "tab\there", "Zoë", "😀😀"]  # fmt: skip
TEXTS = ["hello", "", "こんにちは", "❤️❤️❤️", "multi\nline", 'say "hi"', "\\o/", "\u0001ctl",
         "x" * 2000, "y" * 2001, "Infinity war", "NaN", "  padded  ", "\u2028sep", "é"]  # fmt: skip
MONEY = ["$5.00", "CA$10.00", "¥1,000", "₩5,000", "€2,50", "£1.99", "RUB 100.00", "5 USD",
         "A$20.00", "NT$150", "₹199.00", "kr 50", "5.00", "$0.001", "", "  ", "$1,000,000.00",
         "MX$99.50", "R$ 25,00", "¥500"]  # fmt: skip


def _uc(rng: random.Random) -> str:
    return "UC" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEF0123456789_-")
                          for _ in range(22))  # fmt: skip


def new_message(rng: random.Random, i: int) -> dict[str, Any]:
    """chat-downloader's current schema (YouTube), with a random mix of shapes."""
    name = rng.choice(NAMES)
    msg: dict[str, Any] = {
        "action_type": "add_chat_item",
        "author": {
            "id": _uc(rng),
            "name": name,
            "images": [{"url": "https://yt4.ggpht.com/x=s64", "id": "64x64", "width": 64,
                        "height": 64}],
        },
        "message": rng.choice(TEXTS),
        "message_id": f"Cj{i:08d}ChwKGkNJWE9zOHpJ",
        "time_in_seconds": round(i * 0.5, 3),
        "time_text": f"{i // 120}:{i // 2 % 60:02d}",
        "timestamp": T0 + i * 500_000 + rng.randrange(1000),
    }  # fmt: skip
    if rng.random() < 0.5:
        msg["author"]["display_name"] = rng.choice(NAMES)
    if rng.random() < 0.2:
        msg["author"]["badges"] = [{"title": "Member (6 months)", "icons": [{"id": "16x16"}]}]
    roll = rng.random()
    if roll < 0.6:
        msg["message_type"] = "text_message"
    elif roll < 0.72:
        msg["message_type"] = rng.choice(["paid_message", "paid_sticker"])
        text = rng.choice(MONEY)
        msg["money"] = {"amount": rng.choice([5.0, 10, 0.99]), "currency": "USD", "text": text}
        if rng.random() < 0.1:
            del msg["money"]["text"]
        if msg["message_type"] == "paid_sticker" or rng.random() < 0.2:
            msg.pop("message")
    elif roll < 0.78:
        msg["message_type"] = "membership_item"
        msg["header_secondary_text"] = "Welcome to the channel!"
        if rng.random() < 0.5:
            msg.pop("message")
    elif roll < 0.86:
        msg["message_type"] = rng.choice(["ticker_paid_message_item", "ticker_sponsor_item"])
        msg["ticker_duration"] = 30
    elif roll < 0.9:
        msg["message_type"] = rng.choice([
            "viewer_engagement_message", "placeholder_item", "mode_change_message",
            "sponsorships_gift_redemption_announcement", "Weird-Type!", "banner_added",
        ])  # fmt: skip
    elif roll < 0.93:
        msg["message_type"] = "sponsorships_gift_purchase_announcement"
        msg["message"] = f"sent {rng.randrange(1, 50)} gift memberships"
    else:
        msg["message_type"] = "highlighted_message"
    if rng.random() < 0.03:
        msg["message_id"] = f"Cj{i - 1:08d}ChwKGkNJWE9zOHpJ"  # a repeated source id
    if rng.random() < 0.05:
        del msg["message_id"]
    return msg


def old_message(rng: random.Random, i: int) -> dict[str, Any]:
    """chat-downloader's 2020 schema: author a name string, no message_type."""
    msg: dict[str, Any] = {
        "author": rng.choice(NAMES),
        "message": rng.choice(TEXTS),
        "time_in_seconds": i,
        "time_text": f"0:{i:02d}",
        "timestamp": T0 + i * 1_000_000,
    }
    if rng.random() < 0.5:
        msg["author_id"] = _uc(rng)
    roll = rng.random()
    if roll < 0.3:
        msg["amount"] = rng.choice(MONEY)
        msg["body_color"] = {"hex": "#1de9b6ff", "rgba": [29, 233, 182, 255]}
    elif roll < 0.45:
        msg["amount"] = rng.choice(MONEY)
        msg["ticker_duration"] = rng.choice([120, 300, None])
    elif roll < 0.5:
        msg["message"] = None
    return msg


def twitch_message(rng: random.Random, i: int) -> dict[str, Any]:
    uid = str(rng.randrange(10**5, 10**9))
    msg: dict[str, Any] = {
        "author": {"id": uid, "name": f"user{uid}", "display_name": rng.choice(NAMES)},
        "message": rng.choice(TEXTS),
        "message_id": f"{rng.getrandbits(64):016x}-{i}",
        "message_type": "text_message",
        "time_in_seconds": i * 2.5,
        "timestamp": T0 + i * 2_500_000,
    }
    roll = rng.random()
    if roll < 0.15:
        msg["bits"] = rng.choice([100, 0, 5])
    elif roll < 0.3:
        msg["message_type"] = rng.choice(["subscription", "resubscription", "subscription_gift",
                                          "mystery_subscription_gift", "raid"])  # fmt: skip
        if msg["message_type"] == "raid":
            msg.update(number_of_raiders=rng.randrange(1, 500), raider_display_name="Raider")
    return msg


# records the columns cannot settle, or that the row path refuses, written verbatim
TS = '"timestamp": 1748779200000000'
TEXT = '"message_type": "text_message"'
PAID = '"message_type": "paid_message"'
EDGE_RECORDS = [
    '{' + TEXT + ', "message": "no time", "message_id": "e1"}',
    '{' + TEXT + ', "message": "secs", "timestamp": 1748779200, "message_id": "e2"}',
    '{' + TEXT + ', "message": "ms", "timestamp": 1748779200123}',
    '{' + TEXT + ', "message": "float", "timestamp": 1748779200123456.0}',
    '{' + TEXT + ', "message": "str ts", "timestamp": "1748779200123456"}',
    '{' + TEXT + ', "message": "1999", "timestamp": 915148800000000}',
    '{' + TEXT + ', "message": "2100", "timestamp": 4102444800000000}',
    '{' + TEXT + ', "message": "offset only", "time_in_seconds": 12.5}',
    '{' + TEXT + ', "message": 42, ' + TS + '}',
    '{' + TEXT + ', "message_id": 12345, ' + TS + '}',
    '{' + TEXT + ', "message_id": 0, ' + TS + '}',
    '{' + TEXT + ', "message_id": "   ", ' + TS + '}',
    '{' + TEXT + ', "message_id": "' + "i" * 129 + '", ' + TS + '}',
    '{' + TEXT + ', "author": {"id": "' + "v" * 129 + '"}, ' + TS + "}",
    '{' + TEXT + ', "author": {"name": "' + "n" * 129 + '"}, ' + TS + "}",
    '{' + TEXT + ', "author": {"id": null, "name": "x"}, "author_id": "UC' + "a" * 22 + '", '
    + TS + '}',
    '{' + TEXT + ', "author": {"name": "no id"}, "author_id": "UC' + "b" * 22 + '", ' + TS + '}',
    '{' + TEXT + ', "author": {"id": "ＵＣ１２"}, ' + TS + '}',
    '{' + TEXT + ', "author": {"id": "UC\\u00e9aaaaaaaaaaaaaaaaaaaaa"}, ' + TS + '}',
    '{' + TEXT + ', "author": {"id": "٣٤٥"}, ' + TS + '}',
    '{' + TEXT + ', "author": 17, ' + TS + '}',
    '{' + TEXT + ', "author": "just a name", "author_id": "UC' + "c" * 22 + '", ' + TS + '}',
    '{' + TEXT + ', "author": {"id": "123", "name": "tw"}, "bits": null, ' + TS + '}',
    '{' + TEXT + ', "author": {"name": "anon"}, ' + TS + '}',
    '{' + TEXT + ', "author": {"name": "anon"}, "bits": null, ' + TS + '}',
    '{' + TEXT + ', "bits": "100", ' + TS + '}',
    '{"message_type": 7, ' + TS + '}',
    '{"message_type": null, "message": "null type", ' + TS + '}',
    '{' + PAID + ', "money": "$5.00", ' + TS + '}',
    '{' + PAID + ', "money": {"text": 5}, ' + TS + '}',
    '{' + PAID + ', "money": {"amount": 5, "currency": "USD"}, ' + TS + '}',
    '{' + PAID + ', "money": {"amount": 1.23456, "currency": "USD"}, ' + TS + '}',
    '{' + PAID + ', "money": {"text": "kr 50", "amount": 50, "currency": "SEK"}, ' + TS + '}',
    '{' + PAID + ', "money": {"text": "kr 50"}, ' + TS + '}',
    '{' + PAID + ', "money": {"text": "$-5.00"}, ' + TS + '}',
    '{' + PAID + ', "money": null, "amount": "£3.00", ' + TS + '}',
    '{' + PAID + ', ' + TS + '}',
    '{' + TEXT + ', "message": "nan", "x": NaN, ' + TS + '}',
    '{' + TEXT + ', "message": "inf", "x": -Infinity, ' + TS + '}',
    '{' + TEXT + ', "message": "big", "x": 1e999, ' + TS + '}',
    '{' + TEXT + ', "message": "big2", "x": 1.7976931348623159e308, ' + TS + '}',
    '{' + TEXT + ', "message": "comma", "x": [1, 2,], ' + TS + '}',
    '{' + TEXT + ', "message": "deep", "x": ' + "[" * 1030 + "]" * 1030 + ', ' + TS + '}',
    '{' + TEXT + ', "message": "dup", "message": "dup2", ' + TS + '}',
    '{' + TEXT + ', "message": "esc dup", "m\\u0065ssage": "other", ' + TS + '}',
    '{' + TEXT + ', "author": {"name": "a", "name": "b"}, ' + TS + '}',
    '{' + TEXT + ', "message": "key esc", "timest\\u0061mp": 1748779200000001}',
    '{' + TEXT + ', "message": "\\ud83e\\udd17 pair", ' + TS + '}',
    '{' + TEXT + ', "message": "ctl \\u0000\\u001f", ' + TS + '}',
    '{' + TEXT + ', "message": "big int", "x": 123456789012345678901234567890, ' + TS + '}',
    '{' + TEXT + ", " + TS + ', "message": "' + "t" * 2000 + '"}',
    '{' + TEXT + ", " + TS + ', "message": "' + "t" * 2001 + '"}',
    '{"message_type": "raid", "number_of_raiders": 7, "raider_name": "r", ' + TS + '}',
    '{"message_type": "sponsorships_gift_purchase_announcement", "message": "sent 5", '
    + TS + '}',
    '{"ticker_duration": null, "message": "2020 ticker", ' + TS + '}',
    '{"message": "2020 plain", ' + TS + ', "author": "old"}',
    '{"message": "2020 esc key", "tick\\u0065r_duration": 5, ' + TS + '}',
    '{' + TEXT + ', "message": "same", ' + TS + '}',
    '{' + TEXT + ', "message": "same", ' + TS + '}',
    '{' + TEXT + ', "message": "same", ' + TS + '}',
    "{}",
    "null",
    "5",
    '"a string"',
    "[1, 2]",
    "true",
]  # fmt: skip


def _mixed(rng: random.Random, n: int, maker: Any, edges: bool = True) -> list[Any]:
    items: list[Any] = [maker(rng, i) for i in range(n)]
    if edges:
        for edge in EDGE_RECORDS:
            items.insert(rng.randrange(len(items) + 1), edge)
    return items


@pytest.mark.parametrize("layout", ["cli", "oneline", "perline", "lines"])
def test_current_schema_equals_row_path(tmp_path: Path, layout: str) -> None:
    rng = random.Random(layout)
    path = write(tmp_path / "chat.json", _mixed(rng, 600, new_message), layout)
    counts = compare(path)
    assert counts["accepted"] > 400 and counts["fast"] > 300
    assert counts["rejected"] > 20 and counts["skipped"] > 50


@pytest.mark.parametrize("layout", ["cli", "oneline", "lines"])
def test_old_schema_equals_row_path(tmp_path: Path, layout: str) -> None:
    rng = random.Random("old" + layout)
    path = write(tmp_path / "chat.json", _mixed(rng, 400, old_message), layout, bom=True)
    counts = compare(path)
    assert counts["accepted"] > 200 and counts["fast"] > 100


def test_twitch_and_options(tmp_path: Path) -> None:
    rng = random.Random(5)
    path = write(tmp_path / "chat.json", _mixed(rng, 400, twitch_message), "cli")
    counts = compare(path, platform="twitch")
    assert counts["fast"] > 200
    compare(path, {"platform": "twitch", "base_ts": "2024-05-01T20:00:00+08:00"}, platform=None)
    compare(path, {"time_base": "timestamp", "yen": "CNY"}, platform=None)
    rng = random.Random(6)
    mixed = _mixed(rng, 150, new_message, edges=False) + _mixed(rng, 150, old_message)
    rng.shuffle(mixed)
    path = write(tmp_path / "mixed.json", mixed, "perline")
    compare(path, {"platform": "youtube", "yen": "CNY"})
    compare(path, {}, platform=None, block_rows=None)


def test_one_block_and_tiny_blocks(tmp_path: Path) -> None:
    rng = random.Random(8)
    path = write(tmp_path / "chat.json", _mixed(rng, 300, new_message), "cli")
    compare(path, block_rows=None)
    compare(path, block_rows=1)


def test_repeated_records_get_numbered_ids_across_blocks(tmp_path: Path) -> None:
    same = {"message_type": "text_message", "message": "gg", "timestamp": T0,
            "author": {"name": "x"}}  # fmt: skip
    items: list[Any] = [same] * 30 + [dict(same, timestamp=None)] * 3 + [same] * 5
    path = write(tmp_path / "chat.json", items, "perline")
    accepted, _, _ = row_path(path, {})
    got, _, _ = fast_path(path, {}, block_rows=4)
    assert [r[1] for r in got] == [r[1] for r in accepted]
    assert accepted[1][1].endswith("#1") and len(accepted) == 35


def test_messages_beyond_the_window_repeat_ids(tmp_path: Path) -> None:
    # RepeatCounter forgets after 2 × window (20 000) records: the same state on both paths
    rng = random.Random(11)
    base = [old_message(rng, i % 50) for i in range(50)]
    path = write(tmp_path / "chat.json", base * 450, "perline")
    counts = compare(path, block_rows=None)
    assert counts["accepted"] > 15_000


def test_unicode_and_escapes_keep_raw_text_exactly(tmp_path: Path) -> None:
    rng = random.Random(12)
    items: list[Any] = []
    for i in range(200):
        msg = new_message(rng, i)
        msg["message_type"] = "text_message"
        msg["message"] = rng.choice(TEXTS[:8]) + rng.choice(["🎉", "中文", "\u200b", "/", "\\/"])
        items.append(msg)
    path = write(tmp_path / "chat.json", items, "cli")  # ensure_ascii: \uXXXX escapes
    counts = compare(path)
    assert counts["fast"] >= 180
    path = tmp_path / "utf8.json"
    path.write_text(json.dumps(items, ensure_ascii=False, indent=2), encoding="utf-8")
    compare(path)


# ============================================================================================
# Files the fast path does not take, and files it gives up on midway
# ============================================================================================


def test_not_fast(tmp_path: Path) -> None:
    def fast(path: Path, options: dict[str, Any] | None = None) -> Any:
        return fast_chat_blocks(
            path, workspace_id=WS, session_id=SESSION, platform=None, options=options or {}
        )

    msgs = [new_message(random.Random(1), i) for i in range(5)]
    gz = tmp_path / "chat.json.gz"
    gz.write_bytes(gzip.compress(json.dumps(msgs).encode()))
    assert fast(gz) is None
    pretty = tmp_path / "pretty.json"  # concatenated pretty objects: the row scanner's case
    pretty.write_text("\n".join(json.dumps(m, indent=2) for m in msgs))
    assert fast(pretty) is None
    empty = tmp_path / "empty.json"
    empty.write_text("  \n")
    assert fast(empty) is None
    plain = write(tmp_path / "plain.json", msgs, "cli")
    assert fast(plain, {"time_base": "offset", "base_ts": "2024-05-01T20:00:00Z"}) is None
    glob = write(tmp_path / "chat[1].json", msgs, "cli")
    assert fast(glob) is None
    with pytest.raises(ImportFormatError, match="time_base"):
        fast(plain, {"time_base": "later"})
    with pytest.raises(ImportFormatError, match="platform"):
        fast(plain, {"platform": "tiktok"})
    with pytest.raises(ImportFormatError, match="yen"):
        fast(plain, {"yen": "USD"})
    with pytest.raises(ImportFormatError, match="base_ts"):
        fast(plain, {"base_ts": "yesterday"})


def fast_then_resume(
    path: Path, options: dict[str, Any], block_rows: int
) -> tuple[Outcome, int | None]:
    """The fast path, then (after FastPathAborted) the row path after the last item it gave."""
    blocks = fast_chat_blocks(
        path,
        workspace_id=WS,
        session_id=SESSION,
        platform=PLATFORM,
        options=dict(options),
        block_rows=block_rows,
    )
    assert blocks is not None
    out: Outcome = ([], [], [])
    seen = 0
    try:
        for block in blocks:
            assert block.first_row == seen + 1
            seen = block.last_row
            for location, rec in zip(locations(block), block.table.to_pylist(), strict=True):
                ts_ms = (rec["ts"] - EPOCH) // timedelta(milliseconds=1)
                out[0].append(
                    (location, rec["event_id"], ts_ms, rec["kind"], rec["viewer_id"],
                     rec["viewer_name"], rec["text"], rec["quantity"], rec["amount"],
                     rec["currency"], rec["product_id"], rec["source"], rec["platform"],
                     rec["raw"])
                )  # fmt: skip
            for item in block.items:
                _take(item, RepeatCounter(), out, PLATFORM, ids_set=True)
    except FastPathAborted as aborted:
        assert aborted.resume_after_row == seen
        with path.open("rb") as stream:
            for item in CD.parse(stream, options=dict(options)):
                # resume after *item* N: text after the array ("line N") always comes after
                unit, number = item.location.split()
                if unit != "item" or int(number) > seen:
                    _take(item, aborted.repeats, out, PLATFORM)
        return out, seen
    return out, None


@pytest.mark.parametrize(
    "broken",
    [
        '{"message": "x", oops}',  # a syntax error
        '{"message_type": "text_message", "message": "ctl \x01 raw", "timestamp": 1}',
        '{"a": 1} {"b": 2}',  # a missing comma
        "",  # two commas in a row
        '{"a": "\\ud800 lone"}',  # a lone surrogate
    ],
)
def test_unreadable_item_aborts_and_row_path_resumes(tmp_path: Path, broken: str) -> None:
    rng = random.Random(broken)
    items: list[Any] = [new_message(rng, i) for i in range(900)]
    for i in range(0, 900, 7):
        items[i].pop("message_id", None)  # hash ids: the repeat counter carries over
        items[i]["message"] = "same"
        items[i]["timestamp"] = T0
        items[i]["author"] = {"name": "same"}
    items.insert(600, broken)
    path = write(tmp_path / "chat.json", items, "perline")
    got, resume = fast_then_resume(path, {}, 64)
    # DuckDB reads ahead in big buffers: the items before the broken one may all come
    # from the row path (a small file), but never an item after it from the fast path
    assert resume is not None and resume <= 600
    assert got == row_path(path, {})


@pytest.mark.parametrize(
    "tail",
    [
        b" trailing words",
        b'\n[{"message_type": "text_message", "message": "second array", "timestamp": '
        + str(T0).encode()
        + b"}]",
        b"]",
    ],
)
def test_text_after_the_array(tmp_path: Path, tail: bytes) -> None:
    rng = random.Random(7)
    path = write(tmp_path / "chat.json", [new_message(rng, i) for i in range(500)], "perline")
    path.write_bytes(path.read_bytes() + tail)
    got, resume = fast_then_resume(path, {}, 64)
    assert resume is not None
    assert got == row_path(path, {})


@pytest.mark.parametrize("cut", [1, 20])
def test_unclosed_or_cut_array(tmp_path: Path, cut: int) -> None:
    # an interrupted download: no "]" (DuckDB stops; the row path reads every complete
    # item), and the last item cut in the middle (a Problem saying the file is truncated)
    rng = random.Random(3)
    items = [new_message(rng, i) for i in range(300)]
    path = tmp_path / "cut.json"
    data = write(path, items, "perline").read_bytes().rstrip()[:-1].rstrip()
    path.write_bytes(data[: len(data) - cut])
    got, resume = fast_then_resume(path, {}, 64)
    assert resume is not None and resume < 300
    assert got == row_path(path, {})


def test_closing_early_stops_the_threads(tmp_path: Path) -> None:
    import threading
    import time

    rng = random.Random(4)
    items = [new_message(rng, i) for i in range(2000)]
    for layout in ("perline", "lines"):
        path = write(tmp_path / f"chat-{layout}.json", items, layout)
        for taken in (1, 2, 7):
            blocks = fast_chat_blocks(
                path,
                workspace_id=WS,
                session_id=SESSION,
                platform=PLATFORM,
                options={},
                block_rows=50,
            )
            assert blocks is not None
            for _ in range(taken):
                next(blocks)
            time.sleep(0.05)  # let the stages fill their queues
            blocks.close()  # type: ignore[attr-defined]
            assert not [t for t in threading.enumerate() if t.name.startswith("fastchat-")]


# ============================================================================================
# Real recordings
# ============================================================================================


@needs_realdata
@pytest.mark.parametrize(
    "name",
    [
        "example.json",
        "_YouTube__Get_superchat_messages_from_live_chat_replay.json",
        "_Twitch__Get_live_chat_replay.json",
    ],
)
def test_real_recordings_equal_row_path(name: str) -> None:
    path = REPLAY / name
    if name.startswith("_Twitch"):
        # download-time stamps: the row importer uses base_ts + time_in_seconds: not fast
        assert (
            fast_chat_blocks(path, workspace_id=WS, session_id=SESSION, platform=None, options={})
            is None
        )
        counts = compare(path, {"time_base": "timestamp"}, platform="twitch")
    else:
        counts = compare(path, block_rows=500)
        compare(path, {"platform": "youtube", "yen": "CNY"}, platform=None, block_rows=None)
    assert counts["accepted"] + counts["rejected"] + counts["skipped"] > 0
    assert counts["fast"] >= counts["accepted"] * 0.8


# ============================================================================================
# Property: any mix of field shapes
# ============================================================================================

_any_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
    st.sampled_from(["", " ", "$5.00", "¥1,000", "kr 9", "UCaaaaaaaaaaaaaaaaaaaaaa", "123"]),
)
_field_values = {
    "message_type": st.one_of(
        st.sampled_from(["text_message", "paid_message", "paid_sticker", "membership_item",
                         "ticker_x", "raid", "subscription", "other_kind",
                         "mystery_subscription_gift", "highlighted_message"]),
        _any_scalar,
    ),
    "timestamp": st.one_of(st.integers(10**14, 10**17), st.integers(0, 10**18), _any_scalar),
    "message": st.one_of(st.text(max_size=12), _any_scalar),
    "message_id": st.one_of(st.text(min_size=1, max_size=8), _any_scalar),
    "author": st.one_of(
        st.fixed_dictionaries({}, optional={
            "id": st.one_of(st.sampled_from(["UCaaaaaaaaaaaaaaaaaaaaaa", "42", "x"]), _any_scalar),
            "name": st.one_of(st.text(max_size=5), _any_scalar),
            "display_name": st.one_of(st.text(max_size=5), _any_scalar),
        }),
        _any_scalar,
    ),
    "author_id": _any_scalar,
    "author_name": _any_scalar,
    "bits": _any_scalar,
    "money": st.one_of(
        st.fixed_dictionaries({}, optional={
            "text": st.one_of(st.sampled_from(["$5.00", "€1,50", "kr 1", ""]), _any_scalar),
            "amount": _any_scalar, "currency": _any_scalar,
        }),
        _any_scalar,
    ),
    "amount": _any_scalar,
    "ticker_duration": _any_scalar,
    "time_in_seconds": _any_scalar,
}  # fmt: skip


@st.composite
def _record(draw: st.DrawFn) -> dict[str, Any]:
    keys = draw(st.sets(st.sampled_from(sorted(_field_values)), max_size=len(_field_values)))
    obj = {k: draw(_field_values[k]) for k in sorted(keys)}
    if draw(st.booleans()):  # mostly plausible records
        obj.setdefault("message_type", "text_message")
        obj["timestamp"] = T0 + draw(st.integers(0, 10**9))
    return obj


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    records=st.lists(_record(), min_size=1, max_size=30),
    layout=st.sampled_from(["cli", "oneline", "perline", "lines"]),
    block_rows=st.integers(1, 12),
)
def test_property_any_field_shapes(
    tmp_path: Path, records: list[dict[str, Any]], layout: str, block_rows: int
) -> None:
    path = tmp_path / f"p-{layout}.json"
    write(path, records, layout)
    want = row_path(path, {})
    blocks = fast_chat_blocks(
        path,
        workspace_id=WS,
        session_id=SESSION,
        platform=PLATFORM,
        options={},
        block_rows=block_rows,
    )
    if blocks is None:  # e.g. JSON lines whose first line is not an object
        return
    got = fast_path(path, {}, block_rows=block_rows)
    assert got == want
