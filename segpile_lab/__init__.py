"""segpile_lab: SegFormer segmentation, inference backends and The Pile audits, for notebooks.

One flat namespace::

    import segpile_lab as sl
    df, report = sl.read_pile("val.jsonl.zst", with_report=True)
    seg = sl.load_segmenter("demo-b2")

Heavy modules (torch, transformers, polars) load on first use of a name that needs them, so
``import segpile_lab`` and the ``segpile-lab`` command start fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from segpile_lab import errors as _errors
from segpile_lab.errors import *  # noqa: F403  (the error tree is public; errors.__all__ lists it)

__version__ = "0.1.0"

# public name -> module that defines it (loaded lazily by __getattr__ below)
_LAZY_EXPORTS: dict[str, str] = {
    # pile: reading, manifests, demo data, composition audit
    "read_pile": "segpile_lab.pile.reader",
    "iter_pile_batches": "segpile_lab.pile.reader",
    "PileBatches": "segpile_lab.pile.reader",
    "LoadReport": "segpile_lab.pile.load_report",
    "PILE_SCHEMA": "segpile_lab.pile._parse",
    "sniff_format": "segpile_lab.pile.containers",
    "canonical_subset": "segpile_lab.pile.subsets",
    "PILE_SUBSETS": "segpile_lab.pile.subsets",
    "SUBSET_ALIASES": "segpile_lab.pile.subsets",
    "UNKNOWN_SUBSET": "segpile_lab.pile.subsets",
    "published_composition": "segpile_lab.pile.manifests",
    "paper_bpb": "segpile_lab.pile.manifests",
    "pile_files": "segpile_lab.pile.manifests",
    "verify_shards": "segpile_lab.pile.manifests",
    "demo_pile_sample": "segpile_lab.pile.demo",
    "composition": "segpile_lab.pile.composition",
    "CompositionStats": "segpile_lab.pile.composition",
    "duplicate_stats": "segpile_lab.pile.dedup",
    "ExactDuplicates": "segpile_lab.pile.dedup",
    "near_duplicates": "segpile_lab.pile.dedup",
    "quality_signals": "segpile_lab.pile.quality",
    "quality_summary": "segpile_lab.pile.quality",
    "pii_counts": "segpile_lab.pile.pii",
    "bytes_per_token": "segpile_lab.pile.tokens",
    "audit_pile": "segpile_lab.pile.audit",
    "PileAudit": "segpile_lab.pile.audit",
    "plot_composition": "segpile_lab.pile.plots",
    "plot_lengths": "segpile_lab.pile.plots",
    "plot_duplicates_pii": "segpile_lab.pile.plots",
    "plot_quality": "segpile_lab.pile.plots",
    # seg: segmentation engine
    "load_segmenter": "segpile_lab.seg.model",
    "Segmenter": "segpile_lab.seg.model",
    "SegmentationResult": "segpile_lab.seg.results",
    "load_image": "segpile_lab.seg.images",
    "demo_images": "segpile_lab.seg.images",
    "ADE20K": "segpile_lab.seg.ade20k",
    "load_ade20k_annotation": "segpile_lab.seg.ade20k",
    "iter_ade20k": "segpile_lab.seg.ade20k",
    "legend_image": "segpile_lab.seg.overlay",
    "overlay": "segpile_lab.seg.overlay",
    "evaluate": "segpile_lab.seg.metrics",
    "SegmentationMetrics": "segpile_lab.seg.metrics",
    "plot_uncertainty_maps": "segpile_lab.seg.plots",
    "plot_confusion_matrix": "segpile_lab.seg.plots",
    "plot_reliability": "segpile_lab.seg.plots",
    "plot_risk_coverage": "segpile_lab.seg.plots",
    "find_ade20k_pair": "segpile_lab.seg.samples",
    "mirrored_prediction": "segpile_lab.seg.references",
    # viewer: widgets
    "SegmentationViewer": "segpile_lab.viewer.widget",
    "segmentation_figure": "segpile_lab.viewer.figure",
    # backends: inference backends and benchmarks
    "benchmark": "segpile_lab.backends.benchmark",
    "BenchmarkResult": "segpile_lab.backends.benchmark",
    "compare_accuracy": "segpile_lab.backends.accuracy",
    "AccuracyReport": "segpile_lab.backends.accuracy",
    "available_backends": "segpile_lab.backends.registry",
    "create_runner": "segpile_lab.backends.registry",
    "BACKENDS": "segpile_lab.backends.registry",
    "export_onnx": "segpile_lab.backends.onnx_export",
    "latency_plot": "segpile_lab.backends.plots",
    "pareto_plot": "segpile_lab.backends.plots",
    "delta_iou_plot": "segpile_lab.backends.plots",
    "backend_card": "segpile_lab.backends.plots",
    "backend_card_figure": "segpile_lab.backends.plots",
    # bpb: bits per byte
    "BPBResult": "segpile_lab.bpb.result",
    "DocumentScores": "segpile_lab.bpb.scores",
    "HFCausalLMScorer": "segpile_lab.bpb.hf_scorer",
    "NGramByteScorer": "segpile_lab.bpb.ngram",
    "ZstdScorer": "segpile_lab.bpb.zstd_scorer",
    "byte_level_tokenizer": "segpile_lab.bpb.demo_lm",
    "demo_causal_lm": "segpile_lab.bpb.demo_lm",
    "evaluate_bpb": "segpile_lab.bpb.evaluate",
    "paper_reference": "segpile_lab.bpb.result",
    "rolling_windows": "segpile_lab.bpb.windows",
    "bpb_by_context": "segpile_lab.bpb.analysis",
    "fit_split": "segpile_lab.bpb.evaluate",
    "bpb_figures": "segpile_lab.bpb.plots",
    "plot_bpb_vs_bytes_per_token": "segpile_lab.bpb.plots",
    "plot_context_sensitivity": "segpile_lab.bpb.plots",
    "plot_document_bpb": "segpile_lab.bpb.plots",
    "plot_loss_by_position": "segpile_lab.bpb.plots",
    "plot_subset_bpb": "segpile_lab.bpb.plots",
    # report: the main job
    "build_report": "segpile_lab.report.runner",
    "ReportResult": "segpile_lab.report.runner",
    "NotebookResult": "segpile_lab.report.runner",
    "show_table": "segpile_lab.report.display",
    "show_note": "segpile_lab.report.display",
}

__all__ = sorted([*_errors.__all__, *_LAZY_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module_name = _LAZY_EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'segpile_lab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
