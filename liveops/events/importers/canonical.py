"""LiveOps's own event format: canonical event objects as JSON lines (``liveops generate``
writes it; the ingest API accepts the same objects). Fields are those of ``events.schema``;
unknown keys are kept in the raw record."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

import orjson

from liveops.events.importers.base import Item, Problem, Record
from liveops.events.importers.safety import read_lines
from liveops.events.schema import KINDS


class CanonicalImporter:
    name = "ndjson"
    label = "LiveOps events (JSON lines)"

    def sniff(self, head: bytes, filename: str) -> bool:
        for line in head.splitlines()[:5]:
            line = line.strip()
            if not line:
                continue
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                return False
            return isinstance(obj, dict) and obj.get("kind") in KINDS and "ts" in obj
        return False

    def parse(self, stream: BinaryIO, *, options: dict[str, Any] | None = None) -> Iterator[Item]:
        for number, line in read_lines(stream):
            where = f"line {number}"
            if line is None:
                yield Problem(where, "too_long", "row", "the line is longer than 1 MiB.", "")
                continue
            text = line.strip()
            if not text:  # a blank line is not a record (line numbers still count it)
                continue
            raw = text.decode("utf-8", "replace")
            try:
                obj = orjson.loads(text)
            except orjson.JSONDecodeError as exc:
                yield Problem(
                    where,
                    "bad_json",
                    "row",
                    f"not valid JSON ({exc}); each line must be one event object.",
                    raw,
                )
                continue
            if not isinstance(obj, dict):
                yield Problem(where, "bad_row", "row", "each line must be a JSON object.", raw)
                continue
            yield Record(where, obj, raw)
