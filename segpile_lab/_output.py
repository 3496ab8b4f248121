"""The folders the library writes results into: one check, one error."""

from __future__ import annotations

import os
from pathlib import Path


def output_folder(out_dir: str | os.PathLike[str], *, create: bool = True) -> Path:
    """`out_dir` as a Path, created with its parents (unless `create` is False).

    Raises:
        NotADirectoryError: `out_dir`, or a folder on the way to it, is a file (an `OSError`,
            as ``mkdir`` itself raises; the CLI prints it as one line, exit code 2).
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out}: exists and is not a folder; choose another output folder")
    if create:
        out.mkdir(parents=True, exist_ok=True)  # a file on the way: NotADirectoryError
    return out
