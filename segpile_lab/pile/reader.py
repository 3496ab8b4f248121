"""Read Pile shards (``.jsonl`` plain or zstd, gzip, bzip2, xz) into Polars frames.

Data flow: expand the inputs into files (`_paths`: each file once, what cannot be read
reported) → per file, stream-decompress frame by frame (background thread) → cut into 16 MiB
chunks of whole lines, noting where each frame starts and dropping over-long lines, and count
their keys → parse each chunk with Polars when it is provably clean, else line by line with
orjson (`_parse`) → the Pile frame (see ARCHITECTURE.md: ``subset``, ``text``, ``n_bytes``,
``n_chars``, ``source``, ``line``, ``known_subset``, ``synthetic``) → filter, limit, sample,
batch. Rows of a frame that fails its check are taken back (`_Damage`).

Everything that is not returned exactly as written is counted in a `LoadReport`.
"""

from __future__ import annotations

import difflib
import os
import warnings
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypedDict, Unpack, overload

import polars as pl

from segpile_lab._progress import progress_bar
from segpile_lab.errors import (
    ChecksumMismatchError,
    CorruptArchiveError,
    DamagedFileWarning,
    DataError,
    FilterWarning,
    TrailingDataError,
)
from segpile_lab.pile._background import prefetch
from segpile_lab.pile._chunks import MAX_LINE_BYTES, iter_line_chunks
from segpile_lab.pile._parse import PILE_SCHEMA, UnicodeErrors, empty_frame, finish, parse_chunk
from segpile_lab.pile._paths import InputFile, PathsLike, display_path, expand_paths
from segpile_lab.pile._sampling import SubsetReservoir
from segpile_lab.pile.containers import ZstdDict, iter_decompressed
from segpile_lab.pile.load_report import FileReport, LoadReport
from segpile_lab.pile.subsets import PILE_SUBSETS, canonical_subset

__all__ = [
    "MAX_LINE_BYTES",
    "PILE_SCHEMA",
    "LoadReport",
    "PileBatches",
    "iter_pile_batches",
    "read_pile",
]

#: Decompressed bytes per parsed chunk. Polars parses 4 MiB and 16 MiB calls alike (880 and
#: 947 MB/s, one whole-file call 808 MB/s: bench_pile_reader.py stages s2-s4); 16 MiB means
#: fewer per-chunk checks and frames.
CHUNK_BYTES = 16 << 20


@dataclass(frozen=True)
class _Rows:
    """Rows of file `index`; those from line `open_from` on await their frame's check."""

    index: int
    frame: pl.DataFrame
    open_from: int


@dataclass(frozen=True)
class _Damage:
    """File `index`'s rows from line `line` on came from a frame that failed its check
    (`error`); `dropped` of them had been read."""

    index: int
    line: int
    error: CorruptArchiveError
    file: FileReport
    dropped: int

    def warn(self, already_returned: int = 0, stacklevel: int = 3) -> None:
        """Say what was kept and what was dropped (`DamagedFileWarning`); `stacklevel` as
        `warnings.warn` counts it from here (3: the caller of `read_pile`)."""
        self.file.rows_already_returned = already_returned
        returned = (
            f"; {already_returned:,} of them had already been handed out in batches: discard "
            f"the rows of {self.file.source} from line {self.line:,} on"
            if already_returned
            else ""
        )
        warnings.warn(
            DamagedFileWarning(
                f"{self.error}; kept the {self.file.rows:,} rows before line {self.line:,} "
                f"(from frames that passed their checks), dropped {self.dropped:,} rows decoded "
                f"from the damaged frame (lines {self.line:,} on){returned}; the rest of the "
                "file was not read"
            ),
            stacklevel=stacklevel,
        )


def _drop_damaged(parts: list[_Rows], damage: _Damage) -> list[_Rows]:
    """`parts` without the rows that `damage` names."""
    return [
        part
        if part.index != damage.index
        else _Rows(part.index, part.frame.filter(pl.col("line") < damage.line), part.open_from)
        for part in parts
    ]


class _PileReader:
    """The shared engine of `read_pile` and `iter_pile_batches`: yields one `_Rows` per chunk,
    and a `_Damage` when a frame fails its check in lenient mode."""

    def __init__(
        self,
        paths: PathsLike,
        *,
        subsets: Iterable[str] | None,
        strict: bool,
        unicode_errors: UnicodeErrors,
        progress: bool | None,
        verify: bool,
        max_line_bytes: int = MAX_LINE_BYTES,
        zstd_dict: ZstdDict | None = None,
        chunk_bytes: int | None = None,
    ) -> None:
        if max_line_bytes < 1:
            raise ValueError(f"max_line_bytes must be ≥ 1, got {max_line_bytes}")
        expansion = expand_paths(paths)
        self.files = expansion.files
        self.report = LoadReport(strict=strict)
        self.report.unread_paths = expansion.problems
        self.report.duplicate_paths = expansion.duplicates
        self.report.ignored_paths = expansion.ignored
        if expansion.problems:
            listed = "; ".join(f"{path}: {why}" for path, why in expansion.problems)
            if strict:
                raise DataError(f"{len(expansion.problems)} input(s) cannot be read: {listed}")
            warnings.warn(
                DamagedFileWarning(
                    f"not read, {len(expansion.problems)} input(s) that cannot be read "
                    f"(see the load report): {listed}"
                ),
                stacklevel=4,
            )
        if isinstance(subsets, str):
            subsets = [subsets]
        self.keep = None if subsets is None else sorted({canonical_subset(s)[0] for s in subsets})
        self.seen_subsets: set[str] = set()
        self.unicode_errors = unicode_errors
        self.progress = progress
        self.chunk_bytes = chunk_bytes or CHUNK_BYTES
        self.max_line_bytes = max_line_bytes
        self.zstd_dict = zstd_dict
        if verify:
            _verify([f.path for f in self.files], progress)

    def frames(self) -> Generator[_Rows | _Damage, None, None]:
        """`_Rows` for each parsed chunk of each file, in order; `_Damage` after a damaged
        frame (lenient mode)."""
        total = sum(os.path.getsize(f.path) for f in self.files if os.path.isfile(f.path))
        with progress_bar(
            total=total, unit="B", unit_scale=True, desc="reading Pile", progress=self.progress
        ) as bar:
            for index, file in enumerate(self.files):
                file_frames = self._file_frames(index, file, bar)
                try:
                    for item in file_frames:
                        yield item if isinstance(item, _Damage) else self._filter(item)
                finally:
                    file_frames.close()
        self._check_filter()

    def _filter(self, rows: _Rows) -> _Rows:
        if self.keep is None:
            return rows
        frame = rows.frame
        self.seen_subsets.update(frame.get_column("subset").unique().to_list())
        kept = frame.filter(pl.col("subset").is_in(self.keep))
        self.report.rows_filtered_out += frame.height - kept.height
        return _Rows(rows.index, kept, rows.open_from)

    def _check_filter(self) -> None:
        """Warn about `subsets=` names that matched no row, with the closest known names."""
        if self.keep is None:
            return
        known = sorted(set(PILE_SUBSETS) | self.seen_subsets)
        for name in self.keep:
            if name not in self.seen_subsets:
                others = [k for k in known if k != name]
                close = difflib.get_close_matches(name, others, n=3, cutoff=0.5)
                self.report.unmatched_subsets[name] = close
                warnings.warn(
                    FilterWarning(
                        f"subsets=: {name!r} matched no rows"
                        + (f"; did you mean {' or '.join(map(repr, close))}?" if close else "")
                    ),
                    stacklevel=4,  # here ← frames ← read_pile ← the caller
                )

    def _file_frames(
        self, index: int, file: InputFile, bar: Any
    ) -> Generator[_Rows | _Damage, None, None]:
        file_report = FileReport(display_path(file.path), format=file.format, source=file.source)
        self.report.files.append(file_report)
        source, done = file.source, 0
        open_from, unverified = 1, 0  # rows read from line `open_from` on are not verified yet
        chunks = prefetch(
            lambda: iter_line_chunks(
                iter_decompressed(file.path, file.format, zstd_dict=self.zstd_dict),
                self.chunk_bytes,
                self.max_line_bytes,
            )
        )
        try:
            for chunk in chunks:
                for line, n_bytes in chunk.long_lines:
                    detail = f"{n_bytes:,} bytes > max_line_bytes={self.max_line_bytes:,}"
                    self.report.record("line_too_long", source, line, detail)
                raw, columnar = parse_chunk(chunk, source, self.unicode_errors, self.report)
                frame = finish(raw, source, self.report)
                if chunk.open_from > open_from:  # the frames before it passed their checks
                    open_from = chunk.open_from
                    unverified = int((frame.get_column("line") >= open_from).sum())
                else:
                    unverified += frame.height
                file_report.decompressed_bytes += len(chunk.data)
                file_report.columnar_chunks += columnar
                file_report.fallback_chunks += not columnar
                file_report.rows += frame.height
                self.report.rows_read += frame.height
                bar.update(chunk.compressed_pos - done)
                done = chunk.compressed_pos
                yield _Rows(index, frame, chunk.open_from)
        except CorruptArchiveError as error:
            if self.report.strict or isinstance(error, TrailingDataError):
                raise
            line = error.line or open_from
            dropped = unverified if line == open_from else 0
            self._record_damage(file_report, error, line, dropped)
            yield _Damage(index, line, error, file_report, dropped)
            return
        except GeneratorExit:
            file_report.error = "not read to the end (the caller stopped early)"
            raise
        except OSError as error:  # the file vanished or the disk failed while reading
            file_report.error = f"cannot read: {error.strerror or error}"
            raise DataError(f"{file_report.path}: {file_report.error}") from error
        except Exception as error:
            file_report.error = str(error)
            raise
        finally:
            chunks.close()
        file_report.ended_cleanly = True

    def _record_damage(
        self, file_report: FileReport, error: CorruptArchiveError, line: int, dropped: int
    ) -> None:
        file_report.error = str(error)
        file_report.rows -= dropped
        file_report.rows_dropped, file_report.dropped_from_line = dropped, line
        self.report.rows_read -= dropped
        if dropped:
            self.report.skipped["damaged_frame"] += dropped
            self.report.add_example("damaged_frame", file_report.source, line, str(error))


def _verify(files: list[Path], progress: bool | None) -> None:
    """Check each file against the ``SHA256SUMS.txt`` nearest above it (the release keeps one
    at its root for ``train/NN.jsonl.zst``, ``val.jsonl.zst``, ``test.jsonl.zst``)."""
    from segpile_lab.pile.manifests import SUMS_FILE, verify_shards

    by_folder: dict[Path, list[str]] = {}
    for path in files:
        folder = next((f for f in path.resolve().parents if (f / SUMS_FILE).is_file()), None)
        if folder is None:
            raise ChecksumMismatchError(f"cannot verify {path}: no {SUMS_FILE} beside it or above")
        by_folder.setdefault(folder, []).append(path.resolve().relative_to(folder).as_posix())
    for folder, names in by_folder.items():
        verify_shards(folder, files=names, progress=progress)


class ReadOptions(TypedDict, total=False):
    """`read_pile`'s other keyword arguments, for its two typed forms (mypy checks that the
    implementation accepts exactly these)."""

    subsets: Iterable[str] | None
    limit: int | None
    sample_per_subset: int | None
    seed: int
    strict: bool
    progress: bool | None
    unicode_errors: UnicodeErrors
    verify: bool
    on_frame: Callable[[pl.DataFrame], object] | None
    max_line_bytes: int
    zstd_dict: ZstdDict | None


@overload
def read_pile(
    paths: PathsLike, *, with_report: Literal[False] = ..., **options: Unpack[ReadOptions]
) -> pl.DataFrame: ...
@overload
def read_pile(
    paths: PathsLike, *, with_report: Literal[True], **options: Unpack[ReadOptions]
) -> tuple[pl.DataFrame, LoadReport]: ...
def read_pile(
    paths: PathsLike,
    *,
    subsets: Iterable[str] | None = None,
    limit: int | None = None,
    sample_per_subset: int | None = None,
    seed: int = 0,
    strict: bool = False,
    progress: bool | None = None,
    with_report: bool = False,
    unicode_errors: UnicodeErrors = "skip",
    verify: bool = False,
    on_frame: Callable[[pl.DataFrame], object] | None = None,
    max_line_bytes: int = MAX_LINE_BYTES,
    zstd_dict: ZstdDict | None = None,
) -> pl.DataFrame | tuple[pl.DataFrame, LoadReport]:
    """Read Pile files into one Polars frame.

    Args:
        paths: a file, folder or glob, or a list of them. Containers are recognised by their
            magic bytes (zstd, gzip, bzip2, xz, else JSON lines), not by extension. A folder
            gives its files named like shards (``.jsonl``, ``.ndjson``, ``.jsonl.zst``,
            ``.zstd``, ``.gz``, ``.bz2``, ``.xz``, any letter case), recursively; entries that
            cannot be read are reported (lenient) or raise (strict); a file given twice is
            read once.
        subsets: keep only these subsets (released names or aliases such as ``pile_arxiv``);
            a name that matches no row warns (`FilterWarning`) with the closest known names.
        limit: stop after this many rows (after the subset filter).
        sample_per_subset: a seeded uniform sample of at most this many rows per subset,
            drawn while streaming (never holds a whole shard).
        seed: the sampling seed.
        strict: raise `RecordError` on the first record that lenient mode would skip, and on
            any container error. Fixes (BOM, ``meta`` as a string, aliases) and flags (empty
            text, unknown subsets) are applied and counted in both modes.
        progress: a progress bar over compressed bytes; None lets ``TQDM_DISABLE`` decide.
        with_report: also return the `LoadReport`.
        unicode_errors: ``"skip"`` rows with non-UTF-8 bytes or lone surrogates, or
            ``"replace"`` them by U+FFFD (counted as fixed).
        verify: first check every file against the ``SHA256SUMS.txt`` in its folder
            (`verify_shards`); a mismatch raises before anything is read.
        on_frame: called with every chunk's frame as it is read (after `subsets` and `limit`,
            before sampling), so the same pass can feed streaming statistics, e.g.
            ``CompositionStats().update``, while only a sample is kept. It sees rows as they
            are decoded: rows of a frame that later fails its check are dropped from the
            result but were already seen here (the report names them).
        max_line_bytes: a longer line (bytes) is skipped and counted (``line_too_long``)
            without ever being held whole; reading goes on after it.
        zstd_dict: the dictionary (bytes or a file) zstd frames were compressed with, if any.

    Returns:
        The frame (columns ``subset``, ``text``, ``n_bytes`` UInt64 UTF-8 bytes, ``n_chars``,
        ``source`` the file's path relative to the folder holding all inputs (its name when
        there is one folder), ``line`` 1-based, ``known_subset``, ``synthetic``), and the
        report when `with_report`.

    Raises:
        TruncatedArchiveError, TrailingDataError: in both modes (a cut or padded download).
        CorruptArchiveError: in strict mode, when a frame fails its check (zstd checksum, gzip
            CRC) or holds corrupt data; lenient mode drops the rows decoded from that frame,
            keeps those of the frames before it, warns (`DamagedFileWarning`) and says so in
            the report.
        ArchiveError: a zstd frame with a window over 2 GiB or a dictionary not given.
        DataError: an input matches nothing or a named file cannot be read; in strict mode
            also an entry of a folder or glob that cannot be read.
    """
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be ≥ 0, got {limit}")
    reservoir = None if sample_per_subset is None else SubsetReservoir(sample_per_subset, seed)
    reader = _PileReader(
        paths,
        subsets=subsets,
        strict=strict,
        unicode_errors=unicode_errors,
        progress=progress,
        verify=verify,
        max_line_bytes=max_line_bytes,
        zstd_dict=zstd_dict,
    )
    reader.report.sample_per_subset = sample_per_subset
    parts: list[_Rows] = []
    taken = 0
    frames = reader.frames()
    try:
        for item in frames:
            if isinstance(item, _Damage):
                if reservoir is not None:
                    reservoir.drop(item.index, item.line)
                parts = _drop_damaged(parts, item)
                taken = sum(part.frame.height for part in parts)
                item.warn()
                continue
            frame = item.frame if limit is None else item.frame.head(limit - taken)
            taken += frame.height
            if on_frame is not None:
                on_frame(frame)
            if reservoir is not None:
                reservoir.add(frame, item.index, item.open_from)
            elif frame.height:
                parts.append(_Rows(item.index, frame, item.open_from))
            if limit is not None and taken >= limit:
                break
    finally:
        frames.close()
    sampled = None if reservoir is None else reservoir.result()
    if sampled is not None:
        df = sampled
    else:
        kept = [part.frame for part in parts if part.frame.height]
        df = pl.concat(kept, rechunk=False) if kept else empty_frame()
    reader.report.rows_returned = df.height
    return (df, reader.report) if with_report else df


class PileBatches:
    """Frames of at most `batch_rows` rows and `batch_bytes` bytes of text, streamed from Pile
    files; see `iter_pile_batches`. Iterate it; `report` (a `LoadReport`) fills in as it goes.
    """

    def __init__(self, reader: _PileReader, batch_rows: int, batch_bytes: int) -> None:
        if batch_rows < 1 or batch_bytes < 1:
            raise ValueError(
                f"batch_rows and batch_bytes must be ≥ 1, got {batch_rows}, {batch_bytes}"
            )
        self.report = reader.report
        self.batch_rows, self.batch_bytes = batch_rows, batch_bytes
        self._reader = reader
        self._open = (-1, 0)  # (file index, first line) of the frame not verified yet
        self._open_returned = 0  # its rows handed out so far
        self._batches = self._generate()

    def __iter__(self) -> PileBatches:
        return self

    def __next__(self) -> pl.DataFrame:
        return next(self._batches)

    def close(self) -> None:
        """Stop reading (releases the file and the background thread)."""
        self._batches.close()

    def _generate(self) -> Generator[pl.DataFrame, None, None]:
        pending: list[_Rows] = []
        rows = size = 0
        frames = self._reader.frames()
        try:
            for item in frames:
                if isinstance(item, _Damage):  # rows not handed out yet can still be dropped
                    pending = _drop_damaged(pending, item)
                    rows = sum(p.frame.height for p in pending)
                    size = sum(int(p.frame.get_column("n_bytes").sum()) for p in pending)
                    same = (item.index, item.line) == self._open
                    item.warn(already_returned=self._open_returned if same else 0, stacklevel=4)
                    continue
                if (item.index, item.open_from) != self._open:
                    self._open, self._open_returned = (item.index, item.open_from), 0
                frame = item.frame
                while frame.height:
                    part = frame.head(self.batch_rows - rows)
                    sizes = part.get_column("n_bytes").cum_sum()
                    fits = sizes.search_sorted(self.batch_bytes - size, side="right")
                    fits = max(int(fits), 1 if rows == 0 else 0)  # a huge document goes alone
                    if fits:
                        pending.append(_Rows(item.index, part.head(fits), item.open_from))
                        frame = frame.slice(fits)
                        rows, size = rows + fits, size + int(sizes[fits - 1])
                    if rows == self.batch_rows or fits < part.height:  # full
                        yield self._emit(pending)
                        pending, rows, size = [], 0, 0
        finally:
            frames.close()
        if pending:
            yield self._emit(pending)

    def _emit(self, parts: list[_Rows]) -> pl.DataFrame:
        batch = pl.concat([p.frame for p in parts], rechunk=True)
        self.report.rows_returned += batch.height
        index, open_from = self._open
        self._open_returned += sum(
            int((p.frame.get_column("line") >= open_from).sum()) for p in parts if p.index == index
        )
        return batch


def iter_pile_batches(
    paths: PathsLike,
    *,
    batch_rows: int = 8192,
    batch_bytes: int = 32 << 20,
    subsets: Iterable[str] | None = None,
    strict: bool = False,
    progress: bool | None = None,
    unicode_errors: UnicodeErrors = "skip",
    verify: bool = False,
    max_line_bytes: int = MAX_LINE_BYTES,
    zstd_dict: ZstdDict | None = None,
) -> PileBatches:
    """Stream Pile files as frames (the `read_pile` columns) of at most `batch_rows` rows and
    `batch_bytes` UTF-8 bytes of text; a single longer document comes alone.

    Memory does not grow with the file: a few decompressed chunks (16 MiB each, more only for a
    single longer line) and about three batches (the one being built, its copy, the one the
    caller holds). The `report` attribute of the result is the `LoadReport`. Other arguments
    as `read_pile`. Rows are handed out as they are decoded: when a frame then fails its check
    (lenient mode), its rows still waiting in the batch being built are dropped, and the
    warning and ``report.files[i].dropped_from_line`` name those already handed out.

    Example::

        batches = sl.iter_pile_batches("pile/train/00.jsonl.zst", batch_rows=10_000)
        for batch in batches:
            stats.update(batch)
        print(batches.report)
    """
    reader = _PileReader(
        paths,
        subsets=subsets,
        strict=strict,
        unicode_errors=unicode_errors,
        progress=progress,
        verify=verify,
        max_line_bytes=max_line_bytes,
        zstd_dict=zstd_dict,
    )
    return PileBatches(reader, batch_rows, batch_bytes)
