"""Bilibili (blivedm) and Douyin/TikTok webcast importers, and format detection."""

from __future__ import annotations

import io
import json
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liveops.events.importers.base import ImportFormatError, Item, Problem, Record, Skipped
from liveops.events.importers.bilibili import BilibiliImporter
from liveops.events.importers.webcast import WebcastImporter
from liveops.events.schema import NormalizedEvent, validate

T0_S = 1_717_243_200  # 2024-06-01T12:00:00Z
T0_MS = T0_S * 1000


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def run(importer: Any, lines: list[Any], **options: Any) -> list[Item]:
    body = "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines)
    return list(importer.parse(io.BytesIO(body.encode("utf-8")), options=options or None))


def kinds(items: list[Item]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for item in items:
        if isinstance(item, Record):
            counts[item.fields["kind"]] += 1
        elif isinstance(item, Skipped):
            counts["_skipped"] += 1
        else:
            counts["_problem"] += 1
    return counts


def records(items: list[Item]) -> list[Record]:
    return [i for i in items if isinstance(i, Record)]


def check_valid(items: list[Item]) -> list[NormalizedEvent]:
    """Every Record must pass the canonical schema."""
    events = []
    for item in records(items):
        fields = {k: v for k, v in item.fields.items() if not k.startswith("_")}
        result = validate(fields, workspace_id=1, session_id=1)
        assert isinstance(result, NormalizedEvent), (item, result)
        events.append(result)
    return events


# -- Bilibili message builders ----------------------------------------------------------------


def danmu(
    uid: int, name: str, text: str, ts_ms: int, *, id_str: str | None = None, cmd: str = "DANMU_MSG"
) -> dict[str, Any]:
    extra = json.dumps({"send_from_me": False, "content": text, "id_str": id_str or ""})
    meta = [0, 1, 25, 16777215, ts_ms, 1717243, 0, "9a3f1c2b", 0, 0, 0, "", 0, "{}", "{}"]
    meta.append({"mode": 0, "show_player_type": 0, "extra": extra})
    info = [
        meta,
        text,
        [uid, name, 0, 0, 0, 10000, 1, ""],
        [],
        [0, 0, 9868950, ">50000", 0],
        ["", ""],
        0,
        0,
        None,
        {"ts": ts_ms // 1000, "ct": "5C1F2A3B"},
        0,
        0,
        None,
        None,
        0,
        7,
        [0],
    ]
    return {"cmd": cmd, "info": info, "dm_v2": ""}


def send_gift(
    uid: int, num: int, price: int, *, coin: str = "gold", ts: int = T0_S, tid: str = "1"
) -> dict[str, Any]:
    return {
        "cmd": "SEND_GIFT",
        "data": {
            "giftName": "小花花" if coin == "gold" else "辣条",
            "giftId": 31036,
            "num": num,
            "price": price,
            "coin_type": coin,
            "total_coin": price * num,
            "uid": uid,
            "uname": f"user{uid}",
            "timestamp": ts,
            "tid": tid,
            "rnd": "1717243200",
            "action": "投喂",
        },
    }


def interact(uid: int, msg_type: int, ts: int = T0_S) -> dict[str, Any]:
    return {
        "cmd": "INTERACT_WORD",
        "data": {
            "uid": uid,
            "uname": f"user{uid}",
            "msg_type": msg_type,
            "timestamp": ts,
            "trigger_time": ts * 1_000_000_000 + 123_456_789 if ts else 0,
            "roomid": 21452505,
        },
    }


def bilibili_sample() -> tuple[list[Any], Counter[str]]:
    """Every cmd the importer knows, with the expected count per outcome."""
    lines: list[Any] = [
        danmu(1001, "阿强", "主播好！", T0_MS + 1, id_str="a1b2c3"),
        danmu(1002, "小美", "来了来了", T0_MS + 2, cmd="DANMU_MSG:4:0:2:2:2:0"),
        {"ts": T0_MS + 3, "data": danmu(0, "用***", "hidden user", T0_MS + 3)},
        send_gift(1001, 5, 100, tid="tid-1"),
        send_gift(1003, 10, 100, coin="silver", tid="tid-2"),
        {"ts": T0_MS + 5_000, "data": send_gift(1004, 1, 52000, ts=0, tid="tid-3")},
        {
            "cmd": "GUARD_BUY",
            "data": {
                "uid": 1005,
                "username": "舰长大人",
                "guard_level": 3,
                "num": 1,
                "price": 198000,
                "gift_id": 10003,
                "gift_name": "舰长",
                "start_time": T0_S + 10,
                "end_time": T0_S + 10,
            },
        },
        {
            "cmd": "SUPER_CHAT_MESSAGE",
            "data": {
                "id": 8765432,
                "uid": 1006,
                "price": 30,
                "message": "加油！",
                "message_trans": "",
                "start_time": T0_S + 20,
                "end_time": T0_S + 80,
                "time": 60,
                "user_info": {"uname": "SC哥", "guard_level": 0},
                "gift": {"gift_id": 12000, "gift_name": "醒目留言", "num": 1},
            },
        },
        interact(1007, 1),
        interact(1008, 2),
        interact(1009, 3),
        interact(1010, 4),
        interact(1011, 5),
        interact(1012, 6),  # unknown msg_type: skipped
        {
            "cmd": "LIKE_INFO_V3_CLICK",
            "data": {"uid": 1013, "uname": "点赞君", "like_text": "为主播点赞了"},
        },
        {"cmd": "LIKE_INFO_V3_UPDATE", "data": {"click_count": 999}},
        {"cmd": "WATCHED_CHANGE", "data": {"num": 12345, "text_small": "1.2万"}},
        {"cmd": "ONLINE_RANK_COUNT", "data": {"count": 10000, "count_text": "1万+"}},
        {"ts": T0_S + 30, "data": {"cmd": "ONLINE_RANK_COUNT", "data": {"count": 321}}},
        {"cmd": "COMBO_SEND", "data": {"uid": 1001, "combo_num": 5}},
        {"cmd": "STOP_LIVE_ROOM_LIST", "data": {"room_id_list": [1, 2]}},
        {"cmd": "SUPER_CHAT_MESSAGE_JPN", "data": {"id": "8765432"}},
        {"cmd": "SEND_GIFT_V2", "data": {"pb": "CgQIARAB"}},
        "this is not json",
        "",
        {"cmd": "SEND_GIFT", "data": {"giftName": "坏礼物"}},  # broken shape
        {"hello": "no cmd"},
    ]
    expected = Counter(
        {
            "comment": 3,
            "gift": 5,
            "enter": 1,
            "follow": 3,
            "share": 1,
            "like": 1,
            "online_count": 2,
            "_skipped": 6,
            "_problem": 4,
        }
    )
    return lines, expected


# --------------------------------------------------------------------------------------------
# Bilibili
# --------------------------------------------------------------------------------------------


def test_bilibili_every_cmd_counts_per_kind() -> None:
    lines, expected = bilibili_sample()
    items = run(BilibiliImporter(), lines)
    assert kinds(items) == expected
    # every non-blank line is exactly one item, in order
    assert len(items) == sum(1 for line in lines if line != "")
    events = check_valid(items)
    assert all(e.platform == "bilibili" for e in events)
    reasons = {i.reason for i in items if isinstance(i, Skipped)}
    assert any(r.startswith("WATCHED_CHANGE: cumulative watched count") for r in reasons)
    assert any(r.startswith("LIKE_INFO_V3_UPDATE") for r in reasons)
    problems = [i for i in items if isinstance(i, Problem)]
    assert any("protobuf" in p.message for p in problems)
    assert any("not JSON" in p.message for p in problems)


def test_bilibili_danmaku_fields_and_ids() -> None:
    lines, _ = bilibili_sample()
    items = run(BilibiliImporter(), lines[:3])
    first, second, hidden = (i.fields for i in records(items))
    assert first == {
        "kind": "comment",
        "text": "主播好！",
        "platform": "bilibili",
        "viewer_id": "1001",
        "viewer_name": "阿强",
        "event_id": "bilibili:dm:a1b2c3",
        "ts": T0_MS + 1,
    }
    assert second["event_id"] == f"bilibili:dm:{T0_MS + 2}:1002:5C1F2A3B"  # suffixed cmd, ct id
    assert "viewer_id" not in hidden and hidden["viewer_name"] == "用***"  # uid 0 = hidden


def test_bilibili_gold_to_cny_is_exact() -> None:
    items = run(
        BilibiliImporter(),
        [
            send_gift(1, 5, 100, tid="a"),  # 500 gold
            send_gift(2, 1, 1, tid="b"),  # 1 gold
            send_gift(3, 3, 52000, tid="c"),  # 156000 gold
            send_gift(4, 10, 100, coin="silver", tid="d"),
        ],
    )
    events = check_valid(items)
    assert [e.amount for e in events] == [
        Decimal("0.5"),
        Decimal("0.001"),
        Decimal("156"),
        Decimal("0"),
    ]
    assert all(e.currency == "CNY" for e in events)
    assert [e.quantity for e in events] == [5, 1, 3, 10]
    assert [e.event_id for e in events] == [
        "bilibili:gift:a",
        "bilibili:gift:b",
        "bilibili:gift:c",
        "bilibili:gift:d",
    ]
    silver = records(items)[3].fields
    assert "free" in silver["_note"]
    guard_sc = records(run(BilibiliImporter(), bilibili_sample()[0][6:8]))
    assert Decimal(guard_sc[0].fields["amount"]) == Decimal("198")
    assert guard_sc[1].fields["amount"] == "30" and guard_sc[1].fields["text"] == "加油！"
    assert guard_sc[1].fields["event_id"] == "bilibili:sc:8765432"


def test_bilibili_seconds_milliseconds_and_wrappers() -> None:
    items = run(
        BilibiliImporter(),
        [
            send_gift(1, 1, 100, ts=T0_S, tid="s"),  # seconds
            {"ts": T0_MS + 5_000, "data": send_gift(2, 1, 100, ts=0, tid="w")},  # wrapper ms
            {"time": T0_S + 7, "message": {"cmd": "ONLINE_RANK_COUNT", "data": {"count": 5}}},
            {"ts": "2024-06-01T20:00:09+08:00", "data": interact(3, 1, ts=0)},
            interact(4, 1),  # trigger_time in ns
        ],
    )
    ts = [r.fields["ts"] for r in records(items)]
    assert ts[:4] == [T0_MS, T0_MS + 5_000, T0_MS + 7_000, T0_MS + 9_000]
    assert ts[4] == T0_MS + 123  # ns → ms
    events = check_valid(items)
    assert events[2].source == "bilibili_online_rank" and events[2].quantity == 5


def test_bilibili_messages_without_time_borrow_the_previous_one() -> None:
    online = {"cmd": "ONLINE_RANK_COUNT", "data": {"count": 12}}
    items = run(BilibiliImporter(), [online, danmu(1, "a", "hi", T0_MS), online])
    assert isinstance(items[0], Problem) and items[0].field == "ts"
    assert items[2].fields["ts"] == T0_MS and items[2].fields["_ts_estimated"] is True
    strict = run(BilibiliImporter(), [danmu(1, "a", "hi", T0_MS), online], carry_timestamps=False)
    assert isinstance(strict[1], Problem)


def test_bilibili_overlong_line_is_a_problem_and_reading_goes_on() -> None:
    body = b'{"cmd": "X", "pad": "' + b"x" * (1024 * 1024 + 10) + b'"}\n'
    body += json.dumps(danmu(1, "a", "after", T0_MS)).encode()
    items = list(BilibiliImporter().parse(io.BytesIO(body)))
    assert isinstance(items[0], Problem) and items[0].code == "too_long"
    assert isinstance(items[1], Record) and items[1].location == "line 2"


# --------------------------------------------------------------------------------------------
# Douyin / TikTok webcast
# --------------------------------------------------------------------------------------------


def common(method: str, msg_id: int, ts_ms: int = T0_MS) -> dict[str, Any]:
    return {
        "method": method,
        "msgId": str(msg_id),
        "roomId": "7380000000",
        "createTime": str(ts_ms),
    }


def user(uid: int, name: str) -> dict[str, Any]:
    return {"id": str(uid), "nickName": name, "displayId": f"dy{uid}"}


def gift_msg(
    msg_id: int,
    uid: int,
    repeat: int,
    *,
    end: int = 0,
    combo: bool = True,
    group_id: str = "g1",
    diamonds: int = 1,
    gift_id: int = 463,
) -> dict[str, Any]:
    return {
        "common": common("WebcastGiftMessage", msg_id),
        "giftId": str(gift_id),
        "groupCount": "1",
        "repeatCount": str(repeat),
        "comboCount": str(repeat),
        "repeatEnd": end,
        "groupId": group_id,
        "user": user(uid, f"u{uid}"),
        "gift": {"id": str(gift_id), "name": "玫瑰", "diamondCount": diamonds, "combo": combo},
    }


def webcast_sample() -> tuple[list[Any], Counter[str], int]:
    lines: list[Any] = [
        {
            "method": "WebcastChatMessage",
            "payload": {
                "common": common("WebcastChatMessage", 1),
                "user": user(11, "小王"),
                "content": "多少钱？",
            },
        },
        {  # snake_case (betterproto / preserving_proto_field_name), numbers as numbers
            "common": {"method": "WebcastChatMessage", "msg_id": 2, "create_time": T0_MS + 1},
            "user": {"id": 12, "nick_name": "阿花"},
            "content": "好看",
        },
        # combo streak of user 13: 1, 2, 5, end(5) → deltas 1, 1, 3, skipped
        gift_msg(3, 13, 1),
        gift_msg(4, 13, 2),
        gift_msg(5, 13, 5),
        gift_msg(6, 13, 5, end=1),
        # streak of user 14 whose end message was lost: 1, 3 → 1, 2
        gift_msg(7, 14, 1, group_id="g2"),
        gift_msg(8, 14, 3, group_id="g2"),
        # non-combo gift (嘉年华), twice: each counts in full
        gift_msg(9, 15, 1, combo=False, diamonds=3000, gift_id=3296, group_id=""),
        gift_msg(10, 15, 1, combo=False, diamonds=3000, gift_id=3296, group_id=""),
        {
            "method": "WebcastLikeMessage",
            "payload": {
                "common": common("WebcastLikeMessage", 11),
                "count": "15",
                "total": "9999",
                "user": user(16, "点赞"),
            },
        },
        {
            "common": common("WebcastMemberMessage", 12),
            "user": user(17, "进来"),
            "memberCount": "321",
            "action": "1",
        },
        {"common": common("WebcastSocialMessage", 13), "user": user(18, "粉丝"), "action": "1"},
        {"common": common("WebcastSocialMessage", 14), "user": user(19, "分享"), "action": "3"},
        {"common": common("WebcastSocialMessage", 15), "user": user(20, "?"), "action": "2"},
        {
            "common": common("WebcastRoomUserSeqMessage", 16),
            "total": "1234",
            "totalUser": "56789",
            "totalPvForAnchor": "5.6万",
        },
        {"common": common("WebcastControlMessage", 17), "status": 3},
        {"common": common("WebcastRoomRankMessage", 18), "ranksList": []},
        {"method": "WebcastChatMessage", "payload": "CgQIARAB"},  # still protobuf
        "{broken",
    ]
    expected = Counter(
        {
            "comment": 2,
            "gift": 7,
            "like": 1,
            "enter": 1,
            "follow": 1,
            "share": 1,
            "online_count": 1,
            "_skipped": 4,  # combo end, social action 2, control, rank
            "_problem": 2,
        }
    )
    return lines, expected, 1 + 1 + 3 + 1 + 2 + 1 + 1


def test_webcast_counts_per_kind_and_gift_combos() -> None:
    lines, expected, gifts_sent = webcast_sample()
    items = run(WebcastImporter(), lines)
    assert kinds(items) == expected
    events = check_valid(items)
    gift_events = [e for e in events if e.kind == "gift"]
    assert [e.quantity for e in gift_events] == [1, 1, 3, 1, 2, 1, 1]
    assert sum(e.quantity or 0 for e in gift_events) == gifts_sent
    assert [e.amount for e in gift_events][-1] == Decimal(3000)  # diamonds, no currency
    assert all(e.currency is None for e in gift_events)
    assert all(e.platform == "douyin" for e in events)
    online = next(e for e in events if e.kind == "online_count")
    assert online.quantity == 1234 and online.source == "douyin_room_user_seq"
    like = next(e for e in events if e.kind == "like")
    assert like.quantity == 15
    first = records(items)[0].fields
    assert first["event_id"] == "douyin:1" and first["viewer_name"] == "小王"
    assert first["ts"] == T0_MS
    reasons = {i.reason for i in items if isinstance(i, Skipped)}
    assert "control: live ended (status 3)" in reasons


def test_webcast_diamond_rate_converts_only_when_given() -> None:
    lines = [gift_msg(1, 1, 10, end=1, diamonds=1)]
    plain = records(run(WebcastImporter(), lines))[0].fields
    assert plain["amount"] == "10" and "currency" not in plain
    assert plain["_value_unit"] == "diamond"
    converted = records(run(WebcastImporter(), lines, diamond_rate="0.1", currency="cny"))[0]
    assert converted.fields["amount"] == "1" and converted.fields["currency"] == "CNY"
    with pytest.raises(ImportFormatError, match="currency"):
        run(WebcastImporter(), lines, diamond_rate="0.1")
    with pytest.raises(ImportFormatError, match="positive"):
        run(WebcastImporter(), lines, diamond_rate="free", currency="CNY")


def test_webcast_tiktok_style_events_and_platform() -> None:
    lines = [
        {
            "type": "CommentEvent",
            "data": {
                "user": {"userId": "7", "uniqueId": "ann", "nickname": "Ann"},
                "comment": "hi",
                "common": {"createTime": T0_MS},
            },
        },
        {"event": "follow", "timestamp": T0_S, "data": {"user": {"userId": "8", "uniqueId": "bo"}}},
        {"event": "share", "timestamp": T0_S, "data": {"user": {"userId": "9", "uniqueId": "cy"}}},
        {"type": "LiveEndEvent", "data": {"common": {"createTime": T0_MS}}},
    ]
    items = run(WebcastImporter(), lines)
    assert kinds(items) == Counter({"comment": 1, "follow": 1, "share": 1, "_skipped": 1})
    events = check_valid(items)
    assert {e.platform for e in events} == {"tiktok"}
    assert events[0].viewer_name == "Ann" and events[0].text == "hi"
    forced = check_valid(run(WebcastImporter(), lines[:1], platform="douyin"))
    assert forced[0].platform == "douyin"


# --------------------------------------------------------------------------------------------
# Hypothesis properties
# --------------------------------------------------------------------------------------------

_B_KINDS = [
    "comment",
    "gift_gold",
    "gift_silver",
    "guard",
    "sc",
    "enter",
    "follow",
    "share",
    "like",
    "online",
    "watched",
    "update",
    "other",
]


def _bilibili_line(kind: str, n: int, ts_s: int, wrap: bool, suffix: bool) -> dict[str, Any]:
    message: dict[str, Any]
    if kind == "comment":
        message = danmu(
            n,
            f"u{n}",
            f"text {n}",
            ts_s * 1000 + n % 1000,
            cmd="DANMU_MSG:4:0:2:2:2:0" if suffix else "DANMU_MSG",
        )
    elif kind == "gift_gold":
        message = send_gift(n, n % 7 + 1, 100, ts=ts_s, tid=f"t{n}")
    elif kind == "gift_silver":
        message = send_gift(n, 3, 100, coin="silver", ts=ts_s, tid=f"t{n}")
    elif kind == "guard":
        message = {
            "cmd": "GUARD_BUY",
            "data": {"uid": n, "username": "g", "num": 1, "price": 198000, "start_time": ts_s},
        }
    elif kind == "sc":
        message = {
            "cmd": "SUPER_CHAT_MESSAGE",
            "data": {
                "id": n,
                "uid": n,
                "price": 30,
                "message": "m",
                "start_time": ts_s,
                "user_info": {"uname": "x"},
            },
        }
    elif kind in ("enter", "follow", "share"):
        message = interact(n, {"enter": 1, "follow": 2, "share": 3}[kind], ts=ts_s)
    elif kind == "like":
        message = {"cmd": "LIKE_INFO_V3_CLICK", "data": {"uid": n, "uname": "l"}}
    elif kind == "online":
        message = {"cmd": "ONLINE_RANK_COUNT", "data": {"count": n}}
    elif kind == "watched":
        message = {"cmd": "WATCHED_CHANGE", "data": {"num": n}}
    elif kind == "update":
        message = {"cmd": "LIKE_INFO_V3_UPDATE", "data": {"click_count": n}}
    else:
        message = {"cmd": "HOT_RANK_CHANGED", "data": {"rank": n}}
    if wrap:
        return {"ts": ts_s * 1000 if n % 2 else ts_s, "data": message}
    return message


_B_EXPECTED = {
    "comment": "comment",
    "gift_gold": "gift",
    "gift_silver": "gift",
    "guard": "gift",
    "sc": "gift",
    "enter": "enter",
    "follow": "follow",
    "share": "share",
    "like": "like",
    "online": "online_count",
    "watched": "_skipped",
    "update": "_skipped",
    "other": "_skipped",
}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(_B_KINDS),
            st.integers(min_value=T0_S, max_value=T0_S + 86_400),
            st.booleans(),
            st.booleans(),
        ),
        max_size=40,
    )
)
def test_property_bilibili_counts_match_generated(spec: list[tuple[str, int, bool, bool]]) -> None:
    # the first line always carries a time, so messages without one can borrow it
    lines: list[Any] = [danmu(0, "first", "first", T0_MS)]
    for n, (kind, ts_s, wrap, suffix) in enumerate(spec, 1):
        lines.append(_bilibili_line(kind, n, ts_s, wrap, suffix))
    body = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines).encode()
    items = list(BilibiliImporter().parse(io.BytesIO(body)))
    expected = Counter(_B_EXPECTED[kind] for kind, *_ in spec)
    expected["comment"] += 1
    assert kinds(items) == +expected
    check_valid(items)
    assert list(BilibiliImporter().parse(io.BytesIO(body))) == items  # deterministic


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("chat"), st.integers(1, 50)),
            st.tuples(st.just("like"), st.integers(1, 500)),
            st.tuples(st.just("member"), st.integers(1, 50)),
            st.tuples(st.just("follow"), st.integers(1, 50)),
            st.tuples(st.just("share"), st.integers(1, 50)),
            st.tuples(st.just("seq"), st.integers(0, 100_000)),
            st.tuples(st.just("control"), st.integers(1, 4)),
            # a streak: the running counts it sends, ending or not
            st.tuples(st.just("streak"), st.lists(st.integers(1, 20), min_size=1, max_size=6)),
        ),
        max_size=30,
    ),
    st.booleans(),
)
def test_property_webcast_counts_match_generated(spec: list[tuple[str, Any]], ended: bool) -> None:
    lines: list[Any] = []
    expected: Counter[str] = Counter()
    gifts_sent = 0
    msg_id = 0
    for index, (kind, value) in enumerate(spec):
        msg_id += 1
        c = common("", msg_id, T0_MS + index)
        if kind == "chat":
            c["method"] = "WebcastChatMessage"
            lines.append({"common": c, "user": user(value, "n"), "content": f"c{value}"})
            expected["comment"] += 1
        elif kind == "like":
            c["method"] = "WebcastLikeMessage"
            lines.append({"common": c, "user": user(1, "n"), "count": value})
            expected["like"] += 1
        elif kind == "member":
            c["method"] = "WebcastMemberMessage"
            lines.append({"common": c, "user": user(value, "n")})
            expected["enter"] += 1
        elif kind in ("follow", "share"):
            c["method"] = "WebcastSocialMessage"
            action = 1 if kind == "follow" else 3
            lines.append({"common": c, "user": user(value, "n"), "action": action})
            expected[kind] += 1
        elif kind == "seq":
            c["method"] = "WebcastRoomUserSeqMessage"
            lines.append({"common": c, "total": value, "totalUser": value * 10})
            expected["online_count"] += 1
        elif kind == "control":
            c["method"] = "WebcastControlMessage"
            lines.append({"common": c, "status": value})
            expected["_skipped"] += 1
        else:  # a streak with its own group id; running counts are cumulative
            running = 0
            steps = []
            for step in value:
                running += step
                steps.append(running)
            for count in steps:
                msg_id += 1
                lines.append(gift_msg(msg_id, 99, count, group_id=f"s{index}"))
                expected["gift"] += 1
            if ended:  # the end message repeats the last count: counted once, then skipped
                msg_id += 1
                lines.append(gift_msg(msg_id, 99, running, end=1, group_id=f"s{index}"))
                expected["_skipped"] += 1
            gifts_sent += running
    body = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines).encode()
    items = list(WebcastImporter().parse(io.BytesIO(body)))
    assert kinds(items) == +expected
    events = check_valid(items)
    assert sum(e.quantity or 0 for e in events if e.kind == "gift") == gifts_sent
    assert list(WebcastImporter().parse(io.BytesIO(body))) == items


# --------------------------------------------------------------------------------------------
# Format detection (every registered format)
# --------------------------------------------------------------------------------------------


def _jsonl(*objects: Any) -> bytes:
    return "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objects).encode()


def _xlsx_head() -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["时间", "在线人数"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()[:65536]


DETECTION_SAMPLES: list[tuple[str, str, bytes]] = [
    ("ndjson", "events.jsonl", _jsonl({"kind": "comment", "ts": T0_MS, "text": "hi"})),
    ("bilibili-blivedm", "room.jsonl", _jsonl(*bilibili_sample()[0][:8])),
    ("bilibili-blivedm", "x", _jsonl({"ts": T0_MS, "data": send_gift(1, 1, 100)})),
    ("douyin-webcast", "douyin.jsonl", _jsonl(*webcast_sample()[0][:4])),
    ("douyin-webcast", "", _jsonl(gift_msg(1, 2, 3))),
    (
        "youtube-actions",
        "live_chat.json",
        _jsonl(
            {
                "replayChatItemAction": {
                    "actions": [{"addChatItemAction": {"item": {}}}],
                    "videoOffsetTimeMsec": "1000",
                }
            }
        ),
    ),
    (
        "chat-downloader",
        "chat.json",
        json.dumps(
            [
                {
                    "message_type": "text_message",
                    "timestamp": T0_MS * 1000,
                    "author": {"name": "a", "id": "1"},
                    "message": "hi",
                }
            ]
        ).encode(),
    ),
    (
        "twitch-irc",
        "irc.log",
        b"@badge-info=;display-name=Foo;id=b34c;tmi-sent-ts=1714575842000;user-id=123 "
        b":foo!foo@foo.tmi.twitch.tv PRIVMSG #chan :hello\r\n"
        b"@badge-info=;display-name=Bar;id=b35c;tmi-sent-ts=1714575843000;user-id=124 "
        b":bar!bar@bar.tmi.twitch.tv PRIVMSG #chan :hi there\r\n",
    ),
    (
        "twitch-log",
        "chan.txt",
        b"[2024-05-01 15:04:02 UTC] foo: hello\n[2024-05-01 15:04:05 UTC] bar: hi there\n",
    ),
    ("xlsx", "stats.xlsx", _xlsx_head()),
    ("xlsx", "no-extension", _xlsx_head()),
    ("csv", "stats.csv", "时间,在线人数\n2024-06-01 20:00,1\n".encode("gb18030")),
    ("csv", "export", "时间\t在线人数\n2024-06-01 20:00\t1\n2024-06-01 20:01\t2\n".encode()),
]


@pytest.mark.parametrize(("key", "filename", "head"), DETECTION_SAMPLES)
def test_detect_each_format(key: str, filename: str, head: bytes) -> None:
    from liveops.events.importers.registry import FORMATS, detect

    assert key in FORMATS
    assert detect(head, filename) == key


def test_registry_has_every_format_and_detects_gzip() -> None:
    import gzip

    from liveops.events.importers.registry import FORMATS, detect, get_importer

    assert set(FORMATS) == {key for key, _, _ in DETECTION_SAMPLES}
    assert all(importer.name == key for key, importer in FORMATS.items())
    compressed = gzip.compress(_jsonl(*bilibili_sample()[0][:8]))
    assert detect(compressed, "room.jsonl.gz") == "bilibili-blivedm"
    assert isinstance(get_importer("csv"), object)
    with pytest.raises(ImportFormatError, match="supported formats: ndjson"):
        get_importer("pdf")


@pytest.mark.parametrize(
    "head", [b"Dear diary, today the stream went well.\n", b"\x00\x01\x02\x03binary", b"<html>"]
)
def test_detect_unknown_content_lists_formats(head: bytes) -> None:
    from liveops.events.importers.registry import FORMATS, detect

    with pytest.raises(ImportFormatError) as info:
        detect(head, "mystery.dat")
    message = str(info.value)
    assert all(key in message for key in FORMATS)
    assert "--format" in message
