"""How coins are valued in US dollars.

USD, USDT and USDC count as dollars at 1:1 (a stated simplification: the report's
manifest says so). Any other coin is valued at the exchange's own price against USDT
(or USDC) at the time of the trade: the close of the one-minute candle holding that
moment, else the latest candle of the hour before, else the ticker at sync time (the
source says which, for every rate).
"""

from __future__ import annotations

from sealbook.client.tax.store import TradeRow

__all__ = ["STABLE", "VALUATION_NOTE", "rate_coins"]

STABLE = frozenset({"USD", "USDT", "USDC"})
VALUATION_NOTE = (
    "USD; USDT and USDC at 1:1; other coins at the exchange's USDT (else USDC) price at "
    "trade time (1-minute candle close, else the ticker at sync time)"
)


def rate_coins(trade: TradeRow) -> list[str]:
    """The coins whose USD rate at ``trade.ts`` valuing ``trade`` needs."""
    needed: list[str] = []
    if trade.quote not in STABLE:
        needed.append(trade.quote)
    fee = trade.fee_currency
    has_fee = bool(fee) and trade.fee_cost not in ("", "0")
    if has_fee and fee not in (trade.base, trade.quote) and fee not in STABLE:
        needed.append(fee)
    return needed
