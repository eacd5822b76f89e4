"""Every file format LiveOps imports, and detection of a file's format from its first bytes.

``FORMATS`` maps the ``--format`` key (also stored on the import job) to its importer, in
detection order: the specific JSON formats first (each recognises its own message shapes),
then the line-based text logs, then the spreadsheets — CSV last, since almost any text
with commas looks like a CSV.

:func:`detect` asks each importer's ``sniff`` in that order. A gzip-compressed file is
detected from its decompressed head (the import opens it with
:func:`safety.open_maybe_gzip`), with a trailing ``.gz`` dropped from the name.
"""

from __future__ import annotations

import zlib
from typing import Final

from .base import Importer, ImportFormatError
from .bilibili import BilibiliImporter
from .canonical import CanonicalImporter
from .chat_downloader import ChatDownloaderImporter
from .safety import GZIP_MAGIC, HEAD_BYTES
from .tabular import CsvImporter, XlsxImporter
from .twitch import TwitchIrcImporter, TwitchLogImporter
from .webcast import WebcastImporter
from .youtube_actions import YouTubeActionsImporter

__all__ = ["FORMATS", "detect", "format_list", "get_importer"]


def _formats(*importers: Importer) -> dict[str, Importer]:
    return {importer.name: importer for importer in importers}


#: --format key → importer, in detection order.
FORMATS: Final[dict[str, Importer]] = _formats(
    CanonicalImporter(),
    BilibiliImporter(),
    WebcastImporter(),
    YouTubeActionsImporter(),
    ChatDownloaderImporter(),
    TwitchIrcImporter(),
    TwitchLogImporter(),
    XlsxImporter(),
    CsvImporter(),
)


def format_list() -> str:
    """``"ndjson (LiveOps events (JSON lines)), bilibili-blivedm (…), …"`` for messages."""
    return ", ".join(f"{key} ({importer.label})" for key, importer in FORMATS.items())


def get_importer(name: str) -> Importer:
    """The importer for a ``--format`` key; an unknown key lists the supported ones."""
    try:
        return FORMATS[name]
    except KeyError:
        raise ImportFormatError(
            f"unknown format {name!r}; supported formats: {', '.join(FORMATS)}."
        ) from None


def _gunzip_head(head: bytes) -> bytes:
    """As much of a gzip stream's decompressed start as ``head`` yields (≤ 64 KiB)."""
    try:
        return zlib.decompressobj(wbits=31).decompress(head, HEAD_BYTES)
    except zlib.error:
        return b""


def detect(head: bytes, filename: str = "") -> str:
    """The format key of a file from its first bytes (up to 64 KiB) and name.

    Raises :class:`ImportFormatError` listing the supported formats when none recognises it.
    """
    name = filename
    if head.startswith(GZIP_MAGIC):
        head = _gunzip_head(head)
        if name.lower().endswith(".gz"):
            name = name[:-3]
    if not head.strip():
        raise ImportFormatError(f"{filename or 'the file'} is empty; there is nothing to import.")
    for key, importer in FORMATS.items():
        try:
            if importer.sniff(head, name):
                return key
        except Exception:  # noqa: S112 - one importer's sniff must not break detection
            continue
    shown = f"{filename!r}" if filename else "the file"
    raise ImportFormatError(
        f"cannot tell the format of {shown}. Supported formats: {format_list()}. "
        "If it is one of these, name it with --format (e.g. --format csv); otherwise "
        "export the data as CSV or .xlsx."
    )
