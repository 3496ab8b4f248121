"""Fixtures of the pile tests: the synthetic demo sample, written once per session."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default synthetic demo sample, in a temporary folder (not the user cache)."""
    from segpile_lab.pile.demo import demo_pile_sample

    return demo_pile_sample(tmp_path_factory.mktemp("demo") / "demo.jsonl.zst")
