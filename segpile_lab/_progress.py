"""Progress bars that respect the caller and the environment.

`progress=None` leaves the decision to the environment (``TQDM_DISABLE=1``, which report mode
sets, hides every bar); `True` forces a bar, `False` hides it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


def bars_disabled() -> bool:
    """True when the environment hides progress bars (``TQDM_DISABLE`` set to anything but
    ``""``, ``0`` or ``false``; report mode sets it)."""
    return os.environ.get("TQDM_DISABLE", "").lower() not in ("", "0", "false")


def progress_bar(
    iterable: Iterable[T] | None = None, *, progress: bool | None = None, **kwargs: Any
) -> tqdm:
    """Wrap `iterable` in a tqdm bar (iterate it, or `update`/`close` it); pass `disable=` only
    when the caller or the environment chose. tqdm reads ``TQDM_DISABLE`` itself in a terminal,
    but its notebook bar (what `tqdm.auto` picks under a kernel) ignores it and would leave a
    blank widget in reports."""
    if progress is None and bars_disabled():
        progress = False
    if progress is not None:
        kwargs["disable"] = not progress
    return tqdm(iterable, **kwargs)
