"""BPB scoring on Ray: balanced batches of documents, one scorer actor per CPU or GPU.

The documents are cut, in order, into contiguous batches of nearly equal UTF-8 bytes, at most about
`UNIT_BYTES` each (a document is never split), so units cost about the same, the last one is no
stray remainder, and their identity does not depend on the cluster's size. Each actor receives the
scorer once (a model is loaded or unpickled once per actor; with a CUDA scorer each actor holds one
GPU, ``num_gpus=1``, and sees it as ``cuda:0``, so the scorer is built on ``cuda`` / ``cuda:0``:
its tensors unpickle onto the device they left). A unit's `DocumentScores` are stored in the run
folder by its actor; the merge concatenates the per-document NLL and token counts in document order
and adds the per-position sums, so `evaluate_bpb` builds the same per-document frame, subset table
and bootstrap intervals as in one process.

Driver memory: the texts being scored (as in-process) and their per-document scores (what
the bootstrap needs), read back from the run folder unit by unit.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from segpile_lab._cpus import apply_cpu_budget
from segpile_lab.bpb.scores import DocumentScores, Scorer
from segpile_lab.distributed._ray import cluster_slots, connect, worker_options
from segpile_lab.distributed.engine import MAX_RETRIES, RunSummary, compute_timed, run_units
from segpile_lab.distributed.run_folder import (
    Encoded,
    FolderHandle,
    Stored,
    Unit,
    open_run_folder,
)

__all__ = ["UNIT_BYTES", "bpb_units", "score_on_ray"]

UNIT_BYTES = 1 << 20  # text per unit: ~1 MiB ≈ 250k GPT-2 tokens
UNIT_VERSION = "bpb-batch/1"


def scorer_identity(scorer: Scorer) -> dict[str, Any]:
    """What names a scorer's results: class, name, description (model, windows, precision)."""
    kind = type(scorer)
    return {
        "class": f"{kind.__module__}.{kind.__qualname__}",
        "name": scorer.name,
        "description": scorer.description,
        "is_trained": bool(scorer.is_trained),
    }


def bpb_units(texts: Sequence[str], scorer: Scorer, *, unit_bytes: int | None = None) -> list[Unit]:
    """`texts` cut, in order, into ``ceil(total bytes / unit_bytes)`` contiguous batches of
    nearly equal UTF-8 bytes (default `UNIT_BYTES`). A document is never split: each cut falls
    on the document boundary nearest its share of the bytes, so a long document can make its
    batch larger and a batch can vanish. A unit's identity is its position, its texts' SHA-256
    and the scorer's identity."""
    if not texts:
        return []
    unit_bytes = unit_bytes or UNIT_BYTES
    ends = np.cumsum([len(t.encode("utf-8")) for t in texts], dtype=np.int64)
    total = int(ends[-1])
    count = max(1, -(-total // unit_bytes))
    targets = np.arange(1, count, dtype=np.int64) * total // count
    after = np.minimum(np.searchsorted(ends, targets), len(texts) - 1)  # first end >= target
    before_end = np.where(after > 0, ends[np.maximum(after - 1, 0)], 0)
    cuts = np.where(ends[after] - targets <= targets - before_end, after + 1, after)
    bounds = sorted({0, len(texts), *cuts.tolist()})
    who = scorer_identity(scorer)
    units = []
    for start, stop in itertools.pairwise(bounds):
        digest = hashlib.sha256()
        for text in texts[start:stop]:
            data = text.encode("utf-8")
            digest.update(len(data).to_bytes(8, "little") + data)
        size = int(ends[stop - 1] - (ends[start - 1] if start else 0))
        identity = {
            "unit": UNIT_VERSION, "scorer": who, "first": start, "documents": stop - start,
            "bytes": size, "sha256": digest.hexdigest(),
        }  # fmt: skip
        units.append(Unit(f"{scorer.name}/{start}", identity, size, list(texts[start:stop])))
    return units


def encode_scores(scores: DocumentScores) -> Encoded:
    """`DocumentScores` as JSON values and one frame (float64 values survive both exactly)."""
    columns = {"nll_nats": pl.Series(scores.nll_nats, dtype=pl.Float64)}
    if scores.n_tokens is not None:
        columns["n_tokens"] = pl.Series(scores.n_tokens, dtype=pl.Int64)
    positions = None
    if scores.position_nll is not None and scores.position_tokens is not None:
        positions = [scores.position_nll.tolist(), scores.position_tokens.tolist()]
    return Encoded({"positions": positions}, {"scores": pl.DataFrame(columns)})


class ScoresMerge:
    """Stored unit scores → the `DocumentScores` of all texts in order."""

    def __init__(self, n_units: int) -> None:
        self.parts: list[tuple[pl.DataFrame, Any] | None] = [None] * n_units

    def add(self, index: int, result: Stored) -> None:
        self.parts[index] = (result.read("scores"), result.meta["positions"])

    def result(self) -> DocumentScores:
        parts = [p for p in self.parts if p is not None]
        frame = pl.concat([scores for scores, _ in parts])
        positions = [p for _, p in parts]
        position_nll = position_tokens = None
        if positions and all(p is not None for p in positions):
            width = max(len(p[0]) for p in positions)
            position_nll, position_tokens = np.zeros(width), np.zeros(width, dtype=np.int64)
            for nll, count in positions:
                position_nll[: len(nll)] += nll
                position_tokens[: len(count)] += count
        return DocumentScores(
            frame["nll_nats"].to_numpy(),
            frame["n_tokens"].to_numpy() if "n_tokens" in frame.columns else None,
            position_nll,
            position_tokens,
        )


class _ScorerActor:
    """Holds one scorer, fetched from the object store on its first unit (and again after a
    restart); scores a unit's texts. The reference comes wrapped in a list, so Ray passes it
    as it is instead of resolving it."""

    def __init__(self) -> None:
        self.scorer: Scorer | None = None

    def score(self, shared: list[Any], unit: Unit, handle: FolderHandle) -> Encoded | None:
        """Score the unit's texts; store them (`FolderHandle.keep`)."""
        if self.scorer is None:
            import ray

            self.scorer = ray.get(shared[0])
            apply_cpu_budget()  # torch threads = the CPUs Ray granted this actor
        return handle.keep(unit, compute_timed(self._score, unit.payload))

    def _score(self, texts: list[str]) -> Encoded:
        assert self.scorer is not None, "score() fetches the scorer first"
        return encode_scores(self.scorer.score(texts, progress=False))


def score_on_ray(
    scorer: Scorer,
    texts: Sequence[str],
    *,
    address: str | None = None,
    run_dir: str | os.PathLike[str] | None = None,
    unit_bytes: int | None = None,
    actors: int | None = None,
    progress: bool | None = None,
) -> tuple[DocumentScores, RunSummary]:
    """`scorer.score(texts)` spread over Ray actors, resumable through `run_dir`, and what the
    run did (`RunSummary`).

    Args:
        unit_bytes: text per unit (default `UNIT_BYTES`).
        actors: how many scorer actors (default: one per GPU for a CUDA scorer, else one per
            CPU of the cluster).
    """
    if not texts:
        return scorer.score(texts, progress=False), RunSummary(0, 0, 0, 0)
    device = getattr(scorer, "device", None)
    on_gpu = getattr(device, "type", None) == "cuda"
    if on_gpu and getattr(device, "index", None) not in (None, 0):
        # its tensors unpickle onto cuda:N, which an actor granted one GPU does not have
        raise ValueError(
            f"{scorer.name}: a scorer on {device} cannot be sent to Ray's GPU actors, each of "
            "which sees its one GPU as cuda:0; build it with device='cuda' (Ray picks the "
            "GPUs)"
        )
    ray = connect(address)
    resource = {"num_gpus": 1} if on_gpu else {}
    count = actors or cluster_slots(ray, "GPU" if on_gpu else "CPU")
    units = bpb_units(texts, scorer, unit_bytes=unit_bytes)
    merge = ScoresMerge(len(units))
    actor_class = ray.remote(_ScorerActor).options(
        **worker_options(1, **resource, max_restarts=MAX_RETRIES, max_task_retries=MAX_RETRIES)
    )
    pool: list[Any] = []  # actors start on first use: none when every unit is stored
    shared: list[Any] = []  # the scorer in Ray's object store, put there once

    def submit(unit: Unit, handle: FolderHandle, slot: int) -> Any:
        index = slot % count
        while len(pool) <= index:
            if not shared:
                shared.append(ray.put(scorer))
            pool.append(actor_class.remote())
        return pool[index].score.remote(shared, unit, handle)

    with open_run_folder(run_dir) as folder:
        try:
            summary = run_units(
                units, submit, folder=folder, on_result=merge.add, slots=2 * count,
                desc=f"BPB {scorer.name} (ray)", progress=progress, actor_tasks=True,
            )  # fmt: skip
        finally:
            for actor in pool:
                ray.kill(actor)
    return merge.result(), summary
