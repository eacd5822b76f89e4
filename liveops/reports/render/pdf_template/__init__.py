"""The PDF's stylesheet and HTML building blocks (plain strings, no template engine).

Every piece of text goes through :func:`e` (``html.escape``) — user text included, labels
too — so nothing a viewer types can become markup. The only unescaped strings are the
tags written here and base64 data URIs.

Fonts: Noto Sans CJK SC (Debian ``fonts-noto-cjk``) through fontconfig; WeasyPrint embeds
the subset it uses. DejaVu Sans covers a few symbols that Noto CJK lacks. Emoji (😂 👍 🎁 ❤️)
come from Noto Color Emoji (Debian ``fonts-noto-color-emoji``) by fontconfig's fallback,
in colour; without an emoji font on the server they print as empty boxes. The emoji font
is deliberately *not* named in :data:`FONT_STACK`: when a family with "Emoji" in its name
is in a ``font-family`` list, Pango takes the digits 0-9 (keycap bases) from it, and every
number in the report comes out wide and spaced.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence

FONT_STACK = '"Noto Sans CJK SC", "Noto Sans SC", "Noto Sans CJK JP", "DejaVu Sans", sans-serif'


def e(value: object) -> str:
    """Escape any value for HTML text or a quoted attribute."""
    return html.escape("" if value is None else str(value), quote=True)


def css_string(value: str) -> str:
    """A CSS string literal: quotes, backslashes and line breaks escaped as code points."""
    out = []
    for ch in value:
        if ch in '"\\' or ord(ch) < 0x20 or ch == "\x7f":
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def page_counter_content(template: str) -> str:
    """``第 {page} 页 / 共 {pages} 页`` → a CSS ``content`` value with page counters."""
    parts: list[str] = []
    rest = template
    while rest:
        positions = [(rest.find(t), t) for t in ("{page}", "{pages}") if t in rest]
        if not positions:
            parts.append(css_string(rest))
            break
        at, placeholder = min(positions)
        if at:
            parts.append(css_string(rest[:at]))
        parts.append("counter(pages)" if placeholder == "{pages}" else "counter(page)")
        rest = rest[at + len(placeholder) :]
    return " ".join(parts) or '""'


def svg_img(svg: str, css_class: str = "chart", alt: str = "") -> str:
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img class="{css_class}" alt="{e(alt)}" src="data:image/svg+xml;base64,{data}">'


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    widths: Sequence[str] | None = None,
    numeric: Sequence[bool] | None = None,
    css_class: str = "grid",
    raw: bool = False,
) -> str:
    """A table of display strings. Cells are escaped unless ``raw`` (pre-built markup)."""
    cols = ""
    if widths:
        cols = "<colgroup>" + "".join(f'<col style="width:{w}">' for w in widths) + "</colgroup>"
    num = list(numeric or [False] * len(headers))
    head = "".join(
        f'<th class="{"num" if num[i] else ""}">{e(h)}</th>' for i, h in enumerate(headers)
    )
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="{"num" if num[i] else ""}">{c if raw else e(c)}</td>'
            for i, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    if not body:
        return ""
    return (
        f'<table class="{css_class}">{cols}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def document(*, language: str, title: str, footer: str, body: str) -> str:
    """The whole HTML document: ``footer`` is the page-counter template of the language."""
    lang = "zh-Hans" if language.lower().startswith("zh") else "en"
    css = STYLE.replace("__FONTS__", FONT_STACK).replace(
        "__PAGE_COUNTER__", page_counter_content(footer)
    )
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{e(title)}</title><style>{css}</style></head><body>{body}</body></html>"
    )


STYLE = """
@page {
  size: A4;
  margin: 16mm 14mm 16mm 14mm;
  @top-left { content: string(doctitle); font-size: 7pt; color: #868e96; }
  @bottom-left { content: string(workspace); font-size: 7pt; color: #868e96; }
  @bottom-right { content: __PAGE_COUNTER__; font-size: 7pt; color: #868e96; }
}
@page :first { @top-left { content: none; } }
@page wide {
  size: A4 landscape;
}
html { font-family: __FONTS__; font-size: 8.5pt; color: #212529; line-height: 1.4; }
body { margin: 0; }
h1 { font-size: 17pt; margin: 0 0 2mm; line-height: 1.25; string-set: doctitle content(text);
     overflow-wrap: anywhere; }
h2 { font-size: 11pt; margin: 5mm 0 2mm; padding-bottom: 1mm; border-bottom: 0.6pt solid #dee2e6;
     break-after: avoid; }
h3 { font-size: 9pt; margin: 3mm 0 1.5mm; break-after: avoid; }
.kicker { font-size: 8pt; color: #495057; margin-bottom: 1mm; }
.ws { string-set: workspace content(text); overflow-wrap: anywhere; }
.meta { display: grid; grid-template-columns: repeat(3, 1fr); gap: 1mm 4mm; margin: 2mm 0 3mm;
        font-size: 7.5pt; color: #495057; }
.meta b { color: #212529; font-weight: 700; margin-right: 1mm; }
.meta div { overflow-wrap: anywhere; }
.kpis { display: grid; grid-template-columns: repeat(4, 1fr); gap: 2.5mm; margin: 2mm 0 1mm; }
.kpi { border: 0.6pt solid #dee2e6; border-radius: 2mm; padding: 2mm 2.5mm; break-inside: avoid; }
.kpi .label { font-size: 7.5pt; color: #495057; overflow-wrap: anywhere; }
.kpi .value { font-size: 15pt; font-weight: 700; margin: 0.5mm 0 1mm; }
.kpi .cmp { font-size: 6.8pt; color: #495057; display: flex; justify-content: space-between; }
.kpi .cmp .d { font-weight: 700; }
.good { color: #2f9e44; }
.bad { color: #d9480f; }
.flat { color: #868e96; }
.block { break-inside: avoid; }
img.chart { width: 100%; display: block; }
img.half { width: 100%; display: block; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 5mm; }
.two > div { min-width: 0; break-inside: avoid; }
.cues { font-size: 6.8pt; color: #495057; margin: 1mm 0 0; overflow-wrap: anywhere; }
.cues .mark { color: #d9480f; }
table.grid { width: 100%; border-collapse: collapse; table-layout: fixed; font-size: 7.2pt; }
table.grid th { text-align: left; font-weight: 700; background: #f1f3f5; padding: 1mm 1.2mm;
                border-bottom: 0.6pt solid #adb5bd; vertical-align: bottom; }
table.grid td { padding: 0.8mm 1.2mm; border-bottom: 0.4pt solid #e9ecef; vertical-align: top;
                overflow-wrap: anywhere; }
table.grid th.num, table.grid td.num { text-align: right; }
table.grid tr { break-inside: avoid; }
table.grid thead { display: table-header-group; }
.small { font-size: 6.8pt; color: #868e96; }
.finding { border-left: 2mm solid #adb5bd; padding: 1.5mm 3mm; margin: 0 0 2.5mm;
           background: #f8f9fa; break-inside: avoid; }
.finding.high { border-left-color: #d9480f; }
.finding.medium { border-left-color: #f08c2e; }
.finding.low { border-left-color: #adb5bd; }
.finding h3 { margin: 0 0 1mm; overflow-wrap: anywhere; }
.finding p { margin: 0.5mm 0; overflow-wrap: anywhere; }
.badge { display: inline-block; font-size: 6.5pt; padding: 0.2mm 1.5mm; border-radius: 1mm;
         color: white; background: #adb5bd; margin-right: 1.5mm; vertical-align: 1pt; }
.badge.high { background: #d9480f; }
.badge.medium { background: #f08c2e; }
.chips { margin: 1mm 0 0; }
.chip { display: inline-block; border: 0.5pt solid #ced4da; border-radius: 1mm;
        padding: 0.2mm 1.5mm; margin: 0 1mm 1mm 0; font-size: 7pt; overflow-wrap: anywhere;
        max-width: 100%; }
.chip b { font-weight: 700; }
.words .chip { background: #edf2ff; border-color: #bac8ff; }
.label { color: #495057; }
.wide { page: wide; }
ul.notes { margin: 0; padding-left: 4mm; font-size: 7.5pt; color: #495057; }
dl.defs { font-size: 6.8pt; color: #495057; margin: 0; columns: 2; column-gap: 6mm; }
dl.defs div { break-inside: avoid; margin-bottom: 1mm; overflow-wrap: anywhere; }
dl.defs dt { display: inline; font-weight: 700; color: #212529; }
dl.defs dd { display: inline; margin: 0 0 0 1mm; }
"""
