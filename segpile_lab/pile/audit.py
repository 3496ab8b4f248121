"""The whole composition audit in one call: read, measure, tabulate, plot, write.

`audit_pile` is what ``segpile-lab pile audit`` and the composition notebook run: it reads the
shards (or the synthetic demo sample when no path is given) with `read_pile`, then computes the
composition, exact and near duplicates, PII-like counts, quality signals, the language of a
sample per subset and, with a tokenizer file, bytes per token. With `sample_per_subset` the
text audits run on the sample while the composition and the exact duplicates still count every
document, fed frame by frame from the same pass (a per-subset sample would flatten the shares
and hide nearly every duplicate); without it, quality and PII also run frame by frame.
`PileAudit.write` saves ``composition.csv``, ``composition.json`` and every figure (plotly HTML
+ matplotlib PNG).
"""

from __future__ import annotations

import json
import math
import os
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from segpile_lab._figures import save_figures
from segpile_lab._output import output_folder
from segpile_lab.distributed._ray import check_engine
from segpile_lab.pile import plots
from segpile_lab.pile.composition import CompositionStats
from segpile_lab.pile.dedup import ExactDuplicates, near_duplicates
from segpile_lab.pile.demo import demo_pile_sample
from segpile_lab.pile.langid import (
    SAMPLE_PER_SUBSET,
    language_ids,
    language_shares,
    language_summary,
)
from segpile_lab.pile.language_plots import plot_languages
from segpile_lab.pile.pii import merge_pii_counts, pii_counts
from segpile_lab.pile.quality import SIGNALS, quality_signals, quality_summary
from segpile_lab.pile.tokens import bytes_per_token, load_tokenizer
from segpile_lab.provenance import Provenance

if TYPE_CHECKING:  # an annotation only: no import at run time
    from segpile_lab.distributed.engine import RunSummary

PathLike = str | os.PathLike[str]


@dataclass
class PileAudit:
    """Everything the audit measured; frames are Polars, one row per subset unless noted."""

    frame: pl.DataFrame  # the documents audited for text (one row per document; maybe a sample)
    load_report: Any  # the reader's LoadReport
    composition: pl.DataFrame
    duplicates: pl.DataFrame
    near_duplicate_pairs: pl.DataFrame  # one row per confirmed pair
    near_duplicates: pl.DataFrame
    pii: pl.DataFrame
    quality: pl.DataFrame  # one row per document
    tokens: pl.DataFrame | None
    synthetic: bool
    parameters: dict[str, Any]
    languages: pl.DataFrame | None = None  # one row per identified document (a sample)
    ray_run: RunSummary | None = None  # engine="ray": units skipped / computed, workers' seconds

    def __repr__(self) -> str:
        """Totals and the subsets that hold the most bytes, against the paper's weights."""
        documents, size = (
            int(self.composition["documents"].sum()),
            int(self.composition["bytes"].sum()),
        )
        present = self.composition.filter(pl.col("documents") > 0)
        lines = [
            f"PileAudit({self.label}: {documents:,} documents, {size:,} bytes in "
            f"{present.height} subsets; text audits on {self.frame.height:,} documents; "
            f"{self.near_duplicate_pairs.height} near-duplicate pairs)"
        ]
        for row in present.sort("bytes", descending=True).head(5).iter_rows(named=True):
            weight = row.get("published_weight_percent")
            paper = "" if weight is None else f" (paper {weight:.2f}%)"
            lines.append(f"  {row['subset']}: {row['byte_share']:.2%} of bytes{paper}")
        return "\n".join([*lines, "  .table(): every subset and measure; .write(dir) saves all"])

    @property
    def provenance(self) -> Provenance:
        """Synthetic for the demo sample (no model is involved)."""
        return Provenance(synthetic=self.synthetic)

    @property
    def label(self) -> str:
        """``"synthetic demo data"`` for the demo sample, else ``"real data"``."""
        return self.provenance.note or "real data"

    def table(self) -> pl.DataFrame:
        """The composition joined with duplicate, PII, quality and token columns per subset."""
        table = self.composition
        extra = [
            self.duplicates.select("subset", "exact_duplicate_rate", "cross_subset_duplicates"),
            self.near_duplicates.select("subset", "near_duplicate_rate"),
            self.pii.drop("documents"),
            quality_summary(self.quality),
        ]
        if self.tokens is not None:
            extra.append(self.tokens.select("subset", "tokens", "bytes_per_token"))
        if self.languages is not None:
            extra.append(language_summary(self.languages))
        for frame in extra:  # each column once: no `*_right` copies from the join
            new = [c for c in frame.columns if c == "subset" or c not in table.columns]
            table = table.join(frame.select(new), on="subset", how="left")
        return table

    def figures(self, backend: plots.Backend = "plotly") -> dict[str, Any]:
        """The four audit figures by file stem."""
        flag: dict[str, Any] = {"backend": backend, "synthetic": self.synthetic}
        return {
            "composition": plots.plot_composition(self.composition, **flag),
            "lengths": plots.plot_lengths(self.frame, **flag),
            "duplicates_pii": plots.plot_duplicates_pii(
                self.duplicates, self.pii, self.near_duplicates, **flag
            ),
            "quality": plots.plot_quality(self.quality, **flag),
        } | (
            {"languages": plot_languages(language_shares(self.languages), **flag)}
            if self.languages is not None
            else {}
        )

    def summary(self) -> dict[str, Any]:
        """A JSON-serialisable summary: label, parameters, load report, totals, per-subset table."""
        table = self.table()
        return {
            "label": self.label,
            "synthetic": self.synthetic,
            "parameters": self.parameters,
            "load_report": self.load_report.to_dict(),
            "documents": int(self.composition["documents"].sum()),
            "audited_documents": self.frame.height,
            "bytes": int(self.composition["bytes"].sum()),
            "subsets_present": int((self.composition["documents"] > 0).sum()),
            "unknown_subsets": self.composition.filter(~pl.col("known_subset"))["subset"].to_list(),
            "near_duplicate_pairs": self.near_duplicate_pairs.height,
            "subsets": [_clean(row) for row in table.iter_rows(named=True)],
        }

    def write(self, out_dir: PathLike) -> list[Path]:
        """Write ``composition.csv``, ``composition.json`` and the figures (``*.html`` from
        plotly, ``*.png`` from matplotlib) into `out_dir`; returns the paths written."""
        out = output_folder(out_dir)
        written = [out / "composition.csv", out / "composition.json"]
        self.table().write_csv(written[0])
        written[1].write_text(json.dumps(self.summary(), indent=2, ensure_ascii=False) + "\n")
        return written + save_figures(self.figures, out)


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    """JSON has no NaN: NaN becomes null."""
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}


_WORKERS = 2  # threads for the per-frame stages (Polars, NumPy and rensa release the GIL)
_BACKLOG = 2 * _WORKERS  # frames read ahead of the workers at most (memory: that many frames)


class _FrameStages:
    """The per-frame stages of the audit on a pool of `_WORKERS` threads: composition here,
    exact-duplicate counts of every frame, and, without a sample, `quality_signals` and
    `pii_counts`, each frame's stages as separate tasks, so both cores stay busy while the
    reader (this thread + its decompression thread) parses the next frames. Results are
    merged here in frame order: the same tables as each stage on the whole frame."""

    def __init__(self, pool: ThreadPoolExecutor, text_audits: bool) -> None:
        self.pool, self.text_audits = pool, text_audits
        self.stats, self.duplicates = CompositionStats(), ExactDuplicates()
        self.pending: deque[tuple[Future[Any], ...]] = deque()
        self.quality: list[pl.DataFrame] = []
        self.pii: list[pl.DataFrame] = []

    def __call__(self, frame: pl.DataFrame) -> None:
        """Submit `frame`'s stages; wait for the oldest frame's beyond `_BACKLOG` frames."""
        self.stats.update(frame)
        tasks: list[Future[Any]] = [self.pool.submit(ExactDuplicates.of, frame)]
        if self.text_audits:
            tasks += [self.pool.submit(quality_signals, frame), self.pool.submit(pii_counts, frame)]
        self.pending.append(tuple(tasks))
        while self.pending and (
            len(self.pending) > _BACKLOG or all(t.done() for t in self.pending[0])
        ):
            self._collect(self.pending.popleft())

    def _collect(self, tasks: tuple[Future[Any], ...]) -> None:
        self.duplicates.merge(tasks[0].result())
        if self.text_audits:
            self.quality.append(tasks[1].result())
            self.pii.append(tasks[2].result())

    def finish(self) -> None:
        """Wait for every submitted frame."""
        while self.pending:
            self._collect(self.pending.popleft())

    def cancel(self) -> None:
        """Drop the frames not started (after an error)."""
        for tasks in self.pending:
            for task in tasks:
                task.cancel()


def audit_pile(
    paths: PathLike | Sequence[PathLike] | None = None,
    *,
    sample_per_subset: int | None = None,
    limit: int | None = None,
    strict: bool = False,
    tokenizer: PathLike | None = None,
    near_duplicate_sample: int | None = 200,
    language_sample: int | None = SAMPLE_PER_SUBSET,
    identify_languages: bool = True,
    seed: int = 0,
    progress: bool | None = None,
    engine: str | None = None,
    address: str | None = None,
    run_dir: PathLike | None = None,
) -> PileAudit:
    """Audit Pile shards (default: the synthetic demo sample).

    Args:
        paths: ``.jsonl.zst`` / ``.jsonl.gz`` / ``.jsonl`` files, folders or globs; None → the
            built-in synthetic demo sample (`demo_pile_sample`).
        sample_per_subset: audit the text of at most this many documents per subset (a seeded
            uniform sample); the composition and exact duplicates still count every document.
        limit: read at most this many documents in all.
        strict: raise on the first bad record instead of skipping and counting it.
        tokenizer: a ``tokenizer.json`` file; adds bytes per token per subset.
        near_duplicate_sample: documents per subset hashed for near-duplicates (None: all).
        language_sample: documents per subset whose language is identified (None: all).
        identify_languages: False skips language identification.
        engine: None reads every shard in this process; ``"ray"`` reads one shard per Ray
            task and merges them exactly (same result; needs ``segpile-lab[ray]``; no `limit`).
        address: with ``engine="ray"``: None starts a local Ray, ``"auto"`` or an address
            joins a cluster.
        run_dir: with ``engine="ray"``: keeps each shard's result; a rerun with the same folder
            skips completed shards (None: a temporary folder, nothing to resume).
    """
    from segpile_lab.pile.reader import read_pile

    tok = None if tokenizer is None else load_tokenizer(tokenizer)  # fail before reading
    source = demo_pile_sample() if paths is None else paths

    # without a sample the text audits cover every document: quality and PII then run on each
    # frame as it arrives (in the pool, beside the exact duplicates), while this thread parses
    # the next frame and the reader's thread decompresses the one after
    pool = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="segpile-audit")
    stages = _FrameStages(pool, text_audits=sample_per_subset is None)
    check_engine(engine)
    ray_run = None
    try:
        if engine == "ray":
            from segpile_lab.distributed.audit import read_shards_on_ray

            run = read_shards_on_ray(
                source, run_dir=run_dir, address=address, sample_per_subset=sample_per_subset,
                seed=seed, strict=strict, limit=limit, progress=progress,
            )  # fmt: skip
            df, report, stats, duplicates = run.frame, run.report, run.stats, run.duplicates
            quality_parts, pii_parts, ray_run = run.quality, run.pii, run.summary
        else:
            df, report = read_pile(
                source,
                sample_per_subset=sample_per_subset,
                limit=limit,
                seed=seed,
                strict=strict,
                progress=progress,
                with_report=True,
                on_frame=stages,
            )
            stats, duplicates = stages.stats, stages.duplicates
            quality_parts, pii_parts = stages.quality, stages.pii
        # language ID in the pool and the near-duplicate search here, while the pool finishes
        # the last frames
        languages = (
            pool.submit(language_ids, df, sample_per_subset=language_sample, seed=seed)
            if identify_languages
            else None
        )
        pairs, near = near_duplicates(df, sample_per_subset=near_duplicate_sample, seed=seed)
        stages.finish()
        language_frame = None if languages is None else languages.result()
    finally:  # an error mid-read: drop the queued frames, stop the workers
        stages.cancel()
        pool.shutdown(wait=True)
    synthetic = bool(df["synthetic"].any()) if "synthetic" in df.columns else False
    if quality_parts and sum(part.height for part in quality_parts) == df.height:
        quality, pii = pl.concat(quality_parts), merge_pii_counts(pii_parts)
    else:  # a sample, or rows dropped after they were seen (lenient mode)
        quality, pii = quality_signals(df), pii_counts(df)
    parameters = {
        "paths": [str(source)]
        if isinstance(source, str | os.PathLike)
        else [str(p) for p in source],
        "sample_per_subset": sample_per_subset,
        "limit": limit,
        "strict": strict,
        "tokenizer": None if tokenizer is None else str(tokenizer),
        "near_duplicate_sample": near_duplicate_sample,
        "language_sample": language_sample if identify_languages else None,
        "seed": seed,
        "quality_signals": list(SIGNALS),
    }
    return PileAudit(
        frame=df,
        load_report=report,
        composition=stats.to_frame(),
        duplicates=duplicates.to_frame(),
        near_duplicate_pairs=pairs,
        near_duplicates=near,
        pii=pii,
        quality=quality,
        tokens=None if tok is None else bytes_per_token(df, tok, progress=progress),
        synthetic=synthetic,
        parameters=parameters,
        languages=language_frame,
        ray_run=ray_run,
    )
