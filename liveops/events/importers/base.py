"""The importer protocol shared by every file format.

An importer reads a binary stream incrementally (never the whole file: imports must run
in flat memory on a 1 GB file) and yields, for every record of the file, exactly one of:

- ``Record``  — a canonical event candidate (field names of ``events.schema``: event_id,
  ts, kind, viewer_id, viewer_name, text, quantity, amount, currency, product_id, source,
  platform). It is validated later by ``schema.validate``, which may still reject it.
- ``Problem`` — the record could not be read (bad JSON, missing column, unknown message
  shape …). It becomes a rejected row in the quarantine, with its raw text and reason.
- ``Skipped`` — the record is readable but is not an audience event by design (a
  moderation action, a poll banner, a ticker that repeats a paid message …). It is
  counted with its reason, so that records read = events + problems + skipped, exactly.

``location`` names where the record is: "line 12", "row 7", "item 3" (1-based), so an
error message can point at it. ``raw`` is the record's original text (a JSON line, a
CSV row rendered as JSON) kept for audit and re-parsing. A record that yields several
events (e.g. a gift combo) yields several Records with the same location and distinct
event ids.

If the source has its own event id, put it in ``fields["event_id"]``; otherwise leave it
out and the pipeline derives a stable hash of ``raw`` (importing the same file twice then
adds nothing).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol


@dataclass(frozen=True, slots=True)
class Record:
    location: str
    fields: dict[str, Any]
    raw: str


@dataclass(frozen=True, slots=True)
class Problem:
    location: str
    code: str
    field: str
    message: str
    raw: str


@dataclass(frozen=True, slots=True)
class Skipped:
    location: str
    reason: str
    raw: str


Item = Record | Problem | Skipped


class ImportFormatError(Exception):
    """The file as a whole cannot be read in this format (wrong format, broken archive…)."""

    def __init__(self, message: str, location: str = "") -> None:
        super().__init__(f"{location}: {message}" if location else message)
        self.location = location


class Importer(Protocol):
    """One file format. Implementations are small classes registered in ``registry.py``."""

    name: str  # the --format key, e.g. "chat-downloader"
    label: str  # shown in the upload form

    def sniff(self, head: bytes, filename: str) -> bool:
        """True when the first bytes (up to 64 KiB) look like this format."""
        ...

    def parse(self, stream: BinaryIO, *, options: dict[str, Any] | None = None) -> Iterator[Item]:
        """Yield one or more items per record of the file, in file order."""
        ...
