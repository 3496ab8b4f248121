"""PII-like counts on strings whose matches are known by hand."""

from __future__ import annotations

import polars as pl
import pytest

from segpile_lab.pile.pii import pii_counts


def _counts(text: str) -> dict:
    return pii_counts(pl.DataFrame({"subset": ["S"], "text": [text]})).row(0, named=True)


@pytest.mark.parametrize(
    ("text", "emails", "ipv4", "phones"),
    [
        ("write to john.smith@enron.com today", 1, 0, 0),
        ("a@b.co, c.d+e@mail.example.org", 2, 0, 0),
        ("not an address: user@localhost", 0, 0, 0),
        ("router at 192.168.0.1 and 10.0.0.254", 0, 2, 0),
        ("999.1.1.1 is out of range", 0, 0, 0),
        ("1.2.3 is a version", 0, 0, 0),
        ("call (555) 123-4567", 0, 0, 1),
        ("555-123-4567 or 555.123.4567 or +1 555 123 4567", 0, 0, 3),
        ("order 5551234567 has no separators", 0, 0, 0),
        ("12-34-5678 is too short", 0, 0, 0),
        ("nothing here", 0, 0, 0),
    ],
)
def test_matches_by_hand(text: str, emails: int, ipv4: int, phones: int) -> None:
    row = _counts(text)
    assert (row["emails"], row["ipv4"], row["phones"]) == (emails, ipv4, phones)
    assert row["documents_with_pii"] == int(emails + ipv4 + phones > 0)


def test_counts_aggregate_per_subset() -> None:
    df = pl.DataFrame(
        {
            "subset": ["A", "A", "A", "B"],
            "text": ["a@b.co a@b.co", "1.1.1.1", "clean", "clean"],
        }
    )
    a, b = pii_counts(df).iter_rows(named=True)
    assert (a["documents"], a["emails"], a["emails_documents"], a["ipv4"]) == (3, 2, 1, 1)
    assert a["documents_with_pii"] == 2 and a["pii_document_share"] == pytest.approx(2 / 3)
    assert (b["documents_with_pii"], b["pii_document_share"]) == (0, 0.0)


def test_demo_sample_has_pii_where_planted(demo_path) -> None:
    from segpile_lab.pile.reader import read_pile

    counts = pii_counts(read_pile(demo_path))
    share = dict(counts.select("subset", "emails_documents").iter_rows())
    assert share["Enron Emails"] > 0  # every e-mail has From:/To: headers
    assert share["Books3"] == 0


def test_counts_of_batches_merge_into_the_counts_of_all(demo_path) -> None:
    from polars.testing import assert_frame_equal

    from segpile_lab.pile.pii import merge_pii_counts
    from segpile_lab.pile.reader import read_pile

    df = read_pile(demo_path)
    parts = [pii_counts(batch) for batch in df.iter_slices(50)]
    assert len(parts) > 5
    assert_frame_equal(merge_pii_counts(parts), pii_counts(df))


PHONE_CORNERS = [
    "",
    None,
    "555-123-4567",
    "\u0665\u0665\u0665-\u0661\u0662\u0663-\u0664\u0665\u0666\u0667",  # Arabic-Indic digits: \d
    "\uff15\uff15\uff15 123 4567",  # fullwidth digits in the area code
    "caf\u00e9 (555) 123-4567",  # non-ASCII elsewhere in the document
    "x555-123-4567 and 555-123-45678",  # no word boundary: no match, though the tail is there
    "123 4567 alone",  # the tail alone
    "+1 555 123 4567\n" * 2_000,  # one long document
    "digits 0123456789 but no separators",
]


def test_phone_prefilter_equals_the_pattern_on_every_row() -> None:
    from audit_reference import CATALOG, demo_frame

    from segpile_lab.pile.pii import PHONE, phone_counts

    texts = pl.Series([*PHONE_CORNERS, *CATALOG, *demo_frame()["text"].to_list()], dtype=pl.String)
    assert phone_counts(texts).to_list() == texts.str.count_matches(PHONE).to_list()
    assert phone_counts(pl.Series(PHONE_CORNERS[2:5], dtype=pl.String)).to_list() == [1, 1, 1]


@pytest.mark.shared
def test_phone_prefilter_equals_the_pattern_on_real_documents(shared_data) -> None:
    from audit_reference import real_frame

    from segpile_lab.pile.pii import PHONE, phone_counts

    texts = real_frame(shared_data)["text"]
    assert phone_counts(texts).to_list() == texts.str.count_matches(PHONE).to_list()
