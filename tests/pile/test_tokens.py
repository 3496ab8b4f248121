"""Bytes per token with the real GPT-2 and GPT-NeoX tokenizer files."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from segpile_lab.errors import DataError
from segpile_lab.pile.tokens import bytes_per_token, load_tokenizer

TEXTS = {
    "ArXiv": ["We prove that $\\|u\\| \\le C$ for all $t > 0$.", "Theorem 1. Let M be a manifold."],
    "Github": ["def f(x):\n    return x * 2\n", "int main() { return 0; }"],
    "EuroParl": ["Herr Präsident, meine Damen und Herren!", "Señor Presidente, la Comisión…"],
}


def _frame() -> pl.DataFrame:
    rows = [(subset, text) for subset, texts in TEXTS.items() for text in texts]
    return pl.DataFrame(rows, schema={"subset": pl.String, "text": pl.String}, orient="row")


@pytest.mark.shared
@pytest.mark.parametrize("name", ["gpt2-tokenizer.json", "gpt-neox-20b-tokenizer.json"])
def test_bytes_per_token_matches_direct_encoding(shared_data: Path, name: str) -> None:
    path = shared_data / "tokenizers" / name
    result = bytes_per_token(_frame(), path, batch_size=2, progress=False)
    tok = load_tokenizer(path)
    for row in result.iter_rows(named=True):
        texts = TEXTS[row["subset"]]
        tokens = sum(len(tok.encode(t).ids) for t in texts)
        n_bytes = sum(len(t.encode("utf-8")) for t in texts)
        assert (row["tokens"], row["bytes"], row["documents"]) == (tokens, n_bytes, len(texts))
        assert row["bytes_per_token"] == pytest.approx(n_bytes / tokens)


@pytest.mark.shared
def test_real_pile_text_has_a_plausible_bytes_per_token(shared_data: Path) -> None:
    # English web text with GPT-2's BPE: about 4 bytes per token
    from segpile_lab.pile.reader import read_pile

    df = read_pile(shared_data / "pile" / "val_first10.jsonl")
    result = bytes_per_token(df, shared_data / "tokenizers" / "gpt2-tokenizer.json")
    pooled = result["bytes"].sum() / result["tokens"].sum()
    assert 2.5 < pooled < 5.5


def test_missing_tokenizer_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        load_tokenizer(tmp_path / "nope.json")


def test_invalid_tokenizer_file_is_a_data_error(tmp_path: Path) -> None:
    bad = tmp_path / "tokenizer.json"
    bad.write_text("{not json")
    with pytest.raises(DataError, match=r"tokenizer\.json"):
        load_tokenizer(bad)
