"""Model-free baselines: zstd compressed bits and the Witten–Bell byte n-gram model."""

from __future__ import annotations

import math

import numpy as np
import pytest
import zstandard

from segpile_lab.bpb.ngram import NGramByteScorer
from segpile_lab.bpb.zstd_scorer import ZstdScorer
from segpile_lab.errors import DataError

TEXTS = ["hello hello hello world", "naïve café — 日本語", "x" * 1000]
TRAIN = [f"the quick brown fox {i} jumps over the lazy dog {i * 7}" for i in range(300)]


@pytest.mark.parametrize("level", [1, 19])
def test_zstd_nll_equals_direct_zstandard_size(level):
    scores = ZstdScorer(level).score(TEXTS, progress=False)
    direct = [8 * len(zstandard.ZstdCompressor(level=level).compress(t.encode())) for t in TEXTS]
    np.testing.assert_allclose(scores.nll_nats / math.log(2), direct)
    assert scores.n_tokens is None


def test_zstd_dictionary_from_a_separate_split_matches_direct_and_helps():
    scorer = ZstdScorer.train(TRAIN, level=3, dict_size=4096)
    held_out = ["the quick brown fox 999 jumps over the lazy dog 12345"]
    compressor = zstandard.ZstdCompressor(level=3, dict_data=scorer.dictionary)
    expected = 8 * len(compressor.compress(held_out[0].encode()))
    bits = scorer.score(held_out, progress=False).nll_nats[0] / math.log(2)
    assert bits == pytest.approx(expected)
    plain = ZstdScorer(3).score(held_out, progress=False).nll_nats[0] / math.log(2)
    assert bits < plain
    assert scorer.name == "zstd-3+dict"


def test_zstd_dictionary_training_on_too_little_text_is_a_data_error():
    with pytest.raises(DataError, match="dictionary training failed"):
        ZstdScorer.train(["ab"], dict_size=4096)


@pytest.mark.parametrize("order", [1, 2, 4])
@pytest.mark.parametrize("context", [b"", b"the", b"the quick", b"\xff\xfe\x00", b"qqqzzz"])
def test_ngram_distribution_sums_to_one(order, context):
    model = NGramByteScorer(order).fit(TRAIN)
    probabilities = model.probabilities(context)
    assert probabilities.shape == (256,)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-12)
    assert (probabilities > 0).all()


def test_ngram_unigram_matches_hand_computed_witten_bell():
    model = NGramByteScorer(1).fit(["aab"])
    # C = 3 bytes, T = 2 distinct: P(a) = (2 + 2/256) / 5, P(z) = (0 + 2/256) / 5
    assert model.probability(b"", ord("a")) == pytest.approx((2 + 2 / 256) / 5)
    assert model.probability(b"xyz", ord("z")) == pytest.approx((2 / 256) / 5)


def test_ngram_document_nll_is_sum_of_conditional_log_probabilities():
    model = NGramByteScorer(3).fit(TRAIN)
    text = "the fox"
    data = text.encode()
    expected = -sum(math.log(model.probability(data[max(0, i - 2) : i], data[i])) for i in range(7))
    scores = model.score([text], progress=False)
    assert scores.nll_nats[0] == pytest.approx(expected)
    assert scores.n_tokens.tolist() == [7]


def test_ngram_learns_held_out_text_better_than_uniform():
    model = NGramByteScorer(4).fit(TRAIN[:200])
    held_out = TRAIN[200:]
    scores = model.score(held_out, progress=False)
    bpb = scores.nll_nats.sum() / (math.log(2) * sum(len(t.encode()) for t in held_out))
    assert bpb < 3.0  # uniform is 8


def test_unfitted_ngram_refuses_to_score():
    with pytest.raises(ValueError, match="not fitted"):
        NGramByteScorer(3).score(["abc"], progress=False)


@pytest.mark.parametrize("order", [0, 9])
def test_ngram_order_must_be_1_to_8(order):
    with pytest.raises(ValueError, match="order must be between 1 and 8"):
        NGramByteScorer(order)


@pytest.mark.parametrize("order", [1, 3, 5, 8])
def test_ngram_equals_the_plain_python_reference(order, monkeypatch):
    from ngram_reference import ReferenceNGram

    from segpile_lab.bpb import ngram

    monkeypatch.setattr(ngram, "_BATCH_BYTES", 2_000)  # several vectorized passes
    fit, held_out = TRAIN[:150], [*TRAIN[150:], "", "naïve café 日本語 \x00\x00 zzqx"]
    fast = NGramByteScorer(order).fit(fit)
    reference = ReferenceNGram(order).fit(fit)
    expected = [reference.document_nll(t) for t in held_out]
    scores = fast.score(held_out, progress=False)
    np.testing.assert_allclose(scores.nll_nats, expected, rtol=1e-12)
    assert scores.n_tokens.tolist() == [len(t.encode()) for t in held_out]


def test_ngram_counts_never_cross_documents():
    model = NGramByteScorer(2).fit(["ab", "cd"])
    # "bc" would only exist across the two documents: context "b" is unseen, so P(c | b) is
    # the unigram's (1 + 4/256) / (4 + 4); counted across, it would be (1 + P1(c)) / 2
    assert model.probability(b"b", ord("c")) == pytest.approx((1 + 4 / 256) / 8, rel=1e-15)
