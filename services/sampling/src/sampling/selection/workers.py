"""The threads a draw does its side work on: forming the strata, sorting the case references, writing
the fingerprint and the JSON tables, beside its main line (polars lets go of the GIL, so they overlap).

The app owns one set (`app.state.draw_workers`), shared by its draws and stopped when the app stops.
Its threads start with the first draw rather than with the app, so an app served without its lifespan
(in process, through httpx's ASGI transport) draws all the same. Two threads are enough: a task waits
only for tasks submitted before it, which have started by the time it does (the queue is first in,
first out), so a small pool cannot deadlock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class DrawWorkers(Executor):
    """A pool of two threads, started at the first task and restartable after `shutdown`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads: ThreadPoolExecutor | None = None

    def submit(self, fn: Callable[..., T], /, *args: object, **kwargs: object) -> Future[T]:
        with self._lock:
            if self._threads is None:
                self._threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sampling-draw")
            return self._threads.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            threads, self._threads = self._threads, None
        if threads is not None:
            threads.shutdown(wait=wait, cancel_futures=cancel_futures)
