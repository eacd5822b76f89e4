"""Upload and file safety: size caps, content sniffing, zip-bomb and gzip-bomb guards.

Used by the import pipeline (CLI and web upload) *before* a file is parsed, and by the
importers themselves for the bits that must hold while streaming:

- :func:`check_file` — the size cap (from ``os.stat``, before reading anything), content
  sniffing from the magic bytes (zip/xlsx, gzip, JSON, text; an old binary ``.xls``, a
  ``.xlsx`` that is not a zip, a ``.gz`` that is not gzip or any other binary is refused),
  and for zip archives (an ``.xlsx`` is one) the zip-bomb guard of :func:`check_zip`.
- :func:`check_zip` — reads only the zip's directory, never an entry: the entry count
  (from the end-of-central-directory record, *before* the directory is parsed, so a
  million-entry archive costs nothing), the total declared unpacked size and the
  unpacked÷packed ratio, overall and per entry. CPython's ``zipfile`` never inflates an
  entry beyond its declared size (it stops there and fails the CRC check), so checking
  the declared sizes bounds what reading the archive can cost.
- :func:`open_maybe_gzip` — opens a file, transparently decompressing gzip (told by its
  magic bytes, whatever the name), with a cap on the decompressed size enforced while
  streaming: reading past it raises :class:`ImportFormatError`, never fills memory/disk.
- :func:`read_lines` — bounded line reading for the JSON-lines importers: a line longer
  than the limit is skipped in chunks (never held whole) and reported.
- :func:`epoch_to_ms` — epoch numbers told apart by magnitude (seconds / ms / µs / ns).

Every refusal is an :class:`ImportFormatError` whose message says what is wrong and how to
fix it. This module imports no Django.
"""

from __future__ import annotations

import codecs
import gzip
import io
import os
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import IO, Any, BinaryIO, Final

from .base import ImportFormatError

__all__ = [
    "HEAD_BYTES",
    "MAX_LINE_BYTES",
    "MAX_UNPACKED_BYTES",
    "MAX_ZIP_ENTRIES",
    "MAX_ZIP_RATIO",
    "FileCheck",
    "check_file",
    "check_zip",
    "epoch_to_ms",
    "open_maybe_gzip",
    "read_head",
    "read_lines",
    "sniff_content",
]

KiB: Final = 1024
MiB: Final = 1024 * KiB
GiB: Final = 1024 * MiB

#: How many leading bytes the importers' ``sniff`` sees.
HEAD_BYTES: Final = 64 * KiB
#: Zip guard defaults: total declared unpacked size, unpacked÷packed ratio, entry count.
MAX_UNPACKED_BYTES: Final = 1 * GiB
MAX_ZIP_RATIO: Final = 100
MAX_ZIP_ENTRIES: Final = 10_000
#: Entries (and archives) smaller than this unpacked are exempt from the ratio check:
#: a 600 KiB run of blanks compressing 1000:1 harms no one.
RATIO_FLOOR_BYTES: Final = 1 * MiB
#: Default cap on what a .gz may decompress to.
MAX_DECOMPRESSED_BYTES: Final = 4 * GiB
#: Longest JSON line the line-based importers accept (one platform message is < 64 KiB).
MAX_LINE_BYTES: Final = 1 * MiB

ZIP_MAGIC: Final = (b"PK\x03\x04", b"PK\x05\x06")  # local header / empty archive
GZIP_MAGIC: Final = b"\x1f\x8b"
OLE2_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls / .doc (Compound File)

_EOCD_SIG: Final = b"PK\x05\x06"
_ZIP64_LOCATOR_SIG: Final = b"PK\x06\x07"
_ZIP64_EOCD_SIG: Final = b"PK\x06\x06"
_EXCEL_EXTS: Final = (".xlsx", ".xlsm")


# --------------------------------------------------------------------------------------------
# Content sniffing
# --------------------------------------------------------------------------------------------


def sniff_content(head: bytes) -> str:
    """What the first bytes are: ``"zip"``, ``"gzip"``, ``"ole2"``, ``"json"``, ``"text"``,
    ``"empty"`` or ``"binary"``.

    Text is UTF-8 (with or without BOM), UTF-16 with a BOM, or GB18030 (Chinese Excel
    exports); "json" is text whose first non-blank character is ``{`` or ``[``.
    """
    if not head:
        return "empty"
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(OLE2_MAGIC):
        return "ole2"
    text = _decode_head(head)
    if text is None:
        return "binary"
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped:
        return "text"
    return "json" if stripped[0] in "{[" else "text"


def _decode_head(head: bytes) -> str | None:
    """The head as text, or None when it is binary. A truncated last character is fine."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        names: tuple[str, ...] = ("utf-16",)
    elif b"\x00" in head:
        return None
    else:
        names = ("utf-8", "gb18030")
    for name in names:
        try:
            text = codecs.getincrementaldecoder(name)("strict").decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return None if _looks_binary(text) else text
    return None


def _looks_binary(text: str) -> bool:
    """Control characters other than tab/CR/LF/FF in more than 1 % of the characters."""
    if not text:
        return False
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\r\n\f")
    return controls * 100 > len(text)


def read_head(stream: BinaryIO, size: int = HEAD_BYTES) -> bytes:
    """Up to ``size`` leading bytes (reads until ``size`` or end of stream)."""
    chunks: list[bytes] = []
    left = size
    while left > 0:
        chunk = stream.read(left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# --------------------------------------------------------------------------------------------
# check_file
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileCheck:
    """What :func:`check_file` found: the size on disk and the content kind."""

    size: int
    content: str  # "zip" | "gzip" | "json" | "text" | "empty"
    zip_entries: int = 0
    zip_unpacked: int = 0


def _human(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"  # pragma: no cover


def check_file(
    path: str | os.PathLike[str],
    *,
    max_bytes: int,
    max_unpacked: int = MAX_UNPACKED_BYTES,
    max_ratio: float = MAX_ZIP_RATIO,
    max_entries: int = MAX_ZIP_ENTRIES,
    max_decompressed: int = MAX_DECOMPRESSED_BYTES,
) -> FileCheck:
    """Refuse a file that is too big, lies about its type, or is a zip/gzip bomb.

    The size is checked from ``os.stat`` before a byte is read. Then the first bytes are
    sniffed: an ``.xlsx``/``.xlsm`` must be a zip holding a workbook; a ``.gz`` must be
    gzip; an old ``.xls`` (binary Excel) and other binaries are refused; any zip must be an
    Excel workbook and passes :func:`check_zip`. For gzip, the size recorded in the trailer
    (a lower bound of the decompressed size) is checked against ``max_decompressed``; the
    real cap is enforced while streaming by :func:`open_maybe_gzip`.
    """
    name = os.fspath(path)
    base = os.path.basename(name)
    lower = base.lower()
    try:
        size = os.stat(name).st_size
    except OSError as exc:
        raise ImportFormatError(f"cannot read {base!r}: {exc.strerror or exc}.") from None
    if size > max_bytes:
        raise ImportFormatError(
            f"{base!r} is {_human(size)}; the limit is {_human(max_bytes)}. Split the file "
            "(e.g. one file per live session) or compress it with gzip (.gz) and try again."
        )
    with open(name, "rb") as handle:
        head = read_head(handle, 4096)
        content = sniff_content(head)
        if lower.endswith(_EXCEL_EXTS) and content != "zip":
            what = {"text": "text", "json": "JSON text", "empty": "empty"}.get(content, content)
            raise ImportFormatError(
                f"{base!r} is named like an Excel workbook but its content is {what}, not an "
                ".xlsx (zip) file. Open it in Excel and save it as .xlsx, or, if it is a CSV "
                "export renamed to .xlsx, rename it back to .csv."
            )
        if lower.endswith(".gz") and content != "gzip":
            raise ImportFormatError(
                f"{base!r} is named .gz but is not gzip-compressed. Remove the .gz suffix or "
                "compress it with gzip."
            )
        if content == "ole2" or lower.endswith(".xls"):
            raise ImportFormatError(
                f"{base!r} is an old binary Excel file (.xls), which LiveOps does not read. "
                "Open it in Excel or WPS and save it as .xlsx or as CSV (UTF-8)."
            )
        if content == "binary":
            raise ImportFormatError(
                f"{base!r} is a binary file, not text, JSON, CSV, .xlsx or gzip. Export the "
                "data as CSV, .xlsx or JSON lines."
            )
        if content == "zip":
            entries, unpacked = check_zip(
                handle,
                max_unpacked=max_unpacked,
                max_ratio=max_ratio,
                max_entries=max_entries,
                name=base,
                require_workbook=True,
            )
            return FileCheck(size, content, entries, unpacked)
        if content == "gzip":
            _check_gzip_trailer(handle, size, max_decompressed, base)
    return FileCheck(size, content)


def _check_gzip_trailer(handle: BinaryIO, size: int, cap: int, base: str) -> None:
    """ISIZE (last 4 bytes) is the last member's size mod 2**32: a lower bound."""
    if size < 18:
        raise ImportFormatError(f"{base!r} is a truncated gzip file; compress it again.")
    handle.seek(size - 4)
    (isize,) = struct.unpack("<I", handle.read(4))
    if isize > cap:
        raise ImportFormatError(
            f"{base!r} decompresses to at least {_human(isize)}; the limit is {_human(cap)}. "
            "Split the file before compressing it."
        )


# --------------------------------------------------------------------------------------------
# Zip bomb guard
# --------------------------------------------------------------------------------------------


def _zip_entry_count(handle: IO[bytes]) -> int:
    """Number of entries from the end-of-central-directory record (zip64 aware).

    Reads only the archive's tail, so a directory of millions of entries is never parsed.
    """
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    tail_size = min(size, 22 + 65_535 + 20)
    handle.seek(size - tail_size)
    tail = handle.read(tail_size)
    pos = tail.rfind(_EOCD_SIG)
    if pos < 0 or len(tail) - pos < 22:
        raise ImportFormatError(
            "the zip archive has no end-of-directory record (it is truncated or not a zip). "
            "Download or export the file again."
        )
    (total,) = struct.unpack("<H", tail[pos + 10 : pos + 12])
    locator = pos - 20
    if locator >= 0 and tail[locator : locator + 4] == _ZIP64_LOCATOR_SIG:
        (eocd64_offset,) = struct.unpack("<Q", tail[locator + 8 : locator + 16])
        if eocd64_offset + 56 <= size:
            handle.seek(eocd64_offset)
            record = handle.read(56)
            if record[:4] == _ZIP64_EOCD_SIG:
                (total64,) = struct.unpack("<Q", record[32:40])
                return int(total64)
    return int(total)


def check_zip(
    file: str | os.PathLike[str] | IO[bytes],
    *,
    max_unpacked: int = MAX_UNPACKED_BYTES,
    max_ratio: float = MAX_ZIP_RATIO,
    max_entries: int = MAX_ZIP_ENTRIES,
    name: str = "the archive",
    require_workbook: bool = False,
) -> tuple[int, int]:
    """Refuse a zip bomb before anything is extracted; returns (entries, unpacked bytes).

    Checks, reading only the archive's directory: entry count ≤ ``max_entries`` (from the
    end record, before the directory is parsed), each entry's and the total declared
    unpacked size ≤ ``max_unpacked``, and unpacked÷packed ≤ ``max_ratio`` per entry and
    overall (entries/archives under 1 MiB unpacked are exempt from the ratio). With
    ``require_workbook`` the archive must also hold ``xl/workbook.xml`` (an Excel file).
    A file object is left positioned at 0.
    """
    opened: IO[bytes]
    if isinstance(file, str | os.PathLike):
        opened = open(os.fspath(file), "rb")  # noqa: SIM115 - closed in finally
        close = True
    else:
        opened = file
        close = False
    try:
        count = _zip_entry_count(opened)
        if count > max_entries:
            raise ImportFormatError(
                f"{name} holds {count} entries; the limit is {max_entries}. This is not a "
                "normal spreadsheet (possibly a zip bomb): export the data again as .xlsx "
                "or CSV."
            )
        opened.seek(0)
        try:
            archive = zipfile.ZipFile(opened)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise ImportFormatError(
                f"{name} is not a readable zip/.xlsx file ({exc}). Export it again."
            ) from None
        with archive:
            infos = archive.infolist()
            if len(infos) > max_entries:  # the end record lied
                raise ImportFormatError(
                    f"{name} holds {len(infos)} entries; the limit is {max_entries}."
                )
            total = 0
            packed = 0
            names: set[str] = set()
            for info in infos:
                names.add(info.filename)
                total += info.file_size
                packed += info.compress_size
                if info.file_size > max_unpacked or total > max_unpacked:
                    raise ImportFormatError(
                        f"{name} unpacks to more than {_human(max_unpacked)} "
                        f"(entry {info.filename!r}: {_human(info.file_size)}); refused before "
                        "extraction (possible zip bomb). Split the data into smaller files."
                    )
                if info.file_size > RATIO_FLOOR_BYTES and info.file_size > max_ratio * max(
                    info.compress_size, 1
                ):
                    ratio = info.file_size / max(info.compress_size, 1)
                    raise ImportFormatError(
                        f"{name}: entry {info.filename!r} would unpack {ratio:.0f}× its packed "
                        f"size (limit {max_ratio:g}×); refused before extraction (possible zip "
                        "bomb). Export the data again as .xlsx or CSV."
                    )
            if total > RATIO_FLOOR_BYTES and total > max_ratio * max(packed, 1):
                raise ImportFormatError(
                    f"{name} would unpack {total / max(packed, 1):.0f}× its size (limit "
                    f"{max_ratio:g}×); refused before extraction (possible zip bomb)."
                )
            if require_workbook and "xl/workbook.xml" not in names:
                raise ImportFormatError(
                    f"{name} is a zip archive but not an Excel workbook (no xl/workbook.xml). "
                    "Unzip it and import the file inside, or save the sheet as .xlsx."
                )
        return len(infos), total
    finally:
        if close:
            opened.close()
        else:
            opened.seek(0)


# --------------------------------------------------------------------------------------------
# gzip with a streaming cap
# --------------------------------------------------------------------------------------------


class _CappedReader(io.RawIOBase):
    """Raw reader over a decompressing stream that fails once more than ``cap`` came out.
    Closing it closes the decompressor and the file under it."""

    def __init__(self, inner: gzip.GzipFile, file: IO[bytes], cap: int, name: str) -> None:
        super().__init__()
        self._inner = inner
        self._file = file
        self._cap = cap
        self._name = name
        self._count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        try:
            data = self._inner.read(len(view))
        except (OSError, EOFError, zlib.error) as exc:
            raise ImportFormatError(
                f"{self._name} is not valid gzip ({exc}); compress it again."
            ) from None
        size = len(data)
        self._count += size
        if self._count > self._cap:
            raise ImportFormatError(
                f"{self._name} decompresses to more than {_human(self._cap)}, the limit; "
                "stopped while reading (possible gzip bomb). Split the file before "
                "compressing it."
            )
        view[:size] = data
        return size

    def close(self) -> None:
        if not self.closed:
            try:
                self._inner.close()
            finally:
                self._file.close()
        super().close()


def open_maybe_gzip(
    path: str | os.PathLike[str], *, max_bytes: int = MAX_DECOMPRESSED_BYTES
) -> BinaryIO:
    """Open ``path`` for binary reading; gzip content (by magic bytes, whatever the name) is
    decompressed on the fly, and reading beyond ``max_bytes`` decompressed raises
    :class:`ImportFormatError` (the cap holds while streaming: nothing is unpacked ahead).
    The caller closes the returned stream.
    """
    name = os.fspath(path)
    raw = open(name, "rb")  # noqa: SIM115 - returned to the caller
    try:
        magic = raw.read(2)
        raw.seek(0)
    except OSError:
        raw.close()
        raise
    if magic != GZIP_MAGIC:
        return raw
    inner = gzip.GzipFile(fileobj=raw, mode="rb")
    capped = _CappedReader(inner, raw, max_bytes, repr(os.path.basename(name)))
    return io.BufferedReader(capped, buffer_size=256 * KiB)


# --------------------------------------------------------------------------------------------
# Streaming helpers shared by the line-based importers
# --------------------------------------------------------------------------------------------


class _Prepended(io.RawIOBase):
    """The bytes already read (for sniffing), then the rest of the stream."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        super().__init__()
        self._head = memoryview(head)
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            size = min(len(view), len(self._head))
            view[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._stream.read(len(view))
        view[: len(data)] = data
        return len(data)


def prepend_head(head: bytes, stream: IO[bytes], *, buffer_size: int = 256 * KiB) -> BinaryIO:
    """A buffered stream that yields ``head`` again before the rest of ``stream``.

    For sniffing a stream that cannot seek (gzip, pipes): read the head, decide, and parse
    from this stream as if nothing had been read.
    """
    return io.BufferedReader(_Prepended(head, stream), buffer_size=buffer_size)


def read_lines(
    stream: BinaryIO, *, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[tuple[int, bytes | None]]:
    """Yield ``(line_number, line)`` (1-based, newline kept) without ever holding more than
    ``max_line_bytes`` + 1 of a line; a longer line yields ``(n, None)`` after being skipped
    in chunks.
    """
    number = 0
    while True:
        line = stream.readline(max_line_bytes + 1)
        if not line:
            return
        number += 1
        if len(line) > max_line_bytes and not line.endswith(b"\n"):
            while True:
                rest = stream.readline(64 * KiB)
                if not rest or rest.endswith(b"\n"):
                    break
            yield number, None
            continue
        yield number, line


_EPOCH_S_BELOW: Final = Decimal("1e11")  # 1e11 s is year 5138; 1e11 ms is 1973
_EPOCH_MS_BELOW: Final = Decimal("1e14")
_EPOCH_US_BELOW: Final = Decimal("1e17")


def epoch_to_ms(value: Any) -> int | None:
    """An epoch number (int, float, Decimal or numeric string) → UTC epoch ms, else None.

    The unit is told by magnitude, as in ``events.schema``: < 1e11 seconds, < 1e14
    milliseconds, < 1e17 microseconds, else nanoseconds. Zero/negative → None (platforms
    send 0 for "unknown").
    """
    if isinstance(value, bool) or value is None:
        return None
    try:
        if isinstance(value, int):
            number = Decimal(value)
        elif isinstance(value, Decimal):
            number = value
        elif isinstance(value, float):
            number = Decimal(repr(value))
        elif isinstance(value, str) and value.strip():
            number = Decimal(value.strip())
        else:
            return None
    except InvalidOperation:
        return None
    if not number.is_finite() or number <= 0:
        return None
    if number < _EPOCH_S_BELOW:
        ms = number * 1000
    elif number < _EPOCH_MS_BELOW:
        ms = number
    elif number < _EPOCH_US_BELOW:
        ms = number / 1000
    else:
        ms = number / 1_000_000
    return int(ms.to_integral_value())
