"""Profit and loss by average cost, from an account's fills.

Every asset but USDT (the numeraire) has a pool: quantity and total cost in USDT. A fill
acquires one asset and disposes of the other at the fill's value: its quote amount when
the quote is USDT, else the quote amount at today's price (flagged ``approximate``: the
tracker has no historical prices). A disposal removes cost at the pool's average and
realises proceeds minus that cost. A fee leaves its coin's pool at average cost; that
cost is added to what a buy acquired, or taken from what a sale realised. Quantity sold
beyond what the fills explain (coins that came in by deposit) has no known cost: it is
counted in ``unmatched`` and realises nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, localcontext

from sealbook.client.portfolio.valuation import NUMERAIRE, PRECISION

__all__ = ["CostBook", "Fill", "Pool"]

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Fill:
    """One of the account's trades: ``amount`` of ``base`` for ``cost`` of ``quote``."""

    ts_ms: int
    trade_id: str
    base: str
    quote: str
    side: str  # "buy" or "sell"
    amount: Decimal
    cost: Decimal
    fee: Decimal = ZERO
    fee_coin: str | None = None


@dataclass(slots=True)
class Pool:
    qty: Decimal = ZERO
    cost: Decimal = ZERO

    def average(self) -> Decimal | None:
        if self.qty <= 0:
            return None
        with localcontext() as ctx:
            ctx.prec = PRECISION
            return self.cost / self.qty


# The USDT value of an amount of an asset at today's price; None when unpriced.
ValueNow = Callable[[str, Decimal], Decimal | None]


@dataclass(slots=True)
class CostBook:
    value_now: ValueNow
    pools: dict[str, Pool] = field(default_factory=dict)
    realised: dict[str, Decimal] = field(default_factory=dict)
    unmatched: dict[str, Decimal] = field(default_factory=dict)
    approximate: bool = False  # some fill was valued at today's price
    unvalued_fills: int = 0  # fills whose quote has no price at all: skipped

    def apply_all(self, fills: Iterable[Fill]) -> None:
        for fill in sorted(fills, key=lambda f: (f.ts_ms, _numeric(f.trade_id))):
            self.apply(fill)

    def apply(self, fill: Fill) -> None:
        with localcontext() as ctx:
            ctx.prec = PRECISION
            value = self._fill_value(fill)
            if value is None:
                self.unvalued_fills += 1
                return
            if fill.side == "buy":
                self._dispose(fill.quote, fill.cost, proceeds=value)
                self._acquire(fill.base, fill.amount, value)
            else:
                self._dispose(fill.base, fill.amount, proceeds=value)
                self._acquire(fill.quote, fill.cost, value)
            if fill.fee > 0 and fill.fee_coin:
                fee_cost = self._remove_fee(fill.fee_coin, fill.fee)
                if fill.side == "buy" and fill.base != NUMERAIRE:
                    self.pools.setdefault(fill.base, Pool()).cost += fee_cost
                else:
                    self._realise(fill.base, -fee_cost)

    def _fill_value(self, fill: Fill) -> Decimal | None:
        if fill.quote == NUMERAIRE:
            return fill.cost
        self.approximate = True
        return self.value_now(fill.quote, fill.cost)

    def _acquire(self, asset: str, qty: Decimal, cost: Decimal) -> None:
        if asset == NUMERAIRE:
            return
        pool = self.pools.setdefault(asset, Pool())
        pool.qty += qty
        pool.cost += cost

    def _take(self, asset: str, qty: Decimal) -> tuple[Decimal, Decimal]:
        """Remove ``qty`` from the pool: (cost removed, quantity with no known cost)."""
        if asset == NUMERAIRE:
            return qty, ZERO
        pool = self.pools.setdefault(asset, Pool())
        known = min(qty, pool.qty)
        removed = pool.cost * known / pool.qty if known > 0 else ZERO
        pool.qty -= known
        pool.cost -= removed
        return removed, qty - known

    def _dispose(self, asset: str, qty: Decimal, *, proceeds: Decimal) -> None:
        removed, unknown = self._take(asset, qty)
        if asset == NUMERAIRE or qty <= 0:
            return
        if unknown > 0:
            self.unmatched[asset] = self.unmatched.get(asset, ZERO) + unknown
        known_share = proceeds * (qty - unknown) / qty
        self._realise(asset, known_share - removed)

    def _remove_fee(self, coin: str, fee: Decimal) -> Decimal:
        removed, unknown = self._take(coin, fee)
        if unknown > 0:
            removed += self.value_now(coin, unknown) or ZERO
        return removed

    def _realise(self, asset: str, amount: Decimal) -> None:
        if asset != NUMERAIRE:
            self.realised[asset] = self.realised.get(asset, ZERO) + amount

    def unrealised(self, asset: str, held: Decimal, price: Decimal) -> tuple[Decimal, Decimal]:
        """(unrealised PnL, quantity it covers) for ``held`` units at ``price``."""
        pool = self.pools.get(asset)
        if asset == NUMERAIRE or pool is None or pool.qty <= 0:
            return ZERO, ZERO
        covered = min(held, pool.qty)
        with localcontext() as ctx:
            ctx.prec = PRECISION
            return price * covered - pool.cost * covered / pool.qty, covered


def _numeric(trade_id: str) -> tuple[int, str]:
    return (int(trade_id), "") if trade_id.isdigit() else (0, trade_id)
