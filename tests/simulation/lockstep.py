"""Concurrent use cases run in lock-step: each on its own thread, but only one at a time,
switching only where one of them makes an AWS call, in an order a seeded generator picks.
A race found this way is found again by the same seed, not by luck with the OS scheduler."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from tests.simulation.faults import WRITES, AwsFaults

STALL_SECONDS = 30
Schedule = Callable[[list[int], dict[int, int]], int]
"""(who is waiting, how many writes each has reached) -> who runs until its next AWS call."""


def stalled(before_write: int) -> Schedule:
    """The first call runs until it is about to make its `before_write`-th write (PutItem,
    TransactWriteItems, SendMessage...), the others run to their end, then it goes on: a run
    stalled mid-way, at one of the points where what it does next can matter."""
    def pick(waiting: list[int], writes: dict[int, int]) -> int:
        others = [n for n in waiting if n != 0]
        first_goes = 0 in waiting and writes.get(0, 0) < before_write
        return 0 if first_goes or not others else others[0]

    return pick


class LockStep:
    def __init__(self, faults: AwsFaults) -> None:
        self._faults = faults
        self._turn = threading.Condition()
        self._running: int | None = None
        self._parked: set[int] = set()
        self._idents: dict[int, int] = {}
        self._writes: Counter[int] = Counter()

    def run(self, calls: list[Callable[[], Any]], seed: int,
            schedule: Schedule | None = None) -> list[Any]:
        """Each call's result, or the BaseException it ended with. At each turn `schedule`
        picks who runs next (by default the seed, at random)."""
        rng = random.Random(seed)
        pick = schedule or (lambda waiting, writes: rng.choice(waiting))
        self._writes.clear()
        results: list[Any] = [None] * len(calls)
        done: set[int] = set()
        threads = [threading.Thread(target=self._body, args=(n, call, results, done))
                   for n, call in enumerate(calls)]
        self._faults.on_call = self._pause
        try:
            with self._turn:
                for thread in threads:
                    thread.start()
                self._turn.wait_for(lambda: len(self._parked) == len(calls), STALL_SECONDS)
                while len(done) < len(calls):
                    waiting = sorted(self._parked - done)
                    self._running = pick(waiting, self._writes)
                    self._parked.discard(self._running)
                    self._turn.notify_all()
                    if not self._turn.wait_for(
                            lambda: self._running in self._parked or self._running in done,
                            STALL_SECONDS):
                        raise RuntimeError("a lock-step call stalled off an AWS call")
        finally:
            self._faults.on_call = None
            for thread in threads:
                thread.join(STALL_SECONDS)
            self._idents.clear()
        return results

    def _body(self, n: int, call: Callable[[], Any], results: list[Any], done: set[int]) -> None:
        self._idents[threading.get_ident()] = n
        self._pause()  # everyone starts parked: the seed picks who goes first
        try:
            results[n] = call()
        except BaseException as ended:  # noqa: BLE001 - a crash is a result here
            results[n] = ended
        with self._turn:
            done.add(n)
            self._turn.notify_all()

    def _pause(self, operation: str = "") -> None:
        n = self._idents.get(threading.get_ident())
        if n is None:
            return
        with self._turn:
            self._writes[n] += operation in WRITES
            self._parked.add(n)
            self._turn.notify_all()
            self._turn.wait_for(lambda: self._running == n and n not in self._parked)
