"""The 22 Pile subsets, by the names the released shards use, and the aliases other tools use.

The released shards store the subset in ``meta.pile_set_name`` with exactly the names in
`PILE_SUBSETS`. Other tools name the same subsets differently: lm-evaluation-harness task slugs
(``pile_arxiv``, ``pile_pile-cc``, …) and the replication code in EleutherAI/the-pile
(``CommonCrawl``, ``Bibliotik``, ``USPTO``, ``BookCorpus``, …). `canonical_subset` maps all of
them (case, spaces and punctuation ignored) to the released name; anything else is kept as
given and flagged as unknown (typos, Pile-v2 names, components dropped before release).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["PILE_SUBSETS", "SUBSET_ALIASES", "UNKNOWN_SUBSET", "canonical_subset", "subset_order"]

#: The 22 components exactly as ``meta.pile_set_name`` spells them in the released shards.
PILE_SUBSETS: tuple[str, ...] = (
    "Pile-CC",
    "PubMed Central",
    "Books3",
    "OpenWebText2",
    "ArXiv",
    "Github",
    "FreeLaw",
    "StackExchange",
    "USPTO Backgrounds",
    "PubMed Abstracts",
    "Gutenberg (PG-19)",
    "OpenSubtitles",
    "Wikipedia (en)",
    "DM Mathematics",
    "Ubuntu IRC",
    "BookCorpus2",
    "EuroParl",
    "HackerNews",
    "YoutubeSubtitles",
    "PhilPapers",
    "NIH ExPorter",
    "Enron Emails",
)

#: The subset of a row whose ``meta`` or ``meta.pile_set_name`` is missing or null.
UNKNOWN_SUBSET = "<unknown>"

#: Other names for the same components -> released name.
SUBSET_ALIASES: dict[str, str] = {
    # lm-evaluation-harness task slugs
    "pile_pile-cc": "Pile-CC",
    "pile_pubmed-central": "PubMed Central",
    "pile_books3": "Books3",
    "pile_openwebtext2": "OpenWebText2",
    "pile_arxiv": "ArXiv",
    "pile_github": "Github",
    "pile_freelaw": "FreeLaw",
    "pile_stackexchange": "StackExchange",
    "pile_uspto": "USPTO Backgrounds",
    "pile_pubmed-abstracts": "PubMed Abstracts",
    "pile_gutenberg": "Gutenberg (PG-19)",
    "pile_opensubtitles": "OpenSubtitles",
    "pile_wikipedia": "Wikipedia (en)",
    "pile_dm-mathematics": "DM Mathematics",
    "pile_ubuntu-irc": "Ubuntu IRC",
    "pile_bookcorpus2": "BookCorpus2",
    "pile_europarl": "EuroParl",
    "pile_hackernews": "HackerNews",
    "pile_youtubesubtitles": "YoutubeSubtitles",
    "pile_philpapers": "PhilPapers",
    "pile_nih-exporter": "NIH ExPorter",
    "pile_enron": "Enron Emails",
    # dataset names in the replication code (EleutherAI/the-pile, the_pile/datasets.py)
    "CommonCrawl": "Pile-CC",
    "Bibliotik": "Books3",
    "USPTO": "USPTO Backgrounds",
    "PubMed": "PubMed Abstracts",
    "BookCorpus": "BookCorpus2",
    "Wikipedia": "Wikipedia (en)",
    "Gutenberg": "Gutenberg (PG-19)",
    "PG-19": "Gutenberg (PG-19)",
    "YTSubtitles": "YoutubeSubtitles",
    "ExPorter": "NIH ExPorter",
    "DM Math": "DM Mathematics",
    "Enron": "Enron Emails",
    "Ubuntu": "Ubuntu IRC",
}


def _key(name: str) -> str:
    """Lower case, letters and digits only: ``"Pile-CC"``, ``"pile cc"`` and ``"PILE_CC"`` meet."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


_LOOKUP: dict[str, str] = {
    **{_key(alias): name for alias, name in SUBSET_ALIASES.items()},
    **{_key(name): name for name in PILE_SUBSETS},
}


def canonical_subset(name: str) -> tuple[str, bool]:
    """Map a subset name to its released spelling.

    Returns ``(name, known)``: the released name and True for one of the 22 subsets or an alias
    of one; the name unchanged and False otherwise (unknown names are kept, never guessed).

    >>> canonical_subset("pile_arxiv")
    ('ArXiv', True)
    >>> canonical_subset("Githib")
    ('Githib', False)
    """
    canonical = _LOOKUP.get(_key(name))
    return (name, False) if canonical is None else (canonical, True)


def subset_order(names: Iterable[str]) -> list[str]:
    """`names` in the paper's order of the 22 subsets (`PILE_SUBSETS`, Table 1), then any other
    names alphabetically; each name once."""
    present = set(names)
    canonical = [name for name in PILE_SUBSETS if name in present]
    return canonical + sorted(present - set(canonical))
