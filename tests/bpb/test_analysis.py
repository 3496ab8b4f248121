"""Context-length / stride sweep and loss by window position."""

from __future__ import annotations

import polars as pl
import pytest
from bpb_fakes import UniformLM

from segpile_lab.bpb.analysis import bpb_by_context
from segpile_lab.bpb.demo_lm import byte_level_tokenizer, demo_causal_lm
from segpile_lab.bpb.evaluate import evaluate_bpb
from segpile_lab.bpb.hf_scorer import HFCausalLMScorer
from segpile_lab.bpb.plots import plot_context_sensitivity
from segpile_lab.errors import UntrainedModelWarning

FRAME = pl.DataFrame({"subset": ["s", "s", "t"], "text": ["abc" * 20, "hello", "z" * 33]})


def test_context_sweep_rows_and_uniform_value():
    table = bpb_by_context(
        FRAME, UniformLM(256, 32), byte_level_tokenizer(),
        max_lengths=[8, 32], strides=[None, 4, 8], progress=False,
    )  # fmt: skip
    # (8, stride 8) is skipped: a stride of L is the disjoint default
    assert table.select("max_length", "stride").rows() == [
        (8, None), (8, 4), (32, None), (32, 4), (32, 8),
    ]  # fmt: skip
    assert table["bpb"].to_list() == pytest.approx([8.0] * 5)
    assert (table["tokens"] == 98).all()


def test_sliding_windows_change_the_demo_models_bpb_and_the_figure_is_labelled():
    with pytest.warns(UntrainedModelWarning):
        model, tokenizer = demo_causal_lm("gpt2", hidden_size=32, max_length=32)
    table = bpb_by_context(
        FRAME, model, tokenizer, max_lengths=[16], strides=[None, 4], progress=False
    )
    assert table["bpb"][0] != pytest.approx(table["bpb"][1], rel=1e-9)
    result = evaluate_bpb(FRAME, HFCausalLMScorer(model, tokenizer), bootstrap=0)
    assert (result.subsets["note"].str.starts_with("untrained demo weights")).all()
    fig = plot_context_sensitivity(table)
    assert "untrained demo weights" in fig.layout.title.text


def test_loss_by_position_counts_every_scored_token_at_its_window_position():
    scorer = HFCausalLMScorer(UniformLM(256, 8), byte_level_tokenizer())
    result = evaluate_bpb(FRAME, scorer, bootstrap=0, progress=False)
    by_position = result.loss_by_position
    assert by_position["tokens"].sum() == 98
    assert by_position["position"].to_list() == list(range(8))
    assert by_position["mean_nll_bits"].to_list() == pytest.approx([8.0] * 8)
    # 60 bytes: 7 full windows of 8 + a right-aligned tail of 4 (positions 4-7);
    # "hello": positions 0-4; 33 bytes: 4 full windows + a tail of 1 (position 7)
    tokens = dict(by_position.select("position", "tokens").iter_rows())
    assert (tokens[0], tokens[4], tokens[5], tokens[7]) == (12, 13, 12, 13)


def test_context_sweep_tokenizes_the_documents_once(monkeypatch):
    calls = []
    tokenize = HFCausalLMScorer.tokenize

    def counted(self, texts):
        calls.append(len(texts))
        return tokenize(self, texts)

    monkeypatch.setattr(HFCausalLMScorer, "tokenize", counted)
    table = bpb_by_context(
        FRAME, UniformLM(256, 32), byte_level_tokenizer(),
        max_lengths=[8, 16, 32], strides=[None, 4], progress=False,
    )  # fmt: skip
    assert table.height == 6 and calls == [3]
