"""The synthetic demo sample split into several shards, for trying whole-corpus runs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import zstandard

from segpile_lab.pile.demo import generate_demo_records

__all__ = ["demo_pile_shards"]


def demo_pile_shards(
    folder: str | os.PathLike[str],
    *,
    shards: int = 4,
    documents: int = 800,
    seed: int = 0,
    scale: float = 1 / 8,
) -> list[Path]:
    """Write the synthetic demo records (`generate_demo_records`) dealt round-robin into
    `shards` files ``00.jsonl.zst``, ``01.jsonl.zst``, … in `folder` (created; same-named
    files replaced), so planted copies fall into different shards. Returns their paths."""
    if shards < 1:
        raise ValueError(f"shards must be at least 1, got {shards}")
    records = generate_demo_records(documents=documents, seed=seed, scale=scale)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(shards):
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records[index::shards])
        path = out / f"{index:02d}.jsonl.zst"
        tmp = path.with_suffix(".part")
        tmp.write_bytes(zstandard.ZstdCompressor(level=3).compress(lines.encode()))
        os.replace(tmp, path)
        paths.append(path)
    return paths
