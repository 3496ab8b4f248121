"""Batched scoring across documents equals scoring each document alone (real tokenizers)."""

from __future__ import annotations

import numpy as np
import pytest

from segpile_lab.bpb.demo_lm import demo_causal_lm
from segpile_lab.bpb.hf_scorer import HFCausalLMScorer
from segpile_lab.errors import UntrainedModelWarning

TOKENIZERS = {"gpt2": "gpt2-tokenizer.json", "gpt-neox": "gpt-neox-20b-tokenizer.json"}


@pytest.fixture(scope="module", params=sorted(TOKENIZERS))
def tiny_model(request, shared_data):
    arch = request.param
    with pytest.warns(UntrainedModelWarning):
        model, tokenizer = demo_causal_lm(
            arch, shared_data / "tokenizers" / TOKENIZERS[arch], hidden_size=32, max_length=64
        )
    return arch, model, tokenizer


@pytest.mark.shared
@pytest.mark.parametrize("stride", [None, pytest.param(40, marks=pytest.mark.slow)])
def test_batched_equals_one_document_at_a_time(tiny_model, pile_frame, stride):
    _, model, tokenizer = tiny_model
    texts = pile_frame["text"].to_list()
    scorer = HFCausalLMScorer(model, tokenizer, max_length=64, stride=stride, batch_size=16)
    batched = scorer.score(texts, progress=False)
    alone = [scorer.score([t], progress=False) for t in texts]
    np.testing.assert_allclose(batched.nll_nats, [a.nll_nats[0] for a in alone], rtol=1e-5)
    np.testing.assert_array_equal(batched.n_tokens, [a.n_tokens[0] for a in alone])
    np.testing.assert_array_equal(
        batched.position_tokens, np.sum([a.position_tokens for a in alone], axis=0)
    )


@pytest.mark.shared
def test_token_counts_match_the_tokenizer_and_the_prefix_is_endoftext(tiny_model, pile_frame):
    arch, model, tokenizer = tiny_model
    scorer = HFCausalLMScorer(model, tokenizer, max_length=64)
    texts = pile_frame["text"].to_list()[:3]
    scores = scorer.score(texts, progress=False)
    expected = [len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts]
    assert scores.n_tokens.tolist() == expected
    assert scorer.prefix_token == tokenizer.convert_tokens_to_ids("<|endoftext|>")
    assert scorer.prefix_token == {"gpt2": 50256, "gpt-neox": 0}[arch]


@pytest.mark.shared
def test_every_batch_is_padded_at_most_to_its_longest_window(tiny_model, pile_frame):
    _, model, tokenizer = tiny_model
    scorer = HFCausalLMScorer(model, tokenizer, max_length=64, batch_size=4)
    sequences = scorer.tokenize(pile_frame["text"].to_list())
    batches = list(scorer.batches(sequences))
    scored = sum(int((b.labels != -100).sum()) for b in batches)
    assert scored == sum(len(seq) - 1 for seq in sequences)  # every token scored once
    for batch in batches:
        assert batch.attention_mask[:, -1].any()  # no all-padding column
        assert batch.input_ids.shape[0] <= 4
        assert batch.n_real >= 0.9 * batch.input_ids.numel()  # padding wastes at most 10 %
