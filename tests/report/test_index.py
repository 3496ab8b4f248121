"""The front page's notes and highlights, from notebook summaries."""

from __future__ import annotations

import pytest

from segpile_lab.provenance import SYNTHETIC as SYNTHETIC_NOTE
from segpile_lab.provenance import UNTRAINED as UNTRAINED_NOTE
from segpile_lab.report.index import highlights, provenance_notes


@pytest.mark.parametrize(
    ("summary", "notes"),
    [
        (None, []),
        ({}, []),
        ({"untrained_weights": True}, [UNTRAINED_NOTE]),
        ({"is_trained": False}, [UNTRAINED_NOTE]),
        ({"is_trained": True}, []),
        ({"synthetic_data": True}, [SYNTHETIC_NOTE]),
        ({"synthetic": True}, [SYNTHETIC_NOTE]),
        ({"synthetic": False, "untrained_weights": False}, []),
        ({"synthetic": "yes"}, []),  # only a real boolean counts
        ({"is_trained": False, "synthetic_data": True}, [UNTRAINED_NOTE, SYNTHETIC_NOTE]),
        ({"note": "Untrained demo weights: ranks backends only"}, [UNTRAINED_NOTE]),
        (
            {"label": "untrained demo weights; synthetic demo data"},
            [UNTRAINED_NOTE, SYNTHETIC_NOTE],
        ),
        ({"note": "trained weights"}, []),
        ({"nested": {"note": "untrained demo weights"}}, []),  # top level only
    ],
)
def test_provenance_notes(summary, notes):
    assert provenance_notes(summary) == notes


def test_highlights_format_scalars_and_skip_the_rest():
    summary = {
        "documents": 12345,
        "mean_bpb": 1.234567,
        "smoke": True,
        "model": "demo-b2",
        "missing": None,
        "per_subset": {"ArXiv": 1.0},
        "long": "x" * 200,
        "shares": [0.1, 0.9],
    }
    assert highlights(summary) == [
        ("documents", "12,345"),
        ("mean_bpb", "1.235"),
        ("smoke", "true"),
        ("model", "demo-b2"),
        ("missing", "none"),
    ]


def test_highlights_keep_at_most_eight():
    assert len(highlights({f"k{i}": i for i in range(20)})) == 8


def test_highlights_prefer_the_notebooks_own_reader_facing_list():
    summary = {
        "report_mode": True,  # internal: not shown when the notebook lists its highlights
        "plotly_traces": 7,
        "highlights": {
            "model": "trained weights not downloadable here → demo-b2",
            "mean confidence (%)": "41.2",
            "pixels": 262144,
            "nested": {"no": 1},
        },
    }
    assert highlights(summary) == [
        ("model", "trained weights not downloadable here → demo-b2"),
        ("mean confidence (%)", "41.2"),
        ("pixels", "262,144"),
    ]
