"""A flood of sessions that never join: memory and threads stay bounded, and come back.

300 page loads with a wrong join code are answered by the server's gate without a session
or a ticket; 300 sessions opened straight over the websocket (as a script would, past the
gate), thirty at a time, bring no ticket: all but a few strangers at once are refused with
HTTP 403 before solara makes a kernel, and those few render the page that has no controls,
drop, and are forgotten within seconds while the server's tidy task gives their threads
back. A page loaded with the right code gets its ticket and its session. Bounded in time
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
GROWTH_MB = 20
"""Most the server's memory may grow for the whole flood, once it has settled (the issue's
bound is 50 MB; without the websocket's admission the same flood left it 32 MB larger)."""
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


async def _session(url: str, path: str, cookie: str = "") -> bool | None:
    """Open a solara session over the websocket, run the page at ``path``, then drop it.

    ``True``: the page was drawn; ``None``: the server refused the websocket (HTTP 403).
    """
    import websockets
    from websockets.exceptions import InvalidStatus

    address = (url.replace("http://", "ws://") +
               f"jupyter/api/kernels/{uuid.uuid4()}/channels?session_id={uuid.uuid4()}")
    try:
        ws = await websockets.connect(address, additional_headers={
            "Cookie": f"solara-session-id={uuid.uuid4()}{cookie}"})
    except InvalidStatus as err:
        assert err.response.status_code == 403
        return None
    async with ws:
        comm = uuid.uuid4().hex
        await ws.send(_message("comm_open", {"comm_id": comm, "target_name": "solara.control",
                                             "data": {}}))
        await ws.send(_message("comm_msg", {"comm_id": comm, "data": {
            "method": "run", "args": {"path": path, "appName": "__default__"}}}))
        while True:
            frame = await asyncio.wait_for(ws.recv(), 30)
            if isinstance(frame, str) and '"finished"' in frame:
                return True


async def _flood(url: str, path: str) -> tuple[int, int]:
    """(sessions drawn, sessions refused) of a flood of ticketless websockets."""
    rendered = refused = 0
    for _ in range(0, SESSIONS, AT_ONCE):
        done = await asyncio.gather(*[_session(url, path) for _ in range(AT_ONCE)])
        rendered += sum(1 for d in done if d)
        refused += sum(1 for d in done if d is None)
    return rendered, refused


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def _ticket(url: str) -> str | None:
    """The ticket cookie a page load of ``url`` sets, if any."""
    from simulation.viz.server import TICKET_COOKIE

    with urllib.request.urlopen(url, timeout=30) as response:
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            if name.strip() == TICKET_COOKIE:
                return rest.split(";")[0]
    return None


def _settle(url: str, pid: int, base_threads: int) -> float:
    """Seconds until the server holds no session and its threads are back (at most SETTLE_S)."""
    started = time.monotonic()
    while time.monotonic() - started < SETTLE_S and (
            (base_threads and threads(pid) > base_threads + 2) or kernels(url) > 0):
        time.sleep(1.0)
    return time.monotonic() - started


def test_sessions_that_never_join_leave_memory_and_threads_bounded(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from simulation.viz.server import STRANGERS, TICKET_COOKIE
    from simulation.viz.workshop.session import Config, Workshop

    folder = tmp_path / "log"
    shop = Workshop.create(Config(), folder)
    code = shop.start.code
    shop.close()
    info: dict[str, int] = {}
    with app_server("--resume", str(folder), "--no-qr", command="workshop",
                    info=info, timeout=60) as (url, _):
        pid = info["pid"]
        ticket = _ticket(f"{url}?join={code}")
        assert ticket is not None, "a page loaded with the join code got no ticket"
        # a real page first: what its first drawing loads is not the flood's
        joined = asyncio.run(_session(url, f"/?join={code}", f"; {TICKET_COOKIE}={ticket}"))
        time.sleep(1.0)
        _settle(url, pid, 0)
        base_mb, base_threads = rss_mb(pid), threads(pid)
        with ThreadPoolExecutor(AT_ONCE) as pool:
            codes = list(pool.map(_get, [f"{url}?join=WRONG{i}" for i in range(SESSIONS)]))
            gate = urllib.request.urlopen(f"{url}?join=WRONG", timeout=30).read().decode()
        wrong_ticket = _ticket(f"{url}?join=WRONG")
        gated_mb, gated_threads = rss_mb(pid), threads(pid)
        started = time.monotonic()
        rendered, refused = asyncio.run(_flood(url, "/?join=WRONG"))
        flood_s = time.monotonic() - started
        peak_mb, peak_threads = rss_mb(pid), threads(pid)
        settled_s = _settle(url, pid, base_threads)
        after_mb, after_threads, left = rss_mb(pid), threads(pid), kernels(url)
        assert _get(f"{url}?join=WRONG") == 200  # the server still answers
    print(f"\n{SESSIONS} page loads with a wrong code: {base_mb:.0f} -> {gated_mb:.0f} MB, "
          f"threads {base_threads} -> {gated_threads}")
    print(f"{SESSIONS} websocket sessions without a ticket, {AT_ONCE} at a time, in "
          f"{flood_s:.0f} s: {rendered} drawn, {refused} refused (403); peak {peak_mb:.0f} MB, "
          f"{peak_threads} threads; {settled_s:.0f} s later {after_mb:.0f} MB "
          f"(+{after_mb - base_mb:.0f}), {after_threads} threads, {left} sessions kept")
    assert codes == [200] * SESSIONS and wrong_ticket is None
    assert "opens nothing" in gate and "solara" not in gate.lower()  # no app, no session
    assert gated_mb - base_mb < 10 and gated_threads <= base_threads + 2
    assert rendered + refused == SESSIONS
    # no more than a few strangers at once: each batch of thirty draws at most that many
    assert rendered <= STRANGERS * (SESSIONS // AT_ONCE), f"{rendered} sessions were drawn"
    assert joined is True, "the page with the join code and its ticket was not drawn"
    assert after_mb - base_mb < GROWTH_MB
    assert after_threads <= base_threads + 2 and left == 0


DROPPED = 200
ADVANCE_LIMIT_S = 2.0
"""Most seconds from Advance until the facilitator's and a live team's page show the new
month, with a crowd of dropped pages of another team kept by the server."""
DROPPED_MB = 150
"""Most the server's memory may grow for those dropped pages: a kept one holds about 1 MB,
and those closed leave some behind (100 MB measured; 211 MB when all 200 were kept)."""


def _advance(facilitator: Any, team: Any, target: str) -> tuple[float, float]:
    """Press Advance; seconds until the facilitator's and the team's page show ``target``."""
    from tests.viz.test_workshop_load import ADVANCE, WATCH

    for pg in (facilitator, team):
        pg.evaluate(WATCH, target)
    t0 = facilitator.evaluate(ADVANCE)
    deadline = time.monotonic() + 30
    seen: list[float | None] = [None, None]
    while time.monotonic() < deadline and None in seen:
        seen = [pg.evaluate("window.__seen") for pg in (facilitator, team)]
        time.sleep(0.05)
    assert None not in seen, f"a page never showed {target}"
    return (float(seen[0]) - t0) / 1000, (float(seen[1]) - t0) / 1000  # type: ignore[arg-type]


def test_an_advance_with_two_hundred_dropped_team_pages_reaches_the_live_pages_soon(
        tmp_path: Path) -> None:
    """A team's page opened and dropped 200 times (a laptop that reconnects, or a script with
    the team's link): the server keeps a bounded number of those sessions, so memory and
    threads stay bounded, and the facilitator's and another team's page see an Advance soon.
    """
    from concurrent.futures import ThreadPoolExecutor

    from playwright.sync_api import sync_playwright

    from simulation.viz.server import KEPT, TICKET_COOKIE, TIDY_SECONDS
    from simulation.viz.workshop.session import Config, Workshop
    from tests.viz.browser import CHROMIUM_ARGS, chromium_path

    folder = tmp_path / "log"
    shop = Workshop.create(Config(teams=2, round_months=2), folder)
    dropped, live = shop.join("Dropped").token, shop.join("Live").token
    key = shop.key
    shop.close()
    info: dict[str, int] = {}
    with app_server("--resume", str(folder), "--no-qr", command="workshop", info=info,
                    timeout=60) as (url, _), sync_playwright() as p:
        pid = info["pid"]
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 720})
            context.set_default_timeout(60_000)
            facilitator, team = context.new_page(), context.new_page()
            facilitator.goto(f"{url}?key={key}")
            team.goto(f"{url}?team={live}")
            for pg in (facilitator, team):
                pg.locator(".oi-month").get_by_text("Month 0", exact=True).wait_for()
            calm = _advance(facilitator, team, "Month 2")
            base_mb, base_threads = rss_mb(pid), threads(pid)
            ticket = _ticket(f"{url}?team={dropped}")
            assert ticket is not None
            started = time.monotonic()

            async def crowd() -> int:
                drawn = 0
                for _ in range(0, DROPPED, AT_ONCE):
                    done = await asyncio.gather(*[
                        _session(url, f"/?team={dropped}", f"; {TICKET_COOKIE}={ticket}")
                        for _ in range(min(AT_ONCE, DROPPED - drawn))])
                    drawn += sum(1 for d in done if d)
                return drawn

            with ThreadPoolExecutor(1) as pool:  # (playwright holds this thread's loop)
                drawn = pool.submit(asyncio.run, crowd()).result()
            crowd_s = time.monotonic() - started
            settle = time.monotonic() + SETTLE_S  # the tidy task gives idle threads back
            while time.monotonic() < settle and threads(pid) > base_threads + KEPT + 8:
                time.sleep(1.0)
            time.sleep(TIDY_SECONDS + 1)  # and the closed sessions' memory
            crowd_mb, crowd_threads, kept = rss_mb(pid), threads(pid), kernels(url)
            busy = _advance(facilitator, team, "Month 4")
            after_mb, after_threads = rss_mb(pid), threads(pid)
        finally:
            browser.close()
    print(f"\nAdvance to the facilitator's / a live team's page: {calm[0]:.2f} / {calm[1]:.2f} s "
          f"with no dropped page; {busy[0]:.2f} / {busy[1]:.2f} s with {kept - 2} dropped "
          f"pages of one team kept ({drawn} drawn in {crowd_s:.0f} s)")
    print(f"server: {base_mb:.0f} MB, {base_threads} threads before; {crowd_mb:.0f} MB, "
          f"{crowd_threads} threads with the dropped pages; {after_mb:.0f} MB, {after_threads} "
          f"threads after the Advance")
    assert drawn == DROPPED
    assert max(busy) <= ADVANCE_LIMIT_S
    assert kept <= KEPT + 2, f"{kept} sessions kept"  # (and the two live pages)
    assert crowd_threads <= base_threads + KEPT + 8
    assert crowd_mb - base_mb < DROPPED_MB
