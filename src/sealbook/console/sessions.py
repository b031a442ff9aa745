"""Console sessions, held in the server's memory and found by a hash of their token.

The cookie carries 256 random bits; the store keeps only their SHA-256, so a dump of the
process's session table cannot be replayed as cookies. A session ends after
``idle_s`` without a request, after ``max_s`` in any case, or on sign-out. Sessions do
not survive a restart: people sign in again, which is the safe failure.

Each session also has a CSRF token (compared in constant time) and a one-time *reveal
slot*: a secret made by a POST waits there for the one GET that shows it, and is gone
the moment it is taken.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from sealbook.clock import Clock

__all__ = ["Reveal", "Session", "SessionStore", "same_token"]

TOKEN_BYTES = 32
# Far more than any honest use; bounds the memory a flood of sign-ins can take.
MAX_SESSIONS = 10_000


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def same_token(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a CSRF token."""
    if not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


@dataclass(slots=True)
class Reveal:
    """Something to show exactly once: what it is and the values the page needs."""

    kind: str
    values: dict[str, Any] = field(repr=False)

    def __repr__(self) -> str:
        return f"Reveal({self.kind}, <redacted>)"


@dataclass(slots=True)
class Session:
    user_id: int
    user_name: str
    csrf: str = field(repr=False)
    created_s: float
    seen_s: float
    reveal: Reveal | None = field(default=None, repr=False)
    flash: list[str] = field(default_factory=list)

    def take_reveal(self, kind: str) -> Reveal | None:
        """The waiting reveal of this kind, removed from the session as it is returned."""
        reveal = self.reveal
        if reveal is None or reveal.kind != kind:
            return None
        self.reveal = None
        return reveal

    def take_flash(self) -> list[str]:
        messages, self.flash = self.flash, []
        return messages


class SessionStore:
    def __init__(self, clock: Clock, *, idle_s: float, max_s: float) -> None:
        self._clock = clock
        self._idle_s = idle_s
        self._max_s = max_s
        self._by_digest: dict[bytes, Session] = {}
        # Handlers run in worker threads as well as on the event loop.
        self._lock = threading.Lock()

    def open(self, user_id: int, user_name: str) -> tuple[str, Session]:
        """A new session; returns the cookie token (never stored) and the session."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = self._clock.monotonic()
        session = Session(user_id, user_name, secrets.token_urlsafe(TOKEN_BYTES), now, now)
        with self._lock:
            self._expire(now)
            if len(self._by_digest) >= MAX_SESSIONS:
                oldest = min(self._by_digest, key=lambda d: self._by_digest[d].seen_s)
                del self._by_digest[oldest]
            self._by_digest[_digest(token)] = session
        return token, session

    def get(self, token: str | None) -> Session | None:
        """The live session for a cookie token (its idle clock restarts), or None."""
        if not token or len(token) > 128:
            return None
        now = self._clock.monotonic()
        digest = _digest(token)
        with self._lock:
            session = self._by_digest.get(digest)
            if session is None:
                return None
            if now - session.seen_s > self._idle_s or now - session.created_s > self._max_s:
                del self._by_digest[digest]
                return None
            session.seen_s = now
            return session

    def close(self, token: str | None) -> None:
        if token:
            with self._lock:
                self._by_digest.pop(_digest(token), None)

    def __len__(self) -> int:
        return len(self._by_digest)

    def _expire(self, now: float) -> None:
        dead = [
            d
            for d, s in self._by_digest.items()
            if now - s.seen_s > self._idle_s or now - s.created_s > self._max_s
        ]
        for digest in dead:
            del self._by_digest[digest]
