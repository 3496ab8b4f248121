"""Lines and JSON (bad-input items 9-18): skipped and counted, fixed and counted, or accepted."""

from __future__ import annotations

from pathlib import Path

import pytest
from pile_io import columnar_chunks, doc, fallback_chunks, read, write

import segpile_lab as sl
from segpile_lab.pile import reader as reader_module

GOOD = [doc("first"), doc("second"), doc("third")]


def _texts(df) -> list[str]:  # type: ignore[no-untyped-def]
    return df["text"].to_list()


# 9
def test_malformed_line_in_the_middle_skipped_and_counted(tmp_path: Path) -> None:
    df, report = read(write(tmp_path / "f.zst", [GOOD[0], b'{"text": "bro', GOOD[1]]))
    assert _texts(df) == ["first", "second"] and df["line"].to_list() == [1, 3]
    assert report.skipped == {"malformed_json": 1}
    assert report.examples[0].line == 2 and report.examples[0].source == "f.zst"


def test_malformed_line_strict_raises_with_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(sl.RecordError, match=r"f\.zst, line 2: .*\[malformed_json\]") as info:
        read(write(tmp_path / "f.zst", [GOOD[0], b"{oops", GOOD[1]]), strict=True)
    assert (info.value.line, info.value.reason) == (2, "malformed_json")


# 10
def test_truncated_last_line_counted_separately(tmp_path: Path) -> None:
    path = write(tmp_path / "f.jsonl", [*GOOD, doc("fourth")[:-9]], "jsonl", final_newline=False)
    df, report = read(path)
    assert _texts(df) == ["first", "second", "third"]
    assert report.skipped == {"truncated_last_line": 1}


# 11
@pytest.mark.parametrize(
    ("lines", "final_newline", "blank"),
    [
        ([GOOD[0], b"", b"   ", GOOD[1], b"\t", GOOD[2]], True, 3),
        ([g + b"\r" for g in GOOD], True, 0),
        (GOOD, False, 0),
        ([GOOD[0] + b"\r", b"\r", GOOD[1], GOOD[2] + b"\r"], False, 1),
    ],
    ids=["blank lines", "CRLF", "no final newline", "mixed"],
)
def test_blank_crlf_no_final_newline_accepted(
    tmp_path: Path, lines: list[bytes], final_newline: bool, blank: int
) -> None:
    df, report = read(write(tmp_path / "f.zst", lines, final_newline=final_newline))
    assert _texts(df) == ["first", "second", "third"]
    assert report.rows_skipped == 0 and report.blank_lines == blank
    expected_lines = [i + 1 for i, line in enumerate(lines) if line.strip()]
    assert df["line"].to_list() == expected_lines


def test_crlf_stays_columnar(tmp_path: Path) -> None:
    _, report = read(write(tmp_path / "f.zst", [g + b"\r" for g in GOOD]))
    assert columnar_chunks(report) == 1 and fallback_chunks(report) == 0


# 12
def test_bom_stripped_and_counted(tmp_path: Path) -> None:
    df, report = read(write(tmp_path / "f.zst", [b"\xef\xbb\xbf" + GOOD[0], GOOD[1]]))
    assert _texts(df) == ["first", "second"]
    assert report.fixed == {"bom_stripped": 1} and report.rows_skipped == 0


# 13
def test_non_utf8_skipped_rest_of_file_read(tmp_path: Path) -> None:
    bad = b'{"text": "caf\xe9 latin-1", "meta": {"pile_set_name": "ArXiv"}}'
    df, report = read(write(tmp_path / "f.zst", [GOOD[0], bad, GOOD[1], GOOD[2]]))
    assert _texts(df) == ["first", "second", "third"]
    assert report.skipped == {"non_utf8": 1}


def test_non_utf8_replaced_on_request(tmp_path: Path) -> None:
    bad = b'{"text": "caf\xe9", "meta": {"pile_set_name": "ArXiv"}}'
    df, report = read(write(tmp_path / "f.zst", [bad, GOOD[0]]), unicode_errors="replace")
    assert _texts(df) == ["caf\ufffd", "first"]
    assert report.fixed == {"non_utf8_replaced": 1}
    assert df["n_bytes"].to_list() == [6, 5]


# 14
@pytest.mark.parametrize("escape", [b"\\ud800", b"\\udc00", b"\\ud800\\ud800", b"\\ud800x"])
def test_lone_surrogate_skipped_never_nul(tmp_path: Path, escape: bytes) -> None:
    bad = b'{"text": "a' + escape + b'b", "meta": {"pile_set_name": "ArXiv"}}'
    df, report = read(write(tmp_path / "f.zst", [GOOD[0], bad, GOOD[1]]))
    assert _texts(df) == ["first", "second"]
    assert report.skipped == {"lone_surrogate": 1}


def test_lone_surrogate_replaced_by_fffd(tmp_path: Path) -> None:
    bad = b'{"text": "a\\ud800b", "meta": {"pile_set_name": "ArXiv"}}'
    df, report = read(write(tmp_path / "f.zst", [bad]), unicode_errors="replace")
    assert _texts(df) == ["a\ufffdb"] and "\x00" not in df["text"][0]
    assert df["n_bytes"][0] == len("a\ufffdb".encode())
    assert report.fixed == {"lone_surrogate_replaced": 1}


def test_valid_surrogate_pair_and_escaped_nul_kept(tmp_path: Path) -> None:
    pair = b'{"text": "smile \\ud83d\\ude00", "meta": {"pile_set_name": "ArXiv"}}'
    nul = b'{"text": "a\\u0000b", "meta": {"pile_set_name": "ArXiv"}}'
    df, report = read(write(tmp_path / "f.zst", [pair, nul]))
    assert _texts(df) == ["smile \U0001f600", "a\x00b"]
    assert df["n_bytes"].to_list() == [10, 3] and report.rows_skipped == 0


# 15
@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity"])
def test_nan_infinity_skipped(tmp_path: Path, literal: bytes) -> None:
    bad = b'{"text": "x", "meta": {"pile_set_name": "ArXiv"}, "score": ' + literal + b"}"
    df, report = read(write(tmp_path / "f.zst", [GOOD[0], bad]))
    assert _texts(df) == ["first"] and report.skipped == {"nan_literal": 1}


def test_nan_inside_text_is_just_text(tmp_path: Path) -> None:
    df, report = read(write(tmp_path / "f.zst", [doc("x = NaN; y = Infinity")]))
    assert _texts(df) == ["x = NaN; y = Infinity"] and columnar_chunks(report) == 1


# 16
@pytest.mark.parametrize(
    ("line", "text", "subset"),
    [
        (b'{"text": "a", "text": "b", "meta": {"pile_set_name": "ArXiv"}}', "b", "ArXiv"),
        (
            b'{"text": "a", "meta": {"pile_set_name": "ArXiv", "pile_set_name": "Github"}}',
            "a",
            "Github",
        ),
        (
            b'{"text": "a", "meta": {"pile_set_name": "ArXiv"}, '
            b'"meta": {"pile_set_name": "FreeLaw"}}',
            "a",
            "FreeLaw",
        ),
        (b'{"meta": {"pile_set_name": "ArXiv"}, "text": "a", "text": "z"}', "z", "ArXiv"),
        (b'{"text": "a", "text" : "b", "meta": {"pile_set_name": "ArXiv"}}', "b", "ArXiv"),
        (b'{"text": "a", "text"\t:\t"b", "meta": {"pile_set_name": "ArXiv"}}', "b", "ArXiv"),
    ],
    ids=["text", "pile_set_name", "meta", "text after meta", "space before colon", "tabs"],
)
def test_duplicate_keys_last_wins(tmp_path: Path, line: bytes, text: str, subset: str) -> None:
    df, _ = read(write(tmp_path / "f.zst", [line, GOOD[0]]))
    assert df.row(0, named=True)["text"] == text and df["subset"][0] == subset


# 17
def test_pretty_printed_json_skipped_per_line_no_null_rows(tmp_path: Path) -> None:
    pretty = [b"{", b'  "text": "x",', b'  "meta": {"pile_set_name": "ArXiv"}', b"}"]
    df, report = read(write(tmp_path / "f.zst", [GOOD[0], *pretty, GOOD[1]]))
    assert _texts(df) == ["first", "second"] and df["text"].null_count() == 0
    assert report.skipped == {"malformed_json": 4}


@pytest.mark.parametrize(
    "line", [b'[{"text": "a", "meta": {"pile_set_name": "ArXiv"}}]', b"5", b'"abc"', b"null"]
)
def test_top_level_non_object_skipped(tmp_path: Path, line: bytes) -> None:
    df, report = read(write(tmp_path / "f.zst", [line, GOOD[0]]))
    assert _texts(df) == ["first"] and report.skipped == {"not_an_object": 1}


# 18
def test_very_long_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader_module, "CHUNK_BYTES", 1 << 20)  # the line spans 24 chunks' worth
    long_text = "What is 2 + 2? 4\n" * 1_500_000  # 25.5 MB, like a DM Mathematics document
    df, report = read(
        write(tmp_path / "f.zst", [GOOD[0], doc(long_text, "DM Mathematics"), GOOD[1]])
    )
    assert df["n_bytes"].to_list() == [5, len(long_text), 6]
    assert df["text"][1] == long_text and df["line"].to_list() == [1, 2, 3]
    assert report.rows_skipped == 0
