"""Containers (bad-input items 1-8): sniffing, multi-frame streams, truncation, garbage, memory."""

from __future__ import annotations

import bz2
import gzip
import itertools
import lzma
import random
import tracemalloc
from pathlib import Path

import polars as pl
import pytest
from pile_io import doc, read, skippable_frame, write, zstd_frame

import segpile_lab as sl
from segpile_lab.pile import reader as reader_module
from segpile_lab.pile._chunks import iter_line_chunks
from segpile_lab.pile.containers import iter_decompressed, sniff_format

ROWS = [doc(f"document {i}", "Github") for i in range(50)]
DATA = b"\n".join(ROWS) + b"\n"


# -- 7. sniffing by magic bytes, not by extension -------------------------------------------------
@pytest.mark.parametrize(
    ("name", "payload", "expected"),
    [
        ("plain.jsonl.zst", DATA, "jsonl"),
        ("gzip.jsonl.zst", gzip.compress(DATA), "gzip"),
        ("zstd.jsonl", zstd_frame(DATA), "zstd"),
        ("zstd.gz", zstd_frame(DATA), "zstd"),
        ("skippable_first.bin", skippable_frame() + zstd_frame(DATA), "zstd"),
        ("empty.jsonl.zst", b"", "jsonl"),
        ("bzip2.jsonl.zst", bz2.compress(DATA), "bzip2"),
        ("xz.jsonl", lzma.compress(DATA), "xz"),
    ],
)
def test_sniff_wrong_extension(tmp_path: Path, name: str, payload: bytes, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(payload)
    assert sniff_format(path) == expected
    df, report = read(path)
    assert df.height == (0 if not payload else 50)
    assert report.files[0].format == expected


@pytest.mark.parametrize(
    ("payload", "mentions"),
    [
        (b"PK\x03\x04zipped", "zip"),
        (b"\x04\x22\x4d\x18lz4", "lz4"),
        (b"\x00\x01\x02binary\x00" * 100, "binary"),
        (b"/annex/objects/MD5E-s1234--0123abcd.jsonl.zst\n", "git-annex pointer"),
        (b"version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 9\n", "Git LFS"),
    ],
)
def test_unknown_format_raises(tmp_path: Path, payload: bytes, mentions: str) -> None:
    path = tmp_path / "mystery.jsonl.zst"
    path.write_bytes(payload)
    with pytest.raises(sl.UnknownFormatError, match=mentions) as info:
        read(path)
    assert info.value.path == str(path)


# -- 1. truncated zstd ----------------------------------------------------------------------------
@pytest.mark.parametrize("strict", [False, True])
def test_zstd_truncated_raises(tmp_path: Path, strict: bool) -> None:
    whole = zstd_frame(DATA * 20)
    path = tmp_path / "cut.jsonl.zst"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(sl.TruncatedArchiveError, match="ends inside a zstd frame") as info:
        read(path, strict=strict)
    assert info.value.path == str(path) and info.value.offset == len(whole) // 2


def test_gzip_truncated_raises(tmp_path: Path) -> None:
    whole = gzip.compress(DATA * 20)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[:-20])
    with pytest.raises(sl.TruncatedArchiveError, match="gzip member"):
        read(path)


def test_truncated_batches_yield_rows_before_raising(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl.zst"
    path.write_bytes(zstd_frame(DATA) + zstd_frame(DATA)[:-9])
    batches = sl.iter_pile_batches(path, batch_rows=10, progress=False)
    seen = 0
    with pytest.raises(sl.TruncatedArchiveError):
        for batch in batches:
            seen += batch.height
    assert seen == 50  # the complete first frame
    assert not batches.report.ended_cleanly


# -- 2. corrupt bytes mid-stream ------------------------------------------------------------------
def _corrupt_second_frame(tmp_path: Path) -> Path:
    second = bytearray(zstd_frame(DATA * 4))
    second[len(second) // 2] ^= 0xFF  # the frame checksum (or the block decoder) catches it
    path = tmp_path / "corrupt.jsonl.zst"
    path.write_bytes(zstd_frame(DATA) + bytes(second))
    return path


def test_zstd_corrupt_strict_raises(tmp_path: Path) -> None:
    path = _corrupt_second_frame(tmp_path)
    with pytest.raises(sl.CorruptArchiveError, match="corrupt zstd frame") as info:
        read(path, strict=True)
    assert info.value.path == str(path) and info.value.offset == len(zstd_frame(DATA))
    assert not isinstance(info.value, sl.TrailingDataError)


def test_zstd_corrupt_lenient_keeps_rows_before_and_says_so(tmp_path: Path) -> None:
    path = _corrupt_second_frame(tmp_path)
    with pytest.warns(sl.DamagedFileWarning, match="kept the 50 rows"):
        df, report = read(path)
    assert df.height == 50 and df["line"].to_list() == list(range(1, 51))
    assert not report.ended_cleanly
    assert "corrupt zstd frame" in report.files[0].error
    assert "STOPPED EARLY" in str(report)


def test_gzip_corrupt_raises(tmp_path: Path) -> None:
    data = bytearray(gzip.compress(DATA * 20))
    data[len(data) // 2] ^= 0xFF
    path = tmp_path / "corrupt.jsonl.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(sl.CorruptArchiveError, match="gzip member"):
        read(path, strict=True)


# -- 3. trailing garbage --------------------------------------------------------------------------
@pytest.mark.parametrize(("fmt", "frame"), [("zstd", zstd_frame), ("gzip", gzip.compress)])
@pytest.mark.parametrize("strict", [False, True])
def test_trailing_garbage_raises(tmp_path: Path, fmt: str, frame, strict: bool) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / f"padded.{fmt}"
    path.write_bytes(frame(DATA) + b"GARBAGE!" * 4)
    with pytest.raises(sl.TrailingDataError, match="trailing garbage") as info:
        read(path, strict=strict)
    assert isinstance(info.value, sl.CorruptArchiveError)
    assert info.value.offset == len(frame(DATA))


def test_trailing_garbage_raises_in_batches_too(tmp_path: Path) -> None:
    path = tmp_path / "padded.zst"
    path.write_bytes(zstd_frame(DATA) + b"\x00" * 3)
    with pytest.raises(sl.TrailingDataError):
        list(sl.iter_pile_batches(path, progress=False))


# -- 4. multi-frame, 5. skippable frames ----------------------------------------------------------
def test_zstd_multiframe_reads_every_frame(tmp_path: Path) -> None:
    # frames cut in the middle of a line: lines span frame boundaries
    cuts = [0, 100, 101, 2000, len(DATA)]
    path = tmp_path / "multi.jsonl.zst"
    path.write_bytes(b"".join(zstd_frame(DATA[a:b]) for a, b in itertools.pairwise(cuts)))
    df, report = read(path)
    assert df["text"].to_list() == [f"document {i}" for i in range(50)]
    assert df["line"].to_list() == list(range(1, 51))
    assert report.ended_cleanly


def test_gzip_multimember_reads_every_member(tmp_path: Path) -> None:
    path = tmp_path / "multi.jsonl.gz"
    path.write_bytes(gzip.compress(DATA[:777]) + gzip.compress(DATA[777:]))
    assert read(path)[0].height == 50


def test_zstd_skippable_frames_ignored(tmp_path: Path) -> None:
    path = tmp_path / "skippable.jsonl.zst"
    half = len(DATA) // 2
    path.write_bytes(
        skippable_frame(b"a")
        + zstd_frame(DATA[:half])
        + skippable_frame(b"x" * 1000)
        + zstd_frame(DATA[half:])
        + skippable_frame(b"")
    )
    df, report = read(path)
    assert df.height == 50 and report.ended_cleanly


# -- 6. empty frame / 0-byte file -----------------------------------------------------------------
@pytest.mark.parametrize(
    "payload", [b"", zstd_frame(b""), gzip.compress(b"")], ids=["0-byte", "zstd", "gzip"]
)
def test_empty_gives_full_schema(tmp_path: Path, payload: bytes) -> None:
    path = tmp_path / "empty.jsonl.zst"
    path.write_bytes(payload)
    df, report = read(path)
    assert df.height == 0 and df.schema == pl.Schema(sl.PILE_SCHEMA)
    assert report.ended_cleanly and report.rows_read == 0


def test_empty_batches_yield_nothing(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl.zst"
    path.write_bytes(zstd_frame(b""))
    assert list(sl.iter_pile_batches(path, progress=False)) == []


# -- 8. bounded memory ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["words", "one repeated line (10000:1)"])
def test_decompressed_pieces_are_bounded(tmp_path: Path, kind: str) -> None:
    rng = random.Random(0)
    words = ["alpha", "beta", "gamma", "delta", "pi", "rho", "sigma", "tau", "omega", "mu"]
    if kind == "words":
        lines = [doc(" ".join(rng.choices(words, k=200)), "Books3") for _ in range(3000)]
    else:
        lines = [doc("x" * 4000, "Books3")] * 1000  # 442 bytes compressed
    path = write(tmp_path / "big.jsonl.zst", lines)  # ~4 MB decompressed
    pieces = list(iter_decompressed(path, piece_bytes=64 << 10))
    assert b"".join(p.data for p in pieces) == b"\n".join(lines) + b"\n"
    # zstd emits whole 128 KiB blocks; ~10000:1 data packs a few blocks into the smallest feed
    assert max(len(p.data) for p in pieces) <= 8 * (64 << 10)
    positions = [p.compressed_pos for p in pieces]
    assert positions == sorted(positions)
    assert positions[-1] == path.stat().st_size  # compressed positions end at the file size
    assert {p.frame for p in pieces} == {0} and pieces[0].data == b""  # the frame's start


def test_line_chunks_are_whole_lines_near_target() -> None:
    pieces = [(DATA[i : i + 7], i, 0) for i in range(0, len(DATA), 7)]
    chunks = list(iter_line_chunks(pieces, target_bytes=500))
    assert b"".join(c.data for c in chunks) == DATA
    assert all(c.data.endswith(b"\n") for c in chunks)
    longest = max(len(r) for r in ROWS) + 1
    assert all(len(c.data) < 500 + longest + 7 for c in chunks)
    assert [c.first_line for c in chunks][:2] == [1, 1 + chunks[0].n_lines]


def test_batches_bounded(tmp_path: Path) -> None:
    path = write(tmp_path / "big.jsonl.zst", ROWS * 400)
    batches = sl.iter_pile_batches(path, batch_rows=777, progress=False)
    heights = [b.height for b in batches]
    assert max(heights) == 777 and sum(heights) == 20_000
    assert heights[:-1] == [777] * (len(heights) - 1)
    assert batches.report.rows_returned == 20_000


def test_batches_bounded_in_bytes(tmp_path: Path) -> None:
    sizes = [100, 5000, 300, 300, 300, 20_000, 50, 50]
    path = write(tmp_path / "sized.jsonl.zst", [doc("x" * n) for n in sizes])
    batches = list(sl.iter_pile_batches(path, batch_rows=100, batch_bytes=1000, progress=False))
    # greedy: add rows while the text fits in 1000 bytes; a longer document comes alone
    assert [b["n_bytes"].to_list() for b in batches] == [
        [100], [5000], [300, 300, 300], [20_000], [50, 50]
    ]  # fmt: skip


def _peak_python_memory(path: Path) -> int:
    tracemalloc.start()
    rows = sum(b.height for b in sl.iter_pile_batches(path, batch_rows=256, progress=False))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert rows > 0
    return peak


@pytest.mark.slow
def test_batches_memory_does_not_grow_with_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Peak Python-side memory (chunks, NumPy) is the same for a 23 MB and a 46 MB file."""
    monkeypatch.setattr(reader_module, "CHUNK_BYTES", 1 << 20)
    line = doc("x" * 4000, "Books3")
    small = _peak_python_memory(write(tmp_path / "small.jsonl.zst", [line] * 6_000))
    large = _peak_python_memory(write(tmp_path / "large.jsonl.zst", [line] * 12_000))
    assert large < 1.25 * small + (1 << 20), (small, large)
    assert large < 46e6 / 3


def test_a_document_mentioning_annex_paths_is_data(tmp_path: Path) -> None:
    path = write(tmp_path / "small.jsonl", [doc("see /annex/objects/ and git-lfs")], "jsonl")
    assert sniff_format(path) == "jsonl" and read(path)[0].height == 1
