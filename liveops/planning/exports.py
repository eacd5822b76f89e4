"""Run-of-show exports: plain data in, .xlsx bytes out. No ORM here.

Every cell that comes from user text is written with ``write_string``, so text such as
"=1+1" or "@SUM(A1)" is stored as a string cell and never as a formula (the workbook is
also opened with ``strings_to_formulas`` off as a second guard).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import xlsxwriter  # type: ignore[import-untyped]  # no stubs published
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class ExportCue:
    clock: str  # "20:05:30" or "+0:05:30" when the session has no scheduled start
    kind: str
    description: str


@dataclass(frozen=True)
class ExportSegment:
    start: datetime | None  # local (workspace time zone), naive; None: no scheduled start
    end: datetime | None
    offset_s: int
    duration_s: int
    kind: str
    title: str
    product: str
    live_price: Decimal | None
    talking_points: str
    host_lines: str
    cues: list[ExportCue] = field(default_factory=list)


@dataclass(frozen=True)
class ExportProduct:
    position: int
    name: str
    sku: str
    price: Decimal | None
    live_price: Decimal | None
    stock: int | None
    selling_points: str


@dataclass(frozen=True)
class RunOfShowExport:
    title: str
    time_zone: str
    segments: list[ExportSegment]
    products: list[ExportProduct]


def hms(seconds: int) -> str:
    """Seconds as H:MM:SS."""
    h, rest = divmod(max(seconds, 0), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}"


def run_of_show_xlsx(data: RunOfShowExport) -> bytes:
    """The run-of-show and the product lineup as a workbook; headers in the active language."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buf,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    head = wb.add_format({"bold": True, "bg_color": "#F2F3F5", "border": 1, "text_wrap": True})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    top = wb.add_format({"valign": "top"})
    clock = wb.add_format({"num_format": "hh:mm:ss", "valign": "top"})
    money = wb.add_format({"num_format": "#,##0.00", "valign": "top"})

    ws = wb.add_worksheet(_("Run-of-show")[:31])
    columns: list[tuple[str, int]] = [
        (_("Start"), 10),
        (_("End"), 10),
        (_("Offset"), 9),
        (_("Duration"), 9),
        (_("Type"), 14),
        (_("Title"), 24),
        (_("Product"), 20),
        (_("Live price"), 11),
        (_("Talking points"), 40),
        (_("Host lines"), 40),
        (_("Cues"), 36),
    ]
    for col, (label, width) in enumerate(columns):
        ws.write_string(0, col, label, head)
        ws.set_column(col, col, width)
    ws.freeze_panes(1, 0)
    for i, seg in enumerate(data.segments, start=1):
        if seg.start is not None and seg.end is not None:
            ws.write_datetime(i, 0, seg.start, clock)
            ws.write_datetime(i, 1, seg.end, clock)
        else:
            ws.write_string(i, 0, "+" + hms(seg.offset_s), top)
            ws.write_string(i, 1, "+" + hms(seg.offset_s + seg.duration_s), top)
        ws.write_string(i, 2, hms(seg.offset_s), top)
        ws.write_string(i, 3, hms(seg.duration_s), top)
        ws.write_string(i, 4, seg.kind, top)
        ws.write_string(i, 5, seg.title, wrap)
        ws.write_string(i, 6, seg.product, wrap)
        if seg.live_price is not None:
            ws.write_number(i, 7, float(seg.live_price), money)
        ws.write_string(i, 8, seg.talking_points, wrap)
        ws.write_string(i, 9, seg.host_lines, wrap)
        cues = "\n".join(f"{c.clock} {c.kind}: {c.description}" for c in seg.cues)
        ws.write_string(i, 10, cues, wrap)

    ps = wb.add_worksheet(_("Products")[:31])
    pcols: list[tuple[str, int]] = [
        (_("Order"), 7),
        (_("Name"), 28),
        (_("SKU"), 16),
        (_("List price"), 11),
        (_("Live price"), 11),
        (_("Stock"), 9),
        (_("Selling points"), 50),
    ]
    for col, (label, width) in enumerate(pcols):
        ps.write_string(0, col, label, head)
        ps.set_column(col, col, width)
    ps.freeze_panes(1, 0)
    for i, p in enumerate(data.products, start=1):
        ps.write_number(i, 0, p.position, top)
        ps.write_string(i, 1, p.name, wrap)
        ps.write_string(i, 2, p.sku, top)
        if p.price is not None:
            ps.write_number(i, 3, float(p.price), money)
        if p.live_price is not None:
            ps.write_number(i, 4, float(p.live_price), money)
        if p.stock is not None:
            ps.write_number(i, 5, p.stock, top)
        ps.write_string(i, 6, p.selling_points, wrap)
    wb.close()
    return buf.getvalue()
