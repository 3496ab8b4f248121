"""Exact BPB values that need no trained model."""

from __future__ import annotations

import math

import polars as pl
import pytest
import torch
from bpb_fakes import UniformLM

from segpile_lab.bpb.demo_lm import byte_level_tokenizer
from segpile_lab.bpb.evaluate import evaluate_bpb
from segpile_lab.bpb.hf_scorer import HFCausalLMScorer

TEXTS = ["a", "hello world", "naïve café — 日本語", "x" * 300]


def test_byte_level_tokenizer_gives_one_token_per_byte():
    tokenizer = byte_level_tokenizer()
    text = "naïve 日本"
    assert tokenizer(text, add_special_tokens=False)["input_ids"] == list(text.encode("utf-8"))
    assert tokenizer.eos_token_id == 256 and tokenizer.bos_token_id is None


def test_uniform_over_256_bytes_gives_8_bits_per_byte():
    scorer = HFCausalLMScorer(UniformLM(256, 64), byte_level_tokenizer(), batch_size=3)
    result = evaluate_bpb(pl.DataFrame({"subset": ["s"] * 4, "text": TEXTS}), scorer, bootstrap=0)
    assert result.overall()["bpb"].item() == pytest.approx(8.0, abs=1e-6)
    assert result.documents["bpb"].to_list() == pytest.approx([8.0] * 4, abs=1e-6)


def test_uniform_over_v_tokens_gives_log2_v_times_tokens_per_byte(shared_data):
    from transformers import GPT2Config, GPT2LMHeadModel

    tokenizer_file = shared_data / "tokenizers" / "gpt2-tokenizer.json"
    config = GPT2Config(n_layer=1, n_embd=32, n_head=2, n_positions=64, vocab_size=50257)
    model = GPT2LMHeadModel(config)
    with torch.no_grad():
        model.lm_head.weight.zero_()  # tied with the embeddings: every logit is exactly 0
    scorer = HFCausalLMScorer(model, str(tokenizer_file), batch_size=2)
    result = evaluate_bpb(pl.DataFrame({"subset": ["s"] * 4, "text": TEXTS}), scorer, bootstrap=0)
    row = result.overall().row(0, named=True)
    tokens = sum(len(scorer.tokenizer(t, add_special_tokens=False)["input_ids"]) for t in TEXTS)
    assert row["tokens"] == tokens
    expected = math.log2(50257) * tokens / sum(len(t.encode()) for t in TEXTS)
    assert row["bpb"] == pytest.approx(expected, rel=1e-6)


def test_no_texts_give_empty_scores():
    scores = HFCausalLMScorer(UniformLM(256, 8), byte_level_tokenizer()).score([], progress=False)
    assert scores.nll_nats.shape == (0,) and scores.n_tokens.shape == (0,)
