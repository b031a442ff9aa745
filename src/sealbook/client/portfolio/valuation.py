"""Pricing an asset in USDT from one exchange's tickers.

The route, in order: USDT itself; a direct ``X/USDT`` last price; the inverse of a
``USDT/X`` price; through BTC or ETH (``X/BTC`` × ``BTC/USDT``); otherwise the asset is
unpriced and the report says so rather than guessing. All arithmetic is Decimal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext

__all__ = ["NUMERAIRE", "Price", "parse_decimal", "price_in_usdt", "ticker_prices"]

NUMERAIRE = "USDT"
BRIDGES = ("BTC", "ETH")
PRECISION = 40  # significant digits for divisions (inverse prices, average costs)


@dataclass(frozen=True, slots=True)
class Price:
    value: Decimal
    route: str  # "USDT", "BTC/USDT", "USDT/X inverse", "ETH/BTC×BTC/USDT"


def parse_decimal(raw: object) -> Decimal | None:
    """A Decimal from a ccxt number (a string when ``number=str``); None when absent.
    A float is refused: it would have rounded the exchange's decimal already."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, float):
        raise TypeError("a float reached money code; configure ccxt with number=str")
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def ticker_prices(tickers: Mapping[str, Mapping[str, object]]) -> dict[tuple[str, str], Decimal]:
    """``{(base, quote): last}`` for every ticker with a positive last price."""
    prices: dict[tuple[str, str], Decimal] = {}
    for symbol, ticker in tickers.items():
        if "/" not in symbol or ":" in symbol:  # "BTC/USDT:USDT" is a swap: spot only
            continue
        base, _, quote = symbol.partition("/")
        last = parse_decimal(ticker.get("last"))
        if last is not None and last > 0:
            prices[(base, quote)] = last
    return prices


def _direct(asset: str, prices: Mapping[tuple[str, str], Decimal]) -> Price | None:
    if asset == NUMERAIRE:
        return Price(Decimal(1), NUMERAIRE)
    last = prices.get((asset, NUMERAIRE))
    if last is not None:
        return Price(last, f"{asset}/{NUMERAIRE}")
    inverse = prices.get((NUMERAIRE, asset))
    if inverse is not None:
        with localcontext() as ctx:
            ctx.prec = PRECISION
            return Price(Decimal(1) / inverse, f"{NUMERAIRE}/{asset} inverse")
    return None


def price_in_usdt(asset: str, prices: Mapping[tuple[str, str], Decimal]) -> Price | None:
    """The USDT price of one unit of ``asset``, or None when no route exists."""
    direct = _direct(asset, prices)
    if direct is not None:
        return direct
    for bridge in BRIDGES:
        hop = prices.get((asset, bridge))
        bridge_price = _direct(bridge, prices)
        if hop is not None and bridge_price is not None:
            return Price(hop * bridge_price.value, f"{asset}/{bridge}×{bridge_price.route}")
    return None
