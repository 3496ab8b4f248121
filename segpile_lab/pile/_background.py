"""Run an iterator in a background thread, a few items ahead of its consumer.

Decompression (python-zstandard) and NumPy release the GIL, so the next chunk is prepared while
Polars (which releases it too) parses the current one. The queue is bounded: memory stays at
`depth` items whatever the consumer's speed.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterator
from typing import TypeVar

from segpile_lab._cpus import cpu_budget

__all__ = ["prefetch"]

T = TypeVar("T")
_DONE = object()


def prefetch(make_iterator: Callable[[], Iterator[T]], depth: int = 2) -> Generator[T, None, None]:
    """Yield the items of ``make_iterator()``, computed in a thread `depth` items ahead.

    An exception in the thread is re-raised here; closing this generator stops the thread.
    With a budget of one CPU (`cpu_budget`, e.g. a Ray worker granted ``num_cpus=1``) the items
    are computed here, in turn: a second thread would only take turns with this one.
    """
    if cpu_budget() < 2:
        yield from make_iterator()
        return
    items: queue.Queue[tuple[object, BaseException | None]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object, error: BaseException | None = None) -> bool:
        while not stop.is_set():
            try:
                items.put((item, error), timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in make_iterator():
                if not put(item):
                    return
        except BaseException as error:  # handed to the consumer, raised there
            put(_DONE, error)
            return
        put(_DONE)

    worker = threading.Thread(target=run, name="segpile-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item, error = items.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()
