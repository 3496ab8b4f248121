"""BPB on Ray: batches of documents on scorer actors, merged into the in-process result."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import segpile_lab as sl
from segpile_lab.bpb.demo_lm import demo_causal_lm
from segpile_lab.bpb.hf_scorer import HFCausalLMScorer
from segpile_lab.distributed import bpb as ray_bpb

pytestmark = pytest.mark.usefixtures("ray_session")


# A language model's float32 NLL of a document depends, in its last bits, on the other
# windows in its batch (matrix products of another shape take other BLAS blocks), and a unit
# batches only its own documents: its values agree to float32 rounding. Model-free scorers and
# everything computed from the per-document values (pooling, bootstrap) are exact.
MODEL = "demo-gpt2"
FLOAT_COLUMNS = (
    "nll_nats", "nll_bits", "bpb", "ci_low", "ci_high", "byte_perplexity", "word_perplexity",
    "token_perplexity", "mean_nll_nats", "mean_nll_bits",
)  # fmt: skip


def assert_same(left: pl.DataFrame, right: pl.DataFrame) -> None:
    """Equal value for value, except the model's float columns: to 1e-6 relative."""
    assert left.columns == right.columns and left.height == right.height
    model = pl.col("scorer") == MODEL
    for column in left.columns:
        if column in FLOAT_COLUMNS:
            assert left.filter(~model)[column].equals(right.filter(~model)[column]), column
            a, b = left.filter(model)[column], right.filter(model)[column]
            assert np.allclose(a.to_numpy(), b.to_numpy(), rtol=1e-6, equal_nan=True), column
        else:
            assert left[column].equals(right[column]), column


@pytest.fixture
def documents(shards: Path) -> pl.DataFrame:
    """A few short documents per subset, one of them empty (excluded and counted)."""
    df = sl.read_pile(shards, sample_per_subset=2, progress=False)
    return df.with_columns(pl.col("text").str.slice(0, 600))


@pytest.mark.slow
def test_ray_bpb_equals_in_process_and_resumes(
    documents: pl.DataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fit, held_out = sl.fit_split(documents, 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sl.UntrainedModelWarning)
        model, tokenizer = demo_causal_lm("gpt2")
    scorers = [
        sl.ZstdScorer(19),
        sl.ZstdScorer.train(fit["text"].to_list() * 4, level=3, dict_size=2048),
        sl.NGramByteScorer(3).fit(fit["text"].to_list()),
        HFCausalLMScorer(model, tokenizer, name=MODEL, max_length=32),
    ]
    monkeypatch.setattr(ray_bpb, "UNIT_BYTES", 2_000)  # several units per scorer
    units = ray_bpb.bpb_units(held_out["text"].to_list(), scorers[0])
    assert len(units) >= 4

    local = sl.evaluate_bpb(held_out, scorers, bootstrap=200, progress=False)
    run = tmp_path / "run"
    on_ray = sl.evaluate_bpb(
        held_out, scorers, bootstrap=200, engine="ray", run_dir=run, progress=False
    )
    for name in ("documents", "subsets", "loss_by_position", "scorers"):
        assert_same(getattr(local, name), getattr(on_ray, name))
    assert local.notes == on_ray.notes
    assert local.loss_by_position.height > 0  # the language model's positions merged too

    again = sl.evaluate_bpb(
        held_out, scorers, bootstrap=200, engine="ray", run_dir=run, progress=False
    )
    err = capsys.readouterr().err
    assert f"{len(units)} of {len(units)} units already complete" in err
    assert again.subsets.equals(on_ray.subsets)  # loaded from the run folder, bit for bit
