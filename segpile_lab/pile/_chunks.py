"""Cut a stream of decompressed bytes into chunks of whole lines, and count their JSON keys.

The key counts let the columnar parser prove a chunk clean: Polars keeps the *first* of
duplicate keys and coerces ``"text": 123`` to ``"123"``, where our rule is the one of
json/orjson (last key wins, non-strings are rejected). A chunk whose rows each hold exactly one
``"text"``, ``"meta"`` and ``"pile_set_name"`` key, with string values for the two names, cannot
hit either difference. Counting runs in NumPy (which releases the GIL) in the decompression
thread, so it overlaps with Polars parsing the previous chunk.

Cutting also keeps memory bounded on any line (a line over `max_line_bytes` is dropped as it
streams by and reported with its number and length) and remembers where each compressed frame
starts (``open_from``), so that rows from a frame that later fails its check can be dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from segpile_lab.errors import ArchiveError

__all__ = ["MAX_LINE_BYTES", "KeyCounts", "LineChunk", "iter_line_chunks"]

#: Lines longer than this (bytes, without the newline) are skipped and counted, never held.
MAX_LINE_BYTES = 256 << 20

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
    #: the line holding the first byte of the compressed frame still open when the chunk was
    #: cut: rows from it on are unverified until that frame ends (1 for plain JSON lines)
    open_from: int = 1
    #: ``(line, bytes)`` of lines over `max_line_bytes` skipped since the previous chunk
    long_lines: tuple[tuple[int, int], ...] = ()


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

    def chunk(
        self,
        data: bytes,
        first_line: int,
        is_last: bool,
        pos: int,
        open_from: int = 1,
        long_lines: tuple[tuple[int, int], ...] = (),
    ) -> LineChunk:
        """`data` as a `LineChunk`: its lines counted, its keys counted."""
        newlines = self.count(np.frombuffer(data, dtype=np.uint8), _NEWLINE)
        n_lines = newlines + (0 if not data or data.endswith(b"\n") else 1)
        keys = self.count_keys(data) if data else KeyCounts(0, 0, 0, 0, 0, 0, 0, 0)
        return LineChunk(data, first_line, n_lines, is_last, pos, keys, open_from, long_lines)


def _head(parts: list[bytes | memoryview], size: int) -> bytes:
    """The first `size` bytes of `parts`, joined."""
    out = []
    for part in parts:
        if size <= 0:
            break
        out.append(part[:size])
        size -= len(part)
    return b"".join(out)


class _Cutter:
    """The state of `iter_line_chunks`: held bytes (whole lines, then one partial line), line
    numbers, the open frame and the over-long line being skipped."""

    def __init__(self, target_bytes: int, max_line_bytes: int) -> None:
        self.scanner = _Scanner()
        self.target, self.max_line = target_bytes, max_line_bytes
        self.first_line, self.pos, self.frame, self.open_from = 1, 0, 0, 1
        self.skipping: int | None = None  # bytes of the over-long line seen so far
        self.long_lines: list[tuple[int, int]] = []
        self._reset()

    def _reset(self) -> None:
        self.parts: list[bytes | memoryview] = []
        self.size = 0  # bytes held
        self.line_start = 0  # held bytes before the partial line
        self.counted = self.newlines = 0  # newlines in parts[:counted], counted lazily

    def _chunk(self, data: bytes, is_last: bool) -> LineChunk:
        chunk = self.scanner.chunk(
            data, self.first_line, is_last, self.pos, self.open_from, tuple(self.long_lines)
        )
        self.first_line += chunk.n_lines
        self.long_lines = []
        return chunk

    def _whole_lines(self) -> Iterator[LineChunk]:
        """The held whole lines as a chunk (with any skipped-line records), then nothing held."""
        if self.line_start or self.long_lines:
            yield self._chunk(_head(self.parts, self.line_start), False)
        self._reset()

    def _skipped(self, n_bytes: int) -> None:
        self.long_lines.append((self.first_line, n_bytes))
        self.first_line += 1
        self.skipping = None

    def feed(self, piece: bytes, pos: int, frame: int) -> Iterator[LineChunk]:
        self.pos = pos
        if frame != self.frame:  # a new frame starts with this piece: which line is that?
            for part in self.parts[self.counted :]:
                self.newlines += self.scanner.count(np.frombuffer(part, np.uint8), _NEWLINE)
            self.frame, self.counted = frame, len(self.parts)
            self.open_from = self.first_line + self.newlines
        # slices of ≤ max_line bytes: only the line ending at a slice's first newline, or the
        # partial line at its end, can then be over-long
        step = max(self.max_line, 1)
        for low in range(0, len(piece), step):
            yield from self._feed(piece, low, min(low + step, len(piece)))

    def _feed(self, piece: bytes, start: int, high: int) -> Iterator[LineChunk]:
        first = piece.find(b"\n", start, high)
        if self.skipping is not None:
            if first < 0:
                self.skipping += high - start
                return
            self._skipped(self.skipping + first - start)
            start = first + 1
        elif first >= 0 and (length := self.size - self.line_start + first - start) > self.max_line:
            yield from self._whole_lines()
            self._skipped(length)
            start = first + 1
        view = memoryview(piece)
        # cut at the first newline once the chunk holds `target` bytes, as often as it fits
        while (end := piece.find(b"\n", start + max(self.target - self.size - 1, 0), high)) >= 0:
            self.parts.append(view[start : end + 1])
            yield self._chunk(b"".join(self.parts), False)
            self._reset()
            start = end + 1
        if start < high:
            if (last := piece.rfind(b"\n", start, high)) >= 0:
                self.line_start = self.size + last + 1 - start
            self.parts.append(view[start:high])
            self.size += high - start
            if (partial := self.size - self.line_start) > self.max_line:
                yield from self._whole_lines()
                self.skipping = partial

    def broken(self, error: Exception) -> Iterator[LineChunk]:
        """The stream broke: hand over the whole lines held, and tell the error which line the
        failing frame started at."""
        if isinstance(error, ArchiveError):
            error.line = self.open_from
        yield from self._whole_lines()

    def finish(self) -> Iterator[LineChunk]:
        if self.skipping is not None:  # the file ends inside an over-long line
            self._skipped(self.skipping)
        tail = b"".join(self.parts)
        if tail or self.long_lines:
            yield self._chunk(tail, True)


def iter_line_chunks(
    pieces: Iterable[tuple[bytes, int, int]],
    target_bytes: int = 16 << 20,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> Iterator[LineChunk]:
    """Regroup ``(bytes, compressed position, frame index)`` pieces into chunks of whole lines.

    Each chunk is cut at the first newline after `target_bytes` (the last may be shorter); a
    line longer than `target_bytes` makes one longer chunk, in linear time. A line longer than
    `max_line_bytes` is dropped while it streams by (memory stays at about `max_line_bytes`)
    and reported in the next chunk's ``long_lines``; line numbers count it.
    """
    cutter = _Cutter(target_bytes, max_line_bytes)
    try:
        for piece, pos, frame in pieces:
            yield from cutter.feed(piece, pos, frame)
    except Exception as error:
        # the stream broke (corrupt data): hand over the whole lines before it, then re-raise
        yield from cutter.broken(error)
        raise
    yield from cutter.finish()
