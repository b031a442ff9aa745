"""The portfolio: every account valued in USDT, net worth, allocation and PnL.

USDT amounts are kept exact while summing and rounded once, to 8 decimals (half-even),
when shown; shares of net worth are rounded to 2 decimals. Quantities are shown as the
exchange reported them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

from sealbook.client.portfolio.fetch import AccountData
from sealbook.client.portfolio.pnl import CostBook
from sealbook.client.portfolio.valuation import NUMERAIRE, PRECISION, price_in_usdt

__all__ = ["AccountView", "Holding", "Portfolio", "build_portfolio", "pct", "usd"]

ZERO = Decimal(0)
_USD_STEP = Decimal("0.00000001")
_PCT_STEP = Decimal("0.01")


def usd(value: Decimal) -> str:
    return format(value.quantize(_USD_STEP, rounding=ROUND_HALF_EVEN), "f")


def pct(part: Decimal, whole: Decimal) -> str:
    if whole == 0:
        return "0.00"
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return format((part * 100 / whole).quantize(_PCT_STEP, rounding=ROUND_HALF_EVEN), "f")


@dataclass(frozen=True, slots=True)
class Holding:
    account: str
    asset: str
    qty: Decimal
    price: Decimal | None
    route: str | None
    avg_cost: Decimal | None
    unrealised: Decimal
    covered: Decimal  # quantity whose cost the fills explain

    @property
    def value(self) -> Decimal | None:
        return None if self.price is None else self.qty * self.price


@dataclass(slots=True)
class AccountView:
    name: str
    exchange: str
    error: str | None = None
    fills_error: str | None = None
    holdings: list[Holding] = field(default_factory=list)
    realised: Decimal = ZERO
    no_basis: dict[str, Decimal] = field(default_factory=dict)  # held, cost unknown
    sold_without_basis: dict[str, Decimal] = field(default_factory=dict)
    approximate: bool = False

    @property
    def value(self) -> Decimal:
        return sum((h.value for h in self.holdings if h.value is not None), ZERO)

    @property
    def unrealised(self) -> Decimal:
        return sum((h.unrealised for h in self.holdings), ZERO)

    @property
    def unpriced(self) -> list[str]:
        return [h.asset for h in self.holdings if h.price is None]


@dataclass(slots=True)
class Portfolio:
    ts_ms: int
    accounts: list[AccountView]

    @property
    def ok(self) -> list[AccountView]:
        return [a for a in self.accounts if a.error is None]

    @property
    def net_worth(self) -> Decimal:
        return sum((a.value for a in self.ok), ZERO)

    @property
    def realised(self) -> Decimal:
        return sum((a.realised for a in self.ok), ZERO)

    @property
    def unrealised(self) -> Decimal:
        return sum((a.unrealised for a in self.ok), ZERO)

    def by_asset(self) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = {}
        for account in self.ok:
            for h in account.holdings:
                if h.value is not None:
                    totals[h.asset] = totals.get(h.asset, ZERO) + h.value
        return dict(sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])))

    def as_dict(self) -> dict[str, Any]:
        worth = self.net_worth
        return {
            "time": self.ts_ms,
            "netWorth": usd(worth),
            "realisedPnl": usd(self.realised),
            "unrealisedPnl": usd(self.unrealised),
            "byAsset": [
                {"asset": a, "value": usd(v), "share": pct(v, worth)}
                for a, v in self.by_asset().items()
            ],
            "byAccount": [_account_dict(a, worth) for a in self.accounts],
        }

    def to_csv(self) -> str:
        """One row per holding, plus one row per failed account (with its reason)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            ["account", "exchange", "asset", "quantity", "price_usdt", "value_usdt",
             "avg_cost_usdt", "unrealised_pnl_usdt", "error"]
        )
        for account in self.accounts:
            if account.error is not None:
                writer.writerow([account.name, account.exchange, "", "", "", "", "", "",
                                 account.error])
            for h in account.holdings:
                writer.writerow([
                    h.account, account.exchange, h.asset, str(h.qty),
                    "" if h.price is None else str(h.price),
                    "" if h.value is None else usd(h.value),
                    "" if h.avg_cost is None else usd(h.avg_cost),
                    usd(h.unrealised), "" if h.price is not None else "unpriced",
                ])
        return out.getvalue()


def _account_dict(account: AccountView, worth: Decimal) -> dict[str, Any]:
    if account.error is not None:
        return {"name": account.name, "exchange": account.exchange, "error": account.error}
    return {
        "name": account.name,
        "exchange": account.exchange,
        "value": usd(account.value),
        "share": pct(account.value, worth),
        "realisedPnl": usd(account.realised),
        "unrealisedPnl": usd(account.unrealised),
        "unpriced": account.unpriced,
        "heldWithoutCostBasis": {a: str(q) for a, q in sorted(account.no_basis.items())},
        "soldWithoutCostBasis": {
            a: str(q) for a, q in sorted(account.sold_without_basis.items())
        },
        "approximate": account.approximate,
        "fillsError": account.fills_error,
        "holdings": [
            {
                "asset": h.asset,
                "quantity": str(h.qty),
                "price": None if h.price is None else str(h.price),
                "route": h.route,
                "value": None if h.value is None else usd(h.value),
                "avgCost": None if h.avg_cost is None else usd(h.avg_cost),
                "unrealisedPnl": usd(h.unrealised),
                "costKnownFor": str(h.covered),
            }
            for h in account.holdings
        ],
    }


def _view(data: AccountData) -> AccountView:
    view = AccountView(data.name, data.exchange, error=data.error, fills_error=data.fills_error)
    if data.error is not None:
        return view

    def value_now(asset: str, qty: Decimal) -> Decimal | None:
        price = price_in_usdt(asset, data.prices)
        return None if price is None else price.value * qty

    book = CostBook(value_now)
    book.apply_all(data.fills)
    for asset, qty in sorted(data.balances.items()):
        price = price_in_usdt(asset, data.prices)
        pool = book.pools.get(asset)
        unrealised, covered = (ZERO, ZERO)
        if price is not None:
            unrealised, covered = book.unrealised(asset, qty, price.value)
        if asset != NUMERAIRE and qty > covered:
            view.no_basis[asset] = qty - covered  # came in by deposit, as far as fills tell
        view.holdings.append(
            Holding(
                account=data.name,
                asset=asset,
                qty=qty,
                price=None if price is None else price.value,
                route=None if price is None else price.route,
                avg_cost=pool.average() if pool is not None else None,
                unrealised=unrealised,
                covered=covered,
            )
        )
    view.realised = sum(book.realised.values(), ZERO)
    view.sold_without_basis = dict(book.unmatched)
    view.approximate = book.approximate or book.unvalued_fills > 0
    return view


def build_portfolio(accounts: Sequence[AccountData], ts_ms: int) -> Portfolio:
    return Portfolio(ts_ms, [_view(data) for data in accounts])
