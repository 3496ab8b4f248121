"""Quality signals per document, as numpy kernels over the column's UTF-8 bytes.

Definitions (characters are Unicode code points; empty documents get null signals):

- ``alpha_share``: letters (``\\p{L}``) / characters.
- ``mean_word_length``: non-whitespace characters / words, a word being a run of
  non-whitespace characters (as in Gopher's rules); whitespace is Unicode ``White_Space``
  (Rust regex ``\\s``: ASCII ``\\t\\n\\v\\f\\r`` and space, U+0085, U+00A0, U+2000–U+200A, …).
- ``non_ascii_share``: characters above U+007F / characters.
- ``repeated_line_share``: among non-blank lines (split on ``\\n``, whitespace stripped), the
  share that repeat an earlier line of the same document: (lines − distinct lines) / lines.
- ``code_char_share``: characters from `CODE_CHARACTERS` / characters.

How (same values as the regex definitions, tested against them): one byte histogram per
document gives the ASCII letters, ASCII whitespace, code characters and UTF-8 lead bytes
(= non-ASCII characters); words are whitespace → non-whitespace transitions in one vectorised
pass. Only documents with non-ASCII characters run two Polars regexes (non-ASCII letters and
whitespace), and only those with non-ASCII whitespace count words by regex. Lines are split,
stripped and counted by Polars.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from segpile_lab.pile._utf8 import utf8_buffer

CODE_CHARACTERS = r"{}[]()<>;=_#$\/*&|^~`"
SIGNALS = (
    "alpha_share",
    "mean_word_length",
    "non_ascii_share",
    "repeated_line_share",
    "code_char_share",
)
_ASCII_LETTERS = [*range(ord("A"), ord("Z") + 1), *range(ord("a"), ord("z") + 1)]
_ASCII_SPACE = [9, 10, 11, 12, 13, 32]
_CODE_BYTES = [ord(c) for c in CODE_CHARACTERS]
_NON_ASCII_LETTER = r"[\p{L}&&[^\x00-\x7F]]"
_NON_ASCII_SPACE = r"[\s&&[^\x00-\x7F]]"


def _share(count: pl.Expr, total: pl.Expr) -> pl.Expr:
    return pl.when(total > 0).then(count.cast(pl.Float64) / total).otherwise(None)


def _byte_counts(texts: pl.Series) -> pl.DataFrame:
    """Per document: ASCII ``letters``, ASCII ``spaces``, ``code`` characters, ``non_ascii``
    characters (UTF-8 lead bytes) and ``words`` counted at ASCII whitespace only."""
    data, offsets = utf8_buffer(texts)
    space = data == 32
    space |= (data - np.uint8(9)) < 5  # \t \n \v \f \r
    word_start = np.empty_like(space)  # byte i starts a word: not space, byte i-1 space
    if len(space):
        word_start[0] = False
        np.greater(space[:-1], space[1:], out=word_start[1:])
    histograms = np.zeros((len(offsets) - 1, 256), np.int64)
    words = np.zeros(len(offsets) - 1, np.int64)
    for row, (start, end) in enumerate(
        zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True)
    ):
        if start < end:
            histograms[row] = np.bincount(data[start:end], minlength=256)
            words[row] = np.count_nonzero(word_start[start + 1 : end]) + (not space[start])
    return pl.DataFrame(
        {
            "letters": histograms[:, _ASCII_LETTERS].sum(axis=1),
            "spaces": histograms[:, _ASCII_SPACE].sum(axis=1),
            "code": histograms[:, _CODE_BYTES].sum(axis=1),
            "non_ascii": histograms[:, 0xC0:].sum(axis=1),  # one lead byte per character
            "words": words,
        }
    )


def _non_ascii_fix(texts: pl.Series, counts: pl.DataFrame) -> pl.DataFrame:
    """`counts` with the non-ASCII letters and whitespace added, and the words of documents
    with non-ASCII whitespace recounted by regex (only documents with non-ASCII run these)."""
    rows = (counts["non_ascii"] > 0).arg_true()
    if rows.len() == 0:
        return counts
    fixed = (
        texts.gather(rows)
        .to_frame("t")
        .select(
            letters=pl.col("t").str.count_matches(_NON_ASCII_LETTER),
            spaces=pl.col("t").str.count_matches(_NON_ASCII_SPACE),
            words=pl.col("t").str.count_matches(r"\S+"),
        )
    )
    words = counts["words"].scatter(
        rows.filter(fixed["spaces"] > 0), fixed["words"].filter(fixed["spaces"] > 0)
    )
    return counts.with_columns(
        counts["letters"].scatter(rows, counts["letters"].gather(rows) + fixed["letters"]),
        counts["spaces"].scatter(rows, counts["spaces"].gather(rows) + fixed["spaces"]),
        words,
    )


def _line_counts(texts: pl.Series) -> pl.DataFrame:
    """Per document: non-blank stripped ``lines`` and ``distinct_lines``."""
    per_line = (
        texts.to_frame("t")
        .with_row_index("row")
        .select("row", line=pl.col("t").str.split("\n"))
        .explode("line")
        .with_columns(pl.col("line").str.strip_chars())
        .filter(pl.col("line") != "")
        .group_by("row")
        .agg(lines=pl.len(), distinct_lines=pl.col("line").n_unique())
    )
    return (
        pl.DataFrame({"row": pl.int_range(texts.len(), dtype=pl.UInt32, eager=True)})
        .join(per_line, on="row", how="left")
        .select(pl.col("lines", "distinct_lines").fill_null(0))
    )


def quality_signals(df: pl.DataFrame) -> pl.DataFrame:
    """`df`'s ``subset``, ``source``, ``line`` and ``synthetic`` columns (those present) plus
    the five signals, one row per document."""
    keep = [c for c in ("subset", "source", "line", "synthetic") if c in df.columns]
    texts = df["text"]
    counts = pl.concat(
        [
            _non_ascii_fix(texts, _byte_counts(texts)),
            _line_counts(texts),
            texts.str.len_chars().to_frame("chars"),
        ],
        how="horizontal",
    )
    chars, lines = pl.col("chars"), pl.col("lines")
    signals = counts.select(
        _share(pl.col("letters"), chars).alias("alpha_share"),
        _share(chars - pl.col("spaces"), pl.col("words")).alias("mean_word_length"),
        _share(pl.col("non_ascii"), chars).alias("non_ascii_share"),
        _share(lines - pl.col("distinct_lines"), lines).alias("repeated_line_share"),
        _share(pl.col("code"), chars).alias("code_char_share"),
    )
    return pl.concat([df.select(keep), signals], how="horizontal")


def quality_summary(signals: pl.DataFrame) -> pl.DataFrame:
    """Median of each signal per subset (``<signal>_median``), from `quality_signals` output."""
    return (
        signals.group_by("subset")
        .agg(pl.col(name).median().alias(f"{name}_median") for name in SIGNALS)
        .sort("subset")
    )
