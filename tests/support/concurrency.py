"""Run callables at the same instant on separate threads (for race tests on the real engine)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from chalicelib.domain.errors import PlatformError

T = TypeVar("T")


def race(*calls: Callable[[], T]) -> list[T]:
    """Start every call together (a barrier releases them at once); their results in order.
    An exception in any call is raised here."""
    barrier = threading.Barrier(len(calls))

    def at_the_barrier(call: Callable[[], T]) -> T:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        futures = [pool.submit(at_the_barrier, call) for call in calls]
        return [future.result() for future in futures]


def refused_or_result(call: Callable[[], T]) -> Callable[[], T | PlatformError]:
    """`call`, answering its refusal (a PlatformError) instead of raising it."""

    def run() -> T | PlatformError:
        try:
            return call()
        except PlatformError as refusal:
            return refusal

    return run
