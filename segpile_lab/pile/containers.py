"""Open a Pile file whatever its container: sniff the magic bytes, stream the decompressed bytes.

Formats are recognised by content, never by extension: zstd (``28 B5 2F FD``, or a skippable
frame ``5? 2A 4D 18``), gzip (``1F 8B``), else plain JSON lines when the head looks like text.
Decompression streams in pieces (one compressed read of `read_size` bytes at a time), reads
every frame or member of a multi-frame file, and checks what the libraries let slip:

* a stream cut in the middle of a frame raises `TruncatedArchiveError` (python-zstandard's
  ``stream_reader`` returns a truncated file as if it were whole);
* bytes after the last complete frame that start no new frame raise `TrailingDataError`;
* a decoder error inside a frame raises `CorruptArchiveError` with the compressed offset of
  the read where it happened.

Memory: one compressed read plus one decoded piece (about 1 MiB, whatever the compression
ratio), independent of the file's size.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Literal

import zstandard

from segpile_lab.errors import (
    CorruptArchiveError,
    TrailingDataError,
    TruncatedArchiveError,
    UnknownFormatError,
)

__all__ = ["Format", "iter_decompressed", "sniff_format"]

Format = Literal["zstd", "gzip", "jsonl"]

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
GZIP_MAGIC = b"\x1f\x8b"
_SKIPPABLE_MAGIC_SUFFIX = b"\x2a\x4d\x18"  # skippable frames: 50..5F 2A 4D 18
_OTHER_FORMATS = {
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"PK\x03\x04": "zip",
    b"\x04\x22\x4d\x18": "lz4",
    b"PAR1": "Parquet",
    b"ARROW1": "Arrow IPC",
}
_HEAD_BYTES = 8192


def _is_frame_start(head: bytes, fmt: Format) -> bool:
    if fmt == "gzip":
        return head[:2] == GZIP_MAGIC
    skippable = len(head) >= 4 and head[0] & 0xF0 == 0x50 and head[1:4] == _SKIPPABLE_MAGIC_SUFFIX
    return head[:4] == ZSTD_MAGIC or skippable


def sniff_format(path: str | Path) -> Format:
    """The container of `path` from its first bytes: ``"zstd"``, ``"gzip"`` or ``"jsonl"``.

    A 0-byte file is (empty) JSON lines. Raises `UnknownFormatError` for other compressed
    formats and for binary content.
    """
    with open(path, "rb") as fh:
        head = fh.read(_HEAD_BYTES)
    if _is_frame_start(head, "zstd"):
        return "zstd"
    if _is_frame_start(head, "gzip"):
        return "gzip"
    for magic, name in _OTHER_FORMATS.items():
        if head.startswith(magic):
            raise UnknownFormatError(
                f"{name} data, not zstd, gzip or JSON lines; decompress it first", path=path
            )
    control = sum(1 for byte in head if byte < 0x20 and byte not in b"\t\n\r\f")
    if b"\x00" in head or control > len(head) // 100:
        raise UnknownFormatError(
            f"binary data (first bytes {head[:8].hex(' ')}), neither zstd (28 b5 2f fd), "
            "gzip (1f 8b) nor JSON lines",
            path=path,
        )
    return "jsonl"


def iter_decompressed(
    path: str | Path,
    fmt: Format | None = None,
    *,
    read_size: int = 1 << 20,
    piece_bytes: int = 1 << 20,
) -> Iterator[tuple[bytes, int]]:
    """Yield ``(decompressed piece, compressed bytes consumed so far)`` for the whole file.

    The file is read `read_size` bytes at a time; the decoder gets as many compressed bytes
    per call as should give about `piece_bytes` of output at the compression ratio seen so far
    (starting from 16 bytes), so a piece stays near `piece_bytes` even for data that
    compresses 1000:1. `fmt` defaults to `sniff_format(path)`.

    Raises `TruncatedArchiveError`, `TrailingDataError` or `CorruptArchiveError` (each naming
    the file and the compressed offset).
    """
    fmt = fmt or sniff_format(path)
    with open(path, "rb") as fh:
        if fmt == "jsonl":
            consumed = 0
            while block := fh.read(min(read_size, piece_bytes)):
                consumed += len(block)
                yield block, consumed
        else:
            yield from _iter_frames(fh, path, fmt, read_size, piece_bytes)


def _new_decoder(fmt: Format):  # type: ignore[no-untyped-def]
    if fmt == "zstd":
        return zstandard.ZstdDecompressor().decompressobj()
    return zlib.decompressobj(wbits=31)  # 31: gzip header and trailer


def _iter_frames(
    fh: BinaryIO, path: str | Path, fmt: Format, read_size: int, piece_bytes: int
) -> Iterator[tuple[bytes, int]]:
    """Decode frame after frame (zstd) or member after member (gzip) until the file ends."""
    label = "zstd frame" if fmt == "zstd" else "gzip member"
    decoder = None  # the open frame's decoder; None between frames
    frame_start = 0
    offset = 0  # compressed offset of pending[0]
    pending: bytes | memoryview = b""  # a view: feeding it piecewise copies nothing
    step = 16  # compressed bytes per decoder call, adapted to the compression ratio
    while True:
        if not pending:
            pending = memoryview(fh.read(read_size))
            if not pending:
                break
        if decoder is None:
            while len(pending) < 8 and (more := fh.read(read_size)):
                pending = memoryview(bytes(pending) + more)
            if not _is_frame_start(pending, fmt):
                size = os.fstat(fh.fileno()).st_size
                raise TrailingDataError(
                    f"{size - offset:,} bytes after the last complete {label} "
                    f"start no new {label} (trailing garbage; first bytes "
                    f"{bytes(pending[:8]).hex(' ')})",
                    path=path,
                    offset=offset,
                )
            decoder, frame_start = _new_decoder(fmt), offset
        data, pending = pending[:step], pending[step:]
        try:
            out = decoder.decompress(data)
        except (zstandard.ZstdError, zlib.error) as error:
            raise CorruptArchiveError(
                f"corrupt {label} (started at byte {frame_start:,}): {error}",
                path=path,
                offset=offset,
            ) from error
        # zstd emits whole blocks (≤ 128 KiB): no output yet means "feed a little more"
        step = len(data) * piece_bytes // len(out) if out else 2 * step
        step = max(8, min(read_size, step))
        if decoder.eof:
            offset += len(data) - len(decoder.unused_data)
            pending = memoryview(decoder.unused_data + bytes(pending))
            decoder = None
        else:
            offset += len(data)
        if out:
            yield out, offset
    if decoder is not None:
        raise TruncatedArchiveError(
            f"the file ends inside a {label} that started at byte {frame_start:,} "
            "(interrupted download?)",
            path=path,
            offset=offset,
        )
