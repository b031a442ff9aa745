"""Profit from fills, exactly: what a pair of orders earned, and what a position is worth.

Fees are charged in the coin received (the base on a buy, the quote on a sell). A fee in
the base coin is valued at the price of the fill that paid it. A fee in a third coin (BGB
when fees are paid in BGB) has no price here: it is left out of the profit and reported
on its own (:func:`other_fees`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from sealbook.client.bots.venue import Fill, MarketInfo

__all__ = [
    "FillTotals",
    "Position",
    "delivered",
    "fee_value",
    "other_fees",
    "pair_profit",
    "position",
]

ZERO = Decimal(0)


def fee_value(fill: Fill, market: MarketInfo) -> Decimal:
    """The fee of ``fill`` in the quote coin (0 for a fee in a third coin)."""
    if fill.fee_coin == market.quote:
        return fill.fee
    if fill.fee_coin == market.base:
        return fill.fee * fill.price
    return ZERO


def other_fees(fills: Iterable[Fill], market: MarketInfo) -> dict[str, Decimal]:
    return FillTotals.of(fills).other_fees(market)


def pair_profit(buys: Iterable[Fill], sells: Iterable[Fill], market: MarketInfo) -> Decimal:
    """Sell proceeds − buy cost − every fee, in the quote coin, plus the base the pair
    left over (bought − sold, negative if it sold more) valued at the buys' average price.

    The last term is zero when both legs traded the same amount. It matters when a grid
    sells what its buy delivered, the amount less the fee taken in the base coin: that fee
    then shows as the smaller sale, and without the term it would be counted twice."""
    buys, sells = list(buys), list(sells)
    proceeds = sum((f.quote for f in sells), ZERO)
    cost = sum((f.quote for f in buys), ZERO)
    fees = sum((fee_value(f, market) for f in [*buys, *sells]), ZERO)
    bought = sum((f.amount for f in buys), ZERO)
    left = bought - sum((f.amount for f in sells), ZERO)
    kept = left * cost / bought if left and bought else ZERO
    return proceeds - cost - fees + kept


def delivered(buys: Iterable[Fill], market: MarketInfo) -> Decimal:
    """The base coin that buys brought in: their amounts less the fees taken in it."""
    return sum((f.amount - (f.fee if f.fee_coin == market.base else ZERO) for f in buys), ZERO)


@dataclass(frozen=True, slots=True)
class Position:
    base: Decimal  # base coin bought − sold − paid as fees
    quote: Decimal  # quote coin received − spent − paid as fees

    def value(self, mark: Decimal) -> Decimal:
        """Everything the fills did, marked at ``mark``, in the quote coin."""
        return self.quote + self.base * mark


def position(fills: Iterable[Fill], market: MarketInfo) -> Position:
    return FillTotals.of(fills).position(market)


@dataclass(slots=True)
class FillTotals:
    """Sums over fills that do not depend on the market: a bot keeps them up to date as
    fills arrive, so its position costs the same after a month of trading as after a
    minute (no re-reading every fill)."""

    buy_amount: Decimal = ZERO
    buy_quote: Decimal = ZERO
    sell_amount: Decimal = ZERO
    sell_quote: Decimal = ZERO
    fees: dict[str, Decimal] = field(default_factory=dict)

    @classmethod
    def of(cls, fills: Iterable[Fill]) -> FillTotals:
        totals = cls()
        for f in fills:
            totals.add(f)
        return totals

    def add(self, f: Fill) -> None:
        if f.side == "buy":
            self.buy_amount += f.amount
            self.buy_quote += f.quote
        else:
            self.sell_amount += f.amount
            self.sell_quote += f.quote
        if f.fee:
            self.fees[f.fee_coin] = self.fees.get(f.fee_coin, ZERO) + f.fee

    def merge(self, other: FillTotals) -> None:
        self.buy_amount += other.buy_amount
        self.buy_quote += other.buy_quote
        self.sell_amount += other.sell_amount
        self.sell_quote += other.sell_quote
        for coin, fee in other.fees.items():
            self.fees[coin] = self.fees.get(coin, ZERO) + fee

    def position(self, market: MarketInfo) -> Position:
        base = self.buy_amount - self.sell_amount - self.fees.get(market.base, ZERO)
        quote = self.sell_quote - self.buy_quote - self.fees.get(market.quote, ZERO)
        return Position(base, quote)

    def other_fees(self, market: MarketInfo) -> dict[str, Decimal]:
        return {
            coin: fee
            for coin, fee in self.fees.items()
            if fee and coin not in (market.base, market.quote)
        }
