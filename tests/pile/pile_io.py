"""Helpers of the reader tests: write Pile-format files byte by byte, read them back."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import zstandard

import segpile_lab as sl


def doc(text: object = "hello", subset: object = "ArXiv", **extra: object) -> bytes:
    """One JSON line (no newline) in the Pile's own encoding (json.dumps, ASCII escapes)."""
    return json.dumps({"text": text, "meta": {"pile_set_name": subset}, **extra}).encode()


def zstd_frame(data: bytes, *, checksum: bool = True) -> bytes:
    return zstandard.ZstdCompressor(level=3, write_checksum=checksum).compress(data)


def skippable_frame(payload: bytes = b"skip me") -> bytes:
    return b"\x50\x2a\x4d\x18" + len(payload).to_bytes(4, "little") + payload


def encode(data: bytes, fmt: str) -> bytes:
    if fmt == "zstd":
        return zstd_frame(data)
    if fmt == "gzip":
        return gzip.compress(data)
    return data


def write(path: Path, lines: list[bytes], fmt: str = "zstd", *, final_newline: bool = True) -> Path:
    """Write `lines` joined by newlines, compressed as `fmt` ("zstd", "gzip", "jsonl")."""
    data = b"\n".join(lines) + (b"\n" if final_newline and lines else b"")
    path.write_bytes(encode(data, fmt))
    return path


def read(path: Path, **kwargs: object):  # type: ignore[no-untyped-def]
    """`sl.read_pile(path, with_report=True, progress=False, **kwargs)`."""
    return sl.read_pile(path, with_report=True, progress=False, **kwargs)


def columnar_chunks(report) -> int:  # type: ignore[no-untyped-def]
    return sum(f.columnar_chunks for f in report.files)


def fallback_chunks(report) -> int:  # type: ignore[no-untyped-def]
    return sum(f.fallback_chunks for f in report.files)
