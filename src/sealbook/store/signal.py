"""A file touched after every key change so that running servers drop stale keys at once.

The database row ``key_revision`` is the truth; this file only says "look now". A server
checks the file's stat on each request (no read, no lock) and the database revision only
when the file moved, or once a second in any case (for servers on other machines).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["SignalWatcher", "touch_signal"]


def touch_signal(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, b".")  # the size changes even when the mtime resolution is coarse
    finally:
        os.close(fd)
    if path.stat().st_size > 4096:
        os.truncate(path, 0)


class SignalWatcher:
    __slots__ = ("_last", "_path")

    def __init__(self, path: Path) -> None:
        self._path = str(path)
        self._last = self._stamp()

    def _stamp(self) -> tuple[int, int, int]:
        try:
            st = os.stat(self._path)
        except FileNotFoundError:
            return (0, 0, 0)
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def moved(self) -> bool:
        stamp = self._stamp()
        if stamp != self._last:
            self._last = stamp
            return True
        return False
