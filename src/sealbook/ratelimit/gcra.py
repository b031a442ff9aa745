"""GCRA (generic cell rate algorithm) parameters, the decision type and the limiter interface.

A bucket holds one number, its theoretical arrival time (TAT). A call at ``now`` moves
the TAT to ``max(TAT, now) + interval`` and is admitted when the new TAT is at most
``burst * interval`` ahead of ``now``; a refused call leaves the TAT alone. So ``burst``
calls pass at once, then one per ``interval``, and any window of length ``T`` admits at
most ``burst + T / interval`` calls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Protocol

from sealbook.ratelimit.rules import Rule

__all__ = ["Decision", "GcraParams", "RateLimiter", "allowed_decisions"]

# Float TATs built by repeated addition drift by a few ulps; without this slack (a
# thousandth of a cell) the last call of an exact burst could be refused.
SLACK_CELLS: Final = 1e-3
# Allowed decisions are shared, immutable objects for remaining counts below this
# bound, so the common path allocates nothing (building a frozen dataclass costs more
# than the whole GCRA step).
_CACHED_DECISIONS: Final = 1024


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    remaining: int
    """Calls left in the current burst (the ``x-mbx-used-remain-limit`` header)."""
    retry_after_s: float
    """Seconds until the call would be admitted; 0.0 when allowed."""


class RateLimiter(Protocol):
    def hit(self, bucket: str, rule: Rule, now: float) -> Decision:
        """Count one call against ``bucket`` under ``rule`` at monotonic time ``now``."""
        ...

    def hit_ip_total(self, ip: str, now: float) -> Decision:
        """Count one call against the IP's overall budget (6,000/min, then a penalty)."""
        ...


def allowed_decisions(n: int) -> tuple[Decision, ...]:
    """``Decision(True, r, 0.0)`` for ``r`` in ``range(n)``, indexable by ``r``."""
    return tuple(Decision(True, r, 0.0) for r in range(n))


@dataclass(frozen=True, slots=True)
class GcraParams:
    interval: float
    """Seconds per call at the sustained rate."""
    rate: float
    """Calls per second (``1 / interval``)."""
    burst: int
    tolerance: float
    """How far ahead of ``now`` the TAT may be: ``burst * interval``."""
    limit: float
    """``tolerance`` plus the float slack: the admission bound."""
    allowed: tuple[Decision, ...]
    """``allowed[r]`` is the allowed decision with ``remaining == r``."""

    @classmethod
    def of(cls, per_second: float, burst: float, factor: float = 1.0) -> GcraParams:
        """Parameters for ``per_second`` and ``burst``, both scaled by ``factor``."""
        rate = per_second * factor
        if not (math.isfinite(rate) and rate > 0):
            raise ValueError(f"rate must be finite and > 0, got {rate}")
        scaled_burst = max(1, round(burst * factor))
        interval = 1.0 / rate
        tolerance = scaled_burst * interval
        return cls(
            interval=interval,
            rate=rate,
            burst=scaled_burst,
            tolerance=tolerance,
            limit=tolerance + SLACK_CELLS * interval,
            allowed=allowed_decisions(min(scaled_burst, _CACHED_DECISIONS)),
        )

    @classmethod
    def for_rule(cls, rule: Rule, factor: float = 1.0) -> GcraParams:
        return cls.of(rule.per_second, rule.burst, factor)
