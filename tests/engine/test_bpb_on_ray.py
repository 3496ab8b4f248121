"""BPB on Ray: batches of documents on scorer actors, merged into the in-process result."""

from __future__ import annotations

import _thread
import threading
import time
import warnings
from pathlib import Path

import engine_helpers
import numpy as np
import polars as pl
import pytest
import ray

import segpile_lab as sl
from segpile_lab.bpb.demo_lm import demo_causal_lm
from segpile_lab.bpb.hf_scorer import HFCausalLMScorer
from segpile_lab.distributed import bpb as ray_bpb
from segpile_lab.distributed.run_folder import RunFolder

pytestmark = pytest.mark.usefixtures("ray_session")
ray.cloudpickle.register_pickle_by_value(engine_helpers)  # workers cannot import tests/


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
    assert local.ray_runs == {}
    for scorer in scorers:  # every unit computed now, each timed by its actor
        summary = on_ray.ray_runs[scorer.name]
        assert (summary.units, summary.skipped, summary.computed) == (len(units), 0, len(units))
        assert summary.compute_seconds > 0

    again = sl.evaluate_bpb(
        held_out, scorers, bootstrap=200, engine="ray", run_dir=run, progress=False
    )
    err = capsys.readouterr().err
    assert f"{len(units)} of {len(units)} units already complete" in err
    assert again.subsets.equals(on_ray.subsets)  # loaded from the run folder, bit for bit
    resumed = again.ray_runs[scorers[0].name]
    assert (resumed.skipped, resumed.computed, resumed.compute_seconds) == (len(units), 0, 0.0)


def test_units_are_contiguous_nearly_equal_and_never_split_a_document() -> None:
    scorer = sl.ZstdScorer(3)
    texts = ["x" * 100] * 16 + ["é" * 50]  # 17 documents of 100 UTF-8 bytes
    units = ray_bpb.bpb_units(texts, scorer, unit_bytes=425)  # ceil(1700 / 425) = 4 units
    # each cut at the document boundary nearest to 425, 850, 1275 bytes (a tie: the later one)
    assert [u.size for u in units] == [400, 500, 400, 400]
    assert [u.identity["first"] for u in units] == [0, 4, 9, 13]
    assert [t for u in units for t in u.payload] == texts
    # a document larger than a unit is its own unit; a cut that would be empty vanishes
    long = ["a" * 10, "b" * 1000, "c" * 10]
    assert [u.size for u in ray_bpb.bpb_units(long, scorer, unit_bytes=300)] == [10, 1000, 10]
    assert ray_bpb.bpb_units([], scorer) == []


def test_one_actor_per_gpu_each_loads_the_scorer_once(tmp_path: Path) -> None:
    # the session's Ray declares 2 logical GPUs: Ray schedules them as it would real ones
    scorer = engine_helpers.WitnessScorer(tmp_path / "log", device="cuda")
    texts = [f"document {i} " * 20 for i in range(12)]
    scores, _ = ray_bpb.score_on_ray(
        scorer, texts, unit_bytes=200, run_dir=tmp_path / "run", progress=False
    )
    assert np.array_equal(scores.nll_nats, [0.5 * len(t.encode()) for t in texts])
    events = scorer.events()
    loads = [(pid, gpu) for event, pid, gpu in events if event == "load"]
    assert len(loads) == 2 and len({pid for pid, _ in loads}) == 2  # two actors, one load each
    assert sorted(gpu for _, gpu in loads) == ["0", "1"]  # each sees only its own GPU
    assert {(pid, gpu) for event, pid, gpu in events if event == "score"} == set(loads)
    assert sum(event == "score" for event, _, _ in events) == 12  # one unit per document


def test_a_scorer_on_another_gpu_than_cuda_0_is_refused_before_any_actor_starts(
    tmp_path: Path,
) -> None:
    # an actor granted one GPU sees it as cuda:0: a model pickled from cuda:1 cannot load there
    scorer = engine_helpers.WitnessScorer(tmp_path / "log", device="cuda:1")
    with pytest.raises(ValueError, match=r"cuda:1 .* device='cuda'"):
        ray_bpb.score_on_ray(scorer, ["a document"], run_dir=tmp_path / "run", progress=False)
    assert not (tmp_path / "log").exists() and not (tmp_path / "run").exists()


def test_an_actor_that_dies_mid_batch_is_restarted_and_nothing_counts_twice(
    tmp_path: Path,
) -> None:
    scorer = engine_helpers.WitnessScorer(tmp_path / "log")
    texts = [f"fine {i} " * 30 for i in range(3)] + ["die " * 30] + ["fine " * 30] * 3
    scores, _ = ray_bpb.score_on_ray(
        scorer, texts, unit_bytes=150, run_dir=tmp_path / "run", progress=False
    )
    events = [event for event, _, _ in scorer.events()]
    assert events.count("load") == 3  # two actors, and the one that died, restarted by Ray
    # the batch that died ran again (and so may one whose reply died with the process): each
    # unit is still stored once and merged once
    assert events.count("score") >= len(texts) + 1
    assert np.array_equal(scores.nll_nats, scorer.score(texts).nll_nats)


def test_a_failing_batch_raises_its_own_error_while_others_run(tmp_path: Path) -> None:
    hold = tmp_path / "hold"
    hold.touch()
    scorer = engine_helpers.WitnessScorer(tmp_path / "log", hold=hold)
    texts = [f"fine {i} " * 30 for i in range(4)] + ["boom " * 30] + ["slow " * 30] * 3
    started = time.monotonic()
    with pytest.raises(sl.DataError, match="boom"):  # not Ray's refusal to force-cancel
        ray_bpb.score_on_ray(scorer, texts, unit_bytes=150, run_dir=tmp_path / "run",
                             progress=False)  # fmt: skip
    assert time.monotonic() - started < 60  # the held batches were stopped with their actors


@pytest.mark.slow
def test_ctrl_c_stops_bpb_on_ray_and_keeps_the_scored_batches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hold = tmp_path / "hold"
    hold.touch()
    scorer = engine_helpers.WitnessScorer(tmp_path / "log", hold=hold)
    texts = [f"fine {i} " * 30 for i in range(2)] + [f"slow {i} " * 30 for i in range(4)]
    units = ray_bpb.bpb_units(texts, scorer, unit_bytes=150)
    assert len(units) == len(texts)
    folder = RunFolder(tmp_path / "run")

    def interrupt_after_two_units() -> None:
        deadline = time.monotonic() + 60
        scored = units[:2]
        while time.monotonic() < deadline and any(folder.status(u) != "done" for u in scored):
            time.sleep(0.1)
        _thread.interrupt_main()  # what Ctrl-C (or a notebook's interrupt) does

    threading.Thread(target=interrupt_after_two_units, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        ray_bpb.score_on_ray(scorer, texts, unit_bytes=150, run_dir=folder.path, progress=False)
    assert [folder.status(u) for u in units].count("done") == 2
    assert "2 of 6 units are complete" in capsys.readouterr().err

    hold.unlink()
    scores, run = ray_bpb.score_on_ray(
        scorer, texts, unit_bytes=150, run_dir=folder.path, progress=False
    )
    assert "2 of 6 units already complete" in capsys.readouterr().err
    assert (run.units, run.skipped, run.computed) == (6, 2, 4)
    assert np.array_equal(scores.nll_nats, scorer.score(texts).nll_nats)
