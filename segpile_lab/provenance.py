"""Where a result's numbers come from, said the same way everywhere.

Results made with untrained (seeded random) demo weights or from synthetic demo data say so in
every table, figure title, widget and report page. The words, the warning colour and the small
`Provenance` value that results carry live here; the widget's JavaScript receives the words from
Python (`segpile_lab/viewer/widget.py`), and notebooks write `summary_fields` into their JSON
summaries, which the report index reads (`segpile_lab/report/index.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "SYNTHETIC",
    "UNTRAINED",
    "WARNING_COLOR",
    "HasProvenance",
    "Provenance",
    "combine",
    "from_summary",
    "summary_fields",
    "title",
]

UNTRAINED = "untrained demo weights"
SYNTHETIC = "synthetic demo data"
#: Colour of every provenance warning (titles, banners, stamps): a dark red.
WARNING_COLOR = "#b00020"

# Keys of a notebook summary (JSON) that declare provenance; `summary_fields` writes them.
UNTRAINED_KEY = "untrained_weights"
SYNTHETIC_KEY = "synthetic_data"


@dataclass(frozen=True)
class Provenance:
    """Where a result comes from.

    Attributes:
        is_trained: False for untrained demo weights.
        synthetic: True for synthetic demo data.
        reason: what the result is still good for when it is a demo (e.g. ``"ranks backends
            only"``), appended to the untrained note; ``""`` for none.
    """

    is_trained: bool = True
    synthetic: bool = False
    reason: str = ""

    @property
    def is_demo(self) -> bool:
        """True when any caveat applies."""
        return not self.is_trained or self.synthetic

    @property
    def labels(self) -> tuple[str, ...]:
        """The caveats that apply, in a fixed order (untrained first); empty when none."""
        untrained = UNTRAINED + (f": {self.reason}" if self.reason else "")
        return (untrained,) * (not self.is_trained) + (SYNTHETIC,) * self.synthetic

    @property
    def note(self) -> str:
        """The caveats joined by ``"; "``, or ``""``."""
        return "; ".join(self.labels)

    def merge(self, other: Provenance) -> Provenance:
        """The provenance of a result made from both (any caveat of either applies)."""
        reason = self.reason if not self.is_trained else other.reason
        return Provenance(
            self.is_trained and other.is_trained, self.synthetic or other.synthetic, reason
        )


def title(text: str, provenance: Provenance, *, sep: str = " — ") -> str:
    """A figure title: `text`, then the provenance note after `sep` when there is one.

    E.g. ``sep="\\n"`` for a second line in matplotlib; the caller colours it with
    `WARNING_COLOR` where the library allows.
    """
    return f"{text}{sep}{provenance.note}" if provenance.is_demo else text


class HasProvenance(Protocol):
    """Anything that carries a `Provenance` (results, segmenters, audits)."""

    @property
    def provenance(self) -> Provenance: ...


def combine(*sources: Provenance | HasProvenance) -> Provenance:
    """One provenance for a result made from all `sources` (`Provenance.merge` of them)."""
    combined = Provenance()
    for source in sources:
        combined = combined.merge(source if isinstance(source, Provenance) else source.provenance)
    return combined


def summary_fields(*sources: Provenance | HasProvenance) -> dict[str, bool]:
    """The keys a notebook's JSON summary carries so the report index can flag it:
    ``{"untrained_weights": bool, "synthetic_data": bool}`` for everything in `sources`
    (e.g. ``summary_fields(segmenter, result)``)."""
    provenance = combine(*sources)
    return {UNTRAINED_KEY: not provenance.is_trained, SYNTHETIC_KEY: provenance.synthetic}


def from_summary(summary: Mapping[str, Any] | None) -> Provenance:
    """The provenance a notebook summary declares through `summary_fields`' keys.

    Older summaries that only say it in words (a top-level text containing `UNTRAINED` or
    `SYNTHETIC`, or ``"is_trained": false`` / ``"synthetic": true``) are still read.
    """
    if not summary:
        return Provenance()
    texts = " ".join(v.lower() for v in summary.values() if isinstance(v, str))
    untrained = (
        summary.get(UNTRAINED_KEY) is True
        or summary.get("untrained") is True
        or summary.get("is_trained") is False
        or summary.get("trained") is False
        or UNTRAINED in texts
    )
    synthetic = (
        any(summary.get(k) is True for k in (SYNTHETIC_KEY, "synthetic", "demo_data"))
        or SYNTHETIC in texts
    )
    return Provenance(is_trained=not untrained, synthetic=synthetic)
