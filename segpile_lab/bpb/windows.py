"""Rolling-loglikelihood windows: which tokens a causal LM sees and which it scores.

The convention of The Pile paper and lm-evaluation-harness (``get_rolling_token_windows`` with
``context_len=1`` followed by ``make_disjoint_window``): each document is scored alone, its
token list is prefixed with one BOS-or-EOS token, the first window predicts the first ``L``
tokens, later windows predict disjoint chunks of ``L`` tokens, and the last partial window is
right-aligned so it keeps a full context of ``L`` tokens while scoring only tokens not yet
scored. Every token is predicted exactly once.

A window is a span ``(start, end, n_scored)`` over the *prefixed* sequence
``full = [prefix] + tokens``: the model reads ``full[start:end]`` (at most ``L`` tokens) and the
last ``n_scored`` of its positions predict ``full[end - n_scored + 1 : end + 1]``.

With ``stride = S < L`` (sliding windows, an explicit option) each later window advances by
``S`` tokens and scores only those ``S``, so every scored token after the first window sees at
least ``L - S`` tokens of context. This equals lm-eval's ``context_len = L - S + 1``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["rolling_windows", "window_token_pairs"]


def rolling_windows(n_tokens: int, max_length: int, stride: int | None = None) -> np.ndarray:
    """Spans of the windows that score a document of `n_tokens` tokens.

    Args:
        n_tokens: tokens in the document (without the prefix token).
        max_length: ``L``, the most tokens the model reads at once.
        stride: tokens scored per window after the first; None (or ``L``) gives the disjoint
            default, smaller values give overlapping sliding windows.
    Returns:
        int64 array of shape ``(W, 3)``: ``start``, ``end`` (exclusive) and ``n_scored`` in the
        coordinates of ``[prefix] + tokens``; ``W = 0`` for an empty document.
    """
    if max_length < 1:
        raise ValueError(f"max_length must be at least 1, got {max_length}")
    step = max_length if stride is None else stride
    if not 1 <= step <= max_length:
        raise ValueError(f"stride must be between 1 and max_length={max_length}, got {stride}")
    if n_tokens <= 0:
        return np.zeros((0, 3), dtype=np.int64)
    first = min(max_length, n_tokens)
    n_later = -(-(n_tokens - first) // step)  # ceil
    spans = np.empty((1 + n_later, 3), dtype=np.int64)
    spans[0] = (0, first, first)
    # the later window ending at token e (exclusive, token coordinates) reads full[e - L : e]
    token_ends = np.minimum(first + step * np.arange(1, n_later + 1), n_tokens)
    spans[1:, 1] = token_ends
    spans[1:, 0] = token_ends - max_length
    spans[1:, 2] = token_ends - np.concatenate(([first], token_ends[:-1]))
    return spans


def window_token_pairs(
    tokens: Sequence[int], prefix_token: int, max_length: int, stride: int | None = None
) -> list[tuple[list[int], list[int]]]:
    """The windows as ``(context, continuation)`` token lists, in lm-eval's disjoint form.

    The model input is ``(context + continuation)[:-1]`` and the continuation is what is scored,
    exactly as ``make_disjoint_window(get_rolling_token_windows(...))`` yields them.
    """
    full = [prefix_token, *tokens]
    return [
        (full[start : end - n_scored + 1], full[end - n_scored + 1 : end + 1])
        for start, end, n_scored in rolling_windows(len(tokens), max_length, stride).tolist()
    ]
