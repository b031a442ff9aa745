"""MemoryRateLimiter: factor, the per-IP total with its penalty, independence, memory."""

from __future__ import annotations

import math

import pytest

from sealbook.ratelimit import Decision, MemoryRateLimiter, RateLimiter, Rule

PLACE = Rule("spot/trade/place-order", 10, 10, "uid")
TIME = Rule("public/time", 20, 20, "ip")
INFO = Rule("spot/account/info", 1, 1, "uid")


def _burst(limiter: MemoryRateLimiter, bucket: str, rule: Rule, now: float) -> int:
    """Calls admitted at ``now`` until the first refusal."""
    n = 0
    while limiter.hit(bucket, rule, now).allowed:
        n += 1
    return n


def test_implements_the_protocol() -> None:
    limiter: RateLimiter = MemoryRateLimiter()
    assert limiter.hit("b", PLACE, 0.0) == Decision(True, 9, 0.0)
    assert limiter.hit_ip_total("10.0.0.1", 0.0) == Decision(True, 5999, 0.0)


# --- factor ---------------------------------------------------------------------------


def test_factor_ten_gives_ten_times_the_burst_and_rate() -> None:
    limiter = MemoryRateLimiter(factor=10)
    assert _burst(limiter, "b", PLACE, 0.0) == 100
    refused = limiter.hit("b", PLACE, 0.0)
    assert refused.retry_after_s == pytest.approx(0.01, abs=1e-12)
    # 0.1 s later ten cells of 0.01 s are back.
    assert _burst(limiter, "b", PLACE, 0.1) == 10


def test_fractional_factor_shrinks_limits() -> None:
    limiter = MemoryRateLimiter(factor=0.5)
    assert _burst(limiter, "b", PLACE, 0.0) == 5
    assert limiter.hit("b", PLACE, 0.0).retry_after_s == pytest.approx(0.2, abs=1e-12)


def test_tiny_factor_keeps_at_least_one_call() -> None:
    limiter = MemoryRateLimiter(factor=0.01)
    assert _burst(limiter, "b", INFO, 0.0) == 1
    assert limiter.hit("b", INFO, 0.0).retry_after_s == pytest.approx(100.0, abs=1e-9)


def test_factor_scales_the_ip_total() -> None:
    limiter = MemoryRateLimiter(factor=2)
    decisions = [limiter.hit_ip_total("ip", 0.0) for _ in range(12_000)]
    assert all(d.allowed for d in decisions)
    assert decisions[-1].remaining == 0
    assert not limiter.hit_ip_total("ip", 0.0).allowed


@pytest.mark.parametrize("factor", [0.0, -1.0, math.nan, math.inf, -math.inf])
def test_bad_factor_rejected(factor: float) -> None:
    with pytest.raises(ValueError, match="factor"):
        MemoryRateLimiter(factor=factor)


def test_bad_ip_total_and_penalty_rejected() -> None:
    with pytest.raises(ValueError, match="ip_total_per_minute"):
        MemoryRateLimiter(ip_total_per_minute=0)
    with pytest.raises(ValueError, match="penalty_s"):
        MemoryRateLimiter(penalty_s=-1.0)
    with pytest.raises(ValueError, match="penalty_s"):
        MemoryRateLimiter(penalty_s=math.nan)


# --- per-IP total ---------------------------------------------------------------------


def test_ip_total_6000_pass_then_refused_for_five_minutes() -> None:
    limiter = MemoryRateLimiter()
    t0 = 5000.0
    decisions = [limiter.hit_ip_total("1.2.3.4", t0) for _ in range(6000)]
    assert all(d.allowed for d in decisions)
    assert [d.remaining for d in decisions[:3]] == [5999, 5998, 5997]
    assert decisions[-1] == Decision(True, 0, 0.0)

    assert limiter.hit_ip_total("1.2.3.4", t0) == Decision(False, 0, 300.0)

    # Long after the minute has passed, the penalty still holds.
    later = limiter.hit_ip_total("1.2.3.4", t0 + 240.0)
    assert not later.allowed
    assert later.retry_after_s == pytest.approx(60.0, abs=1e-9)
    assert not limiter.hit_ip_total("1.2.3.4", t0 + 299.999).allowed

    # Refusals during the penalty do not extend it; the IP returns with a fresh minute.
    after = [limiter.hit_ip_total("1.2.3.4", t0 + 300.0) for _ in range(6000)]
    assert all(d.allowed for d in after)
    assert after[0].remaining == 5999
    assert not limiter.hit_ip_total("1.2.3.4", t0 + 300.0).allowed


def test_ip_total_counts_calls_spread_over_the_minute() -> None:
    limiter = MemoryRateLimiter()
    # 6000 calls spread over 59.98 s of the minute that began with the first of them.
    assert all(limiter.hit_ip_total("ip", 10.0 + k / 100).allowed for k in range(5999))
    assert limiter.hit_ip_total("ip", 69.98) == Decision(True, 0, 0.0)
    refused = limiter.hit_ip_total("ip", 69.99)
    assert refused == Decision(False, 0, 300.0)


def test_ip_total_minute_restarts_after_sixty_seconds() -> None:
    limiter = MemoryRateLimiter()
    assert all(limiter.hit_ip_total("ip", 0.0).allowed for _ in range(6000))
    # The next minute starts at the first call at or after t = 60.
    assert all(limiter.hit_ip_total("ip", 60.0).allowed for _ in range(6000))
    assert all(limiter.hit_ip_total("ip", 150.0).allowed for _ in range(6000))
    assert not limiter.hit_ip_total("ip", 150.0).allowed


def test_ip_total_steady_client_below_the_limit_is_never_refused() -> None:
    limiter = MemoryRateLimiter()
    # 99 calls a second for three minutes.
    assert all(limiter.hit_ip_total("ip", 100.0 + k / 99).allowed for k in range(99 * 180))


def test_ip_total_penalty_does_not_touch_other_ips_or_endpoint_buckets() -> None:
    limiter = MemoryRateLimiter(ip_total_per_minute=5)
    for _ in range(5):
        limiter.hit_ip_total("bad", 0.0)
    assert not limiter.hit_ip_total("bad", 0.0).allowed
    assert limiter.hit_ip_total("good", 0.0) == Decision(True, 4, 0.0)
    assert limiter.hit("public/time|bad", TIME, 0.0).allowed


def test_zero_penalty_refuses_only_until_the_minute_ends() -> None:
    limiter = MemoryRateLimiter(ip_total_per_minute=60, penalty_s=0.0)
    for _ in range(60):
        assert limiter.hit_ip_total("ip", 0.0).allowed
    refused = limiter.hit_ip_total("ip", 15.0)
    assert refused == Decision(False, 0, 45.0)
    assert not limiter.hit_ip_total("ip", 59.9).allowed
    assert limiter.hit_ip_total("ip", 60.0) == Decision(True, 59, 0.0)


# --- independence ---------------------------------------------------------------------


def test_buckets_are_independent() -> None:
    limiter = MemoryRateLimiter()
    assert _burst(limiter, f"{PLACE.name}|uid-1", PLACE, 0.0) == 10
    assert _burst(limiter, f"{PLACE.name}|uid-2", PLACE, 0.0) == 10
    assert _burst(limiter, f"{TIME.name}|uid-1", TIME, 0.0) == 20
    assert not limiter.hit(f"{PLACE.name}|uid-1", PLACE, 0.0).allowed


def test_a_rule_redefined_under_the_same_name_takes_effect() -> None:
    limiter = MemoryRateLimiter()
    assert _burst(limiter, "a", Rule("x", 1, 1, "uid"), 0.0) == 1
    assert _burst(limiter, "b", Rule("x", 5, 5, "uid"), 0.0) == 5
    # An equal but distinct Rule object reuses the compiled parameters.
    assert _burst(limiter, "c", Rule("x", 5, 5, "uid"), 0.0) == 5


# --- memory ---------------------------------------------------------------------------


def test_flood_of_distinct_bucket_keys_stays_bounded() -> None:
    limiter = MemoryRateLimiter()
    now = 1000.0
    peak = 0
    for k in range(100_000):
        now += 0.001
        ip = f"10.{k >> 16}.{(k >> 8) & 255}.{k & 255}"
        assert limiter.hit(f"{TIME.name}|{ip}", TIME, now).allowed
        peak = max(peak, limiter.tracked)
    # Each bucket lives 0.05 s, so ~50 are live at any time; the sweep keeps the table
    # near its floor instead of 100,000 entries.
    assert peak <= 4097
    assert limiter.tracked <= 4097


def test_flood_of_distinct_ips_on_the_total_stays_bounded() -> None:
    limiter = MemoryRateLimiter()
    now = 0.0
    peak = 0
    for k in range(100_000):
        now += 0.01
        assert limiter.hit_ip_total(f"ip-{k}", now).allowed
        peak = max(peak, limiter.tracked)
    # An IP's minute lives 60 s, so about 6,000 of these IPs are live at a time; the
    # table holds at most about twice that, not all 100,000.
    assert peak < 12_100
    assert limiter.tracked < 12_100


def test_penalties_are_swept_once_expired() -> None:
    limiter = MemoryRateLimiter(ip_total_per_minute=1, penalty_s=1.0)
    now = 0.0
    peak = 0
    for k in range(20_000):
        now += 0.01
        ip = f"ip-{k}"
        assert limiter.hit_ip_total(ip, now).allowed
        assert not limiter.hit_ip_total(ip, now).allowed
        peak = max(peak, limiter.tracked)
    assert peak <= 2 * 4097


def test_sweeping_keeps_live_buckets() -> None:
    limiter = MemoryRateLimiter()
    assert limiter.hit("hot", INFO, 0.0).allowed  # INFO's bucket stays full until t = 1.0
    now = 0.0
    for k in range(10_000):
        now += 0.00005  # the flood lasts 0.5 s; each of its buckets lives 0.05 s
        limiter.hit(f"cold-{k}", TIME, now)
    assert limiter.tracked < 10_000  # a sweep ran
    refused = limiter.hit("hot", INFO, now)
    assert not refused.allowed
    assert refused.retry_after_s == pytest.approx(1.0 - now, abs=1e-9)
    assert limiter.hit("hot", INFO, 1.0).allowed


def test_allowed_decisions_are_shared_not_allocated() -> None:
    limiter = MemoryRateLimiter()
    first = limiter.hit("a", PLACE, 0.0)
    assert limiter.hit("b", PLACE, 0.0) is first
    assert limiter.hit_ip_total("x", 0.0) is limiter.hit_ip_total("y", 0.0)
