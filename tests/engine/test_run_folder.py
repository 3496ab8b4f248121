"""The run folder's storage: frames come back as they were written, in bounded row groups."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

from segpile_lab.distributed import run_folder
from segpile_lab.distributed.run_folder import Encoded, RunFolder, Unit


def test_a_large_frame_is_stored_in_row_groups_of_about_row_group_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_folder, "ROW_GROUP_BYTES", 64 * 1024)
    texts = [f"{i:04d} " + "x" * 1_000 for i in range(1_000)]  # ~1 MB: about 16 groups
    sample = pl.DataFrame({"text": texts, "line": pl.Series(range(1, 1_001), dtype=pl.UInt64)})
    small = pl.DataFrame({"hash": [1, 2, 3]})
    folder, unit = RunFolder(tmp_path), Unit("shard-00", {"v": 1}, 1, None)

    folder.save(unit, Encoded({"rows": 1_000}, {"sample": sample, "duplicates": small}))

    stored = folder.load(unit)
    assert_frame_equal(stored.read("sample"), sample)
    assert_frame_equal(stored.read("duplicates"), small)
    meta = pq.ParquetFile(stored.folder / "sample.parquet").metadata
    rows = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert 12 <= len(rows) <= 20, rows  # 1 MB in groups of ~64 KiB, not Polars' one group
    assert max(rows) * 1_006 <= 1.2 * 64 * 1024
    assert pq.ParquetFile(stored.folder / "duplicates.parquet").metadata.num_row_groups == 1
