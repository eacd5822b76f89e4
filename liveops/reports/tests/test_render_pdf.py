"""The PDF review and periodic report: pages, fonts, text layer, escaping.

Pages are rasterised with poppler's ``pdftoppm`` and checked for ink; ``pdffonts`` must show
an embedded CJK font and ``pdftotext`` the Chinese title and the page footer.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from liveops.reports.render import pdf
from liveops.reports.review import MinuteSeries, Review
from liveops.reports.sample import sample_period_report, sample_review

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("pdftoppm", "pdffonts", "pdftotext")),
    reason="poppler-utils (pdftoppm, pdffonts, pdftotext) not installed",
)


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def rasterise(data: bytes, folder: Path) -> list[Path]:
    source = folder / "doc.pdf"
    source.write_bytes(data)
    run("pdftoppm", "-r", "50", "-png", str(source), str(folder / "page"))
    return sorted(folder.glob("page-*.png"))


def ink(png: Path) -> float:
    """Share of pixels that are not (near) white."""
    image = Image.open(png).convert("L")
    histogram = image.histogram()
    return sum(histogram[:230]) / (image.width * image.height)


def pdf_text(data: bytes, folder: Path) -> str:
    source = folder / "text.pdf"
    source.write_bytes(data)
    return run("pdftotext", "-layout", str(source), "-")


def squeezed(body: str) -> str:
    """The text without whitespace (pdftotext drops the thin spaces around CJK)."""
    return re.sub(r"\s+", "", body)


@pytest.fixture(scope="module")
def review_zh() -> Review:
    return sample_review("zh-hans", segments=20, viewers=60, comments=50)


@pytest.fixture(scope="module")
def pdf_zh(review_zh: Review) -> bytes:
    return pdf.render_review(review_zh)


def test_review_pdf_has_pages_with_ink(pdf_zh: bytes, tmp_path: Path) -> None:
    assert pdf_zh.startswith(b"%PDF-")
    pages = rasterise(pdf_zh, tmp_path)
    assert len(pages) >= 2
    for page in pages:
        assert ink(page) > 0.01, page.name


def test_review_pdf_embeds_a_cjk_font(pdf_zh: bytes, tmp_path: Path) -> None:
    source = tmp_path / "doc.pdf"
    source.write_bytes(pdf_zh)
    fonts = run("pdffonts", str(source)).splitlines()[2:]
    cjk = [line for line in fonts if "CJK" in line]
    assert cjk, fonts
    for line in cjk:
        assert line.split()[-5] == "yes", line  # the "emb" column


def test_review_pdf_text_layer_has_the_title_footer_and_escaped_user_text(
    review_zh: Review, pdf_zh: bytes, tmp_path: Path
) -> None:
    pages = len(rasterise(pdf_zh, tmp_path))
    body = pdf_text(pdf_zh, tmp_path)
    assert "周五上新专场" in body
    assert "直播复盘报告" in body
    assert "实时在线人数" in body  # a chart title
    assert "最高在线人数 PCU" in body  # a KPI card
    assert f"第1页/共{pages}页" in squeezed(body)
    assert f"第{pages}页/共{pages}页" in squeezed(body)
    assert body.count("+星河直播运营部 <Ops> & Co") >= pages  # every footer
    # user text is printed, not interpreted
    assert "<script>alert(1)</script>" in body
    assert "<b>加粗</b>" in body
    assert "=cmd|' /C calc'!A0" in body


def test_review_html_escapes_all_user_text(review_zh: Review) -> None:
    page = pdf.review_html(review_zh)
    assert "<script" not in page
    assert "<b>加粗" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;Ops&gt; &amp; Co" in page


def test_english_review_numbers_pages_in_english(tmp_path: Path) -> None:
    review = sample_review("en", minutes=90, segments=6, viewers=30, comments=20)
    data = pdf.render_review(review)
    pages = len(rasterise(data, tmp_path))
    body = pdf_text(data, tmp_path)
    assert "Post-live review" in body
    assert f"Page 1 of {pages}" in body
    assert "Online viewers" in body


def test_an_empty_review_still_renders(tmp_path: Path) -> None:
    review = replace(
        sample_review("zh-hans", minutes=30, segments=2, viewers=3, comments=3),
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
        hot_words=[],
        questions=[],
        findings=[],
        actions=[],
        per_platform=[],
    )
    pages = rasterise(pdf.render_review(review), tmp_path)
    assert len(pages) >= 1
    assert ink(pages[0]) > 0.01


def test_period_report_pdf(tmp_path: Path) -> None:
    report = sample_period_report("zh-hans")
    data = pdf.render_period_report(report)
    pages = len(rasterise(data, tmp_path))
    assert pages >= 2
    body = pdf_text(data, tmp_path)
    assert report.title in body
    assert f"第1页/共{pages}页" in squeezed(body)
    assert "按周趋势" in body
    # the session table has its own landscape page
    source = tmp_path / "doc.pdf"
    sizes = run("pdfinfo", "-f", "1", "-l", str(pages), str(source))
    landscape = re.findall(r"size:\s+841\.\d+ x 595\.\d+", sizes)
    assert landscape, sizes
