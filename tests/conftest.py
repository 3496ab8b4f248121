"""Shared fixtures: the real third-party data tier and temporary folders."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
ARTIFACTS = REPO_ROOT / "artifacts"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`../shared/data` beside the checkout; tests using it skip (with the reason) when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real third-party data tier: {SHARED_DATA} is absent")
    return SHARED_DATA


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests keep screenshots and reports for people to look at (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
