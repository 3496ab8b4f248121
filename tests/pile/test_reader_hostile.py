"""Hostile lines and damaged frames (docs/bad-inputs.md, "Pile reader"): deep nesting, huge
numbers, over-long lines, failed checksums/CRCs, large zstd windows, dictionaries, filters."""

from __future__ import annotations

import bz2
import difflib
import gzip
import lzma
import random
import tracemalloc
from pathlib import Path

import polars as pl
import pytest
import zstandard
from pile_io import doc, read, write, zstd_frame

import segpile_lab as sl
from segpile_lab.pile._chunks import iter_line_chunks

GOOD_BEFORE, GOOD_AFTER = doc("before", "Github"), doc("after", "ArXiv")
META = b'{"pile_set_name": "ArXiv"}'
DEEP = 5000


def _line(text: bytes = b'"x"', meta: bytes = META, extra: bytes = b"") -> bytes:
    return b'{"text": ' + text + b', "meta": ' + meta + extra + b"}"


# -- hostile JSON: skipped with a reason in lenient mode, RecordError in strict mode -------------
HOSTILE = [
    ("deep array", _line(extra=b', "x": ' + b"[" * DEEP + b"]" * DEEP), "hostile_json"),
    ("deep object as text", _line(b'{"a": ' * DEEP + b"1" + b"}" * DEEP), "hostile_json"),
    ("5000-digit integer", _line(extra=b', "n": ' + b"9" * 5000), "hostile_json"),
    ("5000-digit integer as text", _line(b"1" * 5000), "hostile_json"),
    ("deep meta as a JSON string", _line(meta=b'"' + b"[" * DEEP + b'"'), "meta_not_object"),
    ("deep and malformed", b"[" * 100_000, "hostile_json"),
]


@pytest.mark.parametrize(("line", "reason"), [c[1:] for c in HOSTILE], ids=[c[0] for c in HOSTILE])
def test_hostile_json_lenient_skips_with_reason(tmp_path: Path, line: bytes, reason: str) -> None:
    df, report = read(write(tmp_path / "h.jsonl.zst", [GOOD_BEFORE, line, GOOD_AFTER]))
    assert df["text"].to_list() == ["before", "after"] and df["line"].to_list() == [1, 3]
    assert report.skipped == {reason: 1}
    assert [(e.reason, e.line) for e in report.examples] == [(reason, 2)]


@pytest.mark.parametrize(("line", "reason"), [c[1:] for c in HOSTILE], ids=[c[0] for c in HOSTILE])
def test_hostile_json_strict_raises_record_error(tmp_path: Path, line: bytes, reason: str) -> None:
    path = write(tmp_path / "h.jsonl.zst", [GOOD_BEFORE, line, GOOD_AFTER])
    with pytest.raises(sl.RecordError) as info:
        read(path, strict=True)
    assert (info.value.reason, info.value.line) == (reason, 2)


def test_number_beyond_double_range_in_an_unused_field_is_kept(tmp_path: Path) -> None:
    line = _line(b'"big"', extra=b', "n": 1e999')  # valid JSON; json reads it as inf
    df, report = read(write(tmp_path / "f.jsonl", [line, GOOD_AFTER], "jsonl"))
    assert df["text"].to_list() == ["big", "after"] and not report.skipped


# -- max_line_bytes: skipped and counted, reading goes on, memory bounded -------------------------
LIMIT = 1000
LONG = doc("y" * 5000, "Books3")


@pytest.mark.parametrize("fmt", ["zstd", "gzip", "jsonl"])
@pytest.mark.parametrize(
    ("lines", "final_newline", "long_at"),
    [
        ([LONG, GOOD_BEFORE, GOOD_AFTER], True, [1]),
        ([GOOD_BEFORE, LONG, GOOD_AFTER], True, [2]),
        ([GOOD_BEFORE, GOOD_AFTER, LONG], False, [3]),  # the file ends inside the long line
        ([GOOD_BEFORE, LONG, LONG, GOOD_AFTER], True, [2, 3]),
    ],
    ids=["first", "middle", "last-no-newline", "two-in-a-row"],
)
def test_long_line_skipped_and_counted(
    tmp_path: Path, fmt: str, lines: list[bytes], final_newline: bool, long_at: list[int]
) -> None:
    path = write(tmp_path / "l.jsonl", lines, fmt, final_newline=final_newline)
    df, report = read(path, max_line_bytes=LIMIT)
    expected = [i + 1 for i, line in enumerate(lines) if line is not LONG]
    assert df["line"].to_list() == expected and report.skipped == {"line_too_long": len(long_at)}
    assert [e.line for e in report.examples] == long_at[:3]
    assert f"{len(LONG):,} bytes > max_line_bytes={LIMIT:,}" in report.examples[0].detail
    with pytest.raises(sl.RecordError, match="line_too_long") as info:
        read(path, max_line_bytes=LIMIT, strict=True)
    assert info.value.line == long_at[0]


@pytest.mark.parametrize(("extra", "kept"), [(0, True), (1, False)])
def test_line_length_limit_is_exact(tmp_path: Path, extra: int, kept: bool) -> None:
    path = write(tmp_path / "b.jsonl.zst", [GOOD_BEFORE, LONG, GOOD_AFTER])
    _, report = read(path, max_line_bytes=len(LONG) - extra)  # newline not counted
    assert report.rows_read == (3 if kept else 2)


def test_long_line_memory_stays_bounded() -> None:
    """A 64 MiB line without a newline (a bomb's output) with a 1 MiB limit: the cutter never
    holds much more than the limit."""
    piece = b"x" * (1 << 20)
    pieces = [(b"", 0, 0)] + [(piece, i, 0) for i in range(64)] + [(b"\n" + DOC_NL, 64, 0)]
    tracemalloc.start()
    chunks = list(iter_line_chunks(pieces, target_bytes=4 << 20, max_line_bytes=1 << 20))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 << 20, peak
    assert [c.long_lines for c in chunks] == [((1, 64 << 20),)]
    assert chunks[0].data == DOC_NL and chunks[0].first_line == 2


DOC_NL = GOOD_AFTER + b"\n"


def test_long_lines_in_batches_too(tmp_path: Path) -> None:
    path = write(tmp_path / "l.jsonl.zst", [GOOD_BEFORE, LONG, GOOD_AFTER])
    batches = sl.iter_pile_batches(path, max_line_bytes=LIMIT, progress=False)
    assert pl.concat(list(batches))["line"].to_list() == [1, 3]
    assert batches.report.skipped == {"line_too_long": 1}


def test_max_line_bytes_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_line_bytes"):
        read(write(tmp_path / "f.zst", [GOOD_BEFORE]), max_line_bytes=0)


# -- integrity: rows of a frame that fails its check are dropped (lenient) or raise (strict) ------
ROWS = [doc(f"row {i}", "Github") for i in range(200)]
DATA = b"\n".join(ROWS) + b"\n"
CUT = DATA.index(b"row 120")  # a frame boundary inside line 121


def _flip_check(frame: bytes, fmt: str) -> bytes:
    """`frame` with its integrity check broken (data untouched)."""
    data = bytearray(frame)
    where = {"zstd": -1, "gzip": -8, "bzip2": -5, "xz": -20}[fmt]  # checksum / CRC32 bytes
    data[where] ^= 0xFF
    return bytes(data)


COMPRESS = {
    "zstd": zstd_frame,
    "gzip": gzip.compress,
    "bzip2": bz2.compress,
    "xz": lambda d: lzma.compress(d, check=lzma.CHECK_CRC64),
}


def _damaged(tmp_path: Path, fmt: str) -> Path:
    """Frame 1: lines 1-120 and the start of 121; frame 2 (check broken): the rest."""
    compress = COMPRESS[fmt]
    path = tmp_path / f"damaged.{fmt}"
    path.write_bytes(compress(DATA[:CUT]) + _flip_check(compress(DATA[CUT:]), fmt))
    return path


@pytest.mark.parametrize("fmt", list(COMPRESS))
def test_failed_check_lenient_drops_the_frame_rows(tmp_path: Path, fmt: str) -> None:
    with pytest.warns(sl.DamagedFileWarning) as warned:
        df, report = read(_damaged(tmp_path, fmt))
    # line 121 starts in the good frame but ends in the damaged one: dropped with it
    assert df["line"].to_list() == list(range(1, 121))
    file = report.files[0]
    assert file.dropped_from_line == 121 and report.rows_read == 120 and not report.ended_cleanly
    assert report.skipped == ({"damaged_frame": file.rows_dropped} if file.rows_dropped else {})
    message = str(warned[0].message)
    assert "kept the 120 rows before line 121" in message
    assert f"dropped {file.rows_dropped:,} rows decoded from the damaged frame" in message


@pytest.mark.parametrize("fmt", list(COMPRESS))
def test_failed_check_strict_raises(tmp_path: Path, fmt: str) -> None:
    with pytest.raises(sl.CorruptArchiveError, match="corrupt") as info:
        read(_damaged(tmp_path, fmt), strict=True)
    assert info.value.line == 121


@pytest.mark.parametrize("batches", [False, True], ids=["read_pile", "iter_pile_batches"])
def test_files_after_a_damaged_one_are_read(tmp_path: Path, batches: bool) -> None:
    _damaged(tmp_path, "gzip").rename(tmp_path / "a.jsonl.gz")
    write(tmp_path / "b.jsonl.zst", ROWS[:7])
    with pytest.warns(sl.DamagedFileWarning, match="dropped"):
        if batches:
            reader = sl.iter_pile_batches(tmp_path, batch_rows=50, progress=False)
            df, report = pl.concat(list(reader)), reader.report
        else:
            df, report = read(tmp_path, sample_per_subset=10_000)
    assert df.filter(pl.col("source") == "a.jsonl.gz")["line"].to_list() == list(range(1, 121))
    assert df.filter(pl.col("source") == "b.jsonl.zst")["line"].to_list() == list(range(1, 8))
    assert [f.ended_cleanly for f in report.files] == [False, True]


def test_zstd_checksum_failure_after_rows_were_parsed_drops_them(tmp_path: Path) -> None:
    """2 MB frames (decoded in several ~1 MiB pieces) and small chunks: rows of the damaged
    frame are parsed before its end shows the failure, and are taken back."""
    rng = random.Random(0)
    data = b"".join(doc(rng.randbytes(40).hex(), "Github") + b"\n" for _ in range(50_000))
    size = 2_000_000
    frames = [zstd_frame(data[i : i + size]) for i in range(0, len(data), size)]
    frames[1] = _flip_check(frames[1], "zstd")
    path = tmp_path / "multi.jsonl.zst"
    path.write_bytes(b"".join(frames))
    first_bad = data[:size].count(b"\n") + 1  # the line holding frame 1's first byte
    with pytest.warns(sl.DamagedFileWarning, match="checksum"):
        df, report = _read_small_chunks(path, chunk_bytes=1 << 16)
    assert df["line"].to_list() == list(range(1, first_bad))
    assert report.files[0].rows_dropped > 0  # they had been parsed, and were taken back
    assert report.skipped == {"damaged_frame": report.files[0].rows_dropped}


def _read_small_chunks(path: Path, chunk_bytes: int = 512, **kwargs: object):  # type: ignore[no-untyped-def]
    from segpile_lab.pile import reader

    original = reader.CHUNK_BYTES
    reader.CHUNK_BYTES = chunk_bytes
    try:
        return read(path, **kwargs)
    finally:
        reader.CHUNK_BYTES = original


def test_sample_never_holds_damaged_rows(tmp_path: Path) -> None:
    """The sample of a damaged file equals the sample of its good frames alone."""
    (tmp_path / "good").mkdir()
    (tmp_path / "bad").mkdir()
    good = tmp_path / "good" / "f.jsonl.zst"
    good.write_bytes(zstd_frame(DATA[: DATA.index(b"row 120") - len(b'{"text": "')]))
    damaged = tmp_path / "bad" / "f.jsonl.zst"
    damaged.write_bytes(_damaged(tmp_path, "zstd").read_bytes())
    reference, _ = read(good, sample_per_subset=30, seed=5)
    with pytest.warns(sl.DamagedFileWarning):
        sample, _ = _read_small_chunks(damaged, sample_per_subset=30, seed=5)
    assert sample["line"].to_list() == reference["line"].to_list()
    assert reference.height == 30


def test_batches_drop_damaged_rows_not_yet_handed_out(tmp_path: Path) -> None:
    batches = sl.iter_pile_batches(_damaged(tmp_path, "gzip"), batch_rows=10**6, progress=False)
    with pytest.warns(sl.DamagedFileWarning, match="dropped"):
        lines = pl.concat(list(batches))["line"].to_list()
    assert lines == list(range(1, 121))


def test_batches_say_which_damaged_rows_were_already_handed_out(tmp_path: Path) -> None:
    rng = random.Random(1)
    data = b"".join(doc(rng.randbytes(40).hex(), "Github") + b"\n" for _ in range(30_000))
    first, second = zstd_frame(data[:1000]), _flip_check(zstd_frame(data[1000:]), "zstd")
    path = tmp_path / "f.jsonl.zst"
    path.write_bytes(first + second)
    from segpile_lab.pile import reader

    original, reader.CHUNK_BYTES = reader.CHUNK_BYTES, 1 << 16
    try:
        batches = sl.iter_pile_batches(path, batch_rows=100, progress=False)
        with pytest.warns(sl.DamagedFileWarning, match="already been handed out") as warned:
            lines = pl.concat(list(batches))["line"].to_list()
    finally:
        reader.CHUNK_BYTES = original
    file = batches.report.files[0]
    first_bad = file.dropped_from_line
    assert first_bad == data[:1000].count(b"\n") + 1
    handed_out = sum(1 for line in lines if line >= first_bad)
    assert handed_out > 0 and file.rows_already_returned == handed_out
    assert f"{handed_out:,} of them had already been handed out" in str(warned[0].message)
    assert "already handed out in batches" in str(batches.report)


# -- valid zstd files: large windows, dictionaries -------------------------------------------------
def test_zstd_long_31_window_read(tmp_path: Path) -> None:
    params = zstandard.ZstdCompressionParameters.from_level(
        3, window_log=31, enable_ldm=True, write_checksum=True
    )
    writer = zstandard.ZstdCompressor(compression_params=params).compressobj()
    path = tmp_path / "long31.jsonl.zst"
    path.write_bytes(writer.compress(DATA) + writer.flush())
    assert zstandard.get_frame_parameters(path.read_bytes()).window_size == 1 << 31
    df, report = read(path)
    assert df.height == 200 and report.ended_cleanly


def test_zstd_window_over_the_limit_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "huge-window.zst"
    # frame header: no single segment, window descriptor exponent 22 → 2**32 bytes
    path.write_bytes(b"\x28\xb5\x2f\xfd\x00" + bytes([22 << 3]) + b"\x01\x00\x00")
    with pytest.raises(sl.ArchiveError, match="needs a 4 GiB window, above the reader's 2 GiB"):
        read(path)


def test_zstd_dictionary_named_and_usable(tmp_path: Path) -> None:
    samples = [doc(f"sample {i} " * 5, "Github") for i in range(2000)]
    dictionary = zstandard.train_dictionary(8192, samples)
    path = tmp_path / "dict.jsonl.zst"
    path.write_bytes(zstandard.ZstdCompressor(dict_data=dictionary).compress(DATA))
    with pytest.raises(sl.ArchiveError, match=f"dictionary id {dictionary.dict_id()}.*zstd_dict="):
        read(path)
    (tmp_path / "pile.dict").write_bytes(dictionary.as_bytes())
    assert read(path, zstd_dict=dictionary.as_bytes())[0].height == 200
    assert read(path, zstd_dict=tmp_path / "pile.dict")[0].height == 200


# -- subsets= that match nothing -------------------------------------------------------------------
def test_filter_matching_nothing_warns_with_closest_names(tmp_path: Path) -> None:
    path = write(tmp_path / "f.zst", [doc("a", "Github"), doc("b", "ArXiv")])
    expected = difflib.get_close_matches("Githib", ["Github", "ArXiv"], n=1)
    assert expected == ["Github"]
    with pytest.warns(sl.FilterWarning, match="'Githib' matched no rows; did you mean 'Github'"):
        df, report = read(path, subsets=["Githib", "ArXiv"])
    assert df["text"].to_list() == ["b"]
    assert report.unmatched_subsets["Githib"][0] == "Github"
    assert "subsets= 'Githib' matched no rows" in str(report)
