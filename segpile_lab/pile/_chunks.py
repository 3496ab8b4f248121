"""Cut a stream of decompressed bytes into chunks of whole lines, and count their JSON keys.

The key counts let the columnar parser prove a chunk clean: Polars keeps the *first* of
duplicate keys and coerces ``"text": 123`` to ``"123"``, where our rule is the one of
json/orjson (last key wins, non-strings are rejected). A chunk whose rows each hold exactly one
``"text"``, ``"meta"`` and ``"pile_set_name"`` key, with string values for the two names, cannot
hit either difference. Counting runs in NumPy (which releases the GIL) in the decompression
thread, so it overlaps with Polars parsing the previous chunk.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

__all__ = ["KeyCounts", "LineChunk", "iter_line_chunks"]

_QUOTE, _COLON, _BACKSLASH, _NEWLINE = ord('"'), ord(":"), ord("\\"), ord("\n")
_SPACE, _TAB, _CR = ord(" "), ord("\t"), ord("\r")  # JSON whitespace inside a line
_MAX_RUN = 8  # longer blank runs before a colon are judged unusual without looking further


@dataclass(frozen=True, slots=True)
class KeyCounts:
    """How often each key of the Pile schema occurs in a chunk (as ``"name":``).

    ``*_str`` count the occurrences followed by ``:"`` or ``: "`` (a string value).
    """

    text: int
    text_str: int
    meta: int
    pile_set_name: int
    pile_set_name_str: int
    synthetic: int
    unusual_layout: int  # keys written ``"k" :`` (any blanks before the colon)
    escaped_keys: int  # keys holding a backslash (an escape may spell a Pile key)


@dataclass(frozen=True, slots=True)
class LineChunk:
    """Whole lines of one file: `data` ends with a newline unless it is the file's tail."""

    data: bytes
    first_line: int  # 1-based line number of the first line in the file
    n_lines: int
    is_last: bool  # the file's last chunk
    compressed_pos: int  # compressed bytes of the file consumed when the chunk was cut
    keys: KeyCounts


def _ends_key(a: np.ndarray, closing: np.ndarray, key: bytes) -> np.ndarray:
    """Which closing-quote positions in `closing` end an occurrence of `key` (with quotes)."""
    start = closing - (len(key) - 1)
    mask = start >= 0
    for i in range(len(key) - 1):
        mask &= a[np.maximum(start + i, 0)] == key[i]
    return mask


def _is_blank(values: np.ndarray) -> np.ndarray:
    return (values == _SPACE) | (values == _TAB) | (values == _CR)


def _spaced_keys(a: np.ndarray, quotes: np.ndarray, after: np.ndarray) -> int:
    """Quotes followed by blanks and then ``:`` (a key written ``"k" :``); a blank run longer
    than `_MAX_RUN` counts as one too (unusual enough to send the chunk line by line)."""
    blank = quotes[_is_blank(after)] + 1  # the first blank of each run
    found = 0
    for _ in range(_MAX_RUN):
        blank = blank[blank + 1 < a.size]
        following = a[blank + 1]
        found += int(np.count_nonzero(following == _COLON))
        blank = blank[_is_blank(following)] + 1
        if not blank.size:
            return found
    return found + blank.size


def _keys_with_backslash(a: np.ndarray, quotes: np.ndarray, key_index: np.ndarray) -> int:
    """How many keys (closing quote ``quotes[key_index]``) hold a backslash since the quote
    before, e.g. ``"te\\u0078t"``: the chunk then goes line by line, where orjson decodes the
    key and the last duplicate wins. (A key holding an escaped quote cannot be a Pile key.)"""
    key_index = key_index[key_index > 0]
    starts = quotes[key_index - 1] + 1
    lengths = quotes[key_index] - starts
    if not lengths.sum():
        return 0
    offsets = np.cumsum(lengths) - lengths
    inside = np.arange(int(lengths.sum())) - np.repeat(offsets, lengths)
    backslash = a[np.repeat(starts, lengths) + inside] == _BACKSLASH
    return int(np.count_nonzero(np.add.reduceat(backslash, offsets[lengths > 0])))


def _string_valued(a: np.ndarray, closing: np.ndarray) -> int:
    """How many keys (closing quote then ``:``) continue with ``"`` or `` "`` (a string value)."""
    tight = a[closing + 2] == _QUOTE
    spaced = (a[closing + 2] == _SPACE) & (a[closing + 3] == _QUOTE)
    return int(np.count_nonzero(tight | spaced))


class _Scanner:
    """Byte scans over a chunk in blocks of `block` bytes, with one reused scratch buffer.

    A comparison over a whole 16 MiB chunk would allocate a 16 MiB temporary (fresh pages,
    faulted in every time); blocks of 1 MiB stay in cache and reuse the same memory.
    """

    def __init__(self, block: int = 1 << 20) -> None:
        self.block = block
        self.scratch = np.empty(block, dtype=bool)

    def count(self, a: np.ndarray, byte: int) -> int:
        """How many bytes of `a` equal `byte`."""
        total = 0
        for start in range(0, a.size, self.block):
            part = a[start : start + self.block]
            total += int(np.count_nonzero(np.equal(part, byte, out=self.scratch[: part.size])))
        return total

    def positions(self, a: np.ndarray, byte: int) -> np.ndarray:
        """The indices of the bytes of `a` equal to `byte` (int64, ascending)."""
        found = []
        for start in range(0, a.size, self.block):
            part = a[start : start + self.block]
            hits = np.flatnonzero(np.equal(part, byte, out=self.scratch[: part.size]))
            found.append(hits + start)
        return np.concatenate(found) if found else np.empty(0, dtype=np.int64)

    def count_keys(self, data: bytes) -> KeyCounts:
        """Count the Pile schema's keys in `data` (see `KeyCounts`).

        One pass finds the quotes; a key ends with an unescaped quote right before ``:``, as
        json.dumps, orjson, pandas and jq write them. Two rarer spellings would let Polars
        disagree with orjson on a duplicate key, so they are counted and send the chunk line
        by line: blanks before the colon (`unusual_layout`) and escapes inside the key
        (`escaped_keys`, e.g. ``"te\\u0078t"``, which decodes to ``text``).
        """
        a = np.frombuffer(data, dtype=np.uint8)
        quotes = self.positions(a, _QUOTE)
        quotes = quotes[quotes + 3 < a.size]  # a key needs its colon and a value after it
        after = a[quotes + 1]
        key_index = np.flatnonzero(after == _COLON)
        # a quote after a backslash is text (e.g. JSON inside a document) or ends a key that
        # ends in a backslash: neither can be a Pile key
        key_index = key_index[a[quotes[key_index] - 1] != _BACKSLASH]
        closing = quotes[key_index]
        pile_keys = (b'"text"', b'"meta"', b'"pile_set_name"', b'"synthetic"')
        found = {key: _ends_key(a, closing, key) for key in pile_keys}
        other = ~np.logical_or.reduce(list(found.values()))
        text, psn = closing[found[b'"text"']], closing[found[b'"pile_set_name"']]
        return KeyCounts(
            text=text.size,
            text_str=_string_valued(a, text),
            meta=int(np.count_nonzero(found[b'"meta"'])),
            pile_set_name=psn.size,
            pile_set_name_str=_string_valued(a, psn),
            synthetic=int(np.count_nonzero(found[b'"synthetic"'])),
            unusual_layout=_spaced_keys(a, quotes, after),
            escaped_keys=_keys_with_backslash(a, quotes, key_index[other]),
        )

    def chunk(self, data: bytes, first_line: int, is_last: bool, pos: int) -> LineChunk:
        """`data` as a `LineChunk`: its lines counted, its keys counted."""
        newlines = self.count(np.frombuffer(data, dtype=np.uint8), _NEWLINE)
        n_lines = newlines + (0 if data.endswith(b"\n") else 1)
        return LineChunk(data, first_line, n_lines, is_last, pos, self.count_keys(data))


def iter_line_chunks(
    pieces: Iterable[tuple[bytes, int]], target_bytes: int = 16 << 20
) -> Iterator[LineChunk]:
    """Regroup ``(bytes, compressed position)`` pieces into chunks of whole lines.

    Each chunk is cut at the first newline after `target_bytes` (the last may be shorter); a
    line longer than `target_bytes` makes one longer chunk (no length limit, linear time).
    """
    scanner = _Scanner()
    parts: list[bytes | memoryview] = []
    size = 0
    first_line = 1
    pos = 0
    try:
        for piece, pos in pieces:
            view, start = memoryview(piece), 0
            # cut at the first newline once the chunk holds `target_bytes`, as often as it fits
            while (end := piece.find(b"\n", start + max(target_bytes - size - 1, 0))) >= 0:
                parts.append(view[start : end + 1])
                chunk = scanner.chunk(b"".join(parts), first_line, False, pos)
                first_line += chunk.n_lines
                yield chunk
                parts, size, start = [], 0, end + 1
            if start < len(piece):
                parts.append(view[start:])
                size += len(piece) - start
    except Exception:
        # the stream broke (corrupt data): hand over the whole lines before it, then re-raise
        held = b"".join(parts)
        if (cut := held.rfind(b"\n") + 1) > 0:
            yield scanner.chunk(held[:cut], first_line, False, pos)
        raise
    tail = b"".join(parts)
    if tail:
        yield scanner.chunk(tail, first_line, True, pos)
