"""Backing off: on HTTP 429 and on network errors, wait (longer each time) and try again.

A bot runs for weeks; a server restart or a rate limit is weather, not a reason to stop.
The wait doubles from ``base_s`` up to ``cap_s`` and resets after a success.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import ccxt

from sealbook.client.bots.events import Events

__all__ = ["RETRYABLE", "Backoff", "Stopped"]

T = TypeVar("T")

# DDoSProtection (HTTP 429) and RequestTimeout are NetworkErrors in ccxt; InvalidNonce is
# what a just-restarted server answers to a request signed before it started.
RETRYABLE: tuple[type[Exception], ...] = (
    ccxt.NetworkError,
    ccxt.RateLimitExceeded,
    ccxt.InvalidNonce,
)


class Stopped(Exception):
    """The bot was asked to stop while it waited."""


def pause(should_stop: Callable[[], bool], interval_s: float) -> None:
    """Wait ``interval_s`` between two ticks, waking early when asked to stop."""
    end = time.monotonic() + interval_s
    while not should_stop() and time.monotonic() < end:
        time.sleep(min(0.05, interval_s))


class Backoff:
    def __init__(
        self,
        events: Events,
        *,
        base_s: float = 0.25,
        cap_s: float = 15.0,
        should_stop: Callable[[], bool] = lambda: False,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.events = events
        self.base_s = base_s
        self.cap_s = cap_s
        self.should_stop = should_stop
        self._sleep = sleep
        self.failures = 0

    def wait(self, what: str, error: Exception) -> None:
        """Sleep after a retryable failure (in small steps, so a stop is noticed)."""
        delay = min(self.cap_s, self.base_s * 2**self.failures)
        self.failures += 1
        kind = "rate_limited" if isinstance(error, ccxt.DDoSProtection) else "network"
        self.events.emit("backoff", what=what, reason=kind, error=type(error).__name__,
                         wait_s=round(delay, 2))
        end = time.monotonic() + delay
        while (left := end - time.monotonic()) > 0:
            if self.should_stop():
                raise Stopped
            self._sleep(min(left, 0.2))

    def ok(self) -> None:
        self.failures = 0

    def call(self, what: str, fn: Callable[[], T]) -> T:
        """``fn()``, retried until it answers (or the bot stops)."""
        while True:
            if self.should_stop():
                raise Stopped
            try:
                result = fn()
            except RETRYABLE as error:
                self.wait(what, error)
                continue
            self.ok()
            return result
