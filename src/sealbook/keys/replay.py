"""Refuse a state-changing request whose exact signature was already accepted.

A signature is only valid inside the timestamp window, so it is remembered for that long
and no longer: memory is bounded by the request rate times the window.
"""

from __future__ import annotations

from collections import deque

__all__ = ["ReplayGuard"]


class ReplayGuard:
    __slots__ = ("_expiry", "_order", "_ttl_ms")

    def __init__(self, ttl_ms: int) -> None:
        # Twice the window: a timestamp up to one window in the future stays valid for two.
        self._ttl_ms = 2 * ttl_ms
        self._expiry: dict[bytes, int] = {}
        self._order: deque[tuple[int, bytes]] = deque()

    def first_use(self, signature: bytes, now_ms: int) -> bool:
        """Record ``signature``; False when it was already seen within the window."""
        order = self._order
        while order and order[0][0] <= now_ms:
            expires, old = order.popleft()
            if self._expiry.get(old) == expires:
                del self._expiry[old]
        if signature in self._expiry:
            return False
        expires = now_ms + self._ttl_ms
        self._expiry[signature] = expires
        order.append((expires, signature))
        return True

    def __len__(self) -> int:
        return len(self._expiry)
