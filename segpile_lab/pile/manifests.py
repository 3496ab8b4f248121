"""The Pile's published facts (``data_manifests/``) and checksum verification of shards.

`published_composition` and `paper_bpb` load the paper's tables (Gao et al. 2020,
arXiv:2101.00027; see ``data_manifests/README.md``); `pile_files` the release's file layout.
`verify_shards` checks files against a ``SHA256SUMS.txt`` in ``sha256sum`` format (what the
release ships) and raises before anything is read when one differs or is missing. The sums
file is data, not instructions: a name that leaves the folder (``..``, an absolute path) is
refused before any file is opened, two different digests for one name are an error, and a
name that is not UTF-8 raises `ManifestError` naming the line.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import polars as pl

from segpile_lab._progress import progress_bar
from segpile_lab._resources import manifests_dir
from segpile_lab.errors import ChecksumMismatchError, ManifestError

__all__ = [
    "SUMS_FILE",
    "paper_bpb",
    "paper_model_name",
    "pile_files",
    "published_composition",
    "read_sums_file",
    "verify_shards",
]

SUMS_FILE = "SHA256SUMS.txt"
_SUM_LINE = re.compile(r"^(?P<digest>[0-9a-fA-F]{64}) [ *](?P<name>.+)$")
_BLOCK = 4 << 20
# the models of the paper's GPT-2/GPT-3 table as the paper names them: `paper_bpb`'s columns
PAPER_MODEL_NAMES = {
    "gpt2_small": "GPT-2 small",
    "gpt2_medium": "GPT-2 medium",
    "gpt2_large": "GPT-2 large",
    "gpt2_xl": "GPT-2 XL",
    "gpt3_ada": "GPT-3 Ada",
    "gpt3_babbage": "GPT-3 Babbage",
    "gpt3_curie": "GPT-3 Curie",
    "gpt3_davinci": "GPT-3 DaVinci",
}


def _manifest(name: str, schema: Mapping[str, Any]) -> pl.DataFrame:
    return pl.read_csv(manifests_dir() / name, schema_overrides=schema)


def published_composition() -> pl.DataFrame:
    """The paper's composition table: 22 rows in its order.

    Columns: ``component`` (the released subset name), ``raw_size_gib``, ``weight_percent``
    (share of the training mixture, %), ``epochs``, ``effective_size_gib``,
    ``mean_document_size_kib`` (KiB = 1024 bytes), all Float64.
    """
    return _manifest("pile_composition.csv", {"component": pl.String})


def paper_bpb() -> pl.DataFrame:
    """The paper's test-set bits per UTF-8 byte per component for GPT-2 and GPT-3.

    Columns: ``component`` (22 subsets, then the whole-Pile row ``"The Pile"``),
    ``gpt2_small`` … ``gpt2_xl``, ``gpt3_ada`` … ``gpt3_davinci`` (Float64, bits/byte).
    """
    return _manifest("pile_paper_bpb.csv", {"component": pl.String})


def paper_model_name(column: str) -> str:
    """How a reader sees a `paper_bpb` column: ``"gpt2_small"`` → ``"GPT-2 small"``,
    ``"gpt3_davinci"`` → ``"GPT-3 DaVinci"``; other names unchanged."""
    return PAPER_MODEL_NAMES.get(column, column)


def pile_files() -> pl.DataFrame:
    """The release's layout: ``split``, ``path`` (relative), ``original_url``, ``note``."""
    return _manifest("pile_files.csv", {})


def _unescape(name: str) -> str:
    """A name as ``sha256sum`` escapes it on a line starting with a backslash."""
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m[1], m[1]), name)


def _leaves_folder(name: str) -> bool:
    """True for names that are absolute or climb out of the folder (``..``)."""
    posix = PurePosixPath(name.replace("\\", "/"))
    return posix.is_absolute() or ".." in posix.parts or re.match(r"^[A-Za-z]:", name) is not None


def read_sums_file(sums_file: str | Path) -> dict[str, str]:
    """``relative path -> lower-case hex digest`` from a ``sha256sum`` output file.

    Accepts text (``digest  name``) and binary (``digest *name``) lines, a leading ``./`` and
    ``sha256sum``'s backslash-escaped names; ignores blank lines and ``#`` comments; the same
    entry twice is fine. Raises `ManifestError` (naming the line) on any other line, a name
    that is absolute or contains ``..``, a name listed with two different digests, and bytes
    that are not UTF-8.
    """
    raw = Path(sums_file).read_bytes()
    sums: dict[str, str] = {}
    for number, line_bytes in enumerate(raw.splitlines(), start=1):
        try:
            line = line_bytes.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ManifestError(
                f"{sums_file}, line {number}: a name that is not UTF-8 ({error.reason} at byte "
                f"{error.start}: {line_bytes[max(error.start - 10, 0) : error.end + 10]!r})"
            ) from None
        if not line.strip() or line.startswith("#"):
            continue
        escaped = line.startswith("\\")
        match = _SUM_LINE.match(line.removeprefix("\\").rstrip("\r"))
        if match is None:
            raise ManifestError(f"{sums_file}, line {number}: not a sha256sum line: {line[:80]!r}")
        name = (_unescape(match["name"]) if escaped else match["name"]).removeprefix("./")
        digest = match["digest"].lower()
        if _leaves_folder(name):
            raise ManifestError(
                f"{sums_file}, line {number}: refused {name!r}, which leaves the folder "
                "(absolute, or with '..'); nothing was read"
            )
        if sums.get(name, digest) != digest:
            raise ManifestError(
                f"{sums_file}, line {number}: {name!r} is listed twice with different digests "
                f"({sums[name]} and {digest})"
            )
        sums[name] = digest
    return sums


def _sha256(path: Path, bar) -> str:  # type: ignore[no-untyped-def]
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
            bar.update(len(block))
    return digest.hexdigest()


def verify_shards(
    directory: str | Path,
    *,
    sums_file: str | Path | None = None,
    files: Iterable[str] | None = None,
    progress: bool | None = None,
) -> dict[str, str]:
    """Check the files under `directory` against their SHA-256 sums.

    Args:
        directory: the folder the paths in the sums file are relative to.
        sums_file: defaults to ``directory / "SHA256SUMS.txt"``.
        files: check only these relative paths (each must be listed); default: every entry.
        progress: a progress bar over bytes hashed; None lets ``TQDM_DISABLE`` decide.

    Returns:
        ``relative path -> digest`` of the files checked.

    Raises:
        ChecksumMismatchError: a file differs, is missing, or has no entry; the message lists
            them all. Nothing is returned, so nothing is loaded from an unverified set.
        ManifestError: the sums file is unusable (see `read_sums_file`), or `files` names a
            path that leaves `directory`; raised before any file is hashed.
    """
    directory = Path(directory)
    sums_path = Path(sums_file) if sums_file is not None else directory / SUMS_FILE
    if not sums_path.is_file():
        raise ChecksumMismatchError(
            f"cannot verify {directory}: no checksum file {sums_path} (pass sums_file=)"
        )
    sums = read_sums_file(sums_path)
    wanted = list(sums) if files is None else [str(f).removeprefix("./") for f in files]
    if outside := [name for name in wanted if _leaves_folder(name)]:
        raise ManifestError(f"refused {outside[:5]}, which leave {directory}; nothing was read")
    problems = [f"{name}: no entry in {sums_path.name}" for name in wanted if name not in sums]
    present = [n for n in wanted if n in sums and (directory / n).is_file()]
    problems += [f"{n}: missing" for n in wanted if n in sums and n not in present]
    checked: dict[str, str] = {}
    total = sum((directory / n).stat().st_size for n in present)
    with progress_bar(
        total=total, unit="B", unit_scale=True, desc="sha256", progress=progress
    ) as bar:
        for name in present:
            digest = _sha256(directory / name, bar)
            if digest != sums[name]:
                problems.append(f"{name}: sha256 {digest}, expected {sums[name]}")
            checked[name] = digest
    if problems:
        listed = "; ".join(problems[:10]) + (
            f"; … {len(problems) - 10} more" if len(problems) > 10 else ""
        )
        raise ChecksumMismatchError(
            f"{directory}: {len(problems)} of {len(wanted)} file(s) fail {sums_path.name}: {listed}"
        )
    return checked
