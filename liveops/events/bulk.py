"""Big files through a columnar fast path (no Django): what ``services.import_file`` feeds.

A fast path (``fastimport.fast_csv_blocks`` for CSV events, ``fastchat.fast_chat_blocks`` for
chat-downloader JSON) turns the file into Arrow
blocks of events it can prove the row importer would accept with the same values, and
hands every other row back as the row importer's own items. :func:`fast_items` wraps it for
``services.import_items``:

* the blocks are read in a background thread, one block ahead, so parsing block *n + 1*
  overlaps with storing block *n* (pyarrow, deltalake and SQLite release the GIL for most
  of their work);
* when the fast path gives up midway (``FastPathAborted``: pyarrow could not read a later
  block), the rest of the file comes from the row importer, starting after the last row
  the fast path delivered and numbering repeated records with the fast path's counter, so
  the ids and counts are exactly those of a row-path import;
* ``None`` means "this file is not one the fast path models": use the row importer.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final

from liveops.events.fastchat import fast_chat_blocks
from liveops.events.fastimport import Block, FastPathAborted, fast_csv_blocks
from liveops.events.importers.base import Importer, Item, Record
from liveops.events.importers.safety import open_maybe_gzip
from liveops.events.ingest import RepeatCounter
from liveops.events.schema import stable_event_id

__all__ = ["BLOCK_BYTES", "Block", "assign_event_id", "fast_items"]

#: Bytes of file per block: ≈ 150 000 CSV rows, one store commit each.
BLOCK_BYTES: Final = 8 << 20
#: Files smaller than this take the row path (the fast path's set-up is not worth it).
MIN_FAST_BYTES: Final = 256 << 10

_DONE: Final = object()


def assign_event_id(fields: dict[str, Any], raw: str, repeats: RepeatCounter) -> None:
    """Give a record without its own id the stable hash of its raw text (``#n`` for repeats).

    The one rule for records without ids, shared by the row path and the resume after the
    fast path: the n-th identical record of a file gets ``h:…#n``, so identical lines stay
    distinct events and importing the file again finds the same ids.
    """
    if not fields.get("event_id"):
        base = stable_event_id(raw.encode())
        n = repeats.occurrence(base)
        fields["event_id"] = base if n == 0 else f"{base}#{n}"


def fast_items(
    *,
    fmt: str,
    path: str | Path,
    importer: Importer,
    options: Mapping[str, Any],
    workspace_id: int,
    session_id: int,
    platform: str | None,
    size: int,
    block_bytes: int | None = None,
) -> Iterator[Block | Item] | None:
    """Blocks (then, after an abort, row items) for a file the fast path takes, else None.

    ``ImportFormatError`` is raised where the row importer would raise it.
    """
    if size < MIN_FAST_BYTES:
        return None
    blocks: Iterator[Block] | None
    if fmt == "csv":
        blocks = fast_csv_blocks(
            path,
            workspace_id=workspace_id,
            session_id=session_id,
            platform=platform,
            options=options,
            block_size=block_bytes or BLOCK_BYTES,
        )
        unit = "row"
    elif fmt == "chat-downloader":
        blocks = fast_chat_blocks(
            path,
            workspace_id=workspace_id,
            session_id=session_id,
            platform=platform,
            options=options,
        )
        unit = "item"
    else:
        return None
    if blocks is None:
        return None
    return _with_resume(
        _read_ahead(blocks),
        lambda aborted: _rows_after(importer, path, options, aborted, unit),
    )


def _with_resume(
    blocks: Iterator[Block], resume: Callable[[FastPathAborted], Iterator[Item]]
) -> Iterator[Block | Item]:
    try:
        yield from blocks
    except FastPathAborted as aborted:
        yield from resume(aborted)


def _delivered(location: str, unit: str, upto: int) -> bool:
    """Whether the fast path already delivered the record at ``location`` ("row 12",
    "item 7"); other locations (a "line N" after a chat array) were not."""
    kind, _, number = location.rpartition(" ")
    return kind == unit and number.isdigit() and int(number) <= upto


def _rows_after(
    importer: Importer,
    path: str | Path,
    options: Mapping[str, Any],
    aborted: FastPathAborted,
    unit: str,
) -> Iterator[Item]:
    with open_maybe_gzip(str(path)) as stream:
        for item in importer.parse(stream, options=dict(options)):
            if _delivered(item.location, unit, aborted.resume_after_row):
                continue
            if isinstance(item, Record) and not item.fields.get("_target"):
                assign_event_id(item.fields, item.raw, aborted.repeats)
            yield item


def _read_ahead(blocks: Iterator[Block]) -> Iterator[Block]:
    """The blocks, produced by a background thread one block ahead of the consumer.

    Exceptions of the producer (``FastPathAborted``, ``ImportFormatError``, I/O errors)
    are raised in the consumer at the point they happened. Closing the generator early
    stops the producer after its current block.
    """
    handoff: queue.Queue[Any] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            for block in blocks:
                handoff.put(block)
                if stop.is_set():
                    return
            handoff.put(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            handoff.put(exc)

    thread = threading.Thread(target=produce, name="import-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            got = handoff.get()
            if got is _DONE:
                return
            if isinstance(got, BaseException):
                raise got
            yield got
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            with contextlib.suppress(queue.Empty):
                handoff.get(timeout=0.05)
        thread.join()
