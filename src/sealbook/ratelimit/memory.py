"""In-process limiter for one asyncio event loop: GCRA per bucket, a minute count per IP."""

from __future__ import annotations

import math
from typing import Final

from sealbook.ratelimit.gcra import Decision, GcraParams, allowed_decisions
from sealbook.ratelimit.rules import Rule

__all__ = ["MemoryRateLimiter"]

IP_WINDOW_S: Final = 60.0
# A table is swept when it grows past max(floor, 2 x its size after the last sweep), so
# each sweep is paid for by at least as many insertions as it scans.
_SWEEP_FLOOR: Final = 4096
# One table serves every IP, so it can cover the whole default budget of 6,000.
_CACHED_IP_DECISIONS: Final = 8192


class _Window:
    __slots__ = ("end", "used")

    def __init__(self, end: float) -> None:
        self.end = end
        self.used = 1


class MemoryRateLimiter:
    """Per-bucket GCRA (one float TAT each) plus the overall per-IP budget.

    ``now`` is the caller's monotonic time in seconds; the limiter never reads a clock.
    ``factor`` scales every rate and burst, and the per-IP total.

    The per-IP total counts calls in a minute that starts at the IP's first call; the
    call past ``ip_total_per_minute`` refuses the IP for ``penalty_s`` seconds (refusals
    meanwhile do not extend it), after which the IP starts a fresh minute. A count, not
    a GCRA, because Bitget states the limit as a count: with a GCRA of 100/s and a burst
    of 6,000, a client at 150/s would get 9,000 calls through its first minute.

    Not thread-safe; it needs no locks on a single event loop.
    """

    __slots__ = (
        "_compiled",
        "_factor",
        "_ip_allowed",
        "_ip_limit",
        "_ip_sweep_at",
        "_ip_windows",
        "_penalties",
        "_penalty_s",
        "_penalty_sweep_at",
        "_sweep_at",
        "_tats",
    )

    def __init__(
        self,
        factor: float = 1.0,
        ip_total_per_minute: int = 6000,
        penalty_s: float = 300.0,
    ) -> None:
        if not (math.isfinite(factor) and factor > 0):
            raise ValueError(f"factor must be finite and > 0, got {factor}")
        if ip_total_per_minute < 1:
            raise ValueError(f"ip_total_per_minute must be >= 1, got {ip_total_per_minute}")
        if not (math.isfinite(penalty_s) and penalty_s >= 0):
            raise ValueError(f"penalty_s must be finite and >= 0, got {penalty_s}")
        self._factor = factor
        self._ip_limit = max(1, round(ip_total_per_minute * factor))
        self._ip_allowed = allowed_decisions(min(self._ip_limit, _CACHED_IP_DECISIONS))
        self._penalty_s = penalty_s
        self._compiled: dict[str, tuple[Rule, GcraParams]] = {}
        self._tats: dict[str, float] = {}
        self._ip_windows: dict[str, _Window] = {}
        self._penalties: dict[str, float] = {}
        self._sweep_at = _SWEEP_FLOOR
        self._ip_sweep_at = _SWEEP_FLOOR
        self._penalty_sweep_at = _SWEEP_FLOOR

    @property
    def tracked(self) -> int:
        """Entries held in memory: buckets, IP minutes and penalties."""
        return len(self._tats) + len(self._ip_windows) + len(self._penalties)

    def hit(self, bucket: str, rule: Rule, now: float) -> Decision:
        entry = self._compiled.get(rule.name)
        if entry is None or (entry[0] is not rule and entry[0] != rule):
            entry = (rule, GcraParams.for_rule(rule, self._factor))
            self._compiled[rule.name] = entry
        p = entry[1]
        tats = self._tats
        tat = tats.get(bucket, now)
        new_tat = (tat if tat > now else now) + p.interval
        ahead = new_tat - now
        if ahead > p.limit:
            return Decision(False, 0, ahead - p.tolerance)
        tats[bucket] = new_tat
        if len(tats) > self._sweep_at:
            self._tats = live = {k: t for k, t in tats.items() if t > now}
            self._sweep_at = max(_SWEEP_FLOOR, 2 * len(live))
        remaining = int((p.limit - ahead) * p.rate)
        allowed = p.allowed
        return allowed[remaining] if remaining < len(allowed) else Decision(True, remaining, 0.0)

    def hit_ip_total(self, ip: str, now: float) -> Decision:
        penalties = self._penalties
        if penalties:
            until = penalties.get(ip)
            if until is not None:
                if now < until:
                    return Decision(False, 0, until - now)
                del penalties[ip]
        windows = self._ip_windows
        w = windows.get(ip)
        if w is None:
            windows[ip] = _Window(now + IP_WINDOW_S)
            if len(windows) > self._ip_sweep_at:
                self._ip_windows = live = {k: v for k, v in windows.items() if v.end > now}
                self._ip_sweep_at = max(_SWEEP_FLOOR, 2 * len(live))
            remaining = self._ip_limit - 1
        elif now >= w.end:
            w.end = now + IP_WINDOW_S
            w.used = 1
            remaining = self._ip_limit - 1
        elif w.used < self._ip_limit:
            w.used += 1
            remaining = self._ip_limit - w.used
        else:
            return self._refuse_ip(ip, w, now)
        allowed = self._ip_allowed
        return allowed[remaining] if remaining < len(allowed) else Decision(True, remaining, 0.0)

    def _refuse_ip(self, ip: str, w: _Window, now: float) -> Decision:
        if self._penalty_s == 0.0:
            return Decision(False, 0, w.end - now)
        del self._ip_windows[ip]
        penalties = self._penalties
        penalties[ip] = now + self._penalty_s
        if len(penalties) > self._penalty_sweep_at:
            self._penalties = live = {k: t for k, t in penalties.items() if t > now}
            self._penalty_sweep_at = max(_SWEEP_FLOOR, 2 * len(live))
        return Decision(False, 0, self._penalty_s)
