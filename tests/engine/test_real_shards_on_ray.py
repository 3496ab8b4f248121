"""The Pile's own documents on Ray: real shards as the Hugging Face mirror ships them
(``../shared/data/pile``), audited and scored on Ray, equal to the in-process results."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from engine_helpers import assert_same_audit

import segpile_lab as sl
from segpile_lab.distributed import bpb as ray_bpb

pytestmark = [pytest.mark.shared, pytest.mark.usefixtures("ray_session")]


@pytest.fixture
def real_shards(shared_data: Path, tmp_path: Path) -> Path:
    """The mirror's three zstd shards and the first ten validation documents (plain JSON
    lines): a folder of four units with real text, metadata and formats."""
    folder = tmp_path / "real"
    shutil.copytree(shared_data / "pile" / "hf_dummy", folder)
    shutil.copy(shared_data / "pile" / "val_first10.jsonl", folder)
    return folder


def test_real_shards_audit_on_ray_as_in_process(real_shards: Path, tmp_path: Path) -> None:
    local = sl.audit_pile(real_shards, progress=False)
    on_ray = sl.audit_pile(real_shards, engine="ray", run_dir=tmp_path / "run", progress=False)
    assert_same_audit(local, on_ray)
    assert local.frame.height == 13 and not local.synthetic  # 3 + 10 real documents
    assert on_ray.ray_run is not None and on_ray.ray_run.computed == 4


def test_real_documents_bpb_on_ray_as_in_process(
    real_shards: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    df = sl.read_pile(real_shards, progress=False)
    scorers = [sl.ZstdScorer(19), sl.NGramByteScorer(3).fit(df["text"].to_list()[:5])]
    monkeypatch.setattr(ray_bpb, "UNIT_BYTES", 4_000)  # several units of real documents
    assert len(ray_bpb.bpb_units(df["text"].to_list(), scorers[0])) >= 4
    local = sl.evaluate_bpb(df, scorers, bootstrap=200, progress=False)
    on_ray = sl.evaluate_bpb(
        df, scorers, bootstrap=200, engine="ray", run_dir=tmp_path / "run", progress=False
    )
    assert local.subsets.equals(on_ray.subsets)  # model-free scorers: identical, bit for bit
    assert np.array_equal(local.documents["bpb"].to_numpy(), on_ray.documents["bpb"].to_numpy())
