"""Run ``outsidein`` with every network access beyond this machine recorded, for the tests.

``python -m tests.viz.netguard ARGS`` is ``outsidein ARGS`` with a Python audit hook that
writes one line to the file named by ``$OUTSIDEIN_NETGUARD_LOG`` for every name lookup,
connection or datagram aimed anywhere but the loopback interface. The app's tests start the
server this way and fail if the file is not empty: an attempt counts, even one that a
machine without a network refuses at once.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Any

LOG_ENV = "OUTSIDEIN_NETGUARD_LOG"
"""Environment variable naming the file the attempts are written to."""


def is_loopback(host: Any) -> bool:
    """Whether a host (name or address, text or bytes) is this machine's loopback."""
    if host is None:
        return True
    text = host.decode(errors="replace") if isinstance(host, bytes) else str(host)
    return text in ("", "localhost", "::1", "0.0.0.0", "::") or text.startswith("127.")


def install(log_path: str) -> None:
    """Record every network access beyond loopback to ``log_path`` from now on."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def record(what: str) -> None:
        os.write(fd, (what + "\n").encode())

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "socket.getaddrinfo" and not is_loopback(args[0]):
            record(f"name lookup: {args[0]!r}")
        elif event in ("socket.connect", "socket.sendto"):
            sock, address = args[0], args[-1]
            inet = getattr(sock, "family", None) in (socket.AF_INET, socket.AF_INET6)
            if inet and isinstance(address, tuple) and not is_loopback(address[0]):
                record(f"{event}: {address!r}")

    sys.addaudithook(hook)


def main() -> int:
    """Install the guard, then run the CLI with this process's arguments."""
    install(os.environ[LOG_ENV])
    from simulation.cli import main as cli

    return cli(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
