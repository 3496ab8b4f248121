"""Figures never die on odd labels: subset and scorer names with ``$`` are drawn as written
(matplotlib would parse ``$...$`` as math text and fail on an unbalanced one)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from segpile_lab._figures import literal

# math text where unescaped: a$b$c draws b in italics, $\frac{$ and 5$ ... 6$ fail to parse
ODD_NAMES = ["Price$tag", "a$b$c", "$\\frac{$", "5$ and {6$", "under_score_{x}"]


@pytest.mark.parametrize("name", ODD_NAMES)
def test_literal_text_draws_as_written(name):
    fig = Figure()
    text = fig.text(0.5, 0.5, literal(name))
    fig.savefig(io.BytesIO(), format="png")  # unescaped, $\\frac{$ raises ValueError here
    shown, is_math = text._preprocess_math(text.get_text())
    assert (shown, is_math) == (name, False)


@pytest.fixture(scope="module")
def odd_shard(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("odd") / "odd.jsonl"
    rows = [
        {"text": f"document {i} about {name} " * (i + 2), "meta": {"pile_set_name": name}}
        for name in ODD_NAMES
        for i in range(4)
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_audit_figures_with_dollar_subset_names(odd_shard, tmp_path):
    from segpile_lab.pile.audit import audit_pile

    audit = audit_pile(odd_shard, progress=False)
    written = audit.write(tmp_path)
    pngs = [p for p in written if p.suffix == ".png"]
    assert len(pngs) >= 4 and all(p.read_bytes()[:4] == b"\x89PNG" for p in pngs)
    fig = audit.figures("matplotlib")["composition"]
    fig.savefig(io.BytesIO(), format="png")
    labels = {t.get_text().replace("\\$", "$") for t in fig.axes[0].get_yticklabels()}
    assert set(ODD_NAMES) <= labels


def test_bpb_figures_with_dollar_subset_and_scorer_names(odd_shard, tmp_path):
    from segpile_lab.bpb.evaluate import evaluate_bpb
    from segpile_lab.bpb.plots import save_figures
    from segpile_lab.bpb.zstd_scorer import ZstdScorer
    from segpile_lab.pile.reader import read_pile

    scorer = ZstdScorer(3)
    scorer.name = "my$scorer"
    result = evaluate_bpb(read_pile(odd_shard), [scorer], bootstrap=10)
    pngs = [p for p in save_figures(result, tmp_path) if p.suffix == ".png"]
    assert pngs and all(p.stat().st_size > 0 for p in pngs)
