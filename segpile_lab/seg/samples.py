"""Find the real ADE20K image/annotation pair of ``../shared/data/ade20k`` when it is there.

Notebooks run with a temporary working directory (the report runner) or the notebook's folder
(JupyterLab), so the shared data tier is looked up beside the working directory and beside the
source checkout that holds the package.
"""

from __future__ import annotations

import os
from pathlib import Path

from segpile_lab._resources import _PACKAGE_DIR

_RELATIVE = Path("shared") / "data" / "ade20k"


def ade20k_candidates() -> list[Path]:
    """Folders tried, in order: ``$SEGPILE_SHARED_DATA/ade20k``, then ``shared/data/ade20k``
    beside the working directory, its parent, and the repository holding this package."""
    out = []
    if os.environ.get("SEGPILE_SHARED_DATA"):
        out.append(Path(os.environ["SEGPILE_SHARED_DATA"]) / "ade20k")
    cwd = Path.cwd()
    out += [
        cwd.parent / _RELATIVE,
        cwd.parent.parent / _RELATIVE,
        _PACKAGE_DIR.parent.parent / _RELATIVE,
    ]
    return out


def find_ade20k_pair(ade20k_dir: str | os.PathLike[str] | None = None) -> tuple[Path, Path] | None:
    """The first ``(image, annotation)`` pair of an ADE20K folder (`ade20k_dir`, or the first
    candidate of :func:`ade20k_candidates` that holds one); None when there is none."""
    from segpile_lab.seg.ade20k import iter_ade20k

    folders = [Path(ade20k_dir)] if ade20k_dir is not None else ade20k_candidates()
    for folder in folders:
        if (folder / "images").is_dir():
            return next(iter(iter_ade20k(folder)), None)
    return None
