"""Fixtures of the engine tests: one local Ray instance per session (2 CPUs) and demo shards."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import zstandard

pytest.importorskip("ray", reason="the Ray tests need the 'ray' extra (pip install -e '.[test]')")


@pytest.fixture(scope="session")
def ray_session() -> Iterator[None]:
    """A local Ray instance with 2 CPUs and 2 logical GPUs (Ray schedules them; no hardware
    behind them), shared by every test of the session."""
    import ray

    for attempt in range(5):  # Ray waits 30 s for its node; a busy 2-core machine may need more
        try:
            ray.init(num_cpus=2, num_gpus=2, include_dashboard=False, log_to_driver=False)
            break
        except Exception:
            ray.shutdown()
            if attempt == 4:
                raise
    yield
    ray.shutdown()


@pytest.fixture
def shards(tmp_path: Path) -> Path:
    """Four demo shards (planted copies across shards) plus one with skipped, fixed and
    flagged lines: a folder, sorted as the reader sorts it."""
    from segpile_lab.distributed.demo import demo_pile_shards

    folder = tmp_path / "shards"
    demo_pile_shards(folder, shards=4, documents=100)
    bad = [
        b"{not json",
        json.dumps({"text": "ok", "meta": {"pile_set_name": "pile_arxiv"}}).encode(),
        json.dumps({"text": "", "meta": {"pile_set_name": "Enron Emails"}}).encode(),
        json.dumps({"text": 3, "meta": {"pile_set_name": "ArXiv"}}).encode(),
        json.dumps({"text": "x", "meta": {"pile_set_name": "Martian Poetry"}}).encode(),
    ]
    (folder / "04.jsonl.zst").write_bytes(zstandard.compress(b"\n".join(bad) + b"\n"))
    return folder
