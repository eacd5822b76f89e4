"""CSV / XLSX importers (events and per-minute statistics) and upload safety."""

from __future__ import annotations

import csv
import gzip
import io
import struct
import zipfile
from collections import Counter
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liveops.events.importers import safety
from liveops.events.importers.base import ImportFormatError, Item, Problem, Record, Skipped
from liveops.events.importers.tabular import (
    CsvImporter,
    XlsxImporter,
    detect_encoding,
    guess_target,
    parse_number,
    suggest_mapping,
)
from liveops.events.schema import NormalizedEvent, parse_timestamp, validate

SHANGHAI = {"time_zone": "Asia/Shanghai"}

MINUTE_CSV = """直播间分钟数据 2024-06-01 20:00-20:03
时间,实时在线人数,进入人数,离开人数,评论次数,点赞数,新增粉丝,分享次数,成交订单数,成交金额(元),曝光人数,平均停留时长
2024-06-01 20:00,"1,234",100,50,30,1.2万,5,2,3,"¥1,299.50",2万,35s
2024-06-01 20:01:30,1300,-,--,31,12000,6,0,4,0,20000,40s

合计,,,,,,,,,,,
"""

EVENTS_CSV = """时间,类型,用户ID,昵称,弹幕内容,数量,金额,商品ID
2024-06-01 20:00:01,进入,1001,阿强,,,,
2024-06-01 20:00:02,评论,1001,阿强,多少钱？,,,
2024-06-01 20:00:03,点赞,1002,小美,,15,,
2024-06-01 20:00:04,下单,1001,阿强,,1,99.90,SKU-1
2024-06-01 20:00:05,商品点击,1003,老王,,,,SKU-2
2024-06-01 20:00:06,打赏,1003,老王,,1,,
2024-06-01 20:00:07,关注,1004,路人,,,,
"""


def parse_csv(text: str, encoding: str = "utf-8", **options: Any) -> list[Item]:
    return list(CsvImporter().parse(io.BytesIO(text.encode(encoding)), options=options))


def valid_events(items: list[Item]) -> list[NormalizedEvent]:
    out = []
    for item in items:
        if isinstance(item, Record):
            result = validate(item.fields, workspace_id=1, session_id=1)
            assert isinstance(result, NormalizedEvent), (item, result)
            out.append(result)
    return out


# --------------------------------------------------------------------------------------------
# mapping and numbers
# --------------------------------------------------------------------------------------------


def test_suggest_mapping_chinese_and_english_headers() -> None:
    minute_headers = MINUTE_CSV.splitlines()[1].split(",")
    assert guess_target(minute_headers) == "minute_stats"
    assert suggest_mapping(minute_headers) == {
        "minute": "时间",
        "online": "实时在线人数",
        "entries": "进入人数",
        "exits": "离开人数",
        "comments": "评论次数",
        "likes": "点赞数",
        "new_follows": "新增粉丝",
        "shares": "分享次数",
        "orders": "成交订单数",
        "gmv": "成交金额(元)",
        "impressions": "曝光人数",
    }  # 平均停留时长 (an average) is deliberately not mapped
    event_headers = EVENTS_CSV.splitlines()[0].split(",")
    assert guess_target(event_headers) == "events"
    assert suggest_mapping(event_headers) == {
        "ts": "时间",
        "kind": "类型",
        "viewer_id": "用户ID",
        "viewer_name": "昵称",
        "text": "弹幕内容",
        "quantity": "数量",
        "amount": "金额",
        "product_id": "商品ID",
    }
    assert suggest_mapping(["时间点", "在线人数", "新增关注", "GMV", "曝光次数", "评论数"]) == {
        "minute": "时间点",
        "online": "在线人数",
        "new_follows": "新增关注",
        "gmv": "GMV",
        "impressions": "曝光次数",
        "comments": "评论数",
    }
    assert suggest_mapping(["Time", "Online viewers", "GMV (USD)"], target="minute_stats") == {
        "minute": "Time",
        "online": "Online viewers",
        "gmv": "GMV (USD)",
    }
    # substring matches never take rates or fan-club counts
    assert suggest_mapping(["分钟", "直播间实时在线人数", "新增粉丝团人数", "评论率"]) == {
        "minute": "分钟",
        "online": "直播间实时在线人数",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234", Decimal(1234)),
        ("1,234", Decimal(1234)),
        ("1.2万", Decimal(12000)),
        ("3亿", Decimal(300_000_000)),
        ("1.2k", Decimal(1200)),
        ("1.5W", Decimal(15000)),
        ("12.5%", Decimal("0.125")),
        ("¥1,299.50", Decimal("1299.50")),
        ("１２３", Decimal(123)),
        ("88元", Decimal(88)),
        ("-", None),
        ("--", None),
        ("", None),
        ("暂无", None),
        (1.5, Decimal("1.5")),
        (0.1 + 0.2, Decimal("0.3")),  # Excel's 15 significant digits
        (7, Decimal(7)),
    ],
)
def test_parse_number(text: Any, expected: Decimal | None) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", ["abc", "1,2", "12,34", "1.2.3", "万"])
def test_parse_number_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_number(text)


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------


def test_minute_stats_csv_utf8_bom_with_title_and_totals() -> None:
    items = parse_csv(MINUTE_CSV, "utf-8-sig", **SHANGHAI)
    assert [type(i).__name__ for i in items] == ["Skipped", "Record", "Record", "Skipped"]
    assert items[0].location == "row 1" and items[3].location == "row 6"
    first, second = items[1].fields, items[2].fields
    assert first == {
        "_target": "minute_stats",
        "minute": "2024-06-01T20:00:00+08:00",
        "online": 1234,
        "entries": 100,
        "exits": 50,
        "comments": 30,
        "likes": 12000,
        "new_follows": 5,
        "shares": 2,
        "orders": 3,
        "gmv": "1299.5",
        "impressions": 20000,
        "extra": {"平均停留时长": "35s"},
    }
    assert second["minute"] == "2024-06-01T20:01:00+08:00"  # floored to the minute
    assert "entries" not in second and "exits" not in second  # "-" / "--" = no value
    assert parse_timestamp(second["minute"]) == parse_timestamp("2024-06-01T12:01:00Z")


def test_events_csv_gb18030_with_chinese_headers() -> None:
    raw = EVENTS_CSV.encode("gb18030")
    assert detect_encoding(raw) == "gb18030"
    items = list(CsvImporter().parse(io.BytesIO(raw), options={**SHANGHAI, "platform": "douyin"}))
    events = valid_events(items)
    assert [e.kind for e in events] == [
        "enter",
        "comment",
        "like",
        "order",
        "product_click",
        "gift",
        "follow",
    ]
    assert events[1].text == "多少钱？" and events[1].viewer_name == "阿强"
    assert events[2].quantity == 15
    assert events[3].amount == Decimal("99.90") and events[3].product_id == "SKU-1"
    assert events[0].ts == datetime(2024, 6, 1, 20, 0, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert {e.platform for e in events} == {"douyin"}


def test_csv_delimiters_and_explicit_mapping() -> None:
    text = "when;what;who;said\n2024-06-01T12:00:00Z;chat;7;hello\n2024-06-01T12:00:01Z;like;8;\n"
    mapping = {"ts": "when", "kind": "what", "viewer_id": "who", "text": "said"}
    events = valid_events(parse_csv(text, mapping=mapping))
    assert [(e.kind, e.viewer_id) for e in events] == [("comment", "7"), ("like", "8")]
    tsv = "time\tonline\n2024-06-01 20:00\t10\n2024-06-01 20:01\t12\n"
    items = parse_csv(tsv, "utf-16", target="minute_stats", time_zone="UTC")
    assert [i.fields["online"] for i in items if isinstance(i, Record)] == [10, 12]


def test_bad_cell_names_row_and_column() -> None:
    text = MINUTE_CSV.replace("2024-06-01 20:01:30,1300", "2024-06-01 20:01:30,abc")
    items = parse_csv(text, **SHANGHAI)
    problem = next(i for i in items if isinstance(i, Problem))
    assert problem.location == "row 4" and problem.field == "online"
    assert problem.message.startswith("row 4, column 实时在线人数: “abc” is not a number")
    assert "1.2万" in problem.message  # says how to write it
    text = EVENTS_CSV.replace("99.90", "abc").replace(",打赏,", ",抽奖,")
    items = parse_csv(text, **SHANGHAI)
    problems = [i for i in items if isinstance(i, Problem)]
    assert [p.message.split(":")[0] for p in problems] == [
        "row 5, column 金额",
        "row 7, column 类型",
    ]
    assert problems[1].code == "bad_kind"
    events = valid_events(parse_csv(text, kind_values={"抽奖": "gift"}, **SHANGHAI))
    assert len(events) == 6  # the custom kind value maps, the bad amount stays a problem


def test_naive_times_need_a_time_zone_and_times_need_a_date() -> None:
    with pytest.raises(ImportFormatError, match=r"row 3, column 时间.*time zone"):
        parse_csv(MINUTE_CSV)
    text = "时间点,在线人数\n23:59,5\n00:00,6\n00:01,7\n"
    with pytest.raises(ImportFormatError, match="date"):
        parse_csv(text, **SHANGHAI)
    items = parse_csv(text, date="2024-06-01", **SHANGHAI)
    assert [i.fields["minute"] for i in items if isinstance(i, Record)] == [
        "2024-06-01T23:59:00+08:00",
        "2024-06-02T00:00:00+08:00",  # rolled over midnight
        "2024-06-02T00:01:00+08:00",
    ]
    with pytest.raises(ImportFormatError, match="no time column"):
        parse_csv("在线人数,评论数\n1,2\n", target="minute_stats")
    with pytest.raises(ImportFormatError, match="not in the header row"):
        parse_csv(MINUTE_CSV, mapping={"minute": "时刻"}, **SHANGHAI)


# --------------------------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------------------------


def write_xlsx(path: Path, rows: list[list[Any]], title: str = "分钟数据") -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def test_xlsx_minute_stats_read_back(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "compass.xlsx",
        [
            ["抖音罗盘 直播分钟数据"],
            ["时间", "实时在线人数", "进入人数", "成交金额", "新增关注", "转化率"],
            [datetime(2024, 6, 1, 20, 0), 1234, "1.2万", 99.9, 3, 0.125],
            [datetime(2024, 6, 1, 20, 1), 1300.0, 100, "1,000.50", None, "12.5%"],
            ["2024-06-01 20:02", "bad", 1, 1, 1, 1],
        ],
    )
    with path.open("rb") as handle:
        items = list(XlsxImporter().parse(handle, options=SHANGHAI))
    assert [type(i).__name__ for i in items] == ["Skipped", "Record", "Record", "Problem"]
    first, second = items[1].fields, items[2].fields
    assert first["online"] == 1234 and first["entries"] == 12000 and first["gmv"] == "99.9"
    assert first["minute"] == "2024-06-01T20:00:00+08:00"
    assert first["extra"] == {"转化率": "0.125"}
    assert second["online"] == 1300 and second["gmv"] == "1000.5"
    assert second["extra"] == {"转化率": "0.125"}
    assert items[3].location == "row 5" and "column 实时在线人数" in items[3].message
    # a non-seekable stream (e.g. decompressed on the fly) is spooled first
    with path.open("rb") as handle:
        unseekable = io.BufferedReader(_Unseekable(handle))
        assert list(XlsxImporter().parse(unseekable, options=SHANGHAI)) == items


class _Unseekable(io.RawIOBase):
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def test_xlsx_events_with_ids_as_numbers(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "orders.xlsx",
        [
            ["下单时间", "事件类型", "用户ID", "订单号", "实付金额", "商品ID"],
            [datetime(2024, 6, 1, 20, 5), "下单", 123456789012, 9876543210987, 59.9, 42],
            [datetime(2024, 6, 1, 20, 6), "退款", 123456789012, "'0012", "59.90", 42],
        ],
    )
    with path.open("rb") as handle:
        events = valid_events(list(XlsxImporter().parse(handle, options=SHANGHAI)))
    assert [(e.kind, e.viewer_id, e.event_id, e.amount, e.product_id) for e in events] == [
        ("order", "123456789012", "9876543210987", Decimal("59.9"), "42"),
        ("refund", "123456789012", "0012", Decimal("59.90"), "42"),
    ]


def test_fake_xlsx_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "export.xlsx"
    fake.write_text("时间,在线人数\n2024-06-01 20:00,1\n", encoding="utf-8")
    with pytest.raises(ImportFormatError, match=r"not an \.xlsx"):
        safety.check_file(fake, max_bytes=1 << 20)
    with fake.open("rb") as handle, pytest.raises(ImportFormatError):
        list(XlsxImporter().parse(handle))


# --------------------------------------------------------------------------------------------
# safety: zip and gzip bombs
# --------------------------------------------------------------------------------------------


def _no_extraction(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an entry was opened: the guard must refuse before extraction")

    monkeypatch.setattr(zipfile.ZipFile, "open", refuse)


def test_zip_bomb_highly_compressible_entries_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        for n in range(4):
            archive.writestr(f"xl/worksheets/sheet{n}.xml", b"\0" * (4 << 20))  # 1000:1
    _no_extraction(monkeypatch)
    with pytest.raises(ImportFormatError, match="zip bomb"):
        safety.check_file(bomb, max_bytes=1 << 30)
    with pytest.raises(ImportFormatError, match="more than"):  # total size cap
        safety.check_zip(bomb, max_unpacked=8 << 20, max_ratio=10_000)


def test_zip_with_huge_declared_size_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "declared.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/sharedStrings.xml", "x" * 100)
    data = bytearray(path.read_bytes())
    # declare 4 GiB for the second entry in the central directory
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 0xFFFF_FFF0)
    path.write_bytes(bytes(data))
    _no_extraction(monkeypatch)
    with pytest.raises(ImportFormatError, match="unpacks to more than"):
        safety.check_file(path, max_bytes=1 << 20)


def test_zip_with_too_many_entries_refused(tmp_path: Path) -> None:
    path = tmp_path / "many.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        for n in range(safety.MAX_ZIP_ENTRIES):
            archive.writestr(f"xl/e{n}", b"")
    with pytest.raises(ImportFormatError, match="10001 entries; the limit is 10000"):
        safety.check_file(path, max_bytes=1 << 30)


def test_real_workbook_passes_and_other_zip_refused(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "ok.xlsx", [["时间", "在线人数"], ["2024-06-01 20:00", 1]])
    checked = safety.check_file(path, max_bytes=1 << 20)
    assert checked.content == "zip" and checked.zip_entries > 3
    other = tmp_path / "photos.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("a.txt", "hello")
    with pytest.raises(ImportFormatError, match="not an Excel workbook"):
        safety.check_file(other, max_bytes=1 << 20)


def test_gzip_over_the_cap_refused_while_streaming(tmp_path: Path) -> None:
    path = tmp_path / "chat.jsonl.gz"
    payload = b'{"cmd": "ONLINE_RANK_COUNT", "data": {"count": 1}}\n' * 100_000  # ~5 MiB
    path.write_bytes(gzip.compress(payload))
    with safety.open_maybe_gzip(path, max_bytes=len(payload)) as stream:
        assert stream.read() == payload
    read = 0
    with (
        pytest.raises(ImportFormatError, match="decompresses to more than"),
        safety.open_maybe_gzip(path, max_bytes=1 << 20) as stream,
    ):
        while chunk := stream.read(64 * 1024):
            read += len(chunk)
    assert read <= 1 << 20  # stopped at the cap, not after inflating everything
    with pytest.raises(ImportFormatError, match="at least"):  # trailer check, before reading
        safety.check_file(path, max_bytes=1 << 30, max_decompressed=1 << 20)
    plain = tmp_path / "plain.jsonl"
    plain.write_bytes(payload[:100])
    with safety.open_maybe_gzip(plain) as stream:
        assert stream.read() == payload[:100]


def test_check_file_size_cap_and_binary_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b\n" * 1000)
    with pytest.raises(ImportFormatError, match="the limit is"):
        safety.check_file(path, max_bytes=100)
    assert safety.check_file(path, max_bytes=1 << 20).content == "text"
    xls = tmp_path / "old.xls"
    xls.write_bytes(safety.OLE2_MAGIC + b"\0" * 100)
    with pytest.raises(ImportFormatError, match=r"\.xls"):
        safety.check_file(xls, max_bytes=1 << 20)
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ImportFormatError, match="binary"):
        safety.check_file(binary, max_bytes=1 << 20)
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("时间,在线人数\n".encode("gbk"))
    assert safety.check_file(gbk, max_bytes=1 << 20).content == "text"


# --------------------------------------------------------------------------------------------
# Hypothesis: generated CSV files
# --------------------------------------------------------------------------------------------

_KIND_TEXT = {
    "enter": "进入",
    "comment": "评论",
    "like": "点赞",
    "gift": "礼物",
    "follow": "关注",
    "share": "分享",
    "order": "下单",
    "leave": "leave",
}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(sorted(_KIND_TEXT)),
            st.integers(0, 86_399),
            st.text(
                alphabet=st.characters(codec="gb18030", exclude_categories=["Cs", "Cc"]),
                max_size=20,
            ),
            st.integers(1, 10**6),
        ),
        max_size=40,
    ),
    st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
    st.sampled_from([",", "\t", ";"]),
)
def test_property_csv_counts_match_generated(
    rows: list[tuple[str, int, str, int]], encoding: str, delimiter: str
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(["时间", "类型", "用户ID", "内容", "数量", "金额"])
    for kind, second, text, number in rows:
        stamp = f"2024-06-01 {second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}"
        quantity = f"{number:,}" if kind in ("like", "gift") else ""
        amount = f"{number / 100:.2f}" if kind == "order" else ""
        writer.writerow([stamp, _KIND_TEXT[kind], number, text, quantity, amount])
    body = out.getvalue().encode(encoding)
    items = list(CsvImporter().parse(io.BytesIO(body), options=SHANGHAI))
    got = Counter(i.fields["kind"] for i in items if isinstance(i, Record))
    assert not [i for i in items if not isinstance(i, Record)]
    assert got == Counter(kind for kind, *_ in rows)
    events = valid_events(items)
    assert [e.quantity for e in events if e.kind in ("like", "gift")] == [
        n for kind, _, _, n in rows if kind in ("like", "gift")
    ]
    assert [e.text or "" for e in events] == [t for *_, t, _ in rows]
    assert list(CsvImporter().parse(io.BytesIO(body), options=SHANGHAI)) == items


def test_skipped_items_keep_the_count_exact() -> None:
    items = parse_csv(MINUTE_CSV, **SHANGHAI)
    assert sum(isinstance(i, Skipped) for i in items) == 2  # title + totals


def test_header_row_and_sheet_options(tmp_path: Path) -> None:
    text = "说明: 导出自罗盘\n备注,,\nminute,viewers\n2024-06-01T12:00:00Z,5\n"
    items = parse_csv(text, header_row=3, target="minute_stats")
    assert [type(i).__name__ for i in items] == ["Skipped", "Skipped", "Record"]
    assert items[2].location == "row 4" and items[2].fields["online"] == 5
    with pytest.raises(ImportFormatError, match="header_row"):
        parse_csv(text, header_row="x")
    from openpyxl import Workbook

    workbook = Workbook()
    first = workbook.active
    assert first is not None
    first.append(["封面"])
    second = workbook.create_sheet("分钟数据")
    second.append(["时间", "在线人数"])
    second.append(["2024-06-01 20:00", 7])
    path = tmp_path / "two.xlsx"
    workbook.save(path)
    with path.open("rb") as handle:
        items = list(XlsxImporter().parse(handle, options={"sheet": "分钟数据", **SHANGHAI}))
    assert [i.fields["online"] for i in items if isinstance(i, Record)] == [7]
    with path.open("rb") as handle, pytest.raises(ImportFormatError, match="no sheet"):
        list(XlsxImporter().parse(handle, options={"sheet": "nope"}))


def test_epoch_number_times_are_read_by_magnitude() -> None:
    # Regression: epoch cells (seconds or milliseconds) used to be refused as "not a time".
    items = parse_csv(
        "时间,类型,用户ID,内容\n1764244800,评论,u1,你好\n1764244801000,评论,u2,上链接\n"
    )
    records = [i for i in items if isinstance(i, Record)]
    assert len(records) == 2, items
    assert [parse_timestamp(r.fields["ts"]) for r in records] == [
        1_764_244_800_000,
        1_764_244_801_000,
    ]
