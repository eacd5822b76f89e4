"""The columnar CSV fast path gives exactly the row path's events, ids and rejections."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from liveops.events import schema
from liveops.events.fastimport import fast_csv_blocks
from liveops.events.importers.base import Problem, Record, Skipped
from liveops.events.importers.tabular import CsvImporter
from liveops.events.ingest import RepeatCounter, with_raw

WS, SESSION, PLATFORM = 7, 42, "douyin"
COLUMNS = ("event_id", "ts", "kind", "viewer_id", "viewer_name", "text", "quantity", "amount",
           "currency", "product_id", "source", "platform", "raw")  # fmt: skip


def _row_of(event: schema.NormalizedEvent) -> tuple[Any, ...]:
    return (
        event.event_id, event.ts_ms, event.kind, event.viewer_id, event.viewer_name, event.text,
        event.quantity, event.amount, event.currency, event.product_id, event.source,
        event.platform, event.raw,
    )  # fmt: skip


def row_path(path: Path, options: dict[str, Any]) -> tuple[list[tuple[Any, ...]], list[str]]:
    """services.import_items, without Django: accepted rows + locations of rejected rows."""
    repeats = RepeatCounter()
    accepted: list[tuple[Any, ...]] = []
    rejected: list[str] = []
    with open(path, "rb") as stream:
        for item in CsvImporter().parse(stream, options=dict(options)):
            if isinstance(item, Skipped | Problem):
                rejected.append(item.location)
            else:
                fields = {k: v for k, v in item.fields.items() if not k.startswith("_")}
                if not fields.get("event_id"):
                    base = schema.stable_event_id(item.raw.encode())
                    n = repeats.occurrence(base)
                    fields["event_id"] = base if n == 0 else f"{base}#{n}"
                result = schema.validate(
                    fields, workspace_id=WS, session_id=SESSION, platform=PLATFORM
                )
                if isinstance(result, schema.NormalizedEvent):
                    accepted.append((item.location, *_row_of(with_raw(result, item.raw))))
                else:
                    rejected.append(item.location)
    return accepted, rejected


def fast_path(
    path: Path, options: dict[str, Any], block_size: int = 1 << 14
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[str], list[str]]:
    """(fast rows, fallback rows accepted by validate, fallback rejected, all fallback locs)."""
    blocks = fast_csv_blocks(
        path,
        workspace_id=WS,
        session_id=SESSION,
        platform=PLATFORM,
        options=dict(options),
        block_size=block_size,
    )
    assert blocks is not None
    fast: list[tuple[Any, ...]] = []
    slow_ok: list[tuple[Any, ...]] = []
    slow_bad: list[str] = []
    fallback: list[str] = []
    for block in blocks:
        assert block.table.schema == schema.ARROW_SCHEMA
        assert len(block.fallback) == len(block.items)
        fallback += [f["location"] for f in block.fallback]
        for loc, rec in zip(block.locations, block.table.to_pylist(), strict=True):
            ts_ms = int(rec["ts"].timestamp() * 1000 + 0.5)
            assert rec["workspace_id"] == WS and rec["session_id"] == SESSION
            fast.append((loc, rec["event_id"], ts_ms, *[rec[c] for c in COLUMNS[2:]]))
        for item in block.items:
            if isinstance(item, Record):
                fields = {k: v for k, v in item.fields.items() if not k.startswith("_")}
                result = schema.validate(
                    fields, workspace_id=WS, session_id=SESSION, platform=PLATFORM
                )
                if isinstance(result, schema.NormalizedEvent):
                    slow_ok.append((item.location, *_row_of(with_raw(result, item.raw))))
                    continue
            slow_bad.append(item.location)
    return fast, slow_ok, slow_bad, fallback


def _compare(path: Path, options: dict[str, Any], *, exact_fallback: bool = True) -> int:
    accepted, rejected = row_path(path, options)
    fast, slow_ok, slow_bad, fallback = fast_path(path, options)
    combined = sorted(fast + slow_ok, key=lambda r: int(r[0].split()[1]))
    assert combined == accepted
    assert slow_bad == rejected
    if exact_fallback:
        assert fallback == rejected
        assert not slow_ok
    return len(fast)


HEADERS_CN = ["时间", "类型", "用户ID", "昵称", "内容", "数量", "金额", "订单号", "商品ID", "来源"]


def _good_rows(rng: random.Random, n: int, *, ts_style: str) -> list[list[str]]:
    kinds = ["评论", "点赞", "进入", "礼物", "下单", "like", "Comment", "商品点击", "在线人数",
             "退款", "关注", "share"]  # fmt: skip
    rows = []
    base_ms = 1_717_243_200_000
    for i in range(n):
        kind = rng.choice(kinds)
        ms = base_ms + rng.randrange(0, 10_000_000)
        if ts_style == "ms":
            ts = str(ms)
        elif ts_style == "s":
            ts = str(ms // 1000)
        elif ts_style == "us":
            ts = str(ms * 1000 + rng.choice([0, 499, 500, 501, 999]))
        elif ts_style == "iso_z":
            ts = (
                f"2024-06-01T{rng.randrange(24):02d}:{rng.randrange(60):02d}:"
                f"{rng.randrange(60):02d}.{rng.randrange(1000000):06d}Z"
            )
        elif ts_style == "iso_off":
            ts = (
                f"2024-06-01 {rng.randrange(24):02d}:{rng.randrange(60):02d}:"
                f"{rng.randrange(60):02d}.{rng.randrange(1000):03d}+08:00"
            )
        else:  # naive, needs time_zone
            hms = (rng.randrange(24), rng.randrange(60), rng.randrange(60))
            ts = "2024-06-01 {:02d}:{:02d}:{:02d}".format(*hms)
        uid = str(rng.randrange(1, 50)) if rng.random() < 0.95 else ""
        name = rng.choice(["小明", "Ann", " 空格 ", 'a"b', "back\\slash", "", "x,y"])
        text = rng.choice(["你好", "", "hello world", "  padded ", 'quote "q"', "多\n行"])
        qty = rng.choice(["", "1", "3", "0", "12"])
        amount = rng.choice(["", "12.50", "0", "199", "1.5000", "0.0001", "100.10"])
        order = f"O{i}" if kind in ("下单", "退款") and rng.random() < 0.5 else ""
        product = rng.choice(["", "P1", "sku-9"])
        source = rng.choice(["", "推荐", "search"])
        if kind in ("下单", "退款") and not amount:
            amount = "9.90"
        if kind in ("礼物",) and not qty and not amount:
            qty = "1"
        if kind == "商品点击" and not product:
            product = "P2"
        if kind == "在线人数" and not qty:
            qty = "1000"
        rows.append([ts, kind, uid, name, text, qty, amount, order, product, source])
    # identical rows (repeat numbering) and a blank line
    rows += [rows[0], rows[1], rows[0], ["", "", "", "", "", "", "", "", "", ""]]
    return rows


BAD_ROWS = [
    ["", "评论", "1", "a", "x", "", "", "", "", ""],  # missing ts
    ["abc", "评论", "1", "a", "x", "", "", "", "", ""],  # bad ts
    ["2024-06-01T10:00:00+08:00", "跳舞", "1", "a", "x", "", "", "", "", ""],  # unknown kind
    ["2024-06-01T10:00:00+08:00", "", "1", "a", "x", "", "", "", "", ""],  # empty kind
    ["2024-06-01T10:00:00+08:00", "点赞", "1", "a", "x", "-3", "", "", "", ""],  # negative quantity
    ["2024-06-01T10:00:00+08:00", "点赞", "1", "a", "x", "1.5", "", "", "", ""],  # not whole
    ["2024-06-01T10:00:00+08:00", "下单", "1", "a", "x", "", "-1", "", "", ""],  # negative amount
    ["2024-06-01T10:00:00+08:00", "下单", "1", "a", "x", "", "1.23456", "", "", ""],  # 5 decimals
    [
        "2024-06-01T10:00:00+08:00",
        "下单",
        "1",
        "a",
        "x",
        "",
        "",
        "",
        "",
        "",
    ],  # order without amount
    [
        "2024-06-01T10:00:00+08:00",
        "退款",
        "1",
        "a",
        "x",
        "",
        "",
        "",
        "",
        "",
    ],  # refund without amount
    ["2024-06-01T10:00:00+08:00", "礼物", "1", "a", "x", "", "", "", "", ""],  # gift w/o qty/amount
    [
        "2024-06-01T10:00:00+08:00",
        "商品点击",
        "1",
        "a",
        "x",
        "",
        "",
        "",
        "",
        "",
    ],  # click w/o product
    [
        "2024-06-01T10:00:00+08:00",
        "在线人数",
        "1",
        "a",
        "x",
        "",
        "",
        "",
        "",
        "",
    ],  # online w/o quantity
    ["2024-06-01T10:00:00+08:00", "评论", "1", "n" * 129, "x", "", "", "", "", ""],  # name too long
    [
        "2024-06-01T10:00:00+08:00",
        "评论",
        "1",
        "a",
        "t" * 2001,
        "",
        "",
        "",
        "",
        "",
    ],  # text too long
    [
        "2024-06-01T10:00:00+08:00",
        "评论",
        "i" * 129,
        "a",
        "x",
        "",
        "",
        "",
        "",
        "",
    ],  # viewer id too long
    ["2024-06-01T10:00:00+08:00", "下单", "1", "a", "x", "", "1", "o" * 129, "", ""],  # id too long
    [
        "2024-06-01T10:00:00+08:00",
        "评论",
        "1",
        "a",
        "x",
        "",
        "",
        "",
        "",
        "s" * 257,
    ],  # source too long
    ["946684799999", "评论", "1", "a", "x", "", "", "", "", ""],  # before 2000
    ["4102444800000", "评论", "1", "a", "x", "", "", "", "", ""],  # 2100
    ["1999-12-31T23:59:59.999Z", "评论", "1", "a", "x", "", "", "", "", ""],  # before 2000
    ["2100-01-01T00:00:00Z", "评论", "1", "a", "x", "", "", "", "", ""],  # 2100
    ["2024-06-01T24:00:00Z", "评论", "1", "a", "x", "", "", "", "", ""],  # hour 24
    ["2024-13-01T10:00:00Z", "评论", "1", "a", "x", "", "", "", "", ""],  # bad month
    ["2024-02-30T10:00:00Z", "评论", "1", "a", "x", "", "", "", "", ""],  # bad day
    ["2024-06-01T10:00:00+08:00", "点赞", "1", "a", "x", "abc", "", "", "", ""],  # not a number
    ["2024-06-01T10:00:00+08:00", "下单", "1", "a", "x", "", "1e999", "", "", ""],  # not a number
    ["合计", "", "", "", "", "100", "", "", "", ""],  # totals row (skipped)
    [
        "2024-06-01T10:00:00+08:00",
        "下单",
        "1",
        "a",
        "x",
        "",
        "100000000000000",
        "",
        "",
        "",
    ],  # too large
]


def _write(path: Path, headers: list[str], rows: list[list[str]], *, bom: bool = False) -> Path:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode())
    return path


@pytest.mark.parametrize("ts_style", ["ms", "s", "us", "iso_z", "iso_off", "naive"])
def test_fast_path_equals_row_path(tmp_path: Path, ts_style: str) -> None:
    rng = random.Random(ts_style)
    rows = _good_rows(rng, 1500, ts_style=ts_style)
    for bad in BAD_ROWS:
        rows.insert(rng.randrange(5, len(rows)), bad)
    path = _write(tmp_path / "events.csv", HEADERS_CN, rows, bom=ts_style == "iso_z")
    options: dict[str, Any] = {"currency": "cny"}
    if ts_style == "naive":
        options["time_zone"] = "Asia/Shanghai"
    n_fast = _compare(path, options)
    if ts_style.startswith(("iso", "naive")):
        assert n_fast >= 1500
    # epoch cells: the fast path takes them only if the row path accepts them (probed)


def test_mapping_given_english_headers_and_platform_column(tmp_path: Path) -> None:
    rng = random.Random(3)
    headers = ["When", "What", "Who", "Said", "Qty", "Money", "Cur", "Plat"]
    rows = []
    for i in range(400):
        rows.append([
            str(1_717_243_200 + i), rng.choice(["comment", "like", "gift"]), f"u{i % 7}",
            rng.choice(["hi", ""]), rng.choice(["", "2"]), rng.choice(["", "5.5"]),
            rng.choice(["", "usd", " EUR ", "US"]), rng.choice(["", "tiktok", "p" * 33]),
        ])  # fmt: skip
    path = _write(tmp_path / "e.csv", headers, rows)
    mapping = {
        "ts": "When", "kind": "What", "viewer_id": "Who", "text": "Said",
        "quantity": "Qty", "amount": "Money", "currency": "Cur", "platform": "Plat",
    }  # fmt: skip
    _compare(path, {"mapping": mapping})


def test_exotic_valid_cells_fall_back_and_are_still_accepted(tmp_path: Path) -> None:
    rows = [
        ["2024-06-01 20:00:00+08:00", "点赞", "1", "a", "x", "1.2万", "", "", "", ""],
        ["2024年6月1日 20:01", "评论", "1", "a", "x", "", "", "", "", ""],
        ["2024-06-01T10:00:00+08:00", "下单", "1", "a", "x", "", "¥1,234.5", "", "", ""],
        ["2024-06-01T10:00:00+08:00", "下单", "1", "a", "x", "", "12", '="0012"', "", ""],
        ["2024-06-01T10:00:00+08:00", "评论", "1", "a", "tab\tand\x01ctrl", "", "", "", "", ""],
    ]
    path = _write(tmp_path / "e.csv", HEADERS_CN, rows)
    accepted, rejected = row_path(path, {"time_zone": "Asia/Shanghai"})
    assert len(accepted) == 5 and not rejected
    _compare(path, {"time_zone": "Asia/Shanghai"}, exact_fallback=False)


def test_repeat_numbering_across_blocks_and_window(tmp_path: Path) -> None:
    row = ["2024-06-01T10:00:00+08:00", "点赞", "1", "a", "", "", "", "", "", ""]
    rows = [row] * 30 + [["abc", "点赞", "1", "a", "", "", "", "", "", ""]] * 3 + [row] * 5
    path = _write(tmp_path / "e.csv", HEADERS_CN, rows)
    accepted, _ = row_path(path, {})
    fast, _, _, _ = fast_path(path, {}, block_size=256)
    assert [r[1] for r in fast] == [r[1] for r in accepted]
    assert accepted[1][1].endswith("#1")


def test_not_fast(tmp_path: Path) -> None:
    title = tmp_path / "title.csv"
    _write(
        title, ["抖音直播数据导出"], [HEADERS_CN, ["2024-06-01T10:00:00+08:00", "评论"] + [""] * 8]
    )
    assert fast_csv_blocks(title, workspace_id=WS, session_id=SESSION, platform=None,
                           options={}) is None  # fmt: skip
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(("时间,类型\n1717243200000,评论\n").encode("gb18030"))
    assert fast_csv_blocks(gbk, workspace_id=WS, session_id=SESSION, platform=None,
                           options={}) is None  # fmt: skip


def test_amount_values_exact(tmp_path: Path) -> None:
    rows = [
        ["2024-06-01T10:00:00+08:00", "下单", "1", "a", "", "", a, "", "", ""]
        for a in ["0.0001", "99999999999999.9999", "1.50000", "007", "10."]
    ]
    path = _write(tmp_path / "e.csv", HEADERS_CN, rows)
    fast, *_ = fast_path(path, {})
    accepted, _ = row_path(path, {})
    assert [r[8] for r in accepted] == [r[8] for r in fast] or not fast
    assert Decimal("99999999999999.9999") in [r[8] for r in accepted]
    _compare(path, {}, exact_fallback=False)


@pytest.mark.parametrize(
    "broken", [b"2024-06-01T10:00:00Z,like\r\n", b"\xff\xfe,like,1,a,,,,,,\r\n"]
)
def test_unreadable_block_aborts_and_row_path_resumes(tmp_path: Path, broken: bytes) -> None:
    from liveops.events.fastimport import FastPathAborted

    rng = random.Random(9)
    rows = _good_rows(rng, 3000, ts_style="iso_z")
    path = _write(tmp_path / "e.csv", HEADERS_CN, rows)
    data = path.read_bytes()
    cut = data.index(b"\r\n", len(data) * 2 // 3) + 2
    path.write_bytes(data[:cut] + broken + data[cut:])
    accepted, _rejected = row_path(path, {}) if broken[0] != 0xFF else ([], [])
    blocks = fast_csv_blocks(
        path,
        workspace_id=WS,
        session_id=SESSION,
        platform=PLATFORM,
        options={},
        block_size=1 << 14,
    )
    assert blocks is not None
    seen = 0
    with pytest.raises(FastPathAborted) as info:
        for block in blocks:
            assert block.first_row == seen + 2
            seen = block.last_row - 1
    assert info.value.resume_after_row == seen + 1
    assert 1 < info.value.resume_after_row < 3000
    if accepted:  # the row path resumed after that row gives the same ids
        tail = [r for r in accepted if int(r[0].split()[1]) > info.value.resume_after_row]
        resumed: dict[str, str] = {}
        repeats = info.value.repeats
        with open(path, "rb") as stream:
            for item in CsvImporter().parse(stream, options={}):
                if int(item.location.split()[1]) <= info.value.resume_after_row:
                    continue
                if isinstance(item, Record):
                    fields = dict(item.fields)
                    if not fields.get("event_id"):
                        base = schema.stable_event_id(item.raw.encode())
                        k = repeats.occurrence(base)
                        fields["event_id"] = base if k == 0 else f"{base}#{k}"
                    resumed[item.location] = fields["event_id"]
        assert tail and [r[1] for r in tail] == [resumed[r[0]] for r in tail]


def test_tally_table_counts_like_import_items(tmp_path: Path) -> None:
    from liveops.events.fastimport import tally_table
    from liveops.events.store import EventStore

    rows = [
        ["2024-06-01T10:00:00Z", "下单", "1", "a", "", "", "5", "O1", "", ""],
        ["2024-06-01T10:00:01Z", "下单", "1", "a", "", "", "6", "O1", "", ""],  # same id
        ["2024-06-01T10:00:02Z", "点赞", "1", "a", "", "", "", "", "", ""],
        ["2024-06-01T09:00:00Z", "评论", "1", "a", "hi", "", "", "", "", ""],
    ]
    path = _write(tmp_path / "e.csv", HEADERS_CN, rows)
    blocks = fast_csv_blocks(path, workspace_id=WS, session_id=SESSION, platform=None, options={})
    assert blocks is not None
    (block,) = list(blocks)
    store = EventStore(tmp_path / "store")
    tally = tally_table(block.table, store.append(block.table).accepted_ids)
    assert (tally.accepted, tally.duplicate) == (3, 1)
    assert tally.by_kind == {"comment": 1, "like": 1, "order": 1}
    assert tally.first_ms == 1717232400000 and tally.last_ms == 1717236002000
    again = tally_table(block.table, store.append(block.table).accepted_ids)
    assert (again.accepted, again.duplicate, again.first_ms) == (0, 4, None)
