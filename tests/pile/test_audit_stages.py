"""`audit_pile` runs quality and PII frame by frame while reading: the same tables as at once."""

from __future__ import annotations

import polars as pl
import pytest
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


def test_concurrent_stages_equal_the_stages_one_by_one(demo_path, monkeypatch) -> None:
    """Quality/PII run in a worker thread, language ID beside the near-duplicate search: the
    same tables as each stage called alone on the audited frame."""
    from segpile_lab.pile import reader
    from segpile_lab.pile.dedup import near_duplicates
    from segpile_lab.pile.langid import language_ids

    monkeypatch.setattr(reader, "CHUNK_BYTES", 1 << 14)
    audit = audit_pile(demo_path, progress=False, near_duplicate_sample=20, language_sample=5)
    pairs, near = near_duplicates(audit.frame, sample_per_subset=20)
    assert_frame_equal(audit.near_duplicate_pairs, pairs)
    assert_frame_equal(audit.near_duplicates, near)
    assert audit.languages is not None
    assert_frame_equal(audit.languages, language_ids(audit.frame, sample_per_subset=5))


def test_a_bad_record_mid_read_stops_the_worker_and_raises(tmp_path, monkeypatch) -> None:
    import threading

    from segpile_lab.errors import SegpileError
    from segpile_lab.pile import reader

    monkeypatch.setattr(reader, "CHUNK_BYTES", 1 << 12)
    good = '{"text": "' + "word " * 200 + '", "meta": {"pile_set_name": "Pile-CC"}}\n'
    path = tmp_path / "bad.jsonl"
    path.write_text(good * 50 + "{not json\n" + good * 5)
    with pytest.raises(SegpileError, match=r"bad\.jsonl"):
        audit_pile(path, strict=True, progress=False, identify_languages=False)
    assert not [t for t in threading.enumerate() if t.name.startswith("segpile-audit")]


@pytest.mark.shared
def test_threaded_signatures_equal_one_call_on_the_catalog_and_shared_documents(
    shared_data,
) -> None:
    import numpy as np

    from segpile_lab.pile.dedup import _hashes_and_signatures, minhash_signatures, shingle_hashes

    shared = pl.read_ndjson(shared_data / "pile" / "val_first10.jsonl")["text"]
    catalog = pl.Series(
        ["", None, "one", "a b c d e", "x " * 300, "é\u00a0ü  日本語 ", "\x00\ud7ff tab\tend"],
        dtype=pl.String,
    )
    for texts in (shared, catalog, pl.concat([catalog, shared]), catalog[:0], catalog[:1]):
        hashes, offsets = shingle_hashes(texts)
        signatures = minhash_signatures(hashes, offsets, 128, 3)
        for parts in (1, 2, 3):
            got = _hashes_and_signatures(texts, 128, 3, parts)
            for a, b in zip(got, (hashes, offsets, signatures), strict=True):
                assert a.dtype == b.dtype
                np.testing.assert_array_equal(a, b)


@pytest.mark.shared
def test_pooled_frame_stages_equal_the_stages_on_the_whole_frame(
    shared_data, tmp_path, monkeypatch
) -> None:
    """Exact duplicates, quality and PII of each frame run as separate tasks on the audit's
    pool and merge in the caller: the same tables as each stage on the whole frame, on the
    bad-input catalog (twice, and across two subsets: duplicates) and the real documents."""
    import json

    from audit_reference import CATALOG, real_frame

    from segpile_lab.pile import audit as audit_module
    from segpile_lab.pile import reader
    from segpile_lab.pile.composition import CompositionStats
    from segpile_lab.pile.dedup import duplicate_stats

    real = real_frame(shared_data)
    records = [(t, "Pile-CC") for t in CATALOG] + [(t, "Github") for t in CATALOG]
    records += [*zip(real["text"], real["subset"], strict=True), *[(t, "Pile-CC") for t in CATALOG]]
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        "".join(
            json.dumps({"text": t, "meta": {"pile_set_name": s}}, ensure_ascii=False) + "\n"
            for t, s in records
        ),
        encoding="utf-8",
    )
    monkeypatch.setattr(reader, "CHUNK_BYTES", 1 << 10)  # many frames, several in flight
    monkeypatch.setattr(audit_module, "_BACKLOG", 1)  # the wait for the oldest frame too
    audit = audit_pile(path, progress=False, identify_languages=False)
    frames: list[pl.DataFrame] = []
    reader.read_pile(path, progress=False, on_frame=frames.append)
    assert len(frames) > 5
    assert audit.frame.height == len(records)
    assert_frame_equal(audit.duplicates, duplicate_stats(audit.frame))
    assert_frame_equal(audit.composition, CompositionStats().update(audit.frame).to_frame())
    assert_frame_equal(audit.quality, quality_signals(audit.frame))
    assert_frame_equal(audit.pii, pii_counts(audit.frame))
    assert int(audit.duplicates["cross_subset_duplicates"].sum()) > 0
