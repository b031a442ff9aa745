"""Grid geometry: the price levels, which side each cell starts on, and order sizes.

A grid of ``grids`` cells has ``grids + 1`` levels from ``lower`` to ``upper``. Cell ``c``
lies between level ``c`` and level ``c + 1`` and always holds one order: a buy at level
``c`` or a sell at level ``c + 1``. When it fills, the cell turns to the other side. At the
start the level nearest the price is left empty: cells below it buy, cells above it sell.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext
from enum import StrEnum

from sealbook.client.bots.venue import MarketInfo
from sealbook.client.errors import ClientError

__all__ = ["GridMode", "GridPlan", "GridSpec", "plan_grid"]

MAX_GRIDS = 200


class GridMode(StrEnum):
    ARITHMETIC = "arithmetic"  # equal price steps
    GEOMETRIC = "geometric"  # equal ratios


@dataclass(frozen=True, slots=True)
class GridSpec:
    lower: Decimal
    upper: Decimal
    grids: int
    mode: GridMode
    investment: Decimal  # in the quote coin
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None

    def check(self) -> None:
        """Refuse a grid that makes no sense, before anything is sent."""
        if not 2 <= self.grids <= MAX_GRIDS:
            raise ClientError(f"--grids must be between 2 and {MAX_GRIDS}")
        if not 0 < self.lower < self.upper:
            raise ClientError("need 0 < --lower < --upper")
        if self.investment <= 0:
            raise ClientError("--investment must be positive")
        if self.stop_loss is not None and not 0 < self.stop_loss < self.lower:
            raise ClientError("--stop-loss must be positive and below --lower")
        if self.take_profit is not None and self.take_profit <= self.upper:
            raise ClientError("--take-profit must be above --upper")

    def as_dict(self) -> dict[str, str]:
        return {
            "lower": str(self.lower),
            "upper": str(self.upper),
            "grids": str(self.grids),
            "mode": self.mode.value,
            "investment": str(self.investment),
            "stop_loss": "" if self.stop_loss is None else str(self.stop_loss),
            "take_profit": "" if self.take_profit is None else str(self.take_profit),
        }


@dataclass(frozen=True, slots=True)
class GridPlan:
    levels: tuple[Decimal, ...]  # ascending, on the market's price ticks
    sizes: tuple[Decimal, ...]  # base amount per cell, on the market's lot

    def cell_price(self, cell: int, side: str) -> Decimal:
        return self.levels[cell] if side == "buy" else self.levels[cell + 1]

    def level_of(self, cell: int, side: str) -> int:
        return cell if side == "buy" else cell + 1

    def start_sides(self, price: Decimal) -> list[str]:
        """Each cell's first side: buys below the level nearest ``price``, sells above."""
        empty = min(range(len(self.levels)), key=lambda i: (abs(self.levels[i] - price), i))
        return ["buy" if c < empty else "sell" for c in range(len(self.sizes))]


def levels(spec: GridSpec, market: MarketInfo) -> tuple[Decimal, ...]:
    n = spec.grids
    with localcontext() as ctx:
        ctx.prec = 40
        if spec.mode is GridMode.ARITHMETIC:
            step = (spec.upper - spec.lower) / n
            raw = [spec.lower + step * i for i in range(n + 1)]
        else:
            ratio = spec.upper / spec.lower
            raw = [spec.lower * ratio ** (Decimal(i) / n) for i in range(n + 1)]
    out = tuple(market.round_price(p) for p in raw)
    if len(set(out)) != len(out) or out[0] <= 0:
        raise ClientError(
            f"{n} grids between {spec.lower} and {spec.upper} do not fit the price step "
            f"{market.tick}: two levels would share a price"
        )
    return out


def plan_grid(spec: GridSpec, market: MarketInfo) -> GridPlan:
    """Levels, and a base size per cell worth ``investment / grids`` at its upper level
    (so every buy costs at most its share), rounded down to the lot."""
    spec.check()
    lv = levels(spec, market)
    share = spec.investment / spec.grids
    sizes = tuple(market.floor_amount(share / lv[c + 1]) for c in range(spec.grids))
    for c, size in enumerate(sizes):
        if not market.tradable(lv[c], size):
            raise ClientError(
                f"--investment {spec.investment} over {spec.grids} grids is too small: an "
                f"order at {lv[c]} would be {size} {market.base}, under the exchange's "
                f"minimum ({market.min_amount} {market.base}, {market.min_cost} {market.quote})"
            )
    return GridPlan(lv, sizes)
