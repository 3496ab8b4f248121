"""The shared Hugging Face loader: cache and offline rules, and errors a person can act on."""

from __future__ import annotations

import time

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from segpile_lab import _hub
from segpile_lab.errors import ModelNotAvailableError


def test_unreachable_hub_fails_fast_with_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(_hub, "hub_reachable", lambda timeout_s=3.0: False)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
    start = time.perf_counter()
    with pytest.raises(ModelNotAvailableError) as info:
        _hub.load_pretrained(GPT2LMHeadModel, "owner/no-such-model", what="language model")
    message = str(info.value)
    assert time.perf_counter() - start < 10  # no minutes of HTTP retries
    assert "'owner/no-such-model'" in message
    assert "unreachable" in message
    assert "hf download owner/no-such-model" in message
    assert "huggingface-cli" not in message  # current huggingface-hub ships `hf`
    # notebooks show the first line alone: plain words, the loader's raw error on the last line
    first, *_, last = message.splitlines()
    assert first.endswith("(the hub endpoint is unreachable from this machine).")
    assert "Error" not in first and "huggingface.co" not in first
    assert last.startswith("Loader error: ")


def test_offline_flag_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    with pytest.raises(ModelNotAvailableError, match=r"offline \(HF_HUB_OFFLINE=1"):
        _hub.load_pretrained(GPT2LMHeadModel, "owner/no-such-model", what="language model")


def test_missing_local_directory_is_named() -> None:
    with pytest.raises(ModelNotAvailableError, match="no such local directory"):
        _hub.load_pretrained(GPT2LMHeadModel, "./not/here", what="language model")


def test_local_directory_loads_safetensors(tmp_path) -> None:
    config = GPT2Config(n_layer=1, n_head=2, n_embd=8, vocab_size=16, n_positions=8)
    GPT2LMHeadModel(config).save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").exists()
    model = _hub.load_pretrained(GPT2LMHeadModel, tmp_path, what="language model")
    assert model.config.n_embd == 8


def test_tensor_only_pickle_loads_through_weights_only(tmp_path) -> None:
    """A `pytorch_model.bin` of plain tensors (what most hub repos ship) loads; see
    tests/models/ for the pickle that builds objects, which is refused."""
    config = GPT2Config(n_layer=1, n_head=2, n_embd=8, vocab_size=16, n_positions=8)
    config.save_pretrained(tmp_path)
    reference = GPT2LMHeadModel(config)
    torch.save(reference.state_dict(), tmp_path / "pytorch_model.bin")
    loaded = _hub.load_model(GPT2LMHeadModel, tmp_path, what="language model")
    assert loaded.newly_initialised == ()
    assert torch.equal(loaded.model.transformer.wte.weight, reference.transformer.wte.weight)
