"""BPB as a function of the context length ``L`` and the sliding-window stride ``S``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import polars as pl

from segpile_lab.bpb.hf_scorer import HFCausalLMScorer

__all__ = ["bpb_by_context"]


def bpb_by_context(
    df: pl.DataFrame,
    model: Any,
    tokenizer: Any = None,
    *,
    max_lengths: Sequence[int],
    strides: Sequence[int | None] = (None,),
    progress: bool | None = None,
    **scorer_options: Any,
) -> pl.DataFrame:
    """Pooled BPB of the whole frame for every (max_length, stride) pair.

    Args:
        df: a Pile frame (``text``; zero-byte documents are skipped).
        model, tokenizer: as for `HFCausalLMScorer` (an id or directory is loaded once).
        max_lengths: window lengths ``L`` to try (each at most the model's maximum).
        strides: None for disjoint windows, or strides ``S``; pairs with ``S ≥ L`` are skipped.
        scorer_options: other `HFCausalLMScorer` options (batch_size, device, dtype, ...).
    Returns:
        ``max_length``, ``stride`` (null = disjoint), ``windows`` (a label), ``tokens``,
        ``bytes``, ``bpb``, ``is_trained`` — one row per pair.
    """
    texts = [t for t in df["text"].drop_nulls().to_list() if t]
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    base = HFCausalLMScorer(model, tokenizer, **scorer_options)
    sequences = base.tokenize(texts)  # the same for every (L, S)
    rows = []
    for length in max_lengths:
        for stride in strides:
            if stride is not None and stride >= length:
                continue
            scorer = HFCausalLMScorer(
                base.model, base.tokenizer, max_length=length, stride=stride, **scorer_options
            )
            scores = scorer.score_sequences(sequences, progress=progress)
            assert scores.n_tokens is not None  # a causal LM always counts its tokens
            rows.append(
                {
                    "max_length": length,
                    "stride": stride,
                    "windows": "disjoint" if stride is None else f"sliding, stride {stride}",
                    "tokens": int(scores.n_tokens.sum()),
                    "bytes": n_bytes,
                    "bpb": float(scores.nll_nats.sum()) / (math.log(2) * n_bytes),
                    "is_trained": base.is_trained,
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "max_length": pl.Int64,
            "stride": pl.Int64,
            "windows": pl.String,
            "tokens": pl.Int64,
            "bytes": pl.Int64,
            "bpb": pl.Float64,
            "is_trained": pl.Boolean,
        },
    )
