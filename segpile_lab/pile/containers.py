"""Open a Pile file whatever its container: sniff the magic bytes, stream the decompressed bytes.

Formats are recognised by content, never by extension: zstd (``28 B5 2F FD``, or a skippable
frame ``5? 2A 4D 18``), gzip (``1F 8B``), bzip2 (``BZh``), xz (``FD 37 7A 58 5A 00``), else plain
JSON lines when the head looks like text (git-annex and Git LFS pointer files, which stand in
for data that was never fetched, are named as such). Decompression streams in pieces (one
compressed read of `read_size` bytes at a time), reads every frame, member or stream of a
multi-frame file, and checks what the libraries let slip:

* a stream cut in the middle of a frame raises `TruncatedArchiveError` (python-zstandard's
  ``stream_reader`` returns a truncated file as if it were whole);
* bytes after the last complete frame that start no new frame raise `TrailingDataError`;
* a decoder error inside a frame, including a zstd frame checksum or a gzip/bzip2/xz CRC that
  fails at the frame's end, raises `CorruptArchiveError` with the compressed offset of the read
  where it happened (rows decoded from that frame are unverified: the reader drops them);
* zstd frames with windows up to `MAX_WINDOW_BYTES` (``zstd --long=31``) are read; a larger
  window, or a dictionary that was not given (``zstd_dict=``), raises `ArchiveError` saying so.

Memory: one compressed read plus one decoded piece (about 1 MiB, whatever the compression
ratio), independent of the file's size.
"""

from __future__ import annotations

import bz2
import lzma
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Literal, NamedTuple

import zstandard

from segpile_lab.errors import (
    ArchiveError,
    CorruptArchiveError,
    TrailingDataError,
    TruncatedArchiveError,
    UnknownFormatError,
)

__all__ = ["MAX_WINDOW_BYTES", "Format", "Piece", "iter_decompressed", "sniff_format"]

Format = Literal["zstd", "gzip", "bzip2", "xz", "jsonl"]
ZstdDict = bytes | str | os.PathLike[str]

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
GZIP_MAGIC = b"\x1f\x8b"
XZ_MAGIC = b"\xfd7zXZ\x00"
_SKIPPABLE_MAGIC_SUFFIX = b"\x2a\x4d\x18"  # skippable frames: 50..5F 2A 4D 18
#: The largest zstd window the decoder accepts: 2 GiB, what ``zstd --long=31`` writes (libzstd's
#: own default stops at 128 MiB). The decoder holds one window of the frame's size.
MAX_WINDOW_BYTES = 1 << 31
_POINTERS = {  # text files that stand in for data that was never fetched
    b"/annex/objects/": "a git-annex pointer file (run `git annex get`)",
    b"version https://git-lfs.github.com/spec/": "a Git LFS pointer file (run `git lfs pull`)",
}
_OTHER_FORMATS = {
    b"PK\x03\x04": "zip",
    b"\x04\x22\x4d\x18": "lz4",
    b"PAR1": "Parquet",
    b"ARROW1": "Arrow IPC",
}
_HEAD_BYTES = 8192


class Piece(NamedTuple):
    """Decompressed bytes of one frame (member, stream) and where the reader stands."""

    data: bytes
    compressed_pos: int  # compressed bytes of the file consumed so far
    frame: int  # 0-based index of the frame the bytes come from (0 for plain JSON lines)


def _is_bzip2(head: bytes | memoryview) -> bool:  # "BZh" + block size '1'..'9'
    return head[:3] == b"BZh" and head[3:4] in {bytes([c]) for c in b"123456789"}


def _is_frame_start(head: bytes | memoryview, fmt: Format) -> bool:
    if fmt == "gzip":
        return head[:2] == GZIP_MAGIC
    if fmt == "bzip2":
        return _is_bzip2(head)
    if fmt == "xz":
        return head[:6] == XZ_MAGIC
    skippable = len(head) >= 4 and head[0] & 0xF0 == 0x50 and head[1:4] == _SKIPPABLE_MAGIC_SUFFIX
    return head[:4] == ZSTD_MAGIC or skippable


def sniff_format(path: str | Path) -> Format:
    """The container of `path` from its first bytes: ``"zstd"``, ``"gzip"``, ``"bzip2"``,
    ``"xz"`` or ``"jsonl"``.

    A 0-byte file is (empty) JSON lines. Raises `UnknownFormatError` for other compressed
    formats, for binary content and for annex/LFS pointer files.
    """
    with open(path, "rb") as fh:
        head = fh.read(_HEAD_BYTES)
    for fmt in ("zstd", "gzip", "bzip2", "xz"):
        if _is_frame_start(head, fmt):
            return fmt
    first_line = head.split(b"\n", 1)[0]
    for marker, what in _POINTERS.items():  # a small file whose first line is a pointer
        if len(head) < 1024 and marker in first_line and not first_line.startswith(b"{"):
            raise UnknownFormatError(f"{what}, not the data itself", path=path)
    for magic, name in _OTHER_FORMATS.items():
        if head.startswith(magic):
            raise UnknownFormatError(
                f"{name} data, not zstd, gzip, bzip2, xz or JSON lines; decompress it first",
                path=path,
            )
    control = sum(1 for byte in head if byte < 0x20 and byte not in b"\t\n\r\f")
    if b"\x00" in head or control > len(head) // 100:
        raise UnknownFormatError(
            f"binary data (first bytes {head[:8].hex(' ')}), neither zstd (28 b5 2f fd), "
            "gzip (1f 8b), bzip2 (42 5a 68), xz (fd 37 7a 58 5a 00) nor JSON lines",
            path=path,
        )
    return "jsonl"


def iter_decompressed(
    path: str | Path,
    fmt: Format | None = None,
    *,
    read_size: int = 1 << 20,
    piece_bytes: int = 1 << 20,
    zstd_dict: ZstdDict | None = None,
) -> Iterator[Piece]:
    """Yield the decompressed `Piece` s of the whole file, frame by frame.

    The file is read `read_size` bytes at a time; the decoder gets as many compressed bytes
    per call as should give about `piece_bytes` of output at the compression ratio seen so far
    (starting from 16 bytes), so a piece stays near `piece_bytes` even for data that
    compresses 1000:1. Each frame (member, stream) starts with an empty piece that carries its
    index. `fmt` defaults to `sniff_format(path)`; `zstd_dict` is the dictionary (bytes or a
    file) that zstd frames were compressed with, when they were.

    Raises `TruncatedArchiveError`, `TrailingDataError`, `CorruptArchiveError` (each naming
    the file and the compressed offset) and `ArchiveError` (a frame this reader cannot decode:
    window above `MAX_WINDOW_BYTES`, a dictionary missing).
    """
    fmt = fmt or sniff_format(path)
    with open(path, "rb") as fh:
        if fmt == "jsonl":
            consumed = 0
            while block := fh.read(min(read_size, piece_bytes)):
                consumed += len(block)
                yield Piece(block, consumed, 0)
        else:
            frames = _Frames(fh, path, fmt, zstd_dict)
            yield from frames.pieces(read_size, piece_bytes)


_LABELS = {"zstd": "zstd frame", "gzip": "gzip member", "bzip2": "bzip2 stream", "xz": "xz stream"}
_DECODER_ERRORS = (zstandard.ZstdError, zlib.error, lzma.LZMAError, OSError, EOFError)
_HEADER_BYTES = 18  # the longest zstd frame header


def _zstd_header(head: bytes) -> tuple[int, int] | None:
    """``(window bytes, dictionary id)`` of a zstd frame header; None for a skippable frame or
    a header cut short (RFC 8878, section 3.1.1.1)."""
    if head[:4] != ZSTD_MAGIC or len(head) < 6:
        return None
    descriptor = head[4]
    single = descriptor >> 5 & 1
    dict_size, fcs_size = (0, 1, 2, 4)[descriptor & 3], (single, 2, 4, 8)[descriptor >> 6]
    pos, window = 5, 0
    if not single:
        exponent, mantissa = head[5] >> 3, head[5] & 7
        base = 1 << (10 + exponent)
        window, pos = base + base // 8 * mantissa, 6
    end = pos + dict_size + fcs_size
    if len(head) < end:
        return None
    dict_id = int.from_bytes(head[pos : pos + dict_size], "little")
    if single:  # the window is the content size
        window = int.from_bytes(head[pos + dict_size : end], "little") + 256 * (fcs_size == 2)
    return window, dict_id


class _Frames:
    """Decodes the frames (zstd), members (gzip) or streams (bzip2, xz) of one open file."""

    def __init__(self, fh: BinaryIO, path: str | Path, fmt: Format, zstd_dict: ZstdDict | None):
        self.fh, self.path, self.fmt, self.label = fh, path, fmt, _LABELS[fmt]
        self.dict = None
        if zstd_dict is not None:
            raw = zstd_dict if isinstance(zstd_dict, bytes) else Path(zstd_dict).read_bytes()
            self.dict = zstandard.ZstdCompressionDict(raw)
        self.zstd = zstandard.ZstdDecompressor(
            max_window_size=MAX_WINDOW_BYTES, dict_data=self.dict
        )

    def _decoder(self, head: bytes, offset: int):  # type: ignore[no-untyped-def]
        if self.fmt == "zstd":
            self._check_zstd(head, offset)
            return self.zstd.decompressobj()
        if self.fmt == "gzip":
            return zlib.decompressobj(wbits=31)  # 31: gzip header and trailer
        if self.fmt == "bzip2":
            return bz2.BZ2Decompressor()
        return lzma.LZMADecompressor(format=lzma.FORMAT_XZ)

    def _check_zstd(self, head: bytes, offset: int) -> None:
        header = _zstd_header(head)
        if header is None:
            return
        window, dict_id = header
        if window > MAX_WINDOW_BYTES:
            raise ArchiveError(
                f"the zstd frame at byte {offset:,} needs a {window / 2**30:.0f} GiB window, "
                f"above the reader's {MAX_WINDOW_BYTES >> 30} GiB limit (zstd --long=31); "
                "recompress it with a smaller --long",
                path=self.path,
                offset=offset,
            )
        if dict_id and self.dict is None:
            raise ArchiveError(
                f"the zstd frame at byte {offset:,} was compressed with dictionary id {dict_id}; "
                "pass that dictionary as zstd_dict= (--zstd-dict on the command line)",
                path=self.path,
                offset=offset,
            )
        if dict_id and self.dict is not None and self.dict.dict_id() not in (0, dict_id):
            raise ArchiveError(
                f"the zstd frame at byte {offset:,} needs dictionary id {dict_id}, "
                f"zstd_dict= has id {self.dict.dict_id()}",
                path=self.path,
                offset=offset,
            )

    def _decode_error(self, error: Exception, frame_start: int, offset: int) -> ArchiveError:
        if "Dictionary" in str(error):  # libzstd: "Dictionary mismatch"
            return ArchiveError(
                f"the zstd frame at byte {frame_start:,} needs a dictionary: pass the one it "
                f"was compressed with as zstd_dict= ({error})",
                path=self.path,
                offset=offset,
            )
        return CorruptArchiveError(
            f"corrupt {self.label} (started at byte {frame_start:,}): {error}",
            path=self.path,
            offset=offset,
        )

    def pieces(self, read_size: int, piece_bytes: int) -> Iterator[Piece]:
        """Decode frame after frame until the file ends (see `iter_decompressed`)."""
        fh, fmt, label = self.fh, self.fmt, self.label
        decoder = None  # the open frame's decoder; None between frames
        frame, frame_start = -1, 0
        offset = 0  # compressed offset of pending[0]
        pending: bytes | memoryview = b""  # a view: feeding it piecewise copies nothing
        step = 16  # compressed bytes per decoder call, adapted to the compression ratio
        while True:
            if not pending:
                pending = memoryview(fh.read(read_size))
                if not pending:
                    break
            if decoder is None:
                while len(pending) < _HEADER_BYTES and (more := fh.read(read_size)):
                    pending = memoryview(bytes(pending) + more)
                if fmt == "xz" and pending[:1] == b"\0":  # stream padding between xz streams
                    rest = bytes(pending).lstrip(b"\0")
                    offset, pending = offset + len(pending) - len(rest), memoryview(rest)
                    continue
                if not _is_frame_start(pending, fmt):
                    size = os.fstat(fh.fileno()).st_size
                    raise TrailingDataError(
                        f"{size - offset:,} bytes after the last complete {label} "
                        f"start no new {label} (trailing garbage; first bytes "
                        f"{bytes(pending[:8]).hex(' ')})",
                        path=self.path,
                        offset=offset,
                    )
                decoder, frame, frame_start = (
                    self._decoder(bytes(pending[:_HEADER_BYTES]), offset),
                    frame + 1,
                    offset,
                )
                yield Piece(b"", offset, frame)
            data, pending = pending[:step], pending[step:]
            try:
                out = decoder.decompress(data)
            except _DECODER_ERRORS as error:
                raise self._decode_error(error, frame_start, offset) from error
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
                yield Piece(out, offset, frame)
        if decoder is not None:
            raise TruncatedArchiveError(
                f"the file ends inside a {label} that started at byte {frame_start:,} "
                "(interrupted download?)",
                path=self.path,
                offset=offset,
            )
