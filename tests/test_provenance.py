"""The one home of provenance words: labels, titles and the summary keys the report index reads."""

from __future__ import annotations

import dataclasses

import pytest

from segpile_lab.provenance import (
    SYNTHETIC,
    UNTRAINED,
    Provenance,
    combine,
    from_summary,
    summary_fields,
    title,
)
from segpile_lab.report.index import provenance_notes


def test_labels_and_note_follow_the_flags():
    assert Provenance().labels == () and Provenance().note == ""
    assert Provenance(is_trained=False).note == "untrained demo weights"
    both = Provenance(is_trained=False, synthetic=True, reason="ranks backends only")
    assert both.note == "untrained demo weights: ranks backends only; synthetic demo data"
    # a reason alone does not make a trained result a demo
    assert Provenance(reason="ranks backends only").labels == ()


def test_provenance_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Provenance().is_trained = False  # type: ignore[misc]


def test_title_appends_the_note_only_for_demos():
    assert title("Speed", Provenance()) == "Speed"
    assert title("Speed", Provenance(synthetic=True), sep="\n") == f"Speed\n{SYNTHETIC}"


def test_combine_keeps_every_caveat_and_the_untrained_reason():
    class Result:
        provenance = Provenance(synthetic=True)

    merged = combine(Provenance(is_trained=False, reason="why"), Result())
    assert merged == Provenance(is_trained=False, synthetic=True, reason="why")
    assert combine() == Provenance()


@pytest.mark.parametrize(
    "provenance",
    [Provenance(), Provenance(is_trained=False), Provenance(synthetic=True),
     Provenance(is_trained=False, synthetic=True)],
)  # fmt: skip
def test_summary_fields_round_trip_through_the_report_index(provenance):
    fields = summary_fields(provenance)
    assert fields == {
        "untrained_weights": not provenance.is_trained,
        "synthetic_data": provenance.synthetic,
    }
    assert from_summary(fields) == provenance
    expected = [UNTRAINED] * (not provenance.is_trained) + [SYNTHETIC] * provenance.synthetic
    assert provenance_notes(fields) == expected


def test_the_widget_front_end_takes_words_and_colour_from_python():
    """viewer.js/viewer.css receive the provenance words and colour through the widget."""
    from pathlib import Path

    import segpile_lab
    from segpile_lab.provenance import WARNING_COLOR

    package = Path(segpile_lab.__file__).parent
    for path in [*package.rglob("*.js"), *package.rglob("*.css")]:
        text = path.read_text(encoding="utf-8").lower()
        assert UNTRAINED not in text and SYNTHETIC not in text, path
        assert WARNING_COLOR not in text, path
