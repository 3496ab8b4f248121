"""Causal LMs in every weight layout the hub uses score offline, equal to the model they hold."""

from __future__ import annotations

import warnings

import pytest
from hub_cache import GPT2, LLAMA, NEOX_SHARDED_BIN, PYTHIA

from segpile_lab.bpb.hf_scorer import HFCausalLMScorer
from segpile_lab.errors import ModelNotAvailableError, UntrainedModelWarning

TEXTS = ["The Pile is a large corpus.", "def main():\n    return 0\n" * 3]


def _reference_nll(hub_cache, repo_id: str) -> list[float]:
    """The same texts scored by the in-memory seeded model with the same tokenizer."""
    from transformers import PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast(
        tokenizer_file=str(hub_cache.snapshots[repo_id]["main"] / "tokenizer.json"),
        eos_token="<|endoftext|>",
        bos_token="<|endoftext|>",
    )
    scorer = HFCausalLMScorer(hub_cache.models[repo_id], tokenizer, device="cpu")
    return list(scorer.score(TEXTS, progress=False).nll_nats)


@pytest.mark.parametrize(
    ("repo_id", "layout"),
    [
        (GPT2, "model.safetensors beside pytorch_model.bin"),
        (PYTHIA, "model.safetensors"),
        (LLAMA, "model.safetensors.index.json"),
        (NEOX_SHARDED_BIN, "pytorch_model.bin.index.json"),
    ],
)
def test_each_layout_scores_like_the_model_it_holds(offline_hub, repo_id, layout):
    snapshot = offline_hub.snapshots[repo_id]["main"]
    assert (snapshot / layout.split()[0]).exists()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scorer = HFCausalLMScorer(repo_id, device="cpu")
    assert scorer.is_trained and scorer.untrained_reason is None
    got = scorer.score(TEXTS, progress=False).nll_nats
    assert list(got) == pytest.approx(_reference_nll(offline_hub, repo_id), rel=1e-5)


def test_pythia_training_checkpoint_branch(offline_hub):
    scorer = HFCausalLMScorer(PYTHIA, revision="step1000", device="cpu")
    assert scorer.is_trained
    with pytest.raises(ModelNotAvailableError, match="--revision step2000"):
        HFCausalLMScorer(PYTHIA, revision="step2000", device="cpu")


def test_checkpoint_missing_layers_is_not_trained(tmp_path, offline_hub):
    """A checkpoint that leaves weights random (here: one layer dropped) is labelled untrained."""
    from safetensors.torch import save_file

    source = offline_hub.snapshots[PYTHIA]["main"]
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        (tmp_path / name).write_bytes((source / name).read_bytes())
    state = {
        k: v.contiguous()
        for k, v in offline_hub.models[PYTHIA].state_dict().items()
        if ".layers.1." not in k
    }
    save_file(state, tmp_path / "model.safetensors", metadata={"format": "pt"})
    with pytest.warns(UntrainedModelWarning, match="layers"):
        scorer = HFCausalLMScorer(tmp_path, device="cpu")
    assert not scorer.is_trained
    assert "layers" in scorer.untrained_reason


def test_demo_name_works_in_python_as_on_the_command_line():
    with pytest.warns(UntrainedModelWarning):
        scorer = HFCausalLMScorer("demo-gpt2", device="cpu")
    assert not scorer.is_trained


@pytest.mark.parametrize(
    "content",
    [b"{not json", b'{"version": "1.0", "model": {"type": "Nope"}}'],
)
def test_broken_tokenizer_json_is_a_checkpoint_error(tmp_path, content):
    from segpile_lab.bpb.hf_scorer import load_tokenizer
    from segpile_lab.errors import CheckpointError

    path = tmp_path / "tokenizer.json"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=r"not a usable tokenizer\.json"):
        load_tokenizer(path)


def test_broken_tokenizer_in_a_model_folder_names_the_folder(tmp_path, offline_hub):
    from segpile_lab.errors import CheckpointError

    source = offline_hub.snapshots[GPT2]["main"]
    for name in ("config.json", "model.safetensors", "tokenizer_config.json"):
        (tmp_path / name).write_bytes((source / name).read_bytes())
    (tmp_path / "tokenizer.json").write_bytes(b"\x00\x01 not a tokenizer")
    with pytest.raises(CheckpointError, match=str(tmp_path)):
        HFCausalLMScorer(tmp_path, device="cpu")
