"""Find files that ship with the package: data manifests and the curated notebooks.

In a wheel they live inside the package (`segpile_lab/data_manifests`, `segpile_lab/notebooks`,
placed there by the build's force-include); in a source checkout or an editable install they
are the top-level folders of the repository. Both layouts are looked up, wheel first.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _resource_dir(name: str) -> Path:
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"segpile_lab's {name!r} folder is missing from both the package and the source tree "
        f"({_PACKAGE_DIR}); reinstall the package"
    )


def manifests_dir() -> Path:
    """The folder holding the data manifests (CSV tables, SHA256SUMS, citations)."""
    return _resource_dir("data_manifests")


def notebooks_dir() -> Path:
    """The folder holding the curated notebooks that `segpile-lab report` runs."""
    return _resource_dir("notebooks")
