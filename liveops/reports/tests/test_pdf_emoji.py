"""Emoji in the PDF: viewers' text (hot words, questions, names) prints emoji as glyphs.

``pdffonts`` must show an embedded emoji font (Noto Color Emoji, from Debian
``fonts-noto-color-emoji``; without it emoji print as empty boxes) — and only where there
are emoji: naming an emoji font in the CSS makes Pango take the digits from it.
"""

from __future__ import annotations

import shutil
import subprocess
import warnings
from dataclasses import replace
from pathlib import Path

import pytest
from weasyprint import HTML  # type: ignore[import-untyped]

from liveops.reports.render import charts, pdf
from liveops.reports.render.pdf_template import document
from liveops.reports.review import Review, WordCount
from liveops.reports.sample import sample_review

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("pdffonts", "pdftotext")),
    reason="poppler-utils (pdffonts, pdftotext) not installed",
)

EMOJI_FONT_NAMES = ("Emoji", "Symbola")


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def embedded_fonts(data: bytes, folder: Path) -> list[str]:
    """``pdffonts`` rows (name … emb sub uni object ID) of the document."""
    source = folder / "doc.pdf"
    source.write_bytes(data)
    return run("pdffonts", str(source)).splitlines()[2:]


def emoji_fonts(rows: list[str]) -> list[str]:
    return [row for row in rows if any(name in row.split()[0] for name in EMOJI_FONT_NAMES)]


@pytest.fixture(scope="module")
def review_with_emoji() -> Review:
    review = sample_review("zh-hans", minutes=60, segments=3, viewers=12, comments=12)
    viewers = [replace(review.viewers[0], name="小鱼儿🐟"), *review.viewers[1:]]
    return replace(
        review,
        viewers=viewers,
        hot_words=[
            WordCount(word="😂😂😂", count=120),
            WordCount(word="👍", count=90),
            WordCount(word="🎁 福袋", count=60),
            WordCount(word="❤️ 爱了", count=30),
        ],
        questions=[WordCount(word="什么时候抽奖？🎁", count=12)],
    )


def test_emoji_in_user_text_print_with_an_embedded_emoji_font(
    review_with_emoji: Review, tmp_path: Path
) -> None:
    data = pdf.render_review(review_with_emoji)

    rows = embedded_fonts(data, tmp_path)
    found = emoji_fonts(rows)
    assert found, f"no emoji font embedded (apt-get install fonts-noto-color-emoji): {rows}"
    for row in found:
        assert row.split()[-5] == "yes", row  # the "emb" column
    assert any("CJK" in row for row in rows), rows  # Chinese still in Noto Sans CJK
    body = run("pdftotext", "-layout", str(tmp_path / "doc.pdf"), "-")
    for text in ("😂😂😂", "🎁 福袋", "小鱼儿🐟", "什么时候抽奖？🎁"):
        assert text in body


def test_digits_do_not_come_from_the_emoji_font(tmp_path: Path) -> None:
    # Given a page of numbers and Chinese, without a single emoji
    page = document(
        language="zh-hans",
        title="数字",
        footer="第 {page} 页 / 共 {pages} 页",
        body="<h1>成交金额 ¥296,403.00</h1><p>2026-11-20 20:00 · 1.2万 · 58.0% · #12 *3</p>",
    )
    data = HTML(string=page).write_pdf()

    # Then no emoji font is used (it would be, for 0-9 # *, were one named in the CSS)
    rows = embedded_fonts(data, tmp_path)
    assert not emoji_fonts(rows), rows


def test_chart_labels_drop_emoji_modifiers_weasyprint_would_print_alone() -> None:
    svg = charts.share_bars_chart(rows=[("❤️ 关注", 0.6), ("👍🏽 好评", 0.4)], empty="—")

    assert "❤ 关注" in svg
    assert "👍 好评" in svg
    assert "\ufe0f" not in svg
    assert "\U0001f3fd" not in svg


def test_chart_labels_with_emoji_have_their_glyphs_in_matplotlib() -> None:
    from matplotlib import font_manager

    known = {font.name for font in font_manager.fontManager.ttflist}
    if "Symbola" not in known:
        pytest.skip(
            "matplotlib does not know Symbola: install fonts-symbola, and delete "
            "matplotlib's cached font list (fontlist-*.json) if it predates the install"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font(s)" would raise
        svg = charts.share_bars_chart(rows=[("口令:🎁福利", 0.6), ("🔥 短视频", 0.4)], empty="—")
    assert "Symbola" in svg
