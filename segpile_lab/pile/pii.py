"""Counts of PII-like strings per subset: e-mail addresses, IPv4 addresses, phone numbers.

The patterns (Rust `regex` syntax, as Polars runs them) are deliberately simple and are counts
of *look-alikes*, not a PII detector:

- `EMAIL`: ``local@domain.tld`` with a 2+ letter top-level domain.
- `IPV4`: four dot-separated numbers 0–255 between word boundaries (a version string such as
  ``1.2.3.4`` counts too).
- `PHONE`: North-American style 10-digit numbers with separators, optional ``+1``:
  ``(555) 123-4567``, ``555-123-4567``, ``555.123.4567``, ``+1 555 123 4567``.

`PHONE` has no literal for the regex engine to skip ahead on, so it runs only on documents
that can hold a match (`phone_counts`): every match contains ``\\d{3}[ .-]\\d{4}``, which on
ASCII text is `PHONE_TAIL` (Unicode ``\\d`` adds only non-ASCII digits); the others count 0.
"""

from __future__ import annotations

import polars as pl

from segpile_lab.pile._frames import synthetic_column, synthetic_count

EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
IPV4 = rf"\b{_OCTET}(?:\.{_OCTET}){{3}}\b"
PHONE = r"(?:\+1[ .-]?)?(?:\(\d{3}\)\s?|\b\d{3}[ .-])\d{3}[ .-]\d{4}\b"
PATTERNS = {"emails": EMAIL, "ipv4": IPV4, "phones": PHONE}
#: in every `PHONE` match, written for ASCII text (a digit class the engine can skip ahead on)
PHONE_TAIL = r"[0-9]{3}[ .-][0-9]{4}"


def phone_counts(texts: pl.Series) -> pl.Series:
    """``texts.str.count_matches(PHONE)`` (UInt32, null for null rows), running `PHONE` only on
    the documents that are not ASCII or hold `PHONE_TAIL` (few documents do; the PII
    stage's speed is in ``benchmarks/results/pile_audit.json``)."""
    maybe = texts.str.contains(PHONE_TAIL) | (texts.str.len_bytes() != texts.str.len_chars())
    rows = maybe.fill_null(False).arg_true()
    counts = pl.zeros(texts.len(), pl.UInt32, eager=True).alias(texts.name)
    if rows.len():
        counts = counts.scatter(rows, texts.gather(rows).str.count_matches(PHONE))
    return counts.set(texts.is_null(), None) if texts.null_count() else counts


def pii_counts(df: pl.DataFrame) -> pl.DataFrame:
    """Per subset: ``documents``, match counts ``emails``, ``ipv4``, ``phones``, documents with
    at least one match of a kind (``emails_documents``, …), ``documents_with_pii`` (a match of
    any kind) and ``pii_document_share`` (documents_with_pii / documents)."""
    keep = ["subset", *synthetic_column(df)]
    counts = df.select(
        *keep,
        *(
            pl.col("text").str.count_matches(p).cast(pl.UInt64).alias(k)
            for k, p in PATTERNS.items()
            if k != "phones"
        ),
        phones=pl.col("text").map_batches(phone_counts, return_dtype=pl.UInt32).cast(pl.UInt64),
    ).select(*keep, *PATTERNS)
    any_match = pl.sum_horizontal(*PATTERNS) > 0
    return (
        counts.group_by("subset")
        .agg(
            pl.len().cast(pl.UInt64).alias("documents"),
            *(pl.col(name).sum() for name in PATTERNS),
            *((pl.col(k) > 0).sum().cast(pl.UInt64).alias(f"{k}_documents") for k in PATTERNS),
            any_match.sum().cast(pl.UInt64).alias("documents_with_pii"),
            *synthetic_count(df),
        )
        .with_columns(pii_document_share=pl.col("documents_with_pii") / pl.col("documents"))
        .sort("subset")
    )


def merge_pii_counts(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """`pii_counts` of several frames (batches, shards) combined: equal to `pii_counts` of
    all their documents at once."""
    counts = pl.concat(parts, how="diagonal").drop("pii_document_share")
    return (
        counts.group_by("subset")
        .agg(pl.exclude("subset").sum())
        .select(counts.columns)
        .with_columns(pii_document_share=pl.col("documents_with_pii") / pl.col("documents"))
        .sort("subset")
    )
