"""The server's admission: a websocket without a ticket is a stranger, and few are served.

A ticket is what a page load the gate let in carries back (a cookie); these tests drive
:class:`~simulation.viz.server.Admission` with a stand-in websocket, so they need no server.
"""

from __future__ import annotations

import asyncio
from typing import Any

from simulation.viz.server import TICKET_COOKIE, Admission


class Kernels:
    """Sessions as the admission sees them: which exist, which have a page connected."""

    def __init__(self) -> None:
        self.alive_ids: set[str] = set()
        self.connected_ids: set[str] = set()
        self.closed: list[str] = []

    def alive(self, kernel_id: str) -> bool:
        return kernel_id in self.alive_ids

    def connected(self, kernel_id: str) -> bool:
        return kernel_id in self.connected_ids

    def close(self, kernel_id: str) -> None:
        self.alive_ids.discard(kernel_id)
        self.closed.append(kernel_id)


class Socket:
    """As much of a starlette websocket as the admission reads: its cookies and a close."""

    def __init__(self, ticket: str | None = None, kernel: str = "k") -> None:
        self.cookies = {} if ticket is None else {TICKET_COOKIE: ticket}
        self.path_params = {"kernel_id": kernel}
        self.closed: int | None = None

    async def close(self, code: int = 1000) -> None:
        self.closed = code


def test_a_ticket_is_valid_only_as_this_process_issued_it() -> None:
    door, other = Admission(), Admission()
    ticket = door.issue()
    name, _, mac = ticket.partition(".")
    assert door.valid(ticket) and not other.valid(ticket)
    assert door.issue() != ticket  # each page load its own
    flipped = mac[:-1] + ("0" if mac[-1] != "0" else "1")
    for bad in (None, "", name, f"{name}.", f"{name}.{flipped}", f"x{ticket}",
                f"{name}.{mac}é", "é.é", f".{mac}"):
        assert not door.valid(bad), bad


def test_strangers_beyond_the_limit_are_refused_before_solara_sees_them() -> None:
    sessions = Kernels()
    kernels = sessions.alive_ids
    door = Admission(sessions, strangers=2)
    served: list[Any] = []
    release = asyncio.Event()

    async def endpoint(ws: Any) -> None:  # solara's websocket endpoint, held open
        served.append(ws)
        kernels.add(ws.path_params["kernel_id"])
        await release.wait()

    async def scene() -> tuple[list[Socket], Socket, list[Socket], list[int]]:
        strangers = [Socket(kernel=f"k{i}") for i in range(5)]
        guest = Socket(door.issue(), kernel="guest")
        tasks = [asyncio.create_task(door.serve(ws, endpoint)) for ws in [*strangers, guest]]
        await asyncio.sleep(0.05)
        held = [door.open_strangers, len(served)]
        release.set()
        await asyncio.gather(*tasks)
        late = [Socket(kernel="late")]
        await door.serve(late[0], endpoint)  # the sockets closed, their kernels are not gone
        kernels.clear()  # solara culled them
        await asyncio.sleep(0.6)
        held.append(door.open_strangers)
        late.append(Socket(kernel="later"))
        await door.serve(late[1], endpoint)
        return strangers, guest, late, held

    strangers, guest, late, held = asyncio.run(scene())
    assert held == [2, 3, 0]
    assert [ws.closed for ws in strangers] == [None, None, 1008, 1008, 1008]
    assert guest in served and guest.closed is None  # a ticket is always served
    assert late[0].closed == 1008  # a stranger's place is held until its kernel is gone
    assert late[1] in served and late[1].closed is None  # then it is free again
    assert door.refused == 4


def test_a_forged_ticket_is_a_stranger() -> None:
    door = Admission(Kernels(), strangers=0)

    async def endpoint(ws: Any) -> None:
        raise AssertionError("solara was handed a websocket with a forged ticket")

    ws = Socket(f"forged.{'0' * 32}")
    asyncio.run(door.serve(ws, endpoint))
    assert ws.closed == 1008 and door.refused == 1


def test_dropped_sessions_beyond_the_limit_are_closed_oldest_first() -> None:
    sessions = Kernels()
    door = Admission(sessions, kept=3)
    ticket = door.issue()

    async def endpoint(ws: Any) -> None:  # a page drawn, then its websocket closes
        sessions.alive_ids.add(ws.path_params["kernel_id"])

    async def scene() -> None:
        sessions.alive_ids.add("back")  # a page that came back to its session
        sessions.connected_ids.add("back")
        await door.serve(Socket(ticket, kernel="back"), endpoint)
        for i in range(6):
            await door.serve(Socket(ticket, kernel=f"k{i}"), endpoint)
        sessions.alive_ids.discard("k4")  # solara culled one itself
        await door.serve(Socket(ticket, kernel="k6"), endpoint)

    asyncio.run(scene())
    assert sessions.closed == ["k0", "k1", "k2"]  # the page that came back is never closed
    assert sessions.alive_ids == {"back", "k3", "k5", "k6"} and door.closed == 3
