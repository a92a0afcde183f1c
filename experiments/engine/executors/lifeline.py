"""A pool worker ends when the sweep that started it does, however that one ended.

:func:`die_with` is every local pool worker's initializer: ``kill -9`` of the sweep's
process gives it no chance to stop its pool, and a worker left running would go on using a
core (and memory) for runs whose results no one will store.

Why not the parent-death signal alone: a worker's parent is the fork server, not the
sweep, and the fork server outlives the sweep while its workers live (each worker holds a
copy of the pipe whose end tells the fork server that the sweep is gone). So each worker
watches the sweep's process itself, through a pidfd on Linux (woken the moment the sweep
ends) or by looking every :data:`WATCH_SECONDS` elsewhere; with ``spawn`` the sweep is the
worker's parent and the kernel's parent-death signal is armed as well.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import select
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
"""Linux's ``prctl`` option: the signal a process gets when its parent dies."""

WATCH_SECONDS = 0.5
"""How often a worker without a pidfd looks whether the sweep is still there."""


def die_with(sweep: int) -> None:
    """Make this worker end as soon as the process ``sweep`` (the sweep's pid) ends."""
    if sweep == os.getppid() and sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    try:
        pidfd: int | None = os.pidfd_open(sweep)
    except ProcessLookupError:
        os._exit(1)  # the sweep ended before this worker started
    except (AttributeError, OSError):  # no pidfd here: look now and then
        pidfd = None

    def watch() -> None:
        if pidfd is not None:
            select.select([pidfd], [], [])  # readable once the process has ended
        else:
            while _alive(sweep):
                time.sleep(WATCH_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="die-with-sweep", daemon=True).start()


def _alive(pid: int) -> bool:
    with contextlib.suppress(PermissionError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
    return True
