"""The result of `evaluate_bpb`: tables, the joins with the audit and the paper, and writing out."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from segpile_lab._output import output_folder
from segpile_lab.pile.manifests import paper_bpb
from segpile_lab.provenance import Provenance

if TYPE_CHECKING:  # an annotation only: no import at run time
    from segpile_lab.distributed.engine import RunSummary

__all__ = ["OVERALL", "PAPER_OVERALL", "BPBResult", "paper_reference"]

OVERALL = "ALL"  # the pooled row over every scored document
PAPER_OVERALL = "The Pile"  # the paper's whole-Pile row


def paper_reference(models: list[str] | None = None) -> pl.DataFrame:
    """The Pile paper's per-component test BPB (Table 2), long format.

    Columns: ``subset`` (``"ALL"`` for the paper's whole-Pile row), ``model`` (``gpt2_small`` …
    ``gpt3_davinci``) and ``bpb``. `models` keeps only those columns of the paper's table.
    """
    table = paper_bpb()
    name = "component" if "component" in table.columns else "subset"
    value_columns = [c for c in table.columns if c != name and (models is None or c in models)]
    return (
        table.unpivot(index=name, on=value_columns, variable_name="model", value_name="bpb")
        .rename({name: "subset"})
        .with_columns(
            pl.col("subset").replace(PAPER_OVERALL, OVERALL), pl.col("bpb").cast(pl.Float64)
        )
    )


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass
class BPBResult:
    """Bits per byte of one or more scorers on a Pile frame.

    Attributes:
        documents: one row per scorer and document: ``scorer``, ``doc_id`` (row in the input),
            ``subset``, ``n_bytes``, ``n_words``, ``n_tokens`` (null for compression),
            ``nll_nats``, ``nll_bits``, ``bpb`` (of that document alone).
        subsets: one row per scorer and subset plus ``subset == "ALL"`` (pooled over all
            documents): ``documents``, ``excluded_zero_byte``, ``bytes``, ``tokens``, ``words``,
            ``nll_nats``, ``bpb`` (Σ NLL / (ln 2 · Σ bytes)), ``ci_low``/``ci_high`` (document
            bootstrap 95% percentile interval; stratified by subset for the overall row),
            ``byte_perplexity`` (2^BPB), ``word_perplexity``, ``tokens_per_byte``,
            ``token_perplexity``, ``note``.
        loss_by_position: ``scorer``, ``position`` (0 = predicted from the prefix token only),
            ``tokens``, ``mean_nll_nats``, ``mean_nll_bits`` (model scorers only).
        scorers: ``scorer``, ``description``, ``is_trained``.
        notes: excluded zero-byte documents and subsets with nothing to score.
        synthetic: the input was synthetic demo data.
        ray_runs: with ``engine="ray"``, what each scorer's run did (`RunSummary`: units
            skipped and computed, the actors' own scoring seconds); empty in-process.
    """

    documents: pl.DataFrame
    subsets: pl.DataFrame
    loss_by_position: pl.DataFrame
    scorers: pl.DataFrame
    notes: list[str] = field(default_factory=list)
    synthetic: bool = False
    bootstrap: int = 1000
    seed: int = 0
    ray_runs: dict[str, RunSummary] = field(default_factory=dict)

    def __repr__(self) -> str:
        """One line per scorer: pooled BPB with its interval, documents and subsets."""
        head = (
            f"BPBResult({self.label or 'real data'}, bootstrap {self.bootstrap}, seed {self.seed})"
        )
        lines = [head]
        for row in self.overall().iter_rows(named=True):
            interval = ""
            if row["ci_low"] is not None and math.isfinite(row["ci_low"]):
                interval = f" [{row['ci_low']:.4f}, {row['ci_high']:.4f}]"
            subsets = self.subsets.filter(
                (pl.col("scorer") == row["scorer"]) & (pl.col("subset") != OVERALL)
            ).height
            lines.append(
                f"  {row['scorer']}: {row['bpb']:.4f} bits/byte{interval} over "
                f"{row['documents']:,} documents, {row['bytes']:,} bytes, {subsets} subsets"
            )
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join([*lines, "  .subsets, .documents: the tables; .write(dir) saves all"])

    @property
    def untrained(self) -> bool:
        """Some scorer uses untrained demo weights."""
        return not all(self.scorers["is_trained"].to_list())

    @property
    def provenance(self) -> Provenance:
        """Untrained when some scorer is, synthetic when the input was."""
        return Provenance(is_trained=not self.untrained, synthetic=self.synthetic)

    @property
    def label(self) -> str:
        """The labels that apply ("untrained demo weights", "synthetic demo data") or ""."""
        return self.provenance.note

    def overall(self) -> pl.DataFrame:
        """The pooled overall row of every scorer."""
        return self.subsets.filter(pl.col("subset") == OVERALL)

    def with_paper(self, models: list[str] | None = None) -> pl.DataFrame:
        """Our per-subset BPB (one column per scorer) next to the paper's per-component BPB."""
        ours = self.subsets.pivot(on="scorer", index="subset", values="bpb")
        paper = paper_reference(models).pivot(on="model", index="subset", values="bpb")
        return ours.join(paper, on="subset", how="left")

    def with_composition(self, df: pl.DataFrame) -> pl.DataFrame:
        """Per-subset BPB of each scorer joined with the composition audit of the same frame.

        Adds ``mean_doc_bytes``, ``median_doc_bytes``, ``published_weight_percent``,
        ``byte_share`` (from ``sl.composition``) and ``exact_duplicate_rate`` (exact duplicates
        after normalisation); the scorer's own ``tokens_per_byte`` is already in the row
        (its inverse, ``bytes_per_token``, is added).
        """
        from segpile_lab.pile.composition import composition
        from segpile_lab.pile.dedup import duplicate_stats

        audit = composition(df)
        wanted = ("byte_share", "published_weight_percent", "mean_doc_bytes", "median_doc_bytes")
        audit = audit.select("subset", *(c for c in wanted if c in audit.columns))
        duplicates = duplicate_stats(df).select("subset", "exact_duplicate_rate")
        return (
            self.subsets.filter(pl.col("subset") != OVERALL)
            .join(audit, on="subset", how="left")
            .join(duplicates, on="subset", how="left")
            .with_columns(bytes_per_token=1.0 / pl.col("tokens_per_byte"))
        )

    def summary(self) -> dict[str, Any]:
        """A small JSON-able summary: overall BPB per scorer, per-subset BPB, labels, notes."""
        per_subset: dict[str, dict[str, Any]] = {}
        for row in self.subsets.iter_rows(named=True):
            per_subset.setdefault(row["scorer"], {})[row["subset"]] = {
                k: _json_safe(row[k])
                for k in ("documents", "bytes", "tokens", "bpb", "ci_low", "ci_high")
            }
        return {
            "label": self.label,
            "synthetic": self.synthetic,
            "untrained": self.untrained,
            "bootstrap": self.bootstrap,
            "seed": self.seed,
            "scorers": self.scorers.to_dicts(),
            "overall_bpb": {
                r["scorer"]: _json_safe(r["bpb"]) for r in self.overall().iter_rows(named=True)
            },
            "subsets": per_subset,
            "notes": self.notes,
        }

    def write(self, out_dir: str | Path, *, plots: bool = True) -> list[Path]:
        """Write ``documents.csv``, ``subsets.csv``, ``loss_by_position.csv``, ``summary.json``
        and (with `plots`) the figures as ``*.html`` (plotly) and ``*.png`` (matplotlib)."""
        from segpile_lab.bpb import plots as bpb_plots

        out = output_folder(out_dir)
        written = []
        for name in ("documents", "subsets", "loss_by_position"):
            frame: pl.DataFrame = getattr(self, name)
            if frame.width:
                path = out / f"{name}.csv"
                frame.write_csv(path)
                written.append(path)
        path = out / "summary.json"
        path.write_text(json.dumps(self.summary(), indent=2, ensure_ascii=False) + "\n")
        written.append(path)
        if plots:
            written += bpb_plots.save_figures(self, out)
        return written
