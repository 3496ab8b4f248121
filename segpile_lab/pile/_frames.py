"""Small helpers shared by the per-subset audit tables."""

from __future__ import annotations

import polars as pl


def synthetic_count(df: pl.DataFrame) -> list[pl.Expr]:
    """``synthetic_documents`` aggregation when `df` has a ``synthetic`` column, else nothing.

    Every per-subset table carries it, so any view made from a table of synthetic demo data
    can say so.
    """
    if "synthetic" not in df.columns:
        return []
    return [pl.col("synthetic").cast(pl.UInt64).sum().alias("synthetic_documents")]


def synthetic_column(df: pl.DataFrame) -> list[str]:
    """``["synthetic"]`` when `df` has that column, else ``[]`` (to keep it in a selection)."""
    return ["synthetic"] if "synthetic" in df.columns else []
