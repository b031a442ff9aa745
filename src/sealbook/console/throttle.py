"""Sign-in throttling: failures counted per client IP and per account name.

A sliding window of failure times per subject. Once a subject has ``limit`` failures in
the window, further attempts are refused *before* the password is checked, so a guesser
gets neither an answer nor Argon2 work out of the server. Per name stops guessing one
account from many addresses; per IP stops one address from trying many accounts. Held in
memory: a restart forgives, which costs an attacker a restart they cannot cause.
"""

from __future__ import annotations

import math
import threading
from collections import deque

from sealbook.clock import Clock

__all__ = ["SIGNUPS_PER_IP", "SIGNUP_WINDOW_S", "SigninThrottle"]

NAME_LIMIT = 5
IP_LIMIT = 20
WINDOW_S = 900.0
# New accounts one address may open (successful sign-ups count): each is an Argon2 hash
# and a row, and a flood of throwaway accounts is how key-spraying starts.
SIGNUPS_PER_IP = 10
SIGNUP_WINDOW_S = 3600.0
# Bounds memory under a flood of distinct names or addresses.
MAX_SUBJECTS = 50_000


class SigninThrottle:
    def __init__(
        self,
        clock: Clock,
        *,
        name_limit: int = NAME_LIMIT,
        ip_limit: int = IP_LIMIT,
        window_s: float = WINDOW_S,
    ) -> None:
        self._clock = clock
        self._limits = {"name": name_limit, "ip": ip_limit}
        self._window_s = window_s
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after_s(self, name: str | None, ip: str) -> int:
        """0 when an attempt may go ahead; otherwise whole seconds until one may.
        ``name`` None: only the address counts (sign-up)."""
        now = self._clock.monotonic()
        wait = 0.0
        with self._lock:
            for subject in _subjects(name, ip):
                times = self._recent(subject, now)
                limit = self._limits[subject[0]]
                if times is not None and len(times) >= limit:
                    wait = max(wait, times[len(times) - limit] + self._window_s - now)
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, name: str | None, ip: str) -> None:
        """Count one attempt against ``ip`` (and ``name`` when given)."""
        now = self._clock.monotonic()
        with self._lock:
            if len(self._failures) >= MAX_SUBJECTS:
                self._prune(now)
            for subject in _subjects(name, ip):
                self._failures.setdefault(subject, deque()).append(now)

    counted = failed  # for a throttle of every attempt, not only failures (sign-ups)

    def succeeded(self, name: str) -> None:
        """A correct password clears the name's count (not the address's)."""
        with self._lock:
            self._failures.pop(("name", name.lower()), None)

    def _recent(self, subject: tuple[str, str], now: float) -> deque[float] | None:
        times = self._failures.get(subject)
        if times is None:
            return None
        while times and times[0] <= now - self._window_s:
            times.popleft()
        if not times:
            del self._failures[subject]
            return None
        return times

    def _prune(self, now: float) -> None:
        for subject in list(self._failures):
            self._recent(subject, now)
        if len(self._failures) >= MAX_SUBJECTS:
            self._failures.clear()  # a flood of fresh subjects: forget rather than grow


def _subjects(name: str | None, ip: str) -> list[tuple[str, str]]:
    subjects = [("ip", ip)]
    if name is not None:
        subjects.append(("name", name.lower()))
    return subjects
