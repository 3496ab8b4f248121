"""Class names of a result, one per id (the legend, the read-out and the hover use them)."""

from __future__ import annotations

from collections.abc import Mapping


def class_names(id2label: Mapping[int, str], num_classes: int) -> list[str]:
    """Names for ids ``0..num_classes-1``; ids missing from `id2label` read ``class <id>``."""
    labels = {int(k): str(v) for k, v in id2label.items()}
    return [labels.get(i, f"class {i}") for i in range(num_classes)]
