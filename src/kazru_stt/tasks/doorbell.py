"""Wake-ups for the embedded queue: whoever puts a message on the SQLite queue rings every
worker waiting on that queue's file, so an idle worker needs no fast polling to start a job
at once. Each waiting worker holds a Linux abstract Unix datagram socket named after the
queue's file (no file to clean up; it vanishes with the process); the publisher finds them
in /proc/net/unix and sends each a byte. A datagram already waiting is enough, so a full
socket is left as it is. Where there are no abstract sockets (not Linux) or the publisher
cannot see the worker's (another network namespace, e.g. another container), the worker's
slow poll still finds the message."""

from __future__ import annotations

import hashlib
import itertools
import os
import select
import socket
import sys
from pathlib import Path

_PREFIX = "kazru-queue-"
_numbers = itertools.count()  # several waiting channels in one process each get a socket


def supported() -> bool:
    return sys.platform.startswith("linux")


def _stem(db_path: str) -> str:
    digest = hashlib.sha1(os.path.realpath(db_path).encode(), usedforsecurity=False)
    return f"{_PREFIX}{digest.hexdigest()[:16]}-"


class Doorbell:
    """A worker's end: `wait` returns early, and True, once someone has rung."""

    def __init__(self, db_path: str):
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.setblocking(False)
        self._sock.bind(f"\0{_stem(db_path)}{os.getpid()}-{next(_numbers)}")

    def wait(self, seconds: float) -> bool:
        ready, _, _ = select.select([self._sock], [], [], max(0.0, seconds))
        if not ready:
            return False
        while True:  # one poll answers every ring so far
            try:
                self._sock.recv(16)
            except BlockingIOError:
                return True

    def close(self) -> None:
        self._sock.close()


def ring(db_path: str) -> int:
    """Wake every worker waiting on the queue in `db_path`; how many were rung."""
    if not supported():
        return 0
    try:
        table = Path("/proc/net/unix").read_text()
    except OSError:
        return 0
    wanted = "@" + _stem(db_path)
    rung = 0
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        for line in table.splitlines()[1:]:
            name = line.rsplit(None, 1)[-1]
            if not name.startswith(wanted):
                continue
            try:
                sock.sendto(b"!", "\0" + name[1:])
                rung += 1
            except OSError:  # full (rung already) or gone meanwhile
                pass
    return rung
