"""Injected clocks. Nothing in Sealbook reads ``time.time()`` directly.

The engine, the limiter, the replay guard and TOTP all take a :class:`Clock`, so tests
and replays are deterministic (DESIGN.md "Time is injected").
"""

from __future__ import annotations

import time
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock"]


class Clock(Protocol):
    def now_ms(self) -> int:
        """Wall-clock milliseconds since the Unix epoch."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin that never goes backwards."""


class SystemClock:
    __slots__ = ()

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock that only moves when a test moves it."""

    __slots__ = ("_mono", "_ms")

    def __init__(self, now_ms: int = 1_800_000_000_000) -> None:
        self._ms = now_ms
        self._mono = 1000.0

    def now_ms(self) -> int:
        return self._ms

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._ms += round(seconds * 1000)
        self._mono += seconds

    def set_ms(self, now_ms: int) -> None:
        self._ms = now_ms
