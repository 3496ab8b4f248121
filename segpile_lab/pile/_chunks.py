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

_QUOTE, _COLON, _SPACE, _TAB, _NEWLINE = ord('"'), ord(":"), ord(" "), ord("\t"), 10


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
    unusual_layout: int  # keys written ``"k" :`` (blanks before the colon)


@dataclass(frozen=True, slots=True)
class LineChunk:
    """Whole lines of one file: `data` ends with a newline unless it is the file's tail."""

    data: bytes
    first_line: int  # 1-based line number of the first line in the file
    n_lines: int
    is_last: bool  # the file's last chunk
    compressed_pos: int  # compressed bytes of the file consumed when the chunk was cut
    keys: KeyCounts


def _keys_ending_at(a: np.ndarray, closing: np.ndarray, key: bytes) -> np.ndarray:
    """The closing-quote positions in `closing` that end an occurrence of `key` (with quotes)."""
    closing = closing[closing >= len(key) - 1]
    for i in range(len(key) - 1):
        closing = closing[a[closing - (len(key) - 1) + i] == key[i]]
    return closing


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

        One pass finds the quotes; a key is a quote right before ``:``, as json.dumps, orjson,
        pandas and jq write them. Quotes followed by one or two spaces or tabs and a colon (a
        key written ``"k" :``) are counted in `unusual_layout` (the chunk then goes line by
        line). Known limit: a *second* ``text``/``meta``/``pile_set_name`` key spelled with an
        escape (``"te\\u0078t":``) or 3+ blanks before its colon, in a chunk that is otherwise
        clean, is not seen here; that one row would get Polars' first-wins.
        """
        a = np.frombuffer(data, dtype=np.uint8)
        quotes = self.positions(a, _QUOTE)
        quotes = quotes[quotes + 3 < a.size]  # a key needs its colon and a value after it
        after = a[quotes + 1]
        closing = quotes[after == _COLON]
        blank = quotes[(after == _SPACE) | (after == _TAB)]
        second = a[blank + 2]
        spaced = (second == _COLON) | (
            ((second == _SPACE) | (second == _TAB)) & (a[blank + 3] == _COLON)
        )
        found = {
            key: _keys_ending_at(a, closing, key)
            for key in (b'"text"', b'"meta"', b'"pile_set_name"', b'"synthetic"')
        }
        text, psn = found[b'"text"'], found[b'"pile_set_name"']
        return KeyCounts(
            text=text.size,
            text_str=_string_valued(a, text),
            meta=found[b'"meta"'].size,
            pile_set_name=psn.size,
            pile_set_name_str=_string_valued(a, psn),
            synthetic=found[b'"synthetic"'].size,
            unusual_layout=int(np.count_nonzero(spaced)),
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
