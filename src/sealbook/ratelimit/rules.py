"""Bitget's per-endpoint rate limits (BITGET_WIRE §5.2), keyed by request path."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

__all__ = ["DEFAULT_PRIVATE", "DEFAULT_PUBLIC", "RULES", "Rule", "rule_for"]


@dataclass(frozen=True, slots=True)
class Rule:
    """One endpoint's limit: ``per_second`` sustained, ``burst`` at once, per IP or per user."""

    name: str
    per_second: float
    burst: int
    scope: Literal["ip", "uid"]

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("rule name must not be empty")
        if not (math.isfinite(self.per_second) and self.per_second > 0):
            raise ValueError(f"rule {self.name}: per_second must be > 0, got {self.per_second}")
        if self.burst < 1:
            raise ValueError(f"rule {self.name}: burst must be >= 1, got {self.burst}")
        if self.scope not in ("ip", "uid"):
            raise ValueError(f"rule {self.name}: scope must be 'ip' or 'uid', got {self.scope!r}")


DEFAULT_PUBLIC: Final = Rule("default-public", 20, 20, "ip")
DEFAULT_PRIVATE: Final = Rule("default-private", 10, 10, "uid")

# Values from Bitget's docs as ccxt encodes them (cost = 20 / limit per second);
# switch-deduct and deduct-info, absent from ccxt's v2 map, follow Bitget's endpoint
# pages. Bitget lowers place/cancel-order to 1/s for copy-trading traders; Sealbook has
# no copy trading.
_TABLE: Final[tuple[tuple[str, float, Literal["ip", "uid"]], ...]] = (
    ("/api/v2/public/time", 20, "ip"),
    ("/api/v2/spot/public/symbols", 20, "ip"),
    ("/api/v2/spot/public/coins", 3, "ip"),
    ("/api/v2/spot/market/tickers", 20, "ip"),
    ("/api/v2/spot/market/orderbook", 20, "ip"),
    ("/api/v2/spot/market/candles", 20, "ip"),
    ("/api/v2/spot/market/history-candles", 20, "ip"),
    ("/api/v2/spot/market/fills-history", 10, "ip"),
    ("/api/v2/spot/market/fills", 10, "ip"),
    ("/api/v2/margin/currencies", 10, "ip"),
    ("/api/v2/mix/market/contracts", 20, "ip"),
    ("/api/v2/mix/market/ticker", 20, "ip"),
    ("/api/v2/mix/market/tickers", 20, "ip"),
    ("/api/v2/mix/market/merge-depth", 20, "ip"),
    ("/api/v2/mix/market/candles", 20, "ip"),
    ("/api/v2/mix/market/fills-history", 10, "ip"),
    ("/api/v2/spot/trade/place-order", 10, "uid"),
    ("/api/v2/spot/trade/cancel-order", 10, "uid"),
    ("/api/v2/spot/trade/orderInfo", 20, "uid"),
    ("/api/v2/spot/trade/unfilled-orders", 20, "uid"),
    ("/api/v2/spot/trade/history-orders", 20, "uid"),
    ("/api/v2/spot/trade/fills", 10, "uid"),
    ("/api/v2/spot/account/assets", 10, "uid"),
    ("/api/v2/spot/wallet/deposit-records", 10, "uid"),
    ("/api/v2/spot/wallet/withdrawal-records", 10, "uid"),
    ("/api/v2/spot/wallet/withdrawal", 10, "uid"),
    ("/api/v2/common/trade-rate", 10, "uid"),
    ("/api/v2/mix/account/accounts", 10, "uid"),
    ("/api/v2/mix/account/set-leverage", 5, "uid"),
    ("/api/v2/mix/position/all-position", 5, "uid"),
    ("/api/v2/mix/order/place-order", 10, "uid"),
    ("/api/v2/mix/order/cancel-order", 10, "uid"),
    ("/api/v2/mix/order/detail", 10, "uid"),
    ("/api/v2/mix/order/orders-pending", 10, "uid"),
    ("/api/v2/mix/order/orders-history", 10, "uid"),
    ("/api/v2/mix/order/fills", 10, "uid"),
    ("/api/v3/account/settings", 20, "uid"),
    ("/api/v2/spot/account/info", 1, "uid"),
    ("/api/v2/spot/account/switch-deduct", 1, "uid"),
    ("/api/v2/spot/account/deduct-info", 5, "uid"),
    ("/api/v2/spot/wallet/deposit-address", 10, "uid"),
)


def _name(path: str) -> str:
    """``/api/v2/spot/trade/place-order`` → ``spot/trade/place-order``; v3 keeps ``v3/``."""
    return path.removeprefix("/api/v2/").removeprefix("/api/")


def _build() -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    for path, per_second, scope in _TABLE:
        if path in rules:
            raise ValueError(f"duplicate rate-limit rule for {path}")
        rules[path] = Rule(_name(path), per_second, max(1, round(per_second)), scope)
    return rules


_RULES: Final = _build()
RULES: Final[Mapping[str, Rule]] = MappingProxyType(_RULES)


def rule_for(path: str, private: bool) -> Rule:
    """The rule for an exact request path; unknown paths get the default for their kind."""
    rule = _RULES.get(path)
    if rule is not None:
        return rule
    return DEFAULT_PRIVATE if private else DEFAULT_PUBLIC
