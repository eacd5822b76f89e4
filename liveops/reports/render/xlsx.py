"""The review and the periodic reports as Excel workbooks (XlsxWriter).

``render_review(review) -> bytes`` and ``render_period_report(report) -> bytes``: plain
Python, no Django, no queries. Raw values are written with a number format by unit
(counts ``#,##0``, rates ``0.0%``, money in the currency, durations ``[h]:mm:ss``); times as
Excel datetimes in the review's time zone (Excel has no time zones: local wall-clock time,
the zone is named on the first sheet). Charts are native Excel charts over the sheets' own
cells, so they stay live when someone filters or edits.

Formula injection: the workbook never turns a string into a formula, number or link
(``strings_to_formulas/urls/numbers`` off) and every text cell is written with
``write_string``; user text starting with ``= + - @``, a tab or CR also gets Excel's quote
prefix, so it stays text even when someone edits the cell and presses Enter.

Rows are written strictly top to bottom, sheet after sheet, so the workbook can run in
XlsxWriter's ``constant_memory`` mode (rows stream to temp files, strings inline); that
keeps a 50 000-row Comments sheet at a flat memory cost.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import xlsxwriter  # type: ignore[import-untyped]

from liveops.reports.render import (
    NOT_AVAILABLE,
    duration_days,
    excel_money_format,
    local_naive,
    text,
    zone,
)
from liveops.reports.review import Figure, Finding, Number, PeriodReport, Review, TrendPoint, Unit

RISKY_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# The Comments sheet's cap. The builder should pass at most this many (newest last); more are
# cut here. 50 000 rows is ~1 s and ~1.2 MB of workbook; a 4-hour, 10 M-event live has about
# 2 M comments, which no one reads in Excel — the full list belongs in a data export.
MAX_COMMENT_ROWS = 50_000
_SHEET_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})

WORKBOOK_OPTIONS: dict[str, Any] = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "default_date_format": "yyyy-mm-dd hh:mm",
}

# Excel number formats
COUNT = "#,##0"
RATE = "0.0%"
CHANGE = "+0.0%;-0.0%;0.0%"
DURATION = "[h]:mm:ss"
NUMBER = "#,##0.00"
DECIMAL1 = "#,##0.0"
DATETIME = "yyyy-mm-dd hh:mm"

Cell = Any  # the value of a cell as the column's writer takes it


def display_width(value: str) -> int:
    """Width in Excel character units: CJK characters are two wide."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in value)


@dataclass
class _Book:
    """One workbook being written, with its formats and the reader's language."""

    language: str
    labels: dict[str, str]
    tz: ZoneInfo
    currency: str
    out: io.BytesIO = field(default_factory=io.BytesIO)
    wb: Any = None
    _formats: dict[tuple[tuple[str, Any], ...], Any] = field(default_factory=dict)
    _sheet_names: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.wb = xlsxwriter.Workbook(self.out, WORKBOOK_OPTIONS)

    # wording and formats

    def t(self, key: str, **values: object) -> str:
        return text(self.labels, self.language, key, **values)

    def fmt(self, **props: Any) -> Any:
        key = tuple(sorted(props.items()))
        found = self._formats.get(key)
        if found is None:
            found = self.wb.add_format({"font_name": "Microsoft YaHei", "font_size": 10, **props})
            self._formats[key] = found
        return found

    def unit_format(self, unit: Unit) -> str:
        return {
            "count": COUNT,
            "rate": RATE,
            "seconds": DURATION,
            "money": excel_money_format(self.currency),
            "number": NUMBER,
        }[unit]

    def sheet(self, key: str) -> Any:
        name = self.t(key).translate(_SHEET_FORBIDDEN).strip("' ")[:31] or key[:31]
        base, n = name, 2
        while name.lower() in self._sheet_names:
            suffix = f" {n}"
            name, n = base[: 31 - len(suffix)] + suffix, n + 1
        self._sheet_names.add(name.lower())
        return self.wb.add_worksheet(name)

    def finish(self) -> bytes:
        self.wb.close()
        return self.out.getvalue()

    # cells

    def put_text(self, ws: Any, row: int, col: int, value: str | None, **props: Any) -> None:
        """A text cell — always a string, quote-prefixed when it looks like a formula."""
        if value is None:
            value = NOT_AVAILABLE
        if value.startswith(RISKY_PREFIXES):
            props = {**props, "quote_prefix": True}
        ws.write_string(row, col, value, self.fmt(**props) if props else None)

    def put_number(
        self, ws: Any, row: int, col: int, value: Number | None, num_format: str, *, na: bool
    ) -> None:
        """A number with its format; ``None`` is "—" (``na``) or a blank cell (chart data:
        Excel plots a text cell as 0, a blank one as a gap)."""
        if value is None:
            if na:
                ws.write_string(row, col, NOT_AVAILABLE, self.fmt(align="right"))
            else:
                ws.write_blank(row, col, None, self.fmt(num_format=num_format))
            return
        ws.write_number(row, col, float(value), self.fmt(num_format=num_format))

    def put_time(self, ws: Any, row: int, col: int, value: datetime | None) -> None:
        if value is None:
            ws.write_string(row, col, NOT_AVAILABLE, self.fmt(align="right"))
        else:
            ws.write_datetime(row, col, local_naive(value, self.tz), self.fmt(num_format=DATETIME))

    def header(self, ws: Any, row: int, columns: Sequence[_Col]) -> None:
        style = self.fmt(bold=True, bg_color="#EEF2F7", bottom=1, text_wrap=True, valign="top")
        for col, column in enumerate(columns):
            label = self.t(column.key) if column.label is None else column.label
            ws.write_string(row, col, label, style)
            width = max(column.width, min(40, display_width(label) + 2))
            ws.set_column(col, col, width)

    def table(
        self,
        ws: Any,
        first_row: int,
        columns: Sequence[_Col],
        rows: Iterable[Sequence[Cell]],
        *,
        freeze_cols: int = 0,
    ) -> int:
        """A header and its rows; returns the index of the last data row (or the header)."""
        self.header(ws, first_row, columns)
        ws.freeze_panes(first_row + 1, freeze_cols)
        last = first_row
        for last, values in enumerate(rows, start=first_row + 1):
            for col, (column, value) in enumerate(zip(columns, values, strict=True)):
                column.write(self, ws, last, col, value)
        return last


@dataclass(frozen=True)
class _Col:
    """A column: its label key (or a ready label), width and how a value is written."""

    key: str
    width: int
    kind: str  # text | wrap | count | rate | change | seconds | money | number | decimal1
    #            | time | pct_value (a rate chart source) | gap_count (count chart source)
    label: str | None = None

    def write(self, book: _Book, ws: Any, row: int, col: int, value: Cell) -> None:
        kind = self.kind
        if kind == "text":
            book.put_text(ws, row, col, value)
        elif kind == "wrap":
            book.put_text(ws, row, col, value, text_wrap=True, valign="top")
        elif kind == "time":
            book.put_time(ws, row, col, value)
        elif kind == "seconds":
            book.put_number(ws, row, col, duration_days(value), DURATION, na=True)
        elif kind == "money":
            book.put_number(ws, row, col, value, excel_money_format(book.currency), na=True)
        elif kind == "gap_count":
            book.put_number(ws, row, col, value, COUNT, na=False)
        elif kind == "gap_rate":
            book.put_number(ws, row, col, value, RATE, na=False)
        elif kind == "gap_money":
            book.put_number(ws, row, col, value, excel_money_format(book.currency), na=False)
        else:
            num_format = {
                "count": COUNT,
                "rate": RATE,
                "change": CHANGE,
                "number": NUMBER,
                "decimal1": DECIMAL1,
            }[kind]
            book.put_number(ws, row, col, value, num_format, na=True)


def _chart_text(value: str) -> str:
    """Chart and series names: a leading ``=`` would make XlsxWriter read a cell reference."""
    return " " + value if value.startswith("=") else value


def _chart(book: _Book, kind: str, title: str, **options: Any) -> Any:
    chart = book.wb.add_chart({"type": kind, **options})
    chart.set_title({"name": _chart_text(title), "name_font": {"size": 11, "bold": True}})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 760, "height": 300})
    return chart


def _series(
    sheet_name: str, name: str, cat_col: int, val_col: int, first: int, last: int, **extra: Any
) -> dict[str, Any]:
    return {
        "name": _chart_text(name),
        "categories": [sheet_name, first, cat_col, last, cat_col],
        "values": [sheet_name, first, val_col, last, val_col],
        **extra,
    }


# ------------------------------------------------------------------ the review


def render_review(review: Review) -> bytes:
    """The post-live review as an .xlsx workbook."""
    book = _Book(review.language, review.labels, zone(review.time_zone), review.currency)
    book.wb.set_properties(
        {"title": review.title, "company": review.workspace_name, "subject": book.t("review")}
    )
    _summary(book, review)
    if review.per_platform:
        _platforms(book, review)
    _minutes(book, review)
    _segments(book, review)
    _funnel(book, review)
    _retention(book, review)
    _sources(book, review)
    _products(book, review)
    _viewers(book, review)
    _comments(book, review)
    _words(book, review)
    _findings(book, review.findings)
    _actions(book, review)
    return book.finish()


def _figure_columns(book: _Book, *, with_target: bool) -> list[_Col]:
    columns = [
        _Col("key", 18, "text"),
        _Col("metric", 26, "text"),
        _Col("value", 14, "value"),
    ]
    if with_target:
        columns.append(_Col("target", 14, "value"))
    columns.append(_Col("previous", 14, "value"))
    if with_target:
        columns.append(_Col("median_30d", 14, "value"))
        columns.append(_Col("vs_target", 10, "change"))
    columns.append(_Col("vs_previous", 10, "change"))
    if with_target:
        columns.append(_Col("vs_median", 10, "change"))
    columns += [_Col("grain", 12, "text"), _Col("definition", 50, "text")]
    return columns


def _write_figures(
    book: _Book, ws: Any, first_row: int, figures: Sequence[Figure], *, with_target: bool
) -> int:
    """The Summary table: raw values in each figure's unit format, "—" when not available."""
    columns = _figure_columns(book, with_target=with_target)
    book.header(ws, first_row, columns)
    ws.freeze_panes(first_row + 1, 2)
    row = first_row
    for row, fig in enumerate(figures, start=first_row + 1):
        num_format = book.unit_format(fig.unit)
        values: list[tuple[str, Any]] = [
            ("text", fig.key),
            ("text", fig.label),
            ("value", fig.value),
        ]
        if with_target:
            values.append(("value", fig.target))
        values.append(("value", fig.previous))
        if with_target:
            values.append(("value", fig.median_30d))
            values.append(("change", fig.vs_target))
        values.append(("change", fig.vs_previous))
        if with_target:
            values.append(("change", fig.vs_median))
        values += [("text", fig.grain), ("text", fig.definition)]
        for col, (kind, value) in enumerate(values):
            if kind == "text":
                book.put_text(ws, row, col, value)
            elif kind == "change":
                book.put_number(ws, row, col, value, CHANGE, na=True)
            elif fig.unit == "seconds":
                book.put_number(ws, row, col, duration_days(value), num_format, na=True)
            else:
                book.put_number(ws, row, col, value, num_format, na=True)
    return row


def _summary(book: _Book, review: Review) -> None:
    ws = book.sheet("sheet_summary")
    book.put_text(ws, 0, 0, review.title, bold=True, font_size=14)
    ws.set_row(0, 24)
    book.put_text(ws, 1, 0, review.workspace_name, font_color="#555555")
    row = _write_figures(book, ws, 3, review.figures, with_target=True)

    row += 2
    info: list[tuple[str, Any]] = [
        ("workspace", review.workspace_name),
        ("platforms", " / ".join(review.platforms)),
        ("account", review.account),
        ("series", review.series),
        ("start", review.start),
        ("end", review.end),
        ("time_zone", review.time_zone),
        ("currency", review.currency),
        ("generated_at", review.generated_at),
        ("computed_at", review.computed_at),
    ]
    for offset, (key, value) in enumerate(info):
        ws.write_string(row + offset, 1, book.t(key), book.fmt(bold=True))
        if isinstance(value, datetime) or (value is None and key in ("start", "end")):
            book.put_time(ws, row + offset, 2, value)
        else:
            book.put_text(ws, row + offset, 2, value)
    row += len(info) + 1
    if review.notes:
        ws.write_string(row, 1, book.t("notes"), book.fmt(bold=True))
        for offset, note in enumerate(review.notes, start=1):
            book.put_text(ws, row + offset, 1, note)


def _platforms(book: _Book, review: Review) -> None:
    ws = book.sheet("sheet_platforms")
    columns = [
        _Col("platform", 12, "text"),
        _Col("session", 28, "text"),
        _Col("key", 18, "text"),
        _Col("metric", 26, "text"),
        _Col("value", 14, "text"),
        _Col("previous", 14, "text"),
        _Col("vs_previous", 10, "change"),
    ]
    book.header(ws, 0, columns)
    ws.freeze_panes(1, 2)
    row = 0
    for part in review.per_platform:
        for fig in part.figures:
            row += 1
            num_format = book.unit_format(fig.unit)
            book.put_text(ws, row, 0, part.platform)
            book.put_text(ws, row, 1, part.session_title)
            book.put_text(ws, row, 2, fig.key)
            book.put_text(ws, row, 3, fig.label)
            for col, value in ((4, fig.value), (5, fig.previous)):
                raw = duration_days(value) if fig.unit == "seconds" else value
                book.put_number(ws, row, col, raw, num_format, na=True)
            book.put_number(ws, row, 6, fig.vs_previous, CHANGE, na=True)


def _minutes(book: _Book, review: Review) -> None:
    ws = book.sheet("sheet_minutes")
    name = ws.get_name()
    data = review.series_data
    titles = _segment_at_minute(review)
    columns = [
        _Col("minute", 17, "time"),
        _Col("online", 10, "gap_count"),
        _Col("entries", 9, "count"),
        _Col("exits", 9, "count"),
        _Col("comments", 9, "count"),
        _Col("likes", 10, "count"),
        _Col("gifts", 9, "count"),
        _Col("orders", 9, "count"),
        _Col("gmv", 13, "money"),
        _Col("segment", 24, "text"),
    ]
    rows = zip(
        data.minutes,
        data.online,
        data.entries,
        data.exits,
        data.comments,
        data.likes,
        data.gifts,
        data.orders,
        data.gmv,
        titles,
        strict=False,
    )
    last = book.table(ws, 0, columns, rows, freeze_cols=1)
    if last < 1:
        return
    # a category axis labelled every 30 minutes (Excel date axes step in days at the finest)
    x_axis = {"num_format": "hh:mm", "interval_unit": 30, "interval_tick": 30}

    online = _chart(book, "line", book.t("chart_online"))
    online.add_series(_series(name, book.t("online"), 0, 1, 1, last, line={"width": 1.5}))
    online.set_x_axis(x_axis)
    online.set_y_axis({"num_format": COUNT, "min": 0})
    online.show_blanks_as("gap")
    ws.insert_chart(1, 11, online)

    flow = _chart(book, "line", book.t("chart_entries_exits"))
    flow.add_series(_series(name, book.t("entries"), 0, 2, 1, last, line={"width": 1}))
    flow.add_series(_series(name, book.t("exits"), 0, 3, 1, last, line={"width": 1}))
    flow.set_x_axis(x_axis)
    flow.set_y_axis({"num_format": COUNT, "min": 0})
    ws.insert_chart(17, 11, flow)

    chat = _chart(book, "line", book.t("chart_interaction"))
    chat.add_series(_series(name, book.t("comments"), 0, 4, 1, last, line={"width": 1}))
    chat.add_series(_series(name, book.t("gifts"), 0, 6, 1, last, line={"width": 1}))
    chat.add_series(
        _series(
            name,
            book.t("likes"),
            0,
            5,
            1,
            last,
            y2_axis=True,
            line={"width": 1, "dash_type": "dash"},
        )
    )
    chat.set_x_axis(x_axis)
    chat.set_y_axis({"num_format": COUNT, "min": 0})
    chat.set_y2_axis({"num_format": COUNT, "min": 0})
    ws.insert_chart(33, 11, chat)


def _segment_at_minute(review: Review) -> list[str | None]:
    """The title of the planned segment each minute falls in (None outside the plan)."""
    bands = sorted(review.segments, key=lambda b: b.planned_start)
    out: list[str | None] = []
    i = 0
    for minute in review.series_data.minutes:
        while i < len(bands) and bands[i].planned_end <= minute:
            i += 1
        inside = i < len(bands) and bands[i].planned_start <= minute < bands[i].planned_end
        out.append(bands[i].title if inside else None)
    return [t if t is not None else "" for t in out]


def _segments(book: _Book, review: Review) -> None:
    ws = book.sheet("sheet_segments")
    name = ws.get_name()
    columns = [
        _Col("position", 5, "count"),
        _Col("segment", 26, "text"),
        _Col("kind", 10, "text"),
        _Col("planned_start", 17, "time"),
        _Col("planned_end", 17, "time"),
        _Col("planned_s", 10, "seconds"),
        _Col("actual_s", 10, "seconds"),
        _Col("online_start", 10, "count"),
        _Col("online_end", 10, "count"),
        _Col("delta_online", 10, "gap_count"),
        _Col("avg_online", 10, "count"),
        _Col("retention", 9, "rate"),
        _Col("comments_per_min", 10, "decimal1"),
        _Col("likes_per_min", 10, "decimal1"),
        _Col("orders", 9, "count"),
        _Col("gmv", 13, "money"),
    ]
    rows = (
        (
            b.position,
            b.title,
            b.kind,
            b.planned_start,
            b.planned_end,
            b.planned_s,
            b.actual_s,
            b.online_start,
            b.online_end,
            b.delta_online,
            None if b.avg_online is None else round(b.avg_online),
            b.retention,
            b.comments_per_min,
            b.likes_per_min,
            b.orders,
            b.gmv,
        )
        for b in review.segments
    )
    last = book.table(ws, 0, columns, rows, freeze_cols=2)
    if last < 1:
        return
    chart = _chart(book, "column", book.t("chart_segments"))
    points = [
        {"fill": {"color": "#2F9E44" if (b.delta_online or 0) >= 0 else "#D9480F"}}
        for b in review.segments
    ]
    chart.add_series(_series(name, book.t("delta_online"), 0, 9, 1, last, points=points))
    chart.set_y_axis({"num_format": COUNT})
    chart.set_x_axis({"label_position": "low"})
    chart.set_legend({"none": True})
    ws.insert_chart(last + 2, 1, chart)


def _funnel(book: _Book, review: Review) -> None:
    ws = book.sheet("sheet_funnel")
    name = ws.get_name()
    columns = [
        _Col("step", 18, "text"),
        _Col("count", 12, "count"),
        _Col("of_previous", 11, "rate"),
        _Col("of_first", 11, "rate"),
    ]
    rows = ((s.label, s.count, s.of_previous, s.of_first) for s in review.funnel)
    last = book.table(ws, 0, columns, rows)
    if last < 1:
        return
    chart = _chart(book, "bar", book.t("chart_funnel"))
    chart.add_series(
        _series(
            name,
            book.t("count"),
            0,
            1,
            1,
            last,
            data_labels={"value": True, "num_format": COUNT},
            fill={"color": "#2F6FDE"},
            gap=40,
        )
    )
    chart.set_y_axis({"reverse": True})
    chart.set_x_axis({"num_format": COUNT, "min": 0})
    chart.set_legend({"none": True})
    ws.insert_chart(1, 5, chart, {"x_scale": 0.8})


def _retention(book: _Book, review: Review) -> None:
    ws = book.sheet("sheet_retention")
    name = ws.get_name()
    columns = [_Col("watch_minutes", 12, "count"), _Col("retention_rate", 10, "gap_rate")]
    rows = ((t, r) for t, r in enumerate(review.retention, start=1))
    last = book.table(ws, 0, columns, rows)
    if last < 1:
        return
    chart = _chart(book, "line", book.t("chart_retention"))
    chart.add_series(
        _series(name, book.t("retention_rate"), 0, 1, 1, last, line={"color": "#2F9E44"})
    )
    chart.set_y_axis({"num_format": "0%", "min": 0, "max": 1})
    chart.set_x_axis({"name": book.t("minutes_axis"), "interval_unit": 5})
    chart.set_legend({"none": True})
    chart.show_blanks_as("gap")
    ws.insert_chart(1, 3, chart, {"x_scale": 0.8})


def _sources(book: _Book, review: Review) -> None:
    ws = book.sheet("sheet_sources")
    name = ws.get_name()
    columns = [_Col("source", 26, "text"), _Col("entries", 11, "count"), _Col("share", 9, "rate")]
    rows = ((s.source, s.entries, s.share) for s in review.sources)
    last = book.table(ws, 0, columns, rows)
    if last < 1:
        return
    chart = _chart(book, "bar", book.t("chart_sources"))
    chart.add_series(
        _series(
            name,
            book.t("share"),
            0,
            2,
            1,
            last,
            data_labels={"value": True, "num_format": RATE},
            fill={"color": "#2F6FDE"},
        )
    )
    chart.set_y_axis({"reverse": True})
    chart.set_x_axis({"num_format": "0%", "min": 0})
    chart.set_legend({"none": True})
    ws.insert_chart(1, 4, chart, {"x_scale": 0.8})


def _products(book: _Book, review: Review) -> None:
    ws = book.sheet("sheet_products")
    columns = [
        _Col("product_id", 12, "text"),
        _Col("product", 30, "text"),
        _Col("clicks", 9, "count"),
        _Col("orders", 9, "count"),
        _Col("buyers", 9, "count"),
        _Col("gmv", 14, "money"),
        _Col("gpm", 12, "money"),
    ]
    rows = (
        (p.product_id, p.name, p.clicks, p.orders, p.buyers, p.gmv, p.gpm) for p in review.products
    )
    book.table(ws, 0, columns, rows, freeze_cols=2)


def _viewers(book: _Book, review: Review) -> None:
    ws = book.sheet("sheet_viewers")
    columns = [
        _Col("viewer_id", 14, "text"),
        _Col("viewer", 24, "text"),
        _Col("watch_time", 11, "seconds"),
        _Col("comments", 9, "count"),
        _Col("likes", 9, "count"),
        _Col("orders", 9, "count"),
        _Col("spend", 13, "money"),
    ]
    rows = (
        (v.viewer_id, v.name, v.watch_s, v.comments, v.likes, v.orders, v.spend)
        for v in review.viewers
    )
    book.table(ws, 0, columns, rows, freeze_cols=2)


def _comments(book: _Book, review: Review) -> None:
    """The capped comment list, with "first N of M" above the header."""
    ws = book.sheet("sheet_comments")
    comments = review.comments[:MAX_COMMENT_ROWS]
    shown, total = len(comments), max(review.comments_total, len(review.comments))
    note = (
        book.t("comments_capped", shown=f"{shown:,}", total=f"{total:,}")
        if total > shown
        else book.t("comments_all", total=f"{total:,}")
    )
    ws.write_string(0, 0, note, book.fmt(bold=True, font_color="#555555"))
    yes, no = book.t("yes"), book.t("no")
    columns = [
        _Col("time", 17, "time"),
        _Col("viewer", 20, "text"),
        _Col("text", 80, "text"),
        _Col("is_question", 7, "text"),
    ]
    rows = ((c.ts, c.viewer_name, c.text, yes if c.is_question else no) for c in comments)
    book.table(ws, 1, columns, rows)


def _words(book: _Book, review: Review) -> None:
    """Hot words (columns A–B) beside the top questions (D–E)."""
    ws = book.sheet("sheet_words")
    columns = [
        _Col("word", 16, "text"),
        _Col("times", 8, "count"),
        _Col("", 3, "text", label=""),
        _Col("question", 40, "text"),
        _Col("times", 8, "count"),
    ]
    book.header(ws, 0, columns)
    ws.freeze_panes(1, 0)
    for row in range(1, 1 + max(len(review.hot_words), len(review.questions))):
        if row <= len(review.hot_words):
            word = review.hot_words[row - 1]
            book.put_text(ws, row, 0, word.word)
            book.put_number(ws, row, 1, word.count, COUNT, na=True)
        if row <= len(review.questions):
            question = review.questions[row - 1]
            book.put_text(ws, row, 3, question.word)
            book.put_number(ws, row, 4, question.count, COUNT, na=True)


def _findings(book: _Book, findings: Sequence[Finding]) -> None:
    ws = book.sheet("sheet_findings")
    columns = [
        _Col("severity", 8, "text"),
        _Col("title", 26, "wrap"),
        _Col("detail", 44, "wrap"),
        _Col("suggestion", 44, "wrap"),
        _Col("evidence", 28, "wrap"),
        _Col("chart", 12, "text"),
        _Col("action_item", 24, "wrap"),
    ]
    rows = (
        (
            book.t(f"severity_{f.severity}"),
            f.title,
            f.detail,
            f.suggestion,
            "\n".join(f"{label}: {value}" for label, value in f.evidence),
            f.chart,
            f.action_item,
        )
        for f in findings
    )
    book.table(ws, 0, columns, rows, freeze_cols=2)


def _actions(book: _Book, review: Review) -> None:
    ws = book.sheet("sheet_actions")
    columns = [
        _Col("title", 30, "wrap"),
        _Col("owner", 14, "text"),
        _Col("due", 17, "time"),
        _Col("status", 10, "text"),
        _Col("finding", 16, "text"),
    ]
    rows = ((a.title, a.owner, a.due, a.status, a.finding_key) for a in review.actions)
    book.table(ws, 0, columns, rows)


# ------------------------------------------------------------------ periodic reports


def render_period_report(report: PeriodReport) -> bytes:
    """A weekly, monthly or per-series report as an .xlsx workbook."""
    book = _Book(report.language, report.labels, zone(report.time_zone), report.currency)
    book.wb.set_properties(
        {
            "title": report.title,
            "company": report.workspace_name,
            "subject": book.t("period_report"),
        }
    )
    _period_totals(book, report)
    _period_sessions(book, report)
    _period_trend(book, report, "sheet_weekly", "chart_weekly", report.weekly)
    _period_trend(book, report, "sheet_monthly", "chart_monthly", report.monthly)
    if report.findings:
        _findings(book, report.findings)
    return book.finish()


def _period_totals(book: _Book, report: PeriodReport) -> None:
    ws = book.sheet("sheet_totals")
    name = ws.get_name()
    book.put_text(ws, 0, 0, report.title, bold=True, font_size=14)
    ws.set_row(0, 24)
    book.put_text(ws, 1, 0, report.workspace_name, font_color="#555555")
    first = 3
    last = _write_figures(book, ws, first, report.totals, with_target=False)
    row = last + 2
    info: list[tuple[str, Any]] = [
        ("start", report.start),
        ("end", report.end),
        ("time_zone", report.time_zone),
        ("currency", report.currency),
        ("generated_at", report.generated_at),
    ]
    for offset, (key, value) in enumerate(info):
        ws.write_string(row + offset, 1, book.t(key), book.fmt(bold=True))
        if isinstance(value, datetime):
            book.put_time(ws, row + offset, 2, value)
        else:
            book.put_text(ws, row + offset, 2, value)
    if last <= first or not any(f.vs_previous is not None for f in report.totals):
        return
    chart = _chart(book, "bar", book.t("chart_vs_previous"))
    vs_col = 4  # key, metric, value, previous, vs previous
    points = [
        {"fill": {"color": "#2F9E44" if (f.vs_previous or 0) >= 0 else "#D9480F"}}
        for f in report.totals
    ]
    chart.add_series(
        {
            "name": _chart_text(book.t("vs_previous")),
            "categories": [name, first + 1, 1, last, 1],
            "values": [name, first + 1, vs_col, last, vs_col],
            "points": points,
            "data_labels": {"value": True, "num_format": CHANGE},
        }
    )
    chart.set_y_axis({"reverse": True, "label_position": "low"})
    chart.set_x_axis({"num_format": "0%"})
    chart.set_legend({"none": True})
    ws.insert_chart(row + len(info) + 1, 1, chart)


def _metric_columns(report: PeriodReport) -> list[_Col]:
    """One column per metric of the report; the charted ones leave gaps for "not available"
    (Excel would plot the text "—" as 0)."""
    charted = {_pick(report, "count"), _pick(report, "money")}
    return [
        _Col(key, 12, f"gap_{unit}" if i in charted else unit, label=label)
        for i, (key, label, unit) in enumerate(report.columns)
    ]


def _pick(report: PeriodReport, unit: Unit) -> int | None:
    """The index in ``report.columns`` of the first metric of ``unit`` (the charted one)."""
    return next((i for i, (_k, _l, u) in enumerate(report.columns) if u == unit), None)


def _combo_chart(
    book: _Book,
    report: PeriodReport,
    sheet_name: str,
    title: str,
    cat_col: int,
    first_metric_col: int,
    first: int,
    last: int,
) -> Any:
    """Columns of the first count metric, a line of the first money metric (right axis)."""
    count_i, money_i = _pick(report, "count"), _pick(report, "money")
    if count_i is None and money_i is None:
        return None
    bars_i = count_i if count_i is not None else money_i
    assert bars_i is not None
    chart = _chart(book, "column", title)
    chart.add_series(
        _series(
            sheet_name,
            report.columns[bars_i][1],
            cat_col,
            first_metric_col + bars_i,
            first,
            last,
            fill={"color": "#90B4F1"},
        )
    )
    chart.set_y_axis(
        {"num_format": COUNT if bars_i == count_i else excel_money_format(book.currency)}
    )
    if money_i is not None and money_i != bars_i:
        line = book.wb.add_chart({"type": "line"})
        line.add_series(
            _series(
                sheet_name,
                report.columns[money_i][1],
                cat_col,
                first_metric_col + money_i,
                first,
                last,
                y2_axis=True,
                marker={"type": "circle", "size": 5},
                line={"color": "#F08C2E"},
            )
        )
        line.set_y2_axis({"num_format": excel_money_format(book.currency)})
        chart.combine(line)
    return chart


def _period_sessions(book: _Book, report: PeriodReport) -> None:
    ws = book.sheet("sheet_sessions")
    name = ws.get_name()
    columns = [
        _Col("session_id", 10, "count"),
        _Col("session", 28, "text"),
        _Col("start", 17, "time"),
        _Col("platform", 10, "text"),
        *_metric_columns(report),
    ]
    rows = (
        (
            s.session_id,
            s.title,
            s.start,
            s.platform,
            *(s.figures.get(key) for key, _label, _unit in report.columns),
        )
        for s in report.sessions
    )
    last = book.table(ws, 0, columns, rows, freeze_cols=2)
    if last < 1:
        return
    chart = _combo_chart(book, report, name, book.t("chart_sessions"), 1, 4, 1, last)
    if chart is not None:
        chart.set_x_axis({"num_font": {"rotation": -45}})
        ws.insert_chart(last + 2, 1, chart)


def _period_trend(
    book: _Book,
    report: PeriodReport,
    sheet_key: str,
    chart_key: str,
    points: Sequence[TrendPoint],
) -> None:
    ws = book.sheet(sheet_key)
    name = ws.get_name()
    columns = [
        _Col("period", 11, "text"),
        _Col("sessions", 8, "count"),
        *_metric_columns(report),
    ]
    rows = (
        (p.period, p.sessions, *(p.figures.get(key) for key, _l, _u in report.columns))
        for p in points
    )
    last = book.table(ws, 0, columns, rows, freeze_cols=1)
    if last < 1:
        return
    chart = _combo_chart(book, report, name, book.t(chart_key), 0, 2, 1, last)
    if chart is not None:
        ws.insert_chart(last + 2, 0, chart)
