"""Progress bars that respect the caller and the environment.

`progress=None` leaves the decision to tqdm (so ``TQDM_DISABLE=1``, which report mode sets,
keeps working); `True` forces a bar, `False` hides it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


def progress_bar(
    iterable: Iterable[T] | None = None, *, progress: bool | None = None, **kwargs: Any
) -> Iterator[T] | tqdm:
    """Wrap `iterable` in a tqdm bar; pass `disable=` only when the caller chose explicitly."""
    if progress is not None:
        kwargs["disable"] = not progress
    return tqdm(iterable, **kwargs)
