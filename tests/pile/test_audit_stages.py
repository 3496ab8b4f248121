"""`audit_pile` runs quality and PII frame by frame while reading: the same tables as at once."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from segpile_lab.pile.audit import audit_pile
from segpile_lab.pile.pii import pii_counts
from segpile_lab.pile.quality import quality_signals


def test_frame_by_frame_text_audits_equal_the_whole_frame(demo_path, monkeypatch) -> None:
    from segpile_lab.pile import reader

    monkeypatch.setattr(reader, "CHUNK_BYTES", 1 << 14)  # many small frames
    frames = []
    audit = audit_pile(demo_path, progress=False)
    reader.read_pile(demo_path, progress=False, on_frame=frames.append)
    assert len(frames) > 5
    assert_frame_equal(audit.quality, quality_signals(audit.frame))
    assert_frame_equal(audit.pii, pii_counts(audit.frame))


def test_a_sample_audits_only_the_sampled_documents(demo_path) -> None:
    audit = audit_pile(demo_path, sample_per_subset=3, progress=False)
    assert audit.quality.height == audit.frame.height <= 3 * 22
    assert int(audit.pii["documents"].sum()) == audit.frame.height
    assert int(audit.composition["documents"].sum()) > audit.frame.height
    assert set(audit.languages["subset"]) == set(audit.frame["subset"])
    assert pl.Series(audit.table().columns).is_in(["main_language", "english_share"]).sum() == 2
