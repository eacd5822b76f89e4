"""Writes of the reports app: the review files (PDF, Excel) of a session."""

from __future__ import annotations

from pathlib import Path

from liveops.planning.models import LiveSession
from liveops.reports.builder import review_build


def review_files(
    *, session: LiveSession, pdf: Path | None, xlsx: Path | None, language: str = "zh-hans"
) -> dict[str, Path]:
    """Write a session's review as PDF and/or Excel; returns what was written where."""
    from liveops.reports.render import pdf as pdf_render
    from liveops.reports.render import xlsx as xlsx_render

    review = review_build(session=session, language=language)
    written: dict[str, Path] = {}
    if pdf is not None:
        pdf.write_bytes(pdf_render.render_review(review))
        written["pdf"] = pdf
    if xlsx is not None:
        xlsx.write_bytes(xlsx_render.render_review(review))
        written["xlsx"] = xlsx
    return written
