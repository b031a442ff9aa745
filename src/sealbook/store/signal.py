"""A shared counter bumped after every key change, so running servers drop stale keys at once.

The database row ``key_revision`` is the truth; this counter only says "look now". It is
an 8-byte file under the home directory that every server maps into memory: reading it
on each request costs a memory load, not a system call. Writers bump it with ``pwrite``
after their transaction commits; the page cache makes the new value visible to every
mapping on the machine immediately. Servers on other machines rely on the database
revision, read once a second.
"""

from __future__ import annotations

import mmap
import os
import struct
from pathlib import Path

__all__ = ["SignalWatcher", "touch_signal"]

_COUNTER = struct.Struct("<Q")


def _open(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    if os.fstat(fd).st_size < _COUNTER.size:
        os.ftruncate(fd, _COUNTER.size)
    return fd


def touch_signal(path: Path) -> None:
    fd = _open(path)
    try:
        (value,) = _COUNTER.unpack(os.pread(fd, _COUNTER.size, 0))
        os.pwrite(fd, _COUNTER.pack((value + 1) & 0xFFFF_FFFF_FFFF_FFFF), 0)
    finally:
        os.close(fd)


class SignalWatcher:
    __slots__ = ("_last", "_map")

    def __init__(self, path: Path) -> None:
        fd = _open(path)
        try:
            self._map = mmap.mmap(fd, _COUNTER.size, mmap.MAP_SHARED, mmap.PROT_READ)
        finally:
            os.close(fd)
        self._last = self._read()

    def _read(self) -> int:
        value: int = _COUNTER.unpack_from(self._map, 0)[0]
        return value

    def moved(self) -> bool:
        value = self._read()
        if value != self._last:
            self._last = value
            return True
        return False

    def close(self) -> None:
        self._map.close()
