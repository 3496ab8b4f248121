"""Read Pile shards (``.jsonl.zst``, ``.jsonl.gz``, ``.jsonl``) into Polars frames.

Data flow per file: sniff the container → stream-decompress (background thread) → cut into
16 MiB chunks of whole lines and count their keys → parse each chunk with Polars when it is
provably clean, else line by line with orjson (`_parse`) → the Pile frame (see
ARCHITECTURE.md: ``subset``, ``text``, ``n_bytes``, ``n_chars``, ``source``, ``line``,
``known_subset``, ``synthetic``) → filter, limit, sample, batch.

Everything that is not returned exactly as written is counted in a `LoadReport`.
"""

from __future__ import annotations

import glob
import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Literal, overload

import polars as pl

from segpile_lab._progress import progress_bar
from segpile_lab.errors import (
    ChecksumMismatchError,
    CorruptArchiveError,
    DamagedFileWarning,
    DataError,
    TrailingDataError,
)
from segpile_lab.pile._background import prefetch
from segpile_lab.pile._chunks import iter_line_chunks
from segpile_lab.pile._parse import PILE_SCHEMA, UnicodeErrors, empty_frame, finish, parse_chunk
from segpile_lab.pile._sampling import SubsetReservoir
from segpile_lab.pile.containers import iter_decompressed, sniff_format
from segpile_lab.pile.load_report import FileReport, LoadReport
from segpile_lab.pile.subsets import canonical_subset

__all__ = ["PILE_SCHEMA", "LoadReport", "PileBatches", "iter_pile_batches", "read_pile"]

PathsLike = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]

#: File names a directory contributes (an explicit file path is always read, whatever its name).
DATA_SUFFIXES = (".jsonl", ".jsonl.zst", ".jsonl.gz", ".json.zst", ".json.gz", ".zst", ".gz")
#: Decompressed bytes per parsed chunk. Polars parses 4 MiB and 16 MiB calls alike (880 and
#: 947 MB/s, one whole-file call 808 MB/s: bench_pile_reader.py stages s2-s4); 16 MiB means
#: fewer per-chunk checks and frames.
CHUNK_BYTES = 16 << 20


def expand_paths(paths: PathsLike) -> list[Path]:
    """Files, directories (their data files, recursively, sorted) and glob patterns → files."""
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    files: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.name.endswith(DATA_SUFFIXES)
            )
        elif path.is_file():
            found = [path]
        else:
            found = sorted(
                Path(p) for p in glob.glob(str(item), recursive=True) if Path(p).is_file()
            )
        if not found:
            raise DataError(
                f"no Pile files at {str(item)!r} (not a file, a folder with "
                f"{', '.join(DATA_SUFFIXES)} files, or a matching glob)"
            )
        files.extend(found)
    return files


class _PileReader:
    """The shared engine of `read_pile` and `iter_pile_batches`: yields one frame per chunk."""

    def __init__(
        self,
        paths: PathsLike,
        *,
        subsets: Iterable[str] | None,
        strict: bool,
        unicode_errors: UnicodeErrors,
        progress: bool | None,
        verify: bool,
        chunk_bytes: int | None = None,
    ) -> None:
        self.files = expand_paths(paths)
        self.report = LoadReport(strict=strict)
        if isinstance(subsets, str):
            subsets = [subsets]
        self.keep = None if subsets is None else sorted({canonical_subset(s)[0] for s in subsets})
        self.unicode_errors = unicode_errors
        self.progress = progress
        self.chunk_bytes = chunk_bytes or CHUNK_BYTES
        if verify:
            _verify(self.files, progress)

    def frames(self) -> Iterator[tuple[int, pl.DataFrame]]:
        """``(file index, frame)`` for each parsed chunk of each file, in order."""
        total = sum(f.stat().st_size for f in self.files)
        with progress_bar(
            total=total, unit="B", unit_scale=True, desc="reading Pile", progress=self.progress
        ) as bar:
            for index, path in enumerate(self.files):
                file_frames = self._file_frames(path, bar)
                try:
                    for frame in file_frames:
                        yield index, self._filter(frame)
                finally:
                    file_frames.close()

    def _filter(self, frame: pl.DataFrame) -> pl.DataFrame:
        if self.keep is None:
            return frame
        kept = frame.filter(pl.col("subset").is_in(self.keep))
        self.report.rows_filtered_out += frame.height - kept.height
        return kept

    def _file_frames(self, path: Path, bar) -> Iterator[pl.DataFrame]:  # type: ignore[no-untyped-def]
        file_report = FileReport(str(path))
        self.report.files.append(file_report)
        fmt = sniff_format(path)
        file_report.format = fmt
        source, done = path.name, 0
        chunks = prefetch(lambda: iter_line_chunks(iter_decompressed(path, fmt), self.chunk_bytes))
        try:
            for chunk in chunks:
                raw, columnar = parse_chunk(chunk, source, self.unicode_errors, self.report)
                frame = finish(raw, source, self.report)
                file_report.decompressed_bytes += len(chunk.data)
                file_report.columnar_chunks += columnar
                file_report.fallback_chunks += not columnar
                file_report.rows += frame.height
                self.report.rows_read += frame.height
                bar.update(chunk.compressed_pos - done)
                done = chunk.compressed_pos
                yield frame
        except CorruptArchiveError as error:
            if self.report.strict or isinstance(error, TrailingDataError):
                raise
            file_report.error = str(error)
            warnings.warn(
                DamagedFileWarning(f"{error}; kept the {file_report.rows:,} rows read before it"),
                stacklevel=4,
            )
            return
        except GeneratorExit:
            file_report.error = "not read to the end (the caller stopped early)"
            raise
        except Exception as error:
            file_report.error = str(error)
            raise
        finally:
            chunks.close()
        file_report.ended_cleanly = True


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


@overload
def read_pile(
    paths: PathsLike, *, with_report: Literal[False] = ..., **kwargs: object
) -> pl.DataFrame: ...
@overload
def read_pile(
    paths: PathsLike, *, with_report: Literal[True], **kwargs: object
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
) -> pl.DataFrame | tuple[pl.DataFrame, LoadReport]:
    """Read Pile files into one Polars frame.

    Args:
        paths: a file, folder or glob, or a list of them. Containers are recognised by their
            magic bytes (zstd, gzip, else JSON lines), not by extension.
        subsets: keep only these subsets (released names or aliases such as ``pile_arxiv``).
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
            ``CompositionStats().update``, while only a sample is kept.

    Returns:
        The frame (columns ``subset``, ``text``, ``n_bytes`` UInt64 UTF-8 bytes, ``n_chars``,
        ``source`` file name, ``line`` 1-based, ``known_subset``, ``synthetic``), and the
        report when `with_report`.

    Raises:
        TruncatedArchiveError, TrailingDataError: in both modes (a cut or padded download).
        CorruptArchiveError: in strict mode; lenient mode keeps the rows before the damage,
            warns (`DamagedFileWarning`) and says so in the report.
    """
    reader = _PileReader(
        paths,
        subsets=subsets,
        strict=strict,
        unicode_errors=unicode_errors,
        progress=progress,
        verify=verify,
    )
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be ≥ 0, got {limit}")
    reservoir = None if sample_per_subset is None else SubsetReservoir(sample_per_subset, seed)
    reader.report.sample_per_subset = sample_per_subset
    parts: list[pl.DataFrame] = []
    taken = 0
    frames = reader.frames()
    try:
        for index, frame in frames:
            if limit is not None:
                frame = frame.head(limit - taken)
            taken += frame.height
            if on_frame is not None:
                on_frame(frame)
            if reservoir is not None:
                reservoir.add(frame, index)
            elif frame.height:
                parts.append(frame)
            if limit is not None and taken >= limit:
                break
    finally:
        frames.close()
    sampled = None if reservoir is None else reservoir.result()
    if sampled is not None:
        df = sampled
    else:
        df = pl.concat(parts, rechunk=False) if parts else empty_frame()
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
        self._batches = self._generate()

    def __iter__(self) -> PileBatches:
        return self

    def __next__(self) -> pl.DataFrame:
        return next(self._batches)

    def close(self) -> None:
        """Stop reading (releases the file and the background thread)."""
        self._batches.close()

    def _generate(self) -> Iterator[pl.DataFrame]:
        pending: list[pl.DataFrame] = []
        rows = size = 0
        frames = self._reader.frames()
        try:
            for _, frame in frames:
                while frame.height:
                    part = frame.head(self.batch_rows - rows)
                    sizes = part.get_column("n_bytes").cum_sum()
                    fits = sizes.search_sorted(self.batch_bytes - size, side="right")
                    fits = max(int(fits), 1 if rows == 0 else 0)  # a huge document goes alone
                    if fits:
                        pending.append(part.head(fits))
                        frame = frame.slice(fits)
                        rows, size = rows + fits, size + int(sizes[fits - 1])
                    if rows == self.batch_rows or fits < part.height:  # full
                        yield self._emit(pending)
                        pending, rows, size = [], 0, 0
        finally:
            frames.close()
        if pending:
            yield self._emit(pending)

    def _emit(self, parts: list[pl.DataFrame]) -> pl.DataFrame:
        batch = pl.concat(parts, rechunk=True)
        self.report.rows_returned += batch.height
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
) -> PileBatches:
    """Stream Pile files as frames (the `read_pile` columns) of at most `batch_rows` rows and
    `batch_bytes` UTF-8 bytes of text; a single longer document comes alone.

    Memory does not grow with the file: a few decompressed chunks (16 MiB each, more only for a
    single longer line) and about three batches (the one being built, its copy, the one the
    caller holds). The `report` attribute of the result is the `LoadReport`. Other arguments
    as `read_pile`.

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
    )
    return PileBatches(reader, batch_rows, batch_bytes)
