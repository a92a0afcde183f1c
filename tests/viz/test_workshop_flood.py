"""A flood of sessions that never join: memory and threads stay bounded, and come back.

300 page loads with a wrong join code are answered by the server's gate without a session;
300 sessions opened straight over the websocket (as a script would, past the gate), thirty
at a time, each render the page that has no controls and drop; solara then keeps each for
seconds, not minutes, and the server's tidy task gives their threads back. Bounded in time
(under a minute on a 2-core machine); it prints what it measured.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.viz.browser import app_server
from tests.viz.test_app_load import kernels, rss_mb

pytestmark = pytest.mark.browser  # a server under load, like the browser tests

SESSIONS = 300
AT_ONCE = 30
GROWTH_MB = 50
SETTLE_S = 30


def threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError(f"no Threads for process {pid}")


def _message(kind: str, content: dict[str, Any]) -> str:
    header = {"msg_id": uuid.uuid4().hex, "msg_type": kind, "username": "",
              "session": uuid.uuid4().hex, "date": "", "version": "5.3"}
    return json.dumps({"header": header, "parent_header": {}, "metadata": {},
                       "content": content, "channel": "shell", "buffers": []})


async def _session(url: str, path: str) -> bool:
    """Open a solara session over the websocket, run the page at ``path``, then drop it."""
    import websockets

    address = (url.replace("http://", "ws://") +
               f"jupyter/api/kernels/{uuid.uuid4()}/channels?session_id={uuid.uuid4()}")
    async with websockets.connect(address, additional_headers={
            "Cookie": f"solara-session-id={uuid.uuid4()}"}) as ws:
        comm = uuid.uuid4().hex
        await ws.send(_message("comm_open", {"comm_id": comm, "target_name": "solara.control",
                                             "data": {}}))
        await ws.send(_message("comm_msg", {"comm_id": comm, "data": {
            "method": "run", "args": {"path": path, "appName": "__default__"}}}))
        while True:
            frame = await asyncio.wait_for(ws.recv(), 30)
            if isinstance(frame, str) and '"finished"' in frame:
                return True


async def _flood(url: str, path: str) -> int:
    rendered = 0
    for _ in range(0, SESSIONS, AT_ONCE):
        done = await asyncio.gather(*[_session(url, path) for _ in range(AT_ONCE)])
        rendered += sum(done)
    return rendered


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def test_sessions_that_never_join_leave_memory_and_threads_bounded(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    info: dict[str, int] = {}
    with app_server("--log", str(tmp_path / "log"), "--no-qr", command="workshop",
                    info=info, timeout=60) as (url, _):
        pid = info["pid"]
        time.sleep(1.0)
        base_mb, base_threads = rss_mb(pid), threads(pid)
        with ThreadPoolExecutor(AT_ONCE) as pool:
            codes = list(pool.map(_get, [f"{url}?join=WRONG{i}" for i in range(SESSIONS)]))
            gate = urllib.request.urlopen(f"{url}?join=WRONG", timeout=30).read().decode()
        gated_mb, gated_threads = rss_mb(pid), threads(pid)
        started = time.monotonic()
        rendered = asyncio.run(_flood(url, "/?join=WRONG"))
        flood_s = time.monotonic() - started
        peak_mb, peak_threads = rss_mb(pid), threads(pid)
        deadline = time.monotonic() + SETTLE_S
        while time.monotonic() < deadline and (threads(pid) > base_threads + 2
                                               or kernels(url) > 0):
            time.sleep(1.0)
        settled_s = SETTLE_S - (deadline - time.monotonic())
        after_mb, after_threads, left = rss_mb(pid), threads(pid), kernels(url)
        assert _get(f"{url}?join=WRONG") == 200  # the server still answers
    print(f"\n{SESSIONS} page loads with a wrong code: {base_mb:.0f} -> {gated_mb:.0f} MB, "
          f"threads {base_threads} -> {gated_threads}")
    print(f"{rendered} websocket sessions, {AT_ONCE} at a time, in {flood_s:.0f} s: peak "
          f"{peak_mb:.0f} MB, {peak_threads} threads; {settled_s:.0f} s later {after_mb:.0f} "
          f"MB, {after_threads} threads, {left} sessions kept")
    assert codes == [200] * SESSIONS and rendered == SESSIONS
    assert "opens nothing" in gate and "solara" not in gate.lower()  # no app, no session
    assert gated_mb - base_mb < 10 and gated_threads <= base_threads + 2
    assert after_mb - base_mb < GROWTH_MB
    assert after_threads <= base_threads + 2 and left == 0
