"""Profit from fills, exactly: what a pair of orders earned, and what a position is worth.

Fees are charged in the coin received (the base on a buy, the quote on a sell). A fee in
the base coin is valued at the price of the fill that paid it. A fee in a third coin (BGB
when fees are paid in BGB) has no price here: it is left out of the profit and reported
on its own (:func:`other_fees`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sealbook.client.bots.venue import Fill, MarketInfo

__all__ = ["Position", "fee_value", "other_fees", "pair_profit", "position"]

ZERO = Decimal(0)


def fee_value(fill: Fill, market: MarketInfo) -> Decimal:
    """The fee of ``fill`` in the quote coin (0 for a fee in a third coin)."""
    if fill.fee_coin == market.quote:
        return fill.fee
    if fill.fee_coin == market.base:
        return fill.fee * fill.price
    return ZERO


def other_fees(fills: Iterable[Fill], market: MarketInfo) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for f in fills:
        if f.fee and f.fee_coin not in (market.base, market.quote):
            out[f.fee_coin] = out.get(f.fee_coin, ZERO) + f.fee
    return out


def pair_profit(buys: Iterable[Fill], sells: Iterable[Fill], market: MarketInfo) -> Decimal:
    """Sell proceeds − buy cost − every fee, in the quote coin."""
    buys, sells = list(buys), list(sells)
    proceeds = sum((f.quote for f in sells), ZERO)
    cost = sum((f.quote for f in buys), ZERO)
    fees = sum((fee_value(f, market) for f in [*buys, *sells]), ZERO)
    return proceeds - cost - fees


@dataclass(frozen=True, slots=True)
class Position:
    base: Decimal  # base coin bought − sold − paid as fees
    quote: Decimal  # quote coin received − spent − paid as fees

    def value(self, mark: Decimal) -> Decimal:
        """Everything the fills did, marked at ``mark``, in the quote coin."""
        return self.quote + self.base * mark


def position(fills: Iterable[Fill], market: MarketInfo) -> Position:
    base = quote = ZERO
    for f in fills:
        if f.side == "buy":
            base += f.amount
            quote -= f.quote
        else:
            base -= f.amount
            quote += f.quote
        if f.fee_coin == market.base:
            base -= f.fee
        elif f.fee_coin == market.quote:
            quote -= f.fee
    return Position(base, quote)
