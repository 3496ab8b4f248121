"""Bits per byte per Pile subset for one or more scorers, with document-bootstrap intervals.

Per-subset BPB pools within the subset, ``Σ NLL / (ln 2 · Σ bytes)``, never a mean of
per-document ratios; the overall row pools over every document. Bytes are the UTF-8 bytes of
the raw text. Zero-byte documents cannot be scored: they are excluded and counted per subset.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from segpile_lab.bpb.bootstrap import bootstrap_sums
from segpile_lab.bpb.result import OVERALL, BPBResult
from segpile_lab.bpb.scores import DocumentScores, Scorer
from segpile_lab.distributed._ray import check_engine
from segpile_lab.errors import DataError
from segpile_lab.provenance import UNTRAINED

if TYPE_CHECKING:  # an annotation only: no import at run time
    from segpile_lab.distributed.engine import RunSummary

__all__ = ["evaluate_bpb", "fit_split", "word_count"]

_WHITESPACE = re.compile(r"\s+")
LN2 = math.log(2)


def word_count(text: str) -> int:
    """Words as lm-evaluation-harness counts them: ``len(re.split(r"\\s+", text))``."""
    return len(_WHITESPACE.split(text))


def _prepare(df: pl.DataFrame) -> pl.DataFrame:
    missing = {"subset", "text"} - set(df.columns)
    if missing:
        raise DataError(
            f"evaluate_bpb needs a Pile frame with columns 'subset' and 'text' "
            f"(from sl.read_pile); missing: {sorted(missing)}"
        )
    frame = df.with_row_index("doc_id").with_columns(
        pl.col("text").fill_null(""), pl.col("subset").cast(pl.String).fill_null("(none)")
    )
    return frame.with_columns(n_bytes=pl.col("text").str.len_bytes().cast(pl.UInt64))


def _as_list(scorers: Scorer | Iterable[Scorer]) -> list[Scorer]:
    items = [scorers] if isinstance(scorers, Scorer) else list(scorers)
    if not items:
        raise ValueError("pass at least one scorer")
    names = [s.name for s in items]
    if len(set(names)) != len(names):
        raise ValueError(
            f"scorer names must be unique, got {names}; pass name=... to tell them apart"
        )
    return items


def _document_frame(kept: pl.DataFrame, name: str, scores: DocumentScores) -> pl.DataFrame:
    texts = kept["text"].to_list()
    if len(scores.nll_nats) != len(texts):
        raise RuntimeError(f"{name} returned {len(scores.nll_nats)} scores for {len(texts)} texts")
    n_tokens = (
        pl.Series("n_tokens", scores.n_tokens, dtype=pl.Int64)
        if scores.n_tokens is not None
        else pl.Series("n_tokens", [None] * len(texts), dtype=pl.Int64)
    )
    extra = [c for c in ("source", "line") if c in kept.columns]
    return kept.select(
        pl.lit(name).alias("scorer"),
        "doc_id",
        "subset",
        *extra,
        "n_bytes",
        pl.Series("n_words", [word_count(t) for t in texts], dtype=pl.Int64),
        n_tokens,
        pl.Series("nll_nats", scores.nll_nats, dtype=pl.Float64),
    ).with_columns(
        nll_bits=pl.col("nll_nats") / LN2,
        bpb=pl.col("nll_nats") / (LN2 * pl.col("n_bytes").cast(pl.Float64)),
    )


def _position_frame(name: str, scores: DocumentScores) -> pl.DataFrame | None:
    if scores.position_nll is None or scores.position_tokens is None:
        return None
    count = scores.position_tokens
    used = count > 0
    positions = np.flatnonzero(used)
    return pl.DataFrame(
        {
            "scorer": [name] * len(positions),
            "position": positions,
            "tokens": count[used],
            "mean_nll_nats": scores.position_nll[used] / count[used],
        }
    ).with_columns(mean_nll_bits=pl.col("mean_nll_nats") / LN2)


def _interval(num: np.ndarray, den: np.ndarray) -> tuple[float, float]:
    ratio = num / (LN2 * den)
    low, high = np.percentile(ratio, [2.5, 97.5])
    return float(low), float(high)


def _subset_rows(
    docs: pl.DataFrame, subsets: list[str], excluded: dict[str, int], bootstrap: int, seed: int
) -> list[dict[str, Any]]:
    rows = []
    strat_num = np.zeros(bootstrap)
    strat_den = np.zeros(bootstrap)
    for index, subset in enumerate(subsets):
        part = docs.filter(pl.col("subset") == subset)
        row: dict[str, Any] = {"subset": subset, "excluded_zero_byte": excluded.get(subset, 0)}
        if part.height == 0:
            rows.append(row | {"documents": 0, "note": "no scorable documents"})
            continue
        nll = part["nll_nats"].to_numpy()
        n_bytes = part["n_bytes"].cast(pl.Float64).to_numpy()
        row |= _totals(part)
        if bootstrap:
            # the same seed per subset for every scorer: paired resamples across scorers
            rng = np.random.default_rng([seed, index])
            num, den = bootstrap_sums(nll, n_bytes, bootstrap, rng)
            strat_num += num
            strat_den += den
            row["ci_low"], row["ci_high"] = _interval(num, den)
        if part.height == 1:
            row["note"] = "1 document: the interval is degenerate"
        rows.append(row)
    if docs.height:
        overall = {"subset": OVERALL, "excluded_zero_byte": sum(excluded.values())} | _totals(docs)
        if bootstrap:  # stratified by subset: the sample's mix of subsets stays fixed
            overall["ci_low"], overall["ci_high"] = _interval(strat_num, strat_den)
        rows.append(overall)
    return rows


def _totals(part: pl.DataFrame) -> dict[str, Any]:
    nll = float(part["nll_nats"].sum())
    n_bytes = int(part["n_bytes"].sum())
    tokens = part["n_tokens"]
    n_tokens = None if tokens.null_count() else int(tokens.sum())
    bpb = nll / (LN2 * n_bytes)
    return {
        "documents": part.height,
        "bytes": n_bytes,
        "tokens": n_tokens,
        "words": int(part["n_words"].sum()),
        "nll_nats": nll,
        "bpb": bpb,
        "byte_perplexity": 2.0**bpb,
        "word_perplexity": math.exp(nll / int(part["n_words"].sum())),
        "tokens_per_byte": None if n_tokens is None else n_tokens / n_bytes,
        "token_perplexity": None if not n_tokens else math.exp(nll / n_tokens),
    }


_SUBSET_SCHEMA = {
    "scorer": pl.String,
    "subset": pl.String,
    "documents": pl.Int64,
    "excluded_zero_byte": pl.Int64,
    "bytes": pl.UInt64,
    "tokens": pl.Int64,
    "words": pl.Int64,
    "nll_nats": pl.Float64,
    "bpb": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "byte_perplexity": pl.Float64,
    "word_perplexity": pl.Float64,
    "tokens_per_byte": pl.Float64,
    "token_perplexity": pl.Float64,
    "note": pl.String,
}


def evaluate_bpb(
    df: pl.DataFrame,
    scorers: Scorer | Sequence[Scorer],
    *,
    bootstrap: int = 1000,
    seed: int = 0,
    progress: bool | None = None,
    engine: str | None = None,
    address: str | None = None,
    run_dir: str | os.PathLike[str] | None = None,
) -> BPBResult:
    """Score every document of a Pile frame with each scorer; pooled BPB per subset.

    Args:
        df: a Pile frame with ``subset`` and ``text`` (``sl.read_pile``); other columns are
            kept where useful (``source``, ``line``, ``synthetic``).
        scorers: one scorer or several (`HFCausalLMScorer`, `ZstdScorer`, `NGramByteScorer`).
        bootstrap: document-bootstrap replicates for the 95% percentile interval (0: none).
        seed: seeds the bootstrap; equal seeds give equal intervals.
        engine: None scores in this process; ``"ray"`` scores balanced batches of documents
            on Ray actors (one per CPU, or per GPU for a CUDA scorer) and merges them into the
            same result (needs ``segpile-lab[ray]``).
        address: with ``engine="ray"``: None starts a local Ray, ``"auto"`` or an address
            joins a cluster.
        run_dir: with ``engine="ray"``: keeps each batch's scores; a rerun with the same
            folder skips scored batches (None: a temporary folder, nothing to resume).
    Returns:
        `BPBResult` with ``documents`` (one row per scorer and document), ``subsets`` (one row
        per scorer and subset, plus the pooled overall row ``subset == "ALL"``),
        ``loss_by_position`` and the notes.
    """
    check_engine(engine)
    frame = _prepare(df)
    scorer_list = _as_list(scorers)
    zero = frame.filter(pl.col("n_bytes") == 0)
    kept = frame.filter(pl.col("n_bytes") > 0)
    excluded = dict(zero.group_by("subset").len().iter_rows())
    subsets = sorted(frame["subset"].unique().to_list())
    notes = [
        f"{subset}: {count} zero-byte document(s) excluded from BPB"
        for subset, count in sorted(excluded.items())
    ]
    doc_frames, position_frames, subset_rows = [], [], []
    ray_runs: dict[str, RunSummary] = {}
    texts = kept["text"].to_list()
    for scorer in scorer_list if texts else []:
        if engine == "ray":
            from segpile_lab.distributed.bpb import score_on_ray

            scores, ray_runs[scorer.name] = score_on_ray(
                scorer, texts, address=address, run_dir=run_dir, progress=progress
            )
        else:
            scores = scorer.score(texts, progress=progress)
        docs = _document_frame(kept, scorer.name, scores)
        doc_frames.append(docs)
        positions = _position_frame(scorer.name, scores)
        if positions is not None:
            position_frames.append(positions)
        for row in _subset_rows(docs, subsets, excluded, bootstrap, seed):
            if not scorer.is_trained:  # the table row itself carries the label
                row["note"] = "; ".join(filter(None, [UNTRAINED, row.get("note")]))
            subset_rows.append({"scorer": scorer.name} | row)
    for subset in subsets:
        if not kept.filter(pl.col("subset") == subset).height:
            notes.append(f"{subset}: no scorable documents; its BPB is missing (NaN)")
    return BPBResult(
        documents=pl.concat(doc_frames) if doc_frames else pl.DataFrame(),
        subsets=pl.DataFrame(subset_rows, schema=_SUBSET_SCHEMA).with_columns(
            pl.col("bpb").fill_null(float("nan"))
        ),
        loss_by_position=pl.concat(position_frames) if position_frames else pl.DataFrame(),
        scorers=pl.DataFrame(
            {
                "scorer": [s.name for s in scorer_list],
                "description": [s.description for s in scorer_list],
                "is_trained": [bool(s.is_trained) for s in scorer_list],
            }
        ),
        notes=notes,
        synthetic=bool(frame["synthetic"].any()) if "synthetic" in frame.columns else False,
        bootstrap=bootstrap,
        seed=seed,
        ray_runs=ray_runs,
    )


def fit_split(
    df: pl.DataFrame, fraction: float = 0.5, *, seed: int = 0
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split a Pile frame into ``(fit, evaluate)`` parts, `fraction` of each subset to fit.

    Baselines that learn (the n-gram model, a zstd dictionary) are fitted on the first part and
    evaluated on the second, never on documents they saw. The split is seeded and stratified.

    Raises:
        DataError: either part would be empty (e.g. one document per subset: nothing to fit).
    """
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be between 0 and 1, got {fraction}")
    shuffled = df.with_columns(
        _fit=(pl.int_range(pl.len()).shuffle(seed=seed) < (pl.len() * fraction).round()).over(
            "subset"
        )
    )
    fit, evaluate = shuffled.filter(pl.col("_fit")), shuffled.filter(~pl.col("_fit"))
    for part, empty in ((fit, "nothing to fit on"), (evaluate, "nothing left to evaluate")):
        if not part.height:
            raise DataError(
                f"fit_split: {df.height} document(s), fraction {fraction:g} per subset leaves "
                f"{empty}; give more documents per subset or another fraction"
            )
    return fit.drop("_fit"), evaluate.drop("_fit")
