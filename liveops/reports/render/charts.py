"""Static charts for the PDF, drawn with matplotlib as SVG.

Each function takes plain sequences (times already local and naive) and returns an SVG
document as text. Text stays text (``svg.fonttype = none``) in Noto Sans CJK SC: WeasyPrint
lays it out with the same fonts as the page, so Chinese renders, stays selectable and is
subset-embedded once. Figures are sized in inches at their printed size (the A4 text block
is 180 mm ≈ 7.09 in wide), so 7 pt in a chart is 7 pt on paper.

matplotlib's rcParams are process-global, so charts are drawn under one lock (a request
thread must not switch fonts under another one); a chart takes 20–60 ms.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

import matplotlib
import matplotlib.dates as mdates
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter
from matplotlib.transforms import blended_transform_factory

FULL_WIDTH_IN = 7.09
HALF_WIDTH_IN = 3.45
# Symbola (Debian fonts-symbola, outlines) gives matplotlib the emoji it lays labels out
# with: it cannot read Noto Color Emoji's bitmaps. WeasyPrint still prints them in colour.
FONT_FAMILY = ["Noto Sans CJK SC", "Noto Sans CJK JP", "DejaVu Sans", "Symbola"]
# Dropped from chart labels: WeasyPrint draws SVG text one character at a time, so the
# emoji variation selector (❤ + U+FE0F) prints as a dotted circle and a skin-tone modifier
# (👍 + U+1F3FB…U+1F3FF) as a swatch of its own; the base emoji stands alone instead.
EMOJI_MODIFIERS: dict[int, None] = dict.fromkeys([0xFE0F, *range(0x1F3FB, 0x1F400)])

BLUE = "#2f6fde"
ORANGE = "#f08c2e"
GREEN = "#2f9e44"
RED = "#d9480f"
GREY = "#868e96"
PURPLE = "#7048e8"
# pastel band colours, one per segment kind (cycled)
BAND_COLOURS = (
    "#dbe4ff",
    "#d3f9d8",
    "#fff3bf",
    "#ffe3e3",
    "#e5dbff",
    "#c5f6fa",
    "#ffe8cc",
    "#f1f3f5",
)

_RC: dict[str, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "liveops",
    "font.family": FONT_FAMILY,
    "font.size": 7,
    "axes.titlesize": 8,
    "axes.labelsize": 7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#adb5bd",
    "axes.linewidth": 0.6,
    "xtick.color": "#495057",
    "ytick.color": "#495057",
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "grid.color": "#e9ecef",
    "grid.linewidth": 0.5,
    "legend.fontsize": 6.5,
    "legend.frameon": False,
    "axes.unicode_minus": False,
    "axes.axisbelow": True,
}
_LOCK = threading.Lock()

Formatter = Callable[[float], str]


def _render(width: float, height: float, draw: Callable[[Figure], None]) -> str:
    with _LOCK, matplotlib.rc_context(cast(Any, _RC)):
        layout = ConstrainedLayoutEngine(w_pad=0.02, h_pad=0.02)
        fig = Figure(figsize=(width, height), layout=layout)
        draw(fig)
        out = io.StringIO()
        fig.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


def _num(value: datetime) -> float:
    """A naive local time as a matplotlib date number (the axis then formats it)."""
    return float(mdates.date2num(value))  # type: ignore[no-untyped-call]


def _nums(values: Sequence[datetime]) -> list[float]:
    return [_num(v) for v in values]


def _nan(values: Sequence[float | int | None]) -> list[float]:
    return [math.nan if v is None else float(v) for v in values]


def _time_axis(ax: Axes) -> None:
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))  # type: ignore[no-untyped-call]
    ax.grid(axis="y")


def _y_formatter(ax: Axes, fmt: Formatter) -> None:
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt(v)))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5))


def _empty(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, _safe(message), transform=ax.transAxes, ha="center", va="center", color=GREY)
    ax.set_xticks([])
    ax.set_yticks([])


def online_chart(
    *,
    minutes: Sequence[datetime],
    online: Sequence[int | None],
    bands: Sequence[tuple[datetime, datetime, int, str]],
    cues: Sequence[datetime],
    series_label: str,
    cue_label: str,
    fmt: Formatter,
    empty: str,
) -> str:
    """Online viewers per minute over segment bands (coloured by kind, numbered by position)
    with cue markers ▼ along the top edge."""

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        if not minutes:
            _empty(ax, empty)
            return
        kinds: dict[str, str] = {}
        first, last = minutes[0], minutes[-1] + timedelta(minutes=1)
        span = (last - first).total_seconds() or 1.0
        top = blended_transform_factory(ax.transData, ax.transAxes)
        for start, end, position, kind in bands:
            colour = kinds.setdefault(kind, BAND_COLOURS[len(kinds) % len(BAND_COLOURS)])
            ax.axvspan(_num(start), _num(end), color=colour, alpha=0.9, lw=0, zorder=0)
            if (end - start).total_seconds() / span >= 0.025:
                mid = start + (end - start) / 2
                ax.text(
                    _num(mid),
                    0.97,
                    str(position),
                    transform=top,
                    ha="center",
                    va="top",
                    fontsize=6,
                    color="#495057",
                )
        ax.plot(
            _nums(minutes), _nan(online), color=BLUE, lw=1.2, label=_safe(series_label), zorder=3
        )
        if cues:
            ax.plot(
                _nums(cues),
                [1.0] * len(cues),
                transform=top,
                ls="none",
                marker="v",
                ms=4,
                color=RED,
                clip_on=False,
                zorder=4,
                label=_safe(cue_label),
            )
        ax.set_xlim(_num(first), _num(last))
        ax.set_ylim(bottom=0)
        _time_axis(ax)
        _y_formatter(ax, fmt)
        handles, labels = ax.get_legend_handles_labels()
        handles += [Patch(color=c, label=_safe(k)) for k, c in kinds.items()]
        labels += [_safe(k) for k in kinds]
        fig.legend(handles, labels, loc="outside lower center", ncol=min(10, len(labels)))

    return _render(FULL_WIDTH_IN, 2.7, draw)


def entries_exits_chart(
    *,
    minutes: Sequence[datetime],
    entries: Sequence[int],
    exits: Sequence[int],
    entries_label: str,
    exits_label: str,
    fmt: Formatter,
    empty: str,
) -> str:
    """Entries up, exits down (mirrored bars), one bar per minute."""

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        if not minutes:
            _empty(ax, empty)
            return
        width = 0.8 / 1440
        ax.bar(
            _nums(minutes), list(entries), width=width, color=BLUE, label=_safe(entries_label), lw=0
        )
        ax.bar(
            _nums(minutes),
            [-v for v in exits],
            width=width,
            color=ORANGE,
            label=_safe(exits_label),
            lw=0,
        )
        ax.axhline(0, color="#495057", lw=0.6)
        _time_axis(ax)
        _y_formatter(ax, lambda v: fmt(abs(v)))
        ax.legend(loc="upper right", ncol=2)

    return _render(FULL_WIDTH_IN, 2.1, draw)


def interaction_chart(
    *,
    minutes: Sequence[datetime],
    comments: Sequence[int],
    gifts: Sequence[int],
    likes: Sequence[int],
    comments_label: str,
    gifts_label: str,
    likes_label: str,
    fmt: Formatter,
    empty: str,
) -> str:
    """Comments and gifts per minute (left axis) and likes per minute (right axis)."""

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        if not minutes:
            _empty(ax, empty)
            return
        ax.plot(_nums(minutes), list(comments), color=BLUE, lw=1, label=_safe(comments_label))
        ax.plot(_nums(minutes), list(gifts), color=PURPLE, lw=1, label=_safe(gifts_label))
        right = ax.twinx()
        right.spines["right"].set_visible(True)
        right.plot(
            _nums(minutes), list(likes), color=ORANGE, lw=0.9, ls="--", label=_safe(likes_label)
        )
        ax.set_ylim(bottom=0)
        right.set_ylim(bottom=0)
        _time_axis(ax)
        _y_formatter(ax, fmt)
        _y_formatter(right, fmt)
        handles, labels = ax.get_legend_handles_labels()
        more_h, more_l = right.get_legend_handles_labels()
        ax.legend(handles + more_h, labels + more_l, loc="upper right", ncol=3)

    return _render(FULL_WIDTH_IN, 2.1, draw)


def retention_chart(
    *, retention: Sequence[float | None], x_label: str, series_label: str, empty: str
) -> str:
    """r(t) for t = 1…60 minutes, labelled at 1, 5, 10, 30 and 60."""

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        values = _nan(retention)
        if not values or all(math.isnan(v) for v in values):
            _empty(ax, empty)
            return
        xs = list(range(1, len(values) + 1))
        ax.plot(xs, values, color=GREEN, lw=1.2, label=_safe(series_label))
        ax.fill_between(xs, values, color=GREEN, alpha=0.08, lw=0)
        for t in (1, 5, 10, 30, 60):
            if t <= len(values) and not math.isnan(values[t - 1]):
                ax.annotate(
                    f"{values[t - 1]:.0%}",
                    (t, values[t - 1]),
                    textcoords="offset points",
                    xytext=(3, 3) if t == 1 else (0, 4),
                    ha="left" if t == 1 else "center",
                    fontsize=6,
                )
                ax.plot([t], [values[t - 1]], marker="o", ms=2.5, color=GREEN)
        ax.set_ylim(0, 1.05)
        ax.set_xlim(0, len(values) + 1)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel(_safe(x_label))
        ax.grid(axis="y")

    return _render(HALF_WIDTH_IN, 2.2, draw)


def funnel_chart(
    *, steps: Sequence[tuple[str, int, float | None]], fmt: Formatter, empty: str
) -> str:
    """A centred funnel: one bar per step, labelled with its count and share of the previous."""

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        if not steps or max(count for _l, count, _r in steps) <= 0:
            _empty(ax, empty)
            return
        biggest = max(count for _l, count, _r in steps)
        ys = list(range(len(steps)))
        widths = [count for _l, count, _r in steps]
        lefts = [(biggest - w) / 2 for w in widths]
        colours = [BLUE, "#4c84e6", "#6d9cec", "#90b4f1", "#b3ccf6"]
        ax.barh(ys, widths, left=lefts, color=[colours[i % 5] for i in ys], height=0.72)
        for y, (_label, count, ratio) in zip(ys, steps, strict=True):
            note = fmt(count) + ("" if ratio is None else f"  ({ratio:.1%})")
            if count >= 0.45 * biggest:  # wide bar: the label fits inside, in white
                ax.text(biggest / 2, y, note, ha="center", va="center", fontsize=6.5, color="white")
            else:  # narrow bar: the label beside it
                ax.annotate(
                    note,
                    ((biggest + count) / 2, y),
                    xytext=(3, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=6.5,
                    color="#212529",
                )
        ax.set_yticks(ys, [_clip(label, 20) for label, _c, _r in steps])
        ax.invert_yaxis()
        ax.set_xticks([])
        ax.spines["bottom"].set_visible(False)
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        ax.set_xlim(0, biggest)

    return _render(HALF_WIDTH_IN, 2.2, draw)


def share_bars_chart(*, rows: Sequence[tuple[str, float]], empty: str, limit: int = 8) -> str:
    """Horizontal bars of shares (traffic sources), largest first."""

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        shown = sorted(rows, key=lambda r: r[1], reverse=True)[:limit]
        if not shown:
            _empty(ax, empty)
            return
        ys = list(range(len(shown)))
        ax.barh(ys, [share for _n, share in shown], color=BLUE, height=0.65)
        for y, (_name, share) in zip(ys, shown, strict=True):
            ax.annotate(
                f"{share:.1%}",
                (share, y),
                xytext=(2, 0),
                textcoords="offset points",
                va="center",
                fontsize=6.5,
            )
        ax.set_yticks(ys, [_clip(name, 18) for name, _s in shown])
        ax.invert_yaxis()
        ax.set_xlim(0, max(share for _n, share in shown) * 1.25 or 1)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="x")

    return _render(HALF_WIDTH_IN, 2.2, draw)


def delta_bars_chart(
    *, rows: Sequence[tuple[str, float | None]], fmt: Formatter, empty: str
) -> str:
    """Δ online per segment: green bars gained viewers, red bars lost them."""

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        if not rows:
            _empty(ax, empty)
            return
        xs = list(range(len(rows)))
        values = [0.0 if v is None else float(v) for _n, v in rows]
        ax.bar(xs, values, color=[GREEN if v >= 0 else RED for v in values], width=0.7)
        ax.axhline(0, color="#495057", lw=0.6)
        ax.set_xticks(xs, [_clip(name, 6) for name, _v in rows])
        ax.tick_params(axis="x", length=0)
        _y_formatter(ax, fmt)
        ax.grid(axis="y")

    return _render(HALF_WIDTH_IN, 2.2, draw)


def trend_chart(
    *,
    categories: Sequence[str],
    bars: Sequence[float | None],
    bar_label: str,
    line: Sequence[float | None] | None,
    line_label: str,
    bar_fmt: Formatter,
    line_fmt: Formatter,
    empty: str,
    width: float = FULL_WIDTH_IN,
) -> str:
    """Bars (left axis) and a line (right axis) over periods or sessions."""

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        if not categories:
            _empty(ax, empty)
            return
        xs = list(range(len(categories)))
        ax.bar(xs, _nan(bars), color="#90b4f1", width=0.65, label=_safe(bar_label))
        _y_formatter(ax, bar_fmt)
        handles, labels = ax.get_legend_handles_labels()
        if line is not None:
            right = ax.twinx()
            right.spines["right"].set_visible(True)
            right.plot(
                xs, _nan(line), color=ORANGE, lw=1.3, marker="o", ms=3, label=_safe(line_label)
            )
            right.set_ylim(bottom=0)
            _y_formatter(right, line_fmt)
            more_h, more_l = right.get_legend_handles_labels()
            handles, labels = handles + more_h, labels + more_l
        step = max(1, math.ceil(len(categories) / 16))
        ax.set_xticks(xs[::step], [_clip(c, 12) for c in categories[::step]])
        ax.tick_params(axis="x", length=0)
        ax.grid(axis="y")
        fig.legend(handles, labels, loc="outside upper center", ncol=2)

    return _render(width, 2.3, draw)


def _safe(label: str) -> str:
    """Text for matplotlib: ``$`` would start mathtext and a leading ``_`` hides a legend
    entry, so both are neutralised; whitespace runs become one space; emoji modifiers are
    dropped (:data:`EMOJI_MODIFIERS`)."""
    flat = " ".join(label.split()).replace("$", r"\$").translate(EMOJI_MODIFIERS)
    return " " + flat if flat.startswith("_") else flat


def _clip(label: str, size: int) -> str:
    """Tick labels come from user text: one line, at most ``size`` characters."""
    flat = " ".join(label.split())
    return _safe(flat if len(flat) <= size else flat[: size - 1] + "…")
