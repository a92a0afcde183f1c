"""How the tabs of one server share it: played months take turns, clicks go first.

A class of thirty opens thirty tabs on one laptop, and each tab's play loop computes a month
and redraws its page. Left alone, thirty loops ask for more than the machine has, and a
click on Step in any tab waits behind all of them. :class:`PlayGate` bounds the work: played
months run one at a time, a click (Step, Reset, a workshop button) runs before any waiting
played month, and every playing tab slows down so that together they use at most ``budget``
of the server's time (each tab then plays slower than asked, and says so).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager


class PlayGate:
    """Turns for played months across all tabs of a server, with clicks first.

    Args:
        budget: Share of the server's time that playing tabs may use together (0 to 1).
        initial_cost: First guess of the seconds a played month takes (computed and drawn).

    """

    def __init__(self, budget: float = 0.5, initial_cost: float = 0.02) -> None:
        if not 0 < budget <= 1:
            raise ValueError(f"budget: {budget!r} is outside (0, 1]")
        self.budget = budget
        self.cost = initial_cost
        self._cond = threading.Condition()
        self._queue: deque[object] = deque()  # tabs waiting for a turn, first come first
        self._playing: set[object] = set()
        self._clicks = 0
        self._busy = False

    @property
    def playing(self) -> int:
        """Number of tabs playing now."""
        with self._cond:
            return len(self._playing)

    def join(self, tab: object) -> None:
        """Count ``tab`` as playing."""
        with self._cond:
            self._playing.add(tab)

    def leave(self, tab: object) -> None:
        """``tab`` stopped playing (or is gone)."""
        with self._cond:
            self._playing.discard(tab)
            self._cond.notify_all()

    @contextmanager
    def click(self) -> Iterator[None]:
        """Hold while a user's click is served: no played month starts meanwhile."""
        with self._cond:
            self._clicks += 1
        try:
            yield
        finally:
            with self._cond:
                self._clicks -= 1
                self._cond.notify_all()

    @contextmanager
    def turn(self, cancel: threading.Event | None = None) -> Iterator[bool]:
        """Wait for this tab's turn to play a month; yields False if cancelled meanwhile.

        Turns go in the order they were asked for, so no playing tab starves.

        The time spent inside updates the running estimate of a month's cost.
        """
        ticket = object()
        with self._cond:
            self._queue.append(ticket)
            try:
                while self._busy or self._clicks or self._queue[0] is not ticket:
                    if cancel is not None and cancel.is_set():
                        break
                    self._cond.wait(0.05)
            finally:
                self._queue.remove(ticket)
                self._cond.notify_all()
            got = not (cancel is not None and cancel.is_set())
            if got:
                self._busy = True
        start = time.perf_counter()
        try:
            yield got
        finally:
            if got:
                spent = time.perf_counter() - start
                with self._cond:
                    self._busy = False
                    self.cost = 0.8 * self.cost + 0.2 * spent
                    self._cond.notify_all()

    def interval(self, asked: float) -> float:
        """Seconds between two months of one tab: as asked, or longer when many tabs play.

        All playing tabs together then use at most ``budget`` of the server's time.
        """
        with self._cond:
            shared = len(self._playing) * self.cost / self.budget
        return max(asked, shared)


GATE = PlayGate(budget=0.6)
"""The one gate of this server process (every tab's page uses it)."""


_trim_lock = threading.Lock()
_trim_timer: threading.Timer | None = None


def _release_memory() -> None:
    import ctypes
    import ctypes.util
    import gc

    gc.collect()  # a closed tab's run holds cycles (widgets, model, agents)
    name = ctypes.util.find_library("c")
    if name is None:
        return
    libc = ctypes.CDLL(name)
    if hasattr(libc, "malloc_trim"):  # glibc: hand freed memory back to the system
        libc.malloc_trim(0)


def release_memory_soon(delay: float = 2.0) -> None:
    """Collect a closed tab's run and return the freed memory to the system, once.

    Thirty tabs closing together ask thirty times; one collection ``delay`` seconds after
    the last ask serves them all.
    """
    global _trim_timer
    with _trim_lock:
        if _trim_timer is not None:
            _trim_timer.cancel()
        _trim_timer = threading.Timer(delay, _release_memory)
        _trim_timer.daemon = True
        _trim_timer.start()
