"""Built-in synthetic demo data: a small Pile-format ``.jsonl.zst`` covering all 22 subsets.

The package generates it (nothing is shipped): per-subset text from `demo_text.GENERATORS`,
drawn in proportion to the published mixture, so that each subset's share of the bytes is,
in expectation, its published weight. A subset gets documents ∝ weight / mean document size
(at least `min_docs_per_subset`) and document sizes from a lognormal whose mean is the
published mean size times `scale`; subsets whose few documents are huge (books, IRC logs) and
would get more than their share at the floor get shorter documents instead. A few planted exact
duplicates, normalisation-only duplicates, near-duplicates and PII-like strings give the audit
something to find. Every row carries
``meta: {"pile_set_name": ..., "synthetic": true}``; every view of it says "synthetic demo data".
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from pathlib import Path

import numpy as np

from segpile_lab.pile.demo_text import GENERATORS

LENGTH_SIGMA = 0.8
"""Shape of the lognormal document-size distribution (σ of log bytes)."""

MIN_DOC_BYTES = 24

# subsets where copies are planted, and how: exact copy, case/whitespace variant, word edits
_PLANTED = {
    "Pile-CC": ("exact", "near"),
    "Github": ("exact",),
    "OpenSubtitles": ("exact",),
    "Enron Emails": ("exact", "normalised"),
    "StackExchange": ("normalised",),
    "FreeLaw": ("near",),
    "OpenWebText2": ("near",),
}


def default_demo_path(*, documents: int, min_docs_per_subset: int, seed: int, scale: float) -> Path:
    """Where `demo_pile_sample` caches a sample with these parameters (user cache folder)."""
    import platformdirs

    cache = Path(platformdirs.user_cache_dir("segpile_lab")) / "demo"
    name = f"pile_demo_d{documents}_min{min_docs_per_subset}_seed{seed}_scale{scale:g}.jsonl.zst"
    return cache / name


def demo_allocation(
    documents: int, *, min_docs_per_subset: int = 2, scale: float = 1 / 8
) -> dict[str, tuple[int, float]]:
    """Subset → (documents, mean document size in bytes) of the demo sample.

    Documents ∝ published weight / published mean size, rounded, at least
    `min_docs_per_subset`. The mean size is the subset's expected bytes
    (weight × the sample's total) / its documents: the published mean × `scale` where the
    count was not raised to the floor, smaller where it was.
    """
    table = _published()
    ratios = {name: w / m for name, (w, m) in table.items()}
    per_ratio = documents / sum(ratios.values())  # documents per unit of weight/mean
    allocation = {}
    for name, (weight, _) in table.items():
        count = max(min_docs_per_subset, round(per_ratio * ratios[name]))
        expected_bytes = per_ratio * weight * scale  # = per_ratio · ratio · mean · scale
        allocation[name] = (count, expected_bytes / count)
    return allocation


def _published() -> dict[str, tuple[float, float]]:
    """Subset → (published weight %, published mean document size in bytes)."""
    from segpile_lab.pile.composition import published_table

    table = published_table()
    columns = ("subset", "published_weight_percent", "published_mean_doc_bytes")
    return {name: (w, m) for name, w, m in table.select(columns).iter_rows()}


def _near_copy(rng: random.Random, text: str) -> str:
    """Replace about 1% of the words (at least one; never in the first tenth, which holds the
    document's header): Jaccard of 5-gram shingles stays ≈ 0.9."""
    words = text.split(" ")
    for _ in range(max(1, len(words) // 100)):
        words[rng.randrange(len(words) // 10, len(words))] = "edited"
    return " ".join(words)


def _normalised_copy(text: str) -> str:
    """Same text after NFC + lowercase + whitespace collapsing, different bytes."""
    return "  " + text.upper().replace(" ", "   ") + "\n"


def _planted_copies(name: str, docs: list[str], rng: random.Random) -> list[str]:
    kinds = _PLANTED.get(name, ())
    copies = []
    for kind in kinds:
        source = docs[rng.randrange(len(docs))]
        if kind == "near":  # the longest document: few edits keep its Jaccard similarity high
            copies.append(_near_copy(rng, max(docs, key=len)))
        elif kind == "exact":
            copies.append(source)
        else:
            copies.append(_normalised_copy(source))
    return copies


def generate_demo_records(
    *, documents: int = 800, min_docs_per_subset: int = 2, seed: int = 0, scale: float = 1 / 8
) -> list[dict]:
    """The demo rows as Pile records ``{"text", "meta"}``, shuffled deterministically.

    About `documents` generated documents (more when floors apply), allocated by
    `demo_allocation`, plus, for a few subsets, planted copies on top.
    """
    if min_docs_per_subset < 1:
        raise ValueError(f"min_docs_per_subset must be at least 1, got {min_docs_per_subset}")
    if documents < 1:
        raise ValueError(f"documents must be at least 1, got {documents}")
    if not 0 < scale <= 1:
        raise ValueError(f"scale must be in (0, 1], got {scale}")
    allocation = demo_allocation(documents, min_docs_per_subset=min_docs_per_subset, scale=scale)
    records = []
    for index, (name, generate) in enumerate(GENERATORS.items()):
        count, mean = allocation[name]
        sizes = np.random.default_rng([seed, index]).lognormal(
            np.log(mean) - LENGTH_SIGMA**2 / 2, LENGTH_SIGMA, size=count
        )
        rng = random.Random(f"{seed}:{name}")
        docs = [generate(rng, max(MIN_DOC_BYTES, round(size))) for size in sizes]
        docs += _planted_copies(name, docs, rng)
        meta = {"pile_set_name": name, "synthetic": True}
        records += [{"text": text, "meta": meta} for text in docs]
    random.Random(seed).shuffle(records)
    return records


def demo_pile_sample(
    path: str | os.PathLike[str] | None = None,
    *,
    documents: int = 800,
    min_docs_per_subset: int = 2,
    seed: int = 0,
    scale: float = 1 / 8,
    overwrite: bool = False,
) -> Path:
    """Write (or reuse) the synthetic demo Pile sample and return its path.

    Args:
        path: target ``.jsonl.zst``; default: the user cache folder (`default_demo_path`).
        documents: about this many generated documents in all (planted copies come on top),
            allocated in proportion to the published mixture (`demo_allocation`).
        min_docs_per_subset: every subset gets at least this many documents.
        seed: the sample is byte-identical for the same parameters and seed.
        scale: document sizes are the published mean document size times `scale` (on average;
            smaller for subsets raised to the floor).
        overwrite: rewrite the file even when it exists.

    Returns:
        The path of a zstd-compressed JSON-lines file in the Pile's format, every row marked
        ``meta.synthetic = true``.
    """
    import zstandard

    target = (
        Path(path)
        if path is not None
        else default_demo_path(
            documents=documents, min_docs_per_subset=min_docs_per_subset, seed=seed, scale=scale
        )
    )
    if target.exists() and not overwrite and path is None:
        return target
    records = generate_demo_records(
        documents=documents, min_docs_per_subset=min_docs_per_subset, seed=seed, scale=scale
    )
    payload = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
    target.parent.mkdir(parents=True, exist_ok=True)
    # write to a temporary file beside the target, then rename: readers never see half a file
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
    with os.fdopen(fd, "wb") as out:
        out.write(zstandard.ZstdCompressor(level=3).compress(payload))
    os.replace(tmp, target)
    return target
