"""The fork server that a local pool's workers are forked from, and starting it early.

A fork server is a fresh interpreter that imports the model once (:data:`PRELOAD`) and forks
each worker from itself: workers start fast and share those pages, and none is forked from
the command's own process, whose threads (progress display, numpy's, Arrow's) could deadlock
a forked child. It is also Python's own default from 3.14.

Loading the model takes the fork server about 0.6 s. A command that will run workers calls
:func:`start_early` before it loads its own modules, so that the two load side by side on two
cores instead of one after the other. A module light enough for the CLI to import at start.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import multiprocessing.forkserver

PRELOAD = ("experiments.engine.executors.preload",)
"""Modules the fork server imports once, so that every worker starts with them loaded."""


def start_method() -> str:
    """``forkserver`` where the platform has it, else ``spawn``."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() \
        else "spawn"


def context(method: str) -> multiprocessing.context.BaseContext:
    """The multiprocessing context of ``method``, its fork server preloading :data:`PRELOAD`."""
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":
        ctx.set_forkserver_preload(list(PRELOAD))
    return ctx


def start_early(workers: int | None, scheduler: str | None = None) -> None:
    """Start loading the fork server now if this command will run local workers.

    Returns at once: the server loads in its own process while the caller goes on, and a
    pool made later forks its workers from it. Nothing happens for one worker (runs are
    inline), a Dask scheduler or a platform without a fork server.
    """
    if scheduler or workers == 1 or start_method() != "forkserver":
        return
    context("forkserver")
    multiprocessing.forkserver.ensure_running()
