"""Quality signals per document, vectorised in Polars (no Python loop over rows).

Definitions (characters are Unicode code points; empty documents get null signals):

- ``alpha_share``: letters (``\\p{L}``) / characters.
- ``mean_word_length``: non-whitespace characters / words, a word being a run of
  non-whitespace characters (as in Gopher's rules).
- ``non_ascii_share``: characters above U+007F / characters.
- ``repeated_line_share``: among non-blank lines (stripped), the share that repeat an earlier
  line of the same document: (lines − distinct lines) / lines.
- ``code_char_share``: characters from `CODE_CHARACTERS` / characters.
"""

from __future__ import annotations

import polars as pl

CODE_CHARACTERS = r"{}[]()<>;=_#$\/*&|^~`"
_CODE_CLASS = r"[{}\[\]()<>;=_#$\\/*&|^~`]"  # the same characters as a regex class
SIGNALS = (
    "alpha_share",
    "mean_word_length",
    "non_ascii_share",
    "repeated_line_share",
    "code_char_share",
)


def _share(count: pl.Expr, total: pl.Expr) -> pl.Expr:
    return pl.when(total > 0).then(count.cast(pl.Float64) / total).otherwise(None)


def quality_signal_exprs(text: pl.Expr) -> list[pl.Expr]:
    """The five signals as Polars expressions over a string column."""
    chars = text.str.len_chars()
    words = text.str.count_matches(r"\S+")
    lines = text.str.split("\n").list.eval(
        pl.element().str.strip_chars().filter(pl.element() != "")
    )
    return [
        # count the rarer complement: fewer regex matches on prose
        _share(chars - text.str.count_matches(r"\P{L}"), chars).alias("alpha_share"),
        _share(chars - text.str.count_matches(r"\s"), words).alias("mean_word_length"),
        _share(text.str.count_matches(r"[^\x00-\x7F]"), chars).alias("non_ascii_share"),
        _share(lines.list.len() - lines.list.n_unique(), lines.list.len()).alias(
            "repeated_line_share"
        ),
        _share(text.str.count_matches(_CODE_CLASS), chars).alias("code_char_share"),
    ]


def quality_signals(df: pl.DataFrame) -> pl.DataFrame:
    """`df`'s ``subset``, ``source``, ``line`` and ``synthetic`` columns (those present) plus
    the five signals, one row per document."""
    keep = [c for c in ("subset", "source", "line", "synthetic") if c in df.columns]
    return df.select(*keep, *quality_signal_exprs(pl.col("text")))


def quality_summary(signals: pl.DataFrame) -> pl.DataFrame:
    """Median of each signal per subset (``<signal>_median``), from `quality_signals` output."""
    return (
        signals.group_by("subset")
        .agg(pl.col(name).median().alias(f"{name}_median") for name in SIGNALS)
        .sort("subset")
    )
