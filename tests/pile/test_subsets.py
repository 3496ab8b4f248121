"""The subset-name registry: the 22 released names and the aliases of other tools."""

from __future__ import annotations

import pytest

import segpile_lab as sl

# the released names, as listed in the issue and in the paper's composition table
RELEASED = [
    "Pile-CC", "PubMed Central", "Books3", "OpenWebText2", "ArXiv", "Github", "FreeLaw",
    "StackExchange", "USPTO Backgrounds", "PubMed Abstracts", "Gutenberg (PG-19)",
    "OpenSubtitles", "Wikipedia (en)", "DM Mathematics", "Ubuntu IRC", "BookCorpus2",
    "EuroParl", "HackerNews", "YoutubeSubtitles", "PhilPapers", "NIH ExPorter", "Enron Emails",
]  # fmt: skip

# lm-evaluation-harness's task names for the Pile subsets (lm_eval/tasks/pile)
LM_EVAL_SLUGS = {
    "pile_arxiv": "ArXiv", "pile_bookcorpus2": "BookCorpus2", "pile_books3": "Books3",
    "pile_dm-mathematics": "DM Mathematics", "pile_enron": "Enron Emails",
    "pile_europarl": "EuroParl", "pile_freelaw": "FreeLaw", "pile_github": "Github",
    "pile_gutenberg": "Gutenberg (PG-19)", "pile_hackernews": "HackerNews",
    "pile_nih-exporter": "NIH ExPorter", "pile_opensubtitles": "OpenSubtitles",
    "pile_openwebtext2": "OpenWebText2", "pile_philpapers": "PhilPapers",
    "pile_pile-cc": "Pile-CC", "pile_pubmed-abstracts": "PubMed Abstracts",
    "pile_pubmed-central": "PubMed Central", "pile_stackexchange": "StackExchange",
    "pile_uspto": "USPTO Backgrounds", "pile_ubuntu-irc": "Ubuntu IRC",
    "pile_wikipedia": "Wikipedia (en)", "pile_youtubesubtitles": "YoutubeSubtitles",
}  # fmt: skip


def test_released_names_exactly() -> None:
    assert list(sl.PILE_SUBSETS) == RELEASED


@pytest.mark.parametrize("name", RELEASED)
def test_released_name_is_canonical(name: str) -> None:
    assert sl.canonical_subset(name) == (name, True)


@pytest.mark.parametrize(("slug", "name"), sorted(LM_EVAL_SLUGS.items()))
def test_lm_eval_slug(slug: str, name: str) -> None:
    assert sl.canonical_subset(slug) == (name, True)


def test_lm_eval_slugs_cover_all_22() -> None:
    assert sorted({sl.canonical_subset(s)[0] for s in LM_EVAL_SLUGS}) == sorted(RELEASED)


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("CommonCrawl", "Pile-CC"),
        ("Bibliotik", "Books3"),
        ("USPTO", "USPTO Backgrounds"),
        ("BookCorpus", "BookCorpus2"),
        ("Wikipedia", "Wikipedia (en)"),
        ("Gutenberg", "Gutenberg (PG-19)"),
        ("PubMed", "PubMed Abstracts"),
        ("pile-cc", "Pile-CC"),
        ("PUBMED CENTRAL", "PubMed Central"),
        ("dm_mathematics", "DM Mathematics"),
    ],
)
def test_replication_and_spelling_aliases(alias: str, name: str) -> None:
    assert sl.canonical_subset(alias) == (name, True)


@pytest.mark.parametrize("name", ["Githib", "Literotica", "CORD-19", "pile_v2_code", ""])
def test_unknown_name_kept_and_flagged(name: str) -> None:
    assert sl.canonical_subset(name) == (name, False)


def test_subset_order_is_the_papers_then_other_names_alphabetically():
    from segpile_lab.pile.subsets import subset_order

    names = ["zeta", "Github", "Pile-CC", "Alpha", "Enron Emails", "Github"]
    assert subset_order(names) == ["Pile-CC", "Github", "Enron Emails", "Alpha", "zeta"]
