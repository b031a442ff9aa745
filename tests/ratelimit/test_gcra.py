"""GCRA behaviour of MemoryRateLimiter.hit, with explicit times."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sealbook.ratelimit import Decision, MemoryRateLimiter, Rule
from sealbook.ratelimit.gcra import SLACK_CELLS, GcraParams

PLACE = Rule("spot/trade/place-order", 10, 10, "uid")
COINS = Rule("spot/public/coins", 3, 3, "ip")


def _float_tol(now: float) -> float:
    """Error allowed on times derived from ``now``: a thousand ulps of it."""
    return 1000 * math.ulp(max(abs(now), 1.0))


@pytest.mark.parametrize("now", [0.0, 1000.0, 12_345_678.9])
@pytest.mark.parametrize("rule", [PLACE, COINS], ids=lambda r: r.name)
def test_exactly_burst_calls_pass_at_once(rule: Rule, now: float) -> None:
    limiter = MemoryRateLimiter()
    decisions = [limiter.hit("b", rule, now) for _ in range(rule.burst)]

    assert [d.allowed for d in decisions] == [True] * rule.burst
    assert [d.remaining for d in decisions] == list(range(rule.burst - 1, -1, -1))
    assert all(d.retry_after_s == 0.0 for d in decisions)

    refused = limiter.hit("b", rule, now)
    assert not refused.allowed
    assert refused.remaining == 0
    assert refused.retry_after_s == pytest.approx(1 / rule.per_second, abs=_float_tol(now))


@pytest.mark.parametrize("now", [0.0, 1000.0, 12_345_678.9])
def test_retry_after_is_exactly_when_the_next_call_passes(now: float) -> None:
    limiter = MemoryRateLimiter()
    for _ in range(PLACE.burst):
        assert limiter.hit("b", PLACE, now).allowed
    retry = limiter.hit("b", PLACE, now).retry_after_s

    assert limiter.hit("b", PLACE, now + retry).allowed
    # ...and that call used the cell it waited for: the bucket is empty again.
    again = limiter.hit("b", PLACE, now + retry)
    assert not again.allowed
    assert again.retry_after_s == pytest.approx(0.1, abs=_float_tol(now))


def test_refused_calls_do_not_consume_budget() -> None:
    limiter = MemoryRateLimiter()
    for _ in range(10):
        limiter.hit("b", PLACE, 0.0)
    for _ in range(1000):
        assert not limiter.hit("b", PLACE, 0.05).allowed
    # Had the refusals counted, the bucket would be 100 s in debt.
    assert limiter.hit("b", PLACE, 0.1).allowed


def test_refused_retry_after_shrinks_as_time_passes() -> None:
    limiter = MemoryRateLimiter()
    for _ in range(10):
        limiter.hit("b", PLACE, 100.0)
    assert limiter.hit("b", PLACE, 100.0).retry_after_s == pytest.approx(0.1, abs=1e-9)
    assert limiter.hit("b", PLACE, 100.03).retry_after_s == pytest.approx(0.07, abs=1e-9)
    assert limiter.hit("b", PLACE, 100.099).retry_after_s == pytest.approx(0.001, abs=1e-9)


@pytest.mark.parametrize("rule", [PLACE, COINS, Rule("spot/account/info", 1, 1, "uid")])
def test_sustained_rate_is_never_refused(rule: Rule) -> None:
    limiter = MemoryRateLimiter()
    interval = 1 / rule.per_second
    decisions = [limiter.hit("b", rule, 500.0 + k * interval) for k in range(2000)]

    assert all(d.allowed for d in decisions)
    # Spaced at the sustained rate, each call finds the previous one already paid off.
    assert {d.remaining for d in decisions} == {rule.burst - 1}


def test_idle_bucket_refills_one_call_per_interval() -> None:
    limiter = MemoryRateLimiter()
    for _ in range(10):
        limiter.hit("b", PLACE, 0.0)

    # 0.35 s later 3 cells (0.1 s each) are free again, not 4.
    results = [limiter.hit("b", PLACE, 0.35).allowed for _ in range(4)]
    assert results == [True, True, True, False]


def test_full_refill_caps_at_burst() -> None:
    limiter = MemoryRateLimiter()
    limiter.hit("b", PLACE, 0.0)
    # An hour idle earns no more than one burst.
    allowed = sum(limiter.hit("b", PLACE, 3600.0).allowed for _ in range(50))
    assert allowed == PLACE.burst


def test_remaining_reports_calls_left_after_partial_refill() -> None:
    limiter = MemoryRateLimiter()
    for _ in range(10):
        limiter.hit("b", PLACE, 0.0)
    # At 0.5 s, 5 cells are back; this call takes one and leaves 4.
    d = limiter.hit("b", PLACE, 0.5)
    assert d == Decision(True, 4, 0.0)


def test_params_arithmetic() -> None:
    p = GcraParams.for_rule(PLACE)
    assert p.interval == pytest.approx(0.1)
    assert p.rate == 10
    assert p.burst == 10
    assert p.tolerance == pytest.approx(1.0)
    assert p.limit - p.tolerance == pytest.approx(SLACK_CELLS * 0.1)
    assert [d.remaining for d in p.allowed] == list(range(10))
    assert all(d.allowed and d.retry_after_s == 0.0 for d in p.allowed)


def test_params_scale_with_factor_and_keep_burst_at_least_one() -> None:
    assert GcraParams.for_rule(PLACE, 10).burst == 100
    assert GcraParams.for_rule(PLACE, 10).interval == pytest.approx(0.01)
    assert GcraParams.for_rule(COINS, 0.1).burst == 1
    assert GcraParams.for_rule(COINS, 0.1).interval == pytest.approx(1 / 0.3)


@pytest.mark.parametrize("per_second", [0.0, -1.0, math.inf, math.nan])
def test_params_reject_bad_rates(per_second: float) -> None:
    with pytest.raises(ValueError, match="rate"):
        GcraParams.of(per_second, 1)


def test_large_bursts_still_report_remaining() -> None:
    big = Rule("big", 5000, 5000, "ip")
    limiter = MemoryRateLimiter()
    first = limiter.hit("b", big, 10.0)
    assert first == Decision(True, 4999, 0.0)
    decisions = [limiter.hit("b", big, 10.0) for _ in range(4999)]
    assert [d.remaining for d in decisions] == list(range(4998, -1, -1))
    assert not limiter.hit("b", big, 10.0).allowed


@settings(max_examples=200, deadline=None, database=None)
@given(
    per_second=st.sampled_from([0.5, 1.0, 3.0, 5.0, 10.0, 20.0, 7.3]),
    burst=st.integers(min_value=1, max_value=25),
    factor=st.sampled_from([0.5, 1.0, 3.0]),
    start=st.floats(min_value=0.0, max_value=1e7, allow_nan=False, allow_infinity=False),
    gaps=st.lists(
        st.one_of(
            st.just(0.0),
            st.floats(min_value=0.0, max_value=0.5, allow_nan=False, allow_infinity=False),
        ),
        min_size=1,
        max_size=250,
    ),
)
def test_no_window_admits_more_than_burst_plus_rate_times_length(
    per_second: float, burst: int, factor: float, start: float, gaps: list[float]
) -> None:
    rule = Rule("prop", per_second, burst, "uid")
    limiter = MemoryRateLimiter(factor=factor)
    rate = per_second * factor
    eff_burst = max(1, round(burst * factor))

    now = start
    admitted: list[float] = []
    for gap in gaps:
        now += gap
        d = limiter.hit("b", rule, now)
        assert d.allowed == (d.retry_after_s == 0.0)
        assert 0 <= d.remaining < eff_burst
        if d.allowed:
            admitted.append(now)
        else:
            assert d.remaining == 0
            assert 0.0 < d.retry_after_s <= eff_burst / rate + _float_tol(now)

    # A window [admitted[i], admitted[j]] holds j - i + 1 admitted calls.
    for i, t_i in enumerate(admitted):
        for j in range(i, len(admitted)):
            assert j - i + 1 <= eff_burst + rate * (admitted[j] - t_i) + 1


@settings(max_examples=100, deadline=None, database=None)
@given(
    per_second=st.sampled_from([1.0, 3.0, 10.0, 20.0]),
    extra=st.lists(
        st.floats(min_value=0.0, max_value=5.0, allow_nan=False, allow_infinity=False),
        min_size=1,
        max_size=100,
    ),
)
def test_calls_spaced_at_least_one_interval_apart_always_pass(
    per_second: float, extra: list[float]
) -> None:
    rule = Rule("prop", per_second, 1, "uid")
    limiter = MemoryRateLimiter()
    now = 1000.0
    for e in extra:
        assert limiter.hit("b", rule, now).allowed
        now += 1 / per_second + e
