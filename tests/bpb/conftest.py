"""Fixtures for the BPB tests: the real Pile documents."""

from __future__ import annotations

import json

import polars as pl
import pytest


@pytest.fixture(scope="session")
def pile_frame(shared_data) -> pl.DataFrame:
    """The 10 real validation documents as a frame with ``subset`` and ``text``."""
    path = shared_data / "pile" / "val_first10.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return pl.DataFrame(
        {"subset": [r["meta"]["pile_set_name"] for r in rows], "text": [r["text"] for r in rows]}
    )
