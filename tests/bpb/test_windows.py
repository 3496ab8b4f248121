"""Window coverage: lm-evaluation-harness's own functions and a hand-built table of cases."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from segpile_lab.bpb.windows import rolling_windows, window_token_pairs

P = -1  # the prefix token (BOS or EOS)

# (n_tokens, L, stride) -> expected (context, continuation) pairs, written out by hand
HAND_CASES = [
    (1, 4, None, [([P], [0])]),
    (4, 4, None, [([P], [0, 1, 2, 3])]),
    (5, 4, None, [([P], [0, 1, 2, 3]), ([0, 1, 2, 3], [4])]),
    (10, 4, None, [([P], [0, 1, 2, 3]), ([3], [4, 5, 6, 7]), ([5, 6, 7], [8, 9])]),
    (6, 4, 2, [([P], [0, 1, 2, 3]), ([1, 2, 3], [4, 5])]),
    (7, 4, 2, [([P], [0, 1, 2, 3]), ([1, 2, 3], [4, 5]), ([2, 3, 4, 5], [6])]),
    (3, 1, None, [([P], [0]), ([0], [1]), ([1], [2])]),
]


@pytest.mark.parametrize(("n", "length", "stride", "expected"), HAND_CASES)
def test_windows_match_hand_table(n, length, stride, expected):
    assert window_token_pairs(list(range(n)), P, length, stride) == expected


def test_empty_document_has_no_windows():
    assert rolling_windows(0, 8).shape == (0, 3)


@pytest.mark.parametrize(("n", "length", "stride"), [(20, 4, None), (33, 8, 3), (9, 16, 5)])
def test_every_token_scored_once_with_at_most_max_length_inputs(n, length, stride):
    pairs = window_token_pairs(list(range(n)), P, length, stride)
    scored = [t for _, cont in pairs for t in cont]
    assert scored == list(range(n))
    assert all(len(ctx) + len(cont) - 1 <= length for ctx, cont in pairs)
    # right-aligned last window keeps a full context whenever the document is longer than L
    if n > length:
        ctx, cont = pairs[-1]
        assert len(ctx) + len(cont) - 1 == length


@pytest.mark.parametrize("stride", [0, 5])
def test_bad_stride_raises(stride):
    with pytest.raises(ValueError, match="stride"):
        rolling_windows(10, 4, stride)


def test_windows_equal_lm_eval_harness_for_many_lengths():
    lm_eval_utils = pytest.importorskip(
        "lm_eval.utils", reason="lm-eval is a test dependency (pip install --no-deps lm-eval)"
    )
    for n, length in itertools.product(range(0, 40), [1, 2, 3, 4, 7, 16]):
        for stride in sorted({None, *range(1, length + 1)}, key=lambda s: s or 0):
            tokens = list(range(100, 100 + n))
            context_len = 1 if stride is None else length - stride + 1
            expected = [
                lm_eval_utils.make_disjoint_window(pair)
                for pair in lm_eval_utils.get_rolling_token_windows(
                    token_list=tokens, prefix_token=P, max_seq_len=length, context_len=context_len
                )
            ]
            got = window_token_pairs(tokens, P, length, stride)
            assert got == [(list(c), list(t)) for c, t in expected], (n, length, stride)


def test_spans_are_int64_array():
    spans = rolling_windows(10, 4)
    assert spans.dtype == np.int64
    np.testing.assert_array_equal(spans, [[0, 4, 4], [4, 8, 4], [6, 10, 2]])
