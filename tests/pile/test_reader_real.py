"""Real third-party Pile files (../shared/data/pile): read exactly as json + zstandard do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import zstandard
from pile_io import columnar_chunks, read

import segpile_lab as sl

pytestmark = pytest.mark.shared


def _reference(path: Path) -> list[dict]:
    """The documents as an independent reader sees them (python json, one-shot zstd)."""
    data = path.read_bytes()
    if data[:4] == b"\x28\xb5\x2f\xfd":
        data = zstandard.ZstdDecompressor().decompressobj().decompress(data)
    return [json.loads(line) for line in data.decode().splitlines() if line.strip()]


def test_val_first10(shared_data: Path) -> None:
    path = shared_data / "pile" / "val_first10.jsonl"
    df, report = read(path)
    ref = _reference(path)
    assert df["text"].to_list() == [d["text"] for d in ref]
    assert df["subset"].to_list() == [d["meta"]["pile_set_name"] for d in ref]
    assert df["n_bytes"].to_list() == [len(d["text"].encode()) for d in ref]
    assert df["n_chars"].to_list() == [len(d["text"]) for d in ref]
    assert df["line"].to_list() == list(range(1, 11)) and df["known_subset"].all()
    assert set(df["subset"]) == {"PubMed Abstracts", "OpenWebText2", "StackExchange", "Github"}
    assert report.ended_cleanly and report.rows_skipped == 0 and columnar_chunks(report) == 1


@pytest.mark.parametrize("name", ["00.jsonl.zst", "val.jsonl.zst", "test.jsonl.zst"])
def test_hf_dummy_shards(shared_data: Path, name: str) -> None:
    path = shared_data / "pile" / "hf_dummy" / name
    df, report = read(path)
    ref = _reference(path)
    assert df["text"].to_list() == [d["text"] for d in ref]
    assert df["subset"].to_list() == [d["meta"]["pile_set_name"] for d in ref]
    assert report.files[0].format == "zstd" and report.ended_cleanly


def test_hf_dummy_folder_in_batches(shared_data: Path) -> None:
    batches = sl.iter_pile_batches(shared_data / "pile" / "hf_dummy", batch_rows=2, progress=False)
    heights = [b.height for b in batches]
    assert heights == [2, 1] and batches.report.ended_cleanly
    assert [Path(f.path).name for f in batches.report.files] == [
        "00.jsonl.zst", "test.jsonl.zst", "val.jsonl.zst"
    ]  # fmt: skip


def test_real_shard_truncated_copy_raises(shared_data: Path, tmp_path: Path) -> None:
    data = (shared_data / "pile" / "hf_dummy" / "00.jsonl.zst").read_bytes()
    cut = tmp_path / "00.jsonl.zst"
    cut.write_bytes(data[: len(data) - 100])
    with pytest.raises(sl.TruncatedArchiveError):
        read(cut)
