"""Seeded per-subset sampling, subset filter, limit, paths and batches."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import polars as pl
import pytest
from pile_io import doc, read, write

import segpile_lab as sl
from segpile_lab.pile import reader as reader_module
from segpile_lab.pile._sampling import SubsetReservoir

SUBSETS = ["ArXiv", "Github", "FreeLaw", "Enron Emails"]


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """Two files; subset i has 10·(i+1) documents per file, named by subset and number."""
    for name in ("a.jsonl.zst", "b.jsonl.zst"):
        lines = [
            doc(f"{name} {subset} {n}", subset)
            for i, subset in enumerate(SUBSETS)
            for n in range(10 * (i + 1))
        ]
        write(tmp_path / name, lines[::2] + lines[1::2])  # interleave subsets
    return tmp_path


def test_sample_per_subset_caps_each_subset(mixed: Path) -> None:
    df, report = read(mixed, sample_per_subset=15)
    assert dict(Counter(df["subset"].to_list())) == {s: 15 for s in SUBSETS}
    assert report.rows_read == 200 and report.rows_returned == 60
    assert df["text"].n_unique() == 60


def test_sample_smaller_subset_kept_whole(mixed: Path) -> None:
    df, _ = read(mixed, sample_per_subset=25)
    assert Counter(df["subset"].to_list())["ArXiv"] == 20  # it has only 20


def test_sample_reproducible_and_seeded(mixed: Path) -> None:
    first = read(mixed, sample_per_subset=5, seed=1)[0]
    again = read(mixed, sample_per_subset=5, seed=1)[0]
    other = read(mixed, sample_per_subset=5, seed=2)[0]
    assert first["text"].to_list() == again["text"].to_list()
    assert set(first["text"]) != set(other["text"])


def test_sample_independent_of_chunking_and_file_order(
    mixed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = set(read(mixed, sample_per_subset=7, seed=3)[0]["text"])
    monkeypatch.setattr(reader_module, "CHUNK_BYTES", 300)  # many small batches
    reordered = [mixed / "b.jsonl.zst", mixed / "a.jsonl.zst"]
    assert set(read(reordered, sample_per_subset=7, seed=3)[0]["text"]) == whole


def test_sample_in_reading_order(mixed: Path) -> None:
    df, _ = read(mixed, sample_per_subset=5)
    order = list(zip(df["source"].to_list(), df["line"].to_list(), strict=True))
    assert order == sorted(order)


def test_sample_is_uniform(tmp_path: Path) -> None:
    """Over 600 seeds each of 12 rows is drawn about 600·4/12 = 200 times."""
    path = write(tmp_path / "u.zst", [doc(str(i), "Github") for i in range(12)])
    counts: Counter[str] = Counter()
    for seed in range(600):
        counts.update(read(path, sample_per_subset=4, seed=seed)[0]["text"].to_list())
    assert sum(counts.values()) == 2400
    assert all(150 < n < 250 for n in counts.values()), counts


def test_reservoir_holds_at_most_k_per_subset(mixed: Path) -> None:
    reservoir = SubsetReservoir(3, seed=0)
    for batch in sl.iter_pile_batches(mixed, batch_rows=9, progress=False):
        reservoir.add(batch, 0)
        held = reservoir.result()
        assert held is not None and held.height <= 3 * len(SUBSETS)
    assert reservoir.result().height == 12  # type: ignore[union-attr]


def test_subsets_filter_accepts_aliases(mixed: Path) -> None:
    df, report = read(mixed, subsets=["pile_github", "Enron Emails"])
    assert set(df["subset"]) == {"Github", "Enron Emails"} and df.height == 40 + 80
    assert report.rows_filtered_out == 200 - 120


def test_subsets_filter_accepts_one_name(mixed: Path) -> None:
    assert set(read(mixed, subsets="ArXiv")[0]["subset"]) == {"ArXiv"}


@pytest.mark.parametrize(("limit", "rows"), [(0, 0), (1, 1), (10_000, 200)])
def test_limit_edges(mixed: Path, limit: int, rows: int) -> None:
    df, _ = read(mixed, limit=limit)
    assert df.height == rows and df.schema == pl.Schema(sl.PILE_SCHEMA)


def test_negative_limit_rejected(mixed: Path) -> None:
    with pytest.raises(ValueError, match="limit"):
        read(mixed, limit=-1)


def test_limit(mixed: Path) -> None:
    df, report = read(mixed, limit=33)
    assert df.height == 33 and report.rows_returned == 33
    assert "caller stopped early" in (report.files[0].error or "")


# 27 (reader side): a subset with no documents after filtering gives an empty frame
def test_filter_leaving_nothing_gives_empty_frame(mixed: Path) -> None:
    with pytest.warns(sl.FilterWarning, match="'PhilPapers' matched no rows"):
        df, report = read(mixed, subsets=["PhilPapers"], sample_per_subset=3)
    assert df.height == 0 and list(df.columns) == list(sl.PILE_SCHEMA)
    assert report.rows_returned == 0


# 25: byte counts never wrap at 4 GiB
def test_n_bytes_is_uint64_and_sums_past_4_gib(mixed: Path) -> None:
    df, _ = read(mixed)
    assert df.schema["n_bytes"] == sl.PILE_SCHEMA["n_bytes"] == df.schema["line"]
    scaled = (df["n_bytes"] * 2**28).sum()  # what ~2**28 such shards would total
    assert scaled == sum(len(t.encode()) for t in df["text"]) * 2**28 > 2**32


def test_paths_dirs_and_globs(mixed: Path) -> None:
    (mixed / "SHA256SUMS.txt").write_text("not data\n")
    (mixed / "sub").mkdir()
    write(mixed / "sub" / "c.jsonl", [doc("plain", "ArXiv")], "jsonl")
    assert read(mixed)[0].height == 201  # the folder: its data files, recursively, not the sums
    assert read(str(mixed / "*.zst"))[0].height == 200
    assert read([mixed / "a.jsonl.zst", str(mixed / "**" / "*.jsonl")])[0].height == 101
    # `source` is the path below the common folder, so names in subfolders stay apart
    assert read(mixed)[0]["source"].unique().sort().to_list() == [
        "a.jsonl.zst", "b.jsonl.zst", "sub/c.jsonl"
    ]  # fmt: skip


def test_no_files_raises(tmp_path: Path) -> None:
    with pytest.raises(sl.DataError, match="no Pile files"):
        read(tmp_path / "missing*.zst")


def test_batches_report_and_close(mixed: Path) -> None:
    batches = sl.iter_pile_batches(mixed, batch_rows=64, subsets=["FreeLaw"], progress=False)
    first = next(batches)
    assert first.height == 60 and set(first["subset"]) == {"FreeLaw"}
    batches.close()
    assert batches.report.rows_returned == 60
    assert list(batches) == []


def test_report_str_html_and_dict(tmp_path: Path) -> None:
    path = write(tmp_path / "f.zst", [doc("a"), b"{bad", doc("", "Githib")])
    _, report = read(path)
    text = str(report)
    assert "2 rows read" in text and "skipped 1 × malformed_json" in text
    assert "line 2" in text and "ended cleanly" in text
    assert "<li>" in report._repr_html_()
    data = report.to_dict()
    assert data["skipped"] == {"malformed_json": 1} and data["ended_cleanly"] is True
    assert data["flagged"] == {"empty_text": 1, "unknown_subset": 1}


def test_on_frame_sees_every_row_read_while_only_a_sample_is_kept(tmp_path) -> None:
    from pile_io import doc, write

    from segpile_lab.pile.reader import read_pile

    lines = [doc(f"d{i}", "ArXiv" if i % 3 else "Github") for i in range(50)]
    path = write(tmp_path / "f.zst", lines)
    seen: list[int] = []
    sample = read_pile(path, sample_per_subset=2, on_frame=lambda f: seen.append(f.height))
    assert sample.height == 4 and sum(seen) == 50
    seen.clear()
    read_pile(path, limit=7, on_frame=lambda f: seen.append(f.height))
    assert sum(seen) == 7
