"""Excel export of the run-of-show, read back with openpyxl."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal

from django.utils import translation
from openpyxl import load_workbook

from liveops.planning.exports import (
    ExportCue,
    ExportProduct,
    ExportSegment,
    RunOfShowExport,
    run_of_show_xlsx,
)

NASTY = ["=1+1", "@SUM(A1)", "+1", "-1", "\t=2", "\r=3", '=HYPERLINK("http://x","y")']


def data(
    text: str = "欢迎来到直播间", start: datetime | None = datetime(2026, 5, 1, 20, 0)
) -> RunOfShowExport:
    return RunOfShowExport(
        title="直播",
        time_zone="Asia/Shanghai",
        segments=[
            ExportSegment(
                start=start,
                end=start.replace(minute=5) if start else None,
                offset_s=0,
                duration_s=300,
                kind="开场",
                title=text,
                product=text,
                live_price=Decimal("129.00"),
                talking_points=text,
                host_lines=text,
                cues=[ExportCue(clock="20:00:30", kind="音乐", description=text)],
            )
        ],
        products=[
            ExportProduct(
                position=1,
                name=text,
                sku=text,
                price=Decimal("199"),
                live_price=Decimal("129"),
                stock=300,
                selling_points=text,
            )
        ],
    )


def test_headers_values_clock_times_and_frozen_header() -> None:
    with translation.override("en"):
        wb = load_workbook(io.BytesIO(run_of_show_xlsx(data())))
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]][:6] == ["Start", "End", "Offset", "Duration", "Type", "Title"]
    assert ws.freeze_panes == "A2"
    assert ws["A2"].value == datetime(2026, 5, 1, 20, 0)
    assert ws["A2"].number_format == "hh:mm:ss"
    assert ws["D2"].value == "0:05:00"
    assert ws["F2"].value == "欢迎来到直播间"
    assert ws["H2"].value == 129
    assert ws["K2"].value == "20:00:30 音乐: 欢迎来到直播间"
    assert ws.column_dimensions["I"].width > 30
    products = wb.worksheets[1]
    assert [c.value for c in products[2]][:6] == [
        1,
        "欢迎来到直播间",
        "欢迎来到直播间",
        199,
        129,
        300,
    ]


def test_headers_follow_the_active_language() -> None:
    with translation.override("zh-hans"):
        wb = load_workbook(io.BytesIO(run_of_show_xlsx(data())))
    headers = [c.value for c in wb.worksheets[0][1]]
    assert len(headers) == 11
    assert all(isinstance(h, str) and h for h in headers)


def test_user_text_never_becomes_a_formula() -> None:
    for text in NASTY:
        wb = load_workbook(io.BytesIO(run_of_show_xlsx(data(text))))
        for ws in wb.worksheets:
            cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
            assert not [c.coordinate for c in cells if c.data_type == "f"], text
        # openpyxl shows a stored CR as its XML escape "_x000D_"; Excel shows the CR.
        assert wb.worksheets[0]["F2"].value in (text, text.replace("\r", "_x000D_"))
        assert wb.worksheets[0]["F2"].data_type == "s"


def test_without_a_start_times_are_offsets() -> None:
    wb = load_workbook(io.BytesIO(run_of_show_xlsx(data(start=None))))
    assert wb.worksheets[0]["A2"].value == "+0:00:00"
    assert wb.worksheets[0]["B2"].value == "+0:05:00"
