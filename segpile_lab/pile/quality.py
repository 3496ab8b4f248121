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

How (same values as the regex definitions, tested against them): one ``bytes.translate`` pass
over the column's bytes gives each byte its class (ASCII letter, ASCII whitespace, code
character, UTF-8 lead byte = non-ASCII character); each class becomes a bit mask, 64 bytes per
uint64 word, counted per document by popcount prefix sums at the document offsets, and words
are whitespace → non-whitespace transitions in the whitespace bits (no per-document loop).
Only documents with non-ASCII characters run two Polars regexes (non-ASCII letters and
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


def _class_table() -> bytes:
    """Byte → class for ``bytes.translate``: 1 ASCII letter, 2 ASCII whitespace, 3 code
    character, 4 UTF-8 lead byte (one per non-ASCII character), 0 anything else."""
    table = bytearray(256)
    for cls, members in enumerate(
        (_ASCII_LETTERS, _ASCII_SPACE, _CODE_BYTES, range(0xC0, 0x100)), start=1
    ):
        for byte in members:
            table[byte] = cls
    return bytes(table)


_CLASSES = _class_table()
_LETTER, _SPACE, _CODE, _LEAD = 1, 2, 3, 4
_ONE = np.uint64(1)


_BLOCK = 1 << 20  # bytes classified at a time (a multiple of 64): scratch stays in cache


def _class_bits(data: np.ndarray) -> dict[int, np.ndarray]:
    """Per class of `_CLASSES`, a bit mask of the bytes in `data` (uint8, n): 64 bits per
    uint64 word, bit i of the whole = bit i % 64 of word i // 64, zero padding so that
    position n has a word too (``n // 64 + 1`` words). Classified a block at a time, so the
    scratch memory (one block's classes and one mask) is reused and stays in cache."""
    bits = {cls: np.zeros(len(data) // 64 + 1, "<u8") for cls in (_LETTER, _SPACE, _CODE, _LEAD)}
    mask = np.empty(_BLOCK, bool)
    for start in range(0, len(data), _BLOCK):
        block = data[start : start + _BLOCK].tobytes().translate(_CLASSES)
        classes = np.frombuffer(block, np.uint8)
        for cls, words in bits.items():
            packed = np.packbits(
                np.equal(classes, cls, out=mask[: len(classes)]), bitorder="little"
            )
            words.view(np.uint8)[start // 8 : start // 8 + len(packed)] = packed
    return bits


def _bit_at(words: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Bit `at` (int64 positions) of a `_class_bits` mask, as uint64 0/1."""
    return (words[at >> 6] >> (at & 63).astype(np.uint64)) & _ONE


def _ones_before(words: np.ndarray, at: np.ndarray) -> np.ndarray:
    """int64 count of set bits before each position of `at` (≤ n) in a `_class_bits` mask:
    a running sum of per-word popcounts plus the popcount of the word holding the position,
    masked below it (work ~1/64 of the bits, plus per position)."""
    running = np.zeros(len(words) + 1, np.int64)
    np.cumsum(np.bitwise_count(words), out=running[1:])
    below = (_ONE << (at & 63).astype(np.uint64)) - _ONE
    return running[at >> 6] + np.bitwise_count(words[at >> 6] & below)


def _byte_counts(texts: pl.Series) -> pl.DataFrame:
    """Per document: ASCII ``letters``, ASCII ``spaces``, ``code`` characters, ``non_ascii``
    characters (UTF-8 lead bytes) and ``words`` counted at ASCII whitespace only.

    One ``bytes.translate`` pass gives each byte its class; each class becomes a bit mask
    (`_class_bits`), counted per document by prefix sums at the document offsets. A word starts
    at a byte that is not whitespace and follows whitespace or starts its document.
    """
    data, offsets = utf8_buffer(texts)
    bits = _class_bits(data)
    counts = {cls: np.diff(_ones_before(words, offsets)) for cls, words in bits.items()}
    space = bits[_SPACE]
    after_space = space << _ONE  # bit i: whether byte i - 1 is whitespace …
    after_space[1:] |= space[:-1] >> np.uint64(63)  # … across words too
    word_starts = after_space & ~space
    words = np.diff(_ones_before(word_starts, offsets))
    # at a document's first byte `word_starts` looked at the byte before it (the previous
    # document's last, or none): a word starts there when the byte is not whitespace
    nonempty = offsets[:-1] < offsets[1:]
    first = offsets[:-1][nonempty]
    counted = _bit_at(word_starts, first).astype(np.int64)
    words[nonempty] += 1 - _bit_at(space, first).astype(np.int64) - counted
    return pl.DataFrame(
        {
            "letters": counts[_LETTER],
            "spaces": counts[_SPACE],
            "code": counts[_CODE],
            "non_ascii": counts[_LEAD],
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
