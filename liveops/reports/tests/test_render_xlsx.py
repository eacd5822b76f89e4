"""The Excel review and periodic report, read back with openpyxl."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import openpyxl
import pytest
from openpyxl.workbook.workbook import Workbook

from liveops.reports.render import text, xlsx
from liveops.reports.review import MinuteSeries, PeriodReport, Review
from liveops.reports.sample import NASTY_TEXTS, sample_period_report, sample_review

REVIEW_SHEETS = [
    "sheet_summary",
    "sheet_minutes",
    "sheet_segments",
    "sheet_funnel",
    "sheet_retention",
    "sheet_sources",
    "sheet_products",
    "sheet_viewers",
    "sheet_comments",
    "sheet_words",
    "sheet_findings",
    "sheet_actions",
]
SUMMARY_HEADERS = [
    "key",
    "metric",
    "value",
    "target",
    "previous",
    "median_30d",
    "vs_target",
    "vs_previous",
    "vs_median",
    "grain",
    "definition",
]


def ooxml_unescape(value: str) -> str:
    """Decode ECMA-376 ``_xHHHH_`` escapes, which Excel decodes and openpyxl does not
    (XlsxWriter writes a CR as ``_x000D_`` and a literal ``_x000D_`` as ``_x005F_x000D_``)."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), value)


def load(data: bytes) -> Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def strings(wb: Workbook) -> set[str]:
    return {
        ooxml_unescape(cell.value)
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    }


@pytest.fixture(scope="module")
def review_zh() -> Review:
    return sample_review("zh-hans", minutes=120, viewers=40, comments=300, platforms=2)


@pytest.fixture(scope="module")
def review_en() -> Review:
    return sample_review("en", minutes=120, viewers=40, comments=300)


@pytest.fixture(scope="module")
def book_zh(review_zh: Review) -> bytes:
    return xlsx.render_review(review_zh)


@pytest.fixture(scope="module")
def book_en(review_en: Review) -> bytes:
    return xlsx.render_review(review_en)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_review_workbook_has_every_sheet_with_headers_in_the_language(
    language: str, book_zh: bytes, book_en: bytes
) -> None:
    wb = load(book_zh if language == "zh-hans" else book_en)
    names = [text({}, language, key) for key in REVIEW_SHEETS]
    for name in names:
        assert name in wb.sheetnames
    if language == "zh-hans":
        assert wb.sheetnames[:3] == ["概览", "分平台", "每分钟数据"]  # simulcast: per platform
    else:
        assert wb.sheetnames[:2] == ["Summary", "Minute series"]
    summary = wb[names[0]]
    headers = [summary.cell(row=4, column=col).value for col in range(1, 12)]
    assert headers == [text({}, language, key) for key in SUMMARY_HEADERS]
    minutes = wb[names[1]]
    assert minutes["A1"].value == text({}, language, "minute")
    assert minutes["B1"].value == text({}, language, "online")


def test_header_rows_are_frozen(book_zh: bytes) -> None:
    wb = load(book_zh)
    assert wb["概览"].freeze_panes == "C5"  # title rows + header; key and label columns
    assert wb["每分钟数据"].freeze_panes == "B2"
    assert wb["环节"].freeze_panes == "C2"
    assert wb["评论"].freeze_panes == "A3"  # "first N of M" above the header
    for ws in wb.worksheets:
        assert ws.freeze_panes is not None, ws.title


def test_native_charts_are_in_the_workbook(book_zh: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(book_zh)) as archive:
        charts = [n for n in archive.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
        kinds = "".join(archive.read(n).decode() for n in charts)
    # online, entries/exits, interaction, segments Δ, funnel, retention, sources
    assert len(charts) == 7
    assert kinds.count("<c:lineChart>") >= 4
    assert kinds.count("<c:barChart>") == 3  # Δ online (columns), funnel, sources
    wb = load(book_zh)
    per_sheet = {ws.title: len(ws._charts) for ws in wb.worksheets}
    assert per_sheet["每分钟数据"] == 3
    assert per_sheet["环节"] == per_sheet["转化漏斗"] == per_sheet["留存曲线"] == 1


def test_values_carry_number_formats_by_unit(review_zh: Review, book_zh: bytes) -> None:
    wb = load(book_zh)
    summary = wb["概览"]
    rows = {summary.cell(row=r, column=1).value: r for r in range(5, 5 + len(review_zh.figures))}
    assert summary.cell(rows["pcu"], 3).number_format == "#,##0"
    assert summary.cell(rows["pcu"], 3).value == review_zh.figures[1].value
    assert summary.cell(rows["stay_1min_rate"], 3).number_format == "0.0%"
    assert summary.cell(rows["gmv"], 3).number_format.startswith('"¥"#,##0.00')
    assert summary.cell(rows["avg_watch_s"], 3).number_format == "[h]:mm:ss"
    assert summary.cell(rows["pcu"], 8).number_format == "+0.0%;-0.0%;0.0%"
    # not available is "—", never 0
    assert summary.cell(rows["answered_60s_rate"], 3).value == "—"

    minutes = wb["每分钟数据"]
    # 12:00 UTC is 20:00 in Shanghai: Excel gets local wall-clock time
    assert minutes["A2"].value == datetime(2026, 11, 20, 20, 0)
    assert minutes["A2"].number_format == "yyyy-mm-dd hh:mm"
    assert minutes["C2"].number_format == "#,##0"
    assert minutes["I2"].number_format.startswith('"¥"')
    # a sampling gap is blank (a gap in the chart), not 0
    gap = next(i for i, v in enumerate(review_zh.series_data.online) if v is None)
    assert minutes.cell(row=gap + 2, column=2).value is None

    segments = wb["环节"]
    assert segments["F2"].number_format == "[h]:mm:ss"
    assert segments["L2"].number_format == "0.0%"


def test_comments_sheet_says_first_n_of_m(review_zh: Review, book_zh: bytes) -> None:
    ws = load(book_zh)["评论"]
    shown, total = len(review_zh.comments), review_zh.comments_total
    assert ws["A1"].value == f"评论：前 {shown:,} 条，共 {total:,} 条"
    assert ws.max_row == shown + 2


def test_comments_beyond_the_cap_are_cut(
    review_en: Review, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx, "MAX_COMMENT_ROWS", 25)
    ws = load(xlsx.render_review(review_en))["Comments"]
    assert ws["A1"].value == f"Comments: first 25 of {review_en.comments_total:,}"
    assert ws.max_row == 27


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_no_user_text_becomes_a_formula(language: str, book_zh: bytes, book_en: bytes) -> None:
    data = book_zh if language == "zh-hans" else book_en
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert "<f>" not in archive.read(name).decode(), name
    wb = load(data)
    risky = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and cell.value.startswith(xlsx.RISKY_PREFIXES):
                    assert cell.data_type == "s"
                    assert cell.quotePrefix, (ws.title, cell.coordinate)
                    risky += 1
    assert risky > 20
    found = strings(wb)
    for nasty in NASTY_TEXTS:
        assert nasty in found, nasty


def test_nasty_viewer_names_read_back_exactly(review_en: Review, book_en: bytes) -> None:
    ws = load(book_en)["Viewers"]
    names = [ooxml_unescape(ws.cell(row=r, column=2).value) for r in range(2, 2 + 10)]
    assert names == [v.name for v in review_en.viewers[:10]]
    assert names[:6] == ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "\tTAB", "\rCR"]


def test_labels_from_the_builder_win_and_sheet_names_are_made_valid(review_en: Review) -> None:
    labelled = replace(review_en, labels={"sheet_summary": "Overview: a/b [x]?", "value": "Figure"})
    wb = load(xlsx.render_review(labelled))
    assert wb.sheetnames[0] == "Overview  a b  x"
    assert wb.worksheets[0]["C4"].value == "Figure"


def test_an_empty_review_still_renders(review_en: Review) -> None:
    empty = replace(
        review_en,
        start=None,
        end=None,
        series_data=MinuteSeries([], [], [], [], [], [], [], [], []),
        retention=[],
        segments=[],
        cues=[],
        funnel=[],
        sources=[],
        products=[],
        viewers=[],
        comments=[],
        comments_total=0,
        hot_words=[],
        questions=[],
        findings=[],
        actions=[],
        kpis=[],
    )
    wb = load(xlsx.render_review(empty))
    assert wb["Comments"]["A1"].value == "Comments: all 0"
    assert wb["Minute series"].max_row == 1


@pytest.fixture(scope="module")
def period_zh() -> PeriodReport:
    return sample_period_report("zh-hans")


def test_period_report_workbook(period_zh: PeriodReport) -> None:
    data = xlsx.render_period_report(period_zh)
    wb = load(data)
    assert wb.sheetnames == ["汇总", "场次", "按周", "按月", "发现与改进"]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        charts = [n for n in archive.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
    assert len(charts) == 4  # one per sheet: Totals, Sessions, Weekly, Monthly
    sessions = wb["场次"]
    assert sessions.freeze_panes == "C2"
    headers = [c.value for c in sessions[1]]
    assert headers[:4] == ["场次 ID", "场次", "开始", "平台"]
    assert headers[4:] == [label for _k, label, _u in period_zh.columns]
    gmv_col = 5 + [k for k, _l, _u in period_zh.columns].index("gmv")
    assert sessions.cell(row=2, column=gmv_col).number_format.startswith('"¥"')
    assert sessions.cell(row=2, column=gmv_col).value == float(
        Decimal(period_zh.sessions[0].figures["gmv"] or 0)
    )
    weekly = wb["按周"]
    assert [c.value for c in weekly["A"][1:]] == [p.period for p in period_zh.weekly]
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f"
    assert '=HYPERLINK("http://evil.example","点我")' in strings(wb)
