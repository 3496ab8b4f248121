"""Scoring shortcuts that must not change the numbers: bf16 weights on CPU and the output layer
run only on scored positions, in chunks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from segpile_lab.bpb import hf_scorer
from segpile_lab.bpb.demo_lm import demo_causal_lm
from segpile_lab.bpb.hf_scorer import HFCausalLMScorer
from segpile_lab.errors import UntrainedModelWarning

TEXTS = ["a", "hello world", "naïve café — 日本語", "x" * 300, "the quick brown fox " * 9]


@pytest.fixture(scope="module", params=["gpt2", "gpt-neox"])
def demo_lm(request):
    with pytest.warns(UntrainedModelWarning):
        return demo_causal_lm(request.param, hidden_size=32, max_length=32)


def full_forward_nll(scorer: HFCausalLMScorer, texts: list[str]) -> np.ndarray:
    """Per-document NLL from the whole model's (B, T, V) logits, as a first attempt would."""
    out = np.zeros(len(texts))
    for batch in scorer.batches(scorer.tokenize(texts)):
        logits = scorer.forward(batch).float()
        losses = torch.nn.functional.cross_entropy(
            logits.transpose(1, 2), batch.labels, ignore_index=-100, reduction="none"
        )
        np.add.at(out, batch.document, losses.sum(dim=1).double().numpy())
    return out


def test_output_layer_on_scored_positions_equals_the_full_forward(demo_lm, monkeypatch):
    model, tokenizer = demo_lm
    monkeypatch.setattr(hf_scorer, "_HEAD_CHUNK_BYTES", 4 * 257 * 7)  # 7 rows per matmul
    monkeypatch.setattr(hf_scorer, "_LOSS_CHUNK_BYTES", 4 * 257 * 3)  # 3 rows per loss
    scorer = HFCausalLMScorer(model, tokenizer, batch_size=3, stride=16)
    assert scorer._split is not None  # the shortcut is taken for GPT-2 and GPT-NeoX
    np.testing.assert_allclose(
        scorer.score(TEXTS, progress=False).nll_nats, full_forward_nll(scorer, TEXTS), rtol=1e-5
    )


class SoftCapped(torch.nn.Module):
    """A causal LM whose logits are post-processed (as Gemma-2 soft-caps them)."""

    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        self.inner = inner
        self.config = inner.config
        self.base_model = inner.base_model

    def get_output_embeddings(self) -> torch.nn.Module:
        return self.inner.get_output_embeddings()

    def forward(self, **inputs):
        output = self.inner(**inputs)
        output.logits = 2.0 * torch.tanh(output.logits / 2.0)
        return output


def test_models_that_post_process_logits_take_the_full_forward(demo_lm):
    model, tokenizer = demo_lm
    scorer = HFCausalLMScorer(SoftCapped(model), tokenizer, batch_size=3)
    assert scorer._split is None
    np.testing.assert_allclose(
        scorer.score(TEXTS, progress=False).nll_nats, full_forward_nll(scorer, TEXTS), rtol=1e-5
    )


def test_bf16_on_cpu_holds_bf16_weights_and_leaves_the_passed_model_alone(demo_lm):
    model, tokenizer = demo_lm
    fp32 = HFCausalLMScorer(model, tokenizer, device="cpu")
    bf16 = HFCausalLMScorer(model, tokenizer, device="cpu", dtype="bf16")
    assert bf16.autocast_dtype is None and bf16.weight_dtype == torch.bfloat16
    assert next(bf16.model.parameters()).dtype == torch.bfloat16
    assert next(model.parameters()).dtype == torch.float32  # the caller's model is untouched
    assert fp32.model is model and bf16.model is not model
    assert "bf16 weights" in bf16.description and "fp32 weights" in fp32.description
    a = fp32.score(TEXTS, progress=False).nll_nats
    b = bf16.score(TEXTS, progress=False).nll_nats
    assert b == pytest.approx(a, rel=2e-2)
    assert not (a == b).all()  # really computed in bfloat16
    assert b.dtype == np.float64


def test_a_model_already_in_bf16_is_used_as_it_is(demo_lm):
    import copy

    model, tokenizer = demo_lm
    bf16_model = copy.deepcopy(model).to(torch.bfloat16)
    scorer = HFCausalLMScorer(bf16_model, tokenizer, device="cpu", dtype="bf16")
    assert scorer.model is bf16_model


def test_autocast_is_used_on_cuda_only():
    scorer = object.__new__(HFCausalLMScorer)
    scorer.device = torch.device("cuda")
    assert scorer._precision("bf16") == (torch.bfloat16, None)
    assert scorer._precision("fp32") == (None, None)
    scorer.device = torch.device("cpu")
    assert scorer._precision("bf16") == (None, torch.bfloat16)
    assert scorer._precision(None) == (None, None)


def test_default_batch_tokens_are_smaller_for_fp32_on_cpu(demo_lm):
    model, tokenizer = demo_lm
    assert HFCausalLMScorer(model, tokenizer, device="cpu").batch_tokens == 2048
    assert HFCausalLMScorer(model, tokenizer, device="cpu", dtype="bf16").batch_tokens == 4096
    assert HFCausalLMScorer(model, tokenizer, batch_tokens=16).batch_tokens == 32  # ≥ one window
