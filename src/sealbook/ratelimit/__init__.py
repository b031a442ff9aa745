"""Request rate limiting: Bitget's per-endpoint table and a GCRA limiter."""

from __future__ import annotations

from sealbook.ratelimit.gcra import Decision, RateLimiter
from sealbook.ratelimit.memory import MemoryRateLimiter
from sealbook.ratelimit.rules import DEFAULT_PRIVATE, DEFAULT_PUBLIC, RULES, Rule, rule_for

__all__ = [
    "DEFAULT_PRIVATE",
    "DEFAULT_PUBLIC",
    "RULES",
    "Decision",
    "MemoryRateLimiter",
    "RateLimiter",
    "Rule",
    "rule_for",
]
