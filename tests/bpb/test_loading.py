"""Loading models by id or directory: missing weights offline give ModelNotAvailableError."""

from __future__ import annotations

import pytest

from segpile_lab.bpb.hf_scorer import HFCausalLMScorer
from segpile_lab.errors import ModelNotAvailableError, UntrainedModelWarning


def test_unknown_hub_id_offline_raises_model_not_available(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(ModelNotAvailableError, match="EleutherAI/pythia-70m"):
        HFCausalLMScorer("EleutherAI/pythia-70m", local_files_only=True)


def test_missing_local_directory_raises_model_not_available(tmp_path):
    with pytest.raises(ModelNotAvailableError, match="no such local directory"):
        HFCausalLMScorer(str(tmp_path / "nowhere" / "model"))


def test_saved_directory_round_trips_and_keeps_scores(tmp_path):
    from segpile_lab.bpb.demo_lm import demo_causal_lm

    with pytest.warns(UntrainedModelWarning):
        model, tokenizer = demo_causal_lm("gpt-neox", hidden_size=32, max_length=32)
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    loaded = HFCausalLMScorer(str(tmp_path), local_files_only=True)
    original = HFCausalLMScorer(model, tokenizer)
    text = ["a short document that spans more than one window of 32 bytes"]
    assert loaded.score(text, progress=False).nll_nats == pytest.approx(
        original.score(text, progress=False).nll_nats, rel=1e-6
    )
    assert loaded.max_length == 32
    assert not loaded.is_trained  # the label survives saving


def test_loaded_model_without_tokenizer_is_refused():
    from bpb_fakes import UniformLM

    with pytest.raises(ValueError, match="tokenizer"):
        HFCausalLMScorer(UniformLM(4, 8))


def test_sliding_stride_longer_than_the_window_is_refused():
    from bpb_fakes import UniformLM

    from segpile_lab.bpb.demo_lm import byte_level_tokenizer

    with pytest.raises(ValueError, match="stride"):
        HFCausalLMScorer(UniformLM(257, 8), byte_level_tokenizer(), stride=9)
