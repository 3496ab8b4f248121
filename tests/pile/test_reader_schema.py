"""The Pile schema (bad-input items 19-24) and the frame contract."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from pile_io import columnar_chunks, doc, read, write

GOOD = doc("good", "Github")


def test_frame_contract_columns_and_types(tmp_path: Path) -> None:
    df, _ = read(write(tmp_path / "f.zst", [GOOD, doc("é€😀", "ArXiv")]))
    assert df.schema == pl.Schema(
        {
            "subset": pl.String, "text": pl.String, "n_bytes": pl.UInt64, "n_chars": pl.UInt64,
            "source": pl.String, "line": pl.UInt64, "known_subset": pl.Boolean,
            "synthetic": pl.Boolean,
        }
    )  # fmt: skip
    assert df.row(1) == ("ArXiv", "é€😀", 2 + 3 + 4, 3, "f.zst", 2, True, False)


# 19
@pytest.mark.parametrize(
    "line",
    [
        b'{"text": "x"}',
        b'{"text": "x", "meta": null}',
        b'{"text": "x", "meta": {}}',
        b'{"text": "x", "meta": {"pile_set_name": null}}',
        b'{"text": "x", "meta": {"pile_set_name": 7}}',
    ],
    ids=["no meta", "null meta", "empty meta", "null name", "number name"],
)
def test_missing_subset_kept_as_unknown(tmp_path: Path, line: bytes) -> None:
    df, report = read(write(tmp_path / "f.zst", [GOOD, line]))
    assert df["subset"].to_list() == ["Github", "<unknown>"]
    assert df["known_subset"].to_list() == [True, False]
    assert report.flagged == {"missing_subset": 1} and report.rows_skipped == 0


# 20
def test_meta_as_json_string_parsed(tmp_path: Path) -> None:
    line = json.dumps({"text": "x", "meta": json.dumps({"pile_set_name": "FreeLaw"})}).encode()
    df, report = read(write(tmp_path / "f.zst", [line, GOOD]))
    assert df["subset"].to_list() == ["FreeLaw", "Github"]
    assert report.fixed == {"meta_json_string": 1}


@pytest.mark.parametrize("meta", [b"[1, 2]", b"5", b'"not json"', b'"[1]"', b"true"])
def test_meta_list_or_number_skipped(tmp_path: Path, meta: bytes) -> None:
    df, report = read(write(tmp_path / "f.zst", [b'{"text": "x", "meta": ' + meta + b"}", GOOD]))
    assert df["text"].to_list() == ["good"] and report.skipped == {"meta_not_object": 1}


# 21
@pytest.mark.parametrize(
    "line",
    [
        b'{"meta": {"pile_set_name": "ArXiv"}}',
        b'{"text": null, "meta": {"pile_set_name": "ArXiv"}}',
    ],
)
def test_missing_text_skipped(tmp_path: Path, line: bytes) -> None:
    df, report = read(write(tmp_path / "f.zst", [line, GOOD]))
    assert df.height == 1 and report.skipped == {"missing_text": 1}


def test_empty_text_kept_and_flagged(tmp_path: Path) -> None:
    df, report = read(write(tmp_path / "f.zst", [doc("", "Enron Emails"), GOOD]))
    assert df["n_bytes"].to_list() == [0, 4]
    assert report.flagged == {"empty_text": 1} and report.examples[0].line == 1


# 22
@pytest.mark.parametrize("value", [b"123", b"[1, 2]", b'{"a": 1}', b"true", b"1.5"])
def test_text_of_another_type_skipped_never_coerced(tmp_path: Path, value: bytes) -> None:
    line = b'{"text": ' + value + b', "meta": {"pile_set_name": "ArXiv"}}'
    df, report = read(write(tmp_path / "f.zst", [line, GOOD]))
    assert df["text"].to_list() == ["good"] and report.skipped == {"text_not_string": 1}


# 23
def test_unknown_subset_kept_and_flagged(tmp_path: Path) -> None:
    lines = [doc("a", "Githib"), doc("b", "Githib"), doc("c", "Pile-v2 Code"), GOOD]
    df, report = read(write(tmp_path / "f.zst", lines))
    assert df["subset"].to_list() == ["Githib", "Githib", "Pile-v2 Code", "Github"]
    assert df["known_subset"].to_list() == [False, False, False, True]
    assert report.flagged == {"unknown_subset": 3}
    assert report.unknown_subsets == {"Githib": 2, "Pile-v2 Code": 1}


def test_alias_mapped_and_counted(tmp_path: Path) -> None:
    df, report = read(write(tmp_path / "f.zst", [doc("a", "pile_arxiv"), doc("b", "CommonCrawl")]))
    assert df["subset"].to_list() == ["ArXiv", "Pile-CC"] and df["known_subset"].all()
    assert report.fixed == {"subset_alias": 2}


# 24
def test_extra_fields_ignored_and_still_columnar(tmp_path: Path) -> None:
    line = (
        b'{"id": 5, "text": "x", "url": "u", '
        b'"meta": {"pile_set_name": "ArXiv", "lang": "en", "n": [1, {"q": 2}]}}'
    )
    df, report = read(write(tmp_path / "f.zst", [line, GOOD]))
    assert df["text"].to_list() == ["x", "good"] and report.rows_skipped == 0
    assert columnar_chunks(report) == 1


def test_synthetic_flag_read_from_meta(tmp_path: Path) -> None:
    lines = [
        doc("a", "ArXiv"),
        b'{"text": "b", "meta": {"pile_set_name": "ArXiv", "synthetic": true}}',
    ]
    df, report = read(write(tmp_path / "f.zst", lines))
    assert df["synthetic"].to_list() == [False, True] and columnar_chunks(report) == 1


def test_synthetic_not_bool_read_as_false_and_counted(tmp_path: Path) -> None:
    line = b'{"text": "b", "meta": {"pile_set_name": "ArXiv", "synthetic": "yes"}}'
    df, report = read(write(tmp_path / "f.zst", [line]))
    assert df["synthetic"].to_list() == [False] and report.fixed == {"synthetic_not_bool": 1}
