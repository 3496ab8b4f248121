"""Bytes per token per subset for any Hugging Face `tokenizers` ``tokenizer.json``.

Pooled per subset: Σ UTF-8 bytes / Σ tokens (never a mean of per-document ratios). Tokens are
counted without special tokens (`add_special_tokens=False`), so the number depends on the text
alone.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from segpile_lab._progress import progress_bar
from segpile_lab.errors import DataError, wrap_errors

if TYPE_CHECKING:
    from tokenizers import Tokenizer


def load_tokenizer(tokenizer: str | os.PathLike[str] | Tokenizer) -> Tokenizer:
    """A `tokenizers.Tokenizer` from a ``tokenizer.json`` path (or the tokenizer itself)."""
    from tokenizers import Tokenizer

    if isinstance(tokenizer, Tokenizer):
        return tokenizer
    path = Path(tokenizer)
    if not path.is_file():
        raise DataError(f"{path}: tokenizer file not found")
    with wrap_errors(DataError, path, "not a tokenizers tokenizer.json"):  # a bare Exception
        return Tokenizer.from_file(str(path))


def token_counts(
    texts: list[str], tokenizer: Tokenizer, *, batch_size: int = 256, progress: bool | None = None
) -> list[int]:
    """Number of tokens of each text (batch-encoded, no special tokens)."""
    counts: list[int] = []
    starts = range(0, len(texts), batch_size)
    for start in progress_bar(starts, progress=progress, desc="tokenizing", unit="batch"):
        batch = tokenizer.encode_batch(texts[start : start + batch_size], add_special_tokens=False)
        counts += [len(encoding.ids) for encoding in batch]
    return counts


def bytes_per_token(
    df: pl.DataFrame,
    tokenizer: str | os.PathLike[str] | Tokenizer,
    *,
    batch_size: int = 256,
    progress: bool | None = None,
) -> pl.DataFrame:
    """Per subset: ``documents``, ``bytes``, ``tokens`` (UInt64) and ``bytes_per_token``."""
    tok = load_tokenizer(tokenizer)
    tokens = token_counts(df["text"].to_list(), tok, batch_size=batch_size, progress=progress)
    return (
        df.select("subset", pl.col("text").str.len_bytes().cast(pl.UInt64).alias("bytes"))
        .with_columns(tokens=pl.Series(tokens, dtype=pl.UInt64))
        .group_by("subset")
        .agg(
            documents=pl.len().cast(pl.UInt64),
            bytes=pl.col("bytes").sum(),
            tokens=pl.col("tokens").sum(),
        )
        .with_columns(bytes_per_token=pl.col("bytes") / pl.col("tokens"))
        .sort("subset")
    )
