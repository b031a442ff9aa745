"""The Bitget per-endpoint rate-limit table and its defaults."""

from __future__ import annotations

import math

import pytest

from sealbook import ratelimit
from sealbook.ratelimit import DEFAULT_PRIVATE, DEFAULT_PUBLIC, RULES, Rule, rule_for

# BITGET_WIRE §5.2, row by row, plus the three endpoints documented on their own pages.
EXPECTED: dict[str, tuple[float, str]] = {
    "/api/v2/public/time": (20, "ip"),
    "/api/v2/spot/public/symbols": (20, "ip"),
    "/api/v2/spot/market/tickers": (20, "ip"),
    "/api/v2/spot/market/orderbook": (20, "ip"),
    "/api/v2/spot/market/candles": (20, "ip"),
    "/api/v2/spot/market/history-candles": (20, "ip"),
    "/api/v2/mix/market/contracts": (20, "ip"),
    "/api/v2/mix/market/ticker": (20, "ip"),
    "/api/v2/mix/market/tickers": (20, "ip"),
    "/api/v2/mix/market/merge-depth": (20, "ip"),
    "/api/v2/mix/market/candles": (20, "ip"),
    "/api/v2/spot/public/coins": (3, "ip"),
    "/api/v2/margin/currencies": (10, "ip"),
    "/api/v2/spot/market/fills-history": (10, "ip"),
    "/api/v2/spot/market/fills": (10, "ip"),
    "/api/v2/mix/market/fills-history": (10, "ip"),
    "/api/v2/spot/trade/place-order": (10, "uid"),
    "/api/v2/spot/trade/cancel-order": (10, "uid"),
    "/api/v2/spot/trade/orderInfo": (20, "uid"),
    "/api/v2/spot/trade/unfilled-orders": (20, "uid"),
    "/api/v2/spot/trade/history-orders": (20, "uid"),
    "/api/v2/spot/trade/fills": (10, "uid"),
    "/api/v2/spot/account/assets": (10, "uid"),
    "/api/v2/spot/wallet/deposit-records": (10, "uid"),
    "/api/v2/spot/wallet/withdrawal-records": (10, "uid"),
    "/api/v2/spot/wallet/withdrawal": (10, "uid"),
    "/api/v2/common/trade-rate": (10, "uid"),
    "/api/v2/mix/account/accounts": (10, "uid"),
    "/api/v2/mix/order/place-order": (10, "uid"),
    "/api/v2/mix/order/cancel-order": (10, "uid"),
    "/api/v2/mix/order/detail": (10, "uid"),
    "/api/v2/mix/order/orders-pending": (10, "uid"),
    "/api/v2/mix/order/orders-history": (10, "uid"),
    "/api/v2/mix/order/fills": (10, "uid"),
    "/api/v2/mix/position/all-position": (5, "uid"),
    "/api/v2/mix/account/set-leverage": (5, "uid"),
    "/api/v3/account/settings": (20, "uid"),
    "/api/v2/spot/account/info": (1, "uid"),
    "/api/v2/spot/account/switch-deduct": (1, "uid"),
    "/api/v2/spot/account/deduct-info": (5, "uid"),
    "/api/v2/spot/wallet/deposit-address": (10, "uid"),
}


def test_table_is_exactly_the_documented_endpoints() -> None:
    assert {path: (r.per_second, r.scope) for path, r in RULES.items()} == EXPECTED


def test_named_rules() -> None:
    assert RULES["/api/v2/spot/trade/place-order"] == Rule("spot/trade/place-order", 10, 10, "uid")
    assert RULES["/api/v2/spot/public/coins"] == Rule("spot/public/coins", 3, 3, "ip")
    assert RULES["/api/v2/spot/account/info"] == Rule("spot/account/info", 1, 1, "uid")
    assert RULES["/api/v2/public/time"] == Rule("public/time", 20, 20, "ip")
    assert RULES["/api/v3/account/settings"] == Rule("v3/account/settings", 20, 20, "uid")


@pytest.mark.parametrize("path", sorted(EXPECTED))
def test_every_rule_is_consistent(path: str) -> None:
    rule = RULES[path]
    assert rule.burst == max(1, round(rule.per_second))
    assert path.endswith(rule.name)
    assert rule_for(path, private=True) is rule
    assert rule_for(path, private=False) is rule


def test_rule_names_are_unique() -> None:
    names = [r.name for r in RULES.values()]
    assert len(names) == len(set(names))
    assert DEFAULT_PUBLIC.name not in names
    assert DEFAULT_PRIVATE.name not in names


def test_unknown_paths_get_the_defaults() -> None:
    assert rule_for("/api/v2/spot/trade/batch-orders", private=True) is DEFAULT_PRIVATE
    assert rule_for("/api/v2/spot/market/vip-fee-rate", private=False) is DEFAULT_PUBLIC
    # Exact paths only: no prefix, query or trailing-slash matching.
    assert rule_for("/api/v2/spot/trade/place-order/", private=True) is DEFAULT_PRIVATE
    assert rule_for("/api/v2/public/time?x=1", private=False) is DEFAULT_PUBLIC
    assert (DEFAULT_PUBLIC.name, DEFAULT_PUBLIC.per_second, DEFAULT_PUBLIC.burst) == (
        "default-public",
        20,
        20,
    )
    assert DEFAULT_PUBLIC.scope == "ip"
    assert (DEFAULT_PRIVATE.name, DEFAULT_PRIVATE.per_second, DEFAULT_PRIVATE.burst) == (
        "default-private",
        10,
        10,
    )
    assert DEFAULT_PRIVATE.scope == "uid"


def test_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        RULES["/api/v2/x"] = DEFAULT_PUBLIC  # type: ignore[index]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": "", "per_second": 1, "burst": 1, "scope": "ip"}, "name"),
        ({"name": "r", "per_second": 0, "burst": 1, "scope": "ip"}, "per_second"),
        ({"name": "r", "per_second": -2, "burst": 1, "scope": "ip"}, "per_second"),
        ({"name": "r", "per_second": math.nan, "burst": 1, "scope": "ip"}, "per_second"),
        ({"name": "r", "per_second": math.inf, "burst": 1, "scope": "ip"}, "per_second"),
        ({"name": "r", "per_second": 1, "burst": 0, "scope": "ip"}, "burst"),
        ({"name": "r", "per_second": 1, "burst": 1, "scope": "key"}, "scope"),
    ],
)
def test_invalid_rules_rejected(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Rule(**kwargs)  # type: ignore[arg-type]


def test_package_exports() -> None:
    assert sorted(ratelimit.__all__) == sorted(
        [
            "Rule",
            "Decision",
            "RateLimiter",
            "MemoryRateLimiter",
            "rule_for",
            "RULES",
            "DEFAULT_PUBLIC",
            "DEFAULT_PRIVATE",
        ]
    )
    for name in ratelimit.__all__:
        assert getattr(ratelimit, name) is not None
