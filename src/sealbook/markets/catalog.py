"""The coin and symbol catalog: what can be deposited, withdrawn and traded, and how finely.

Built once, in memory, from the compact tables in :mod:`sealbook.markets._data`:

* **coins** keep their table order (largest first) and get a ``coinId`` from it; each chain
  gets its withdraw fee, minimums and scale from the chain's fee in USD and the coin's USD
  reference price;
* **symbols**: every coin against USDT, and the top ``cross_top`` coins (250 by default)
  against USDC, BTC, ETH and BGB. Quote coins rank USDT > USDC > BTC > ETH > BGB and a quote
  coin is only ever quoted in a higher-ranked one (``ETHBTC``, never ``BTCETH``);
  stablecoins are quoted in USDT and USDC only.

Precisions follow the reference prices (all arithmetic exact, on :class:`Fraction`):

* ``pricePrecision`` *p* is the least *p* ≥ 0 with one tick ≤ 10^-4 of the price, so a tick
  is 10^-5 … 10^-4 of the price (or finer, for prices ≥ 10^4). A pair that would need
  *p* > 12 is left out (its reference price would be a handful of ticks);
* ``quantityPrecision`` *q* is the least *q* ≥ 0 with one lot worth ≤ 0.1 USDT, so a lot is
  worth 0.01 … 0.1 USDT — except for coins under 0.1 USDT, where a lot is one whole coin;
* ``quotePrecision`` is *p* + *q* (≤ 18): ticks × lots is then an exact quote amount.

A symbol's reference price is the base's USD price over the quote's, rounded half up to
*p* places; by the choice of *p* it is at least 10^4 ticks.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

from sealbook.errors import ParamInvalid, PrecisionError, UnknownCoin, UnknownSymbol
from sealbook.markets import _data
from sealbook.markets.fees import FeeRate, FeeSchedule
from sealbook.money import (
    ATOM_PLACES,
    MoneyError,
    lots_to_atoms,
    parse_scaled,
    scaled_to_str,
    ticks_lots_to_quote_atoms,
)

__all__ = [
    "MAX_PRICE_PLACES",
    "QUOTE_COINS",
    "Catalog",
    "Chain",
    "Coin",
    "Symbol",
    "default_catalog",
]

QUOTE_COINS = ("USDT", "USDC", "BTC", "ETH", "BGB")
MAX_PRICE_PLACES = 12
MAX_TEXT = 64  # longest price/size text we look at

# Chains not in _data.CHAINS (a coin's own chain) get these.
_DEFAULT_FEE_USD = "0.5"
_DEFAULT_CONFIRMS = (6, 12)
_DEFAULT_URL = "https://www.oklink.com/{slug}/tx/"

_MIN_WITHDRAW_USD = Fraction(10)
_MIN_DEPOSIT_USD = Fraction(1, 10)
_MAX_TRADE_USD = Fraction(10**8)
_MAX_LIMIT_ORDER_USD = Fraction(10**7)
_MAX_MARKET_ORDER_USD = Fraction(10**6)
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


# --- exact helpers ---------------------------------------------------------------------


def _pow10(e: int) -> int:
    """10^e for e ≥ 0, typed as int."""
    value: int = 10**e
    return value


def _floor_log10(x: Fraction) -> int:
    """The e with 10^e ≤ x < 10^(e+1), for x > 0."""
    n, d = x.numerator, x.denominator

    def at_most(e: int) -> bool:  # 10^e ≤ n/d, in integers
        return d * _pow10(e) <= n if e >= 0 else d <= n * _pow10(-e)

    e = len(str(n)) - len(str(d))
    while not at_most(e):
        e -= 1
    while at_most(e + 1):
        e += 1
    return e


def _ceil_log10(x: Fraction) -> int:
    """The least e with 10^e ≥ x, for x > 0."""
    e = _floor_log10(x)
    return e if Fraction(10) ** e == x else e + 1


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _ceil_sig(x: Fraction, sig: int, places: int) -> int:
    """x rounded up to ``sig`` significant digits but never finer than ``places`` decimals,
    and at least one unit of the last place; returned scaled by 10^places."""
    step_exp = max(_floor_log10(x) - sig + 1, -places)  # round to multiples of 10^step_exp
    step = Fraction(10) ** step_exp
    value = _ceil_div(x.numerator * step.denominator, x.denominator * step.numerator) * step
    scaled = value * 10**places
    return max(1, int(scaled))


def _round_half_up(x: Fraction, places: int) -> int:
    scaled = x * 10**places
    return int((scaled * 2 + 1) // 2)


def _pow10_at_most(x: Fraction) -> int:
    """The largest k ≥ 0 with 10^k ≤ x (0 when x < 10)."""
    return max(0, _floor_log10(x))


def _b58(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = _B58[r] + out
    return out


def _contract_address(coin: str, chain: str, style: str) -> str | None:
    """A stable, plausible token contract for ``coin`` on ``chain`` (not a real one)."""
    digest = hashlib.sha256(f"{coin}@{chain}".encode()).digest()
    if style == "evm":
        return "0x" + digest[:20].hex()
    if style == "hex64":
        return "0x" + digest.hex()
    if style == "move":
        return f"0x{digest.hex()}::{coin.lower()}::{coin}"
    if style == "sol":
        return _b58(digest)
    if style == "tron":
        return "T" + _b58(digest)[:33]
    if style == "ton":
        extra = hashlib.sha256(digest).digest()[:3]
        return "EQ" + base64.urlsafe_b64encode(digest + extra).decode()[:46]
    return None


# --- the catalog's parts ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Chain:
    """One way to deposit and withdraw a coin. Amounts are atoms (10^-18 of the coin)."""

    chain: str
    need_tag: bool
    withdrawable: bool
    rechargeable: bool
    withdraw_fee_atoms: int
    min_withdraw_atoms: int
    min_deposit_atoms: int
    deposit_confirm: int
    withdraw_confirm: int
    withdraw_scale: int  # decimals a withdrawal amount may have (withdrawMinScale)
    browser_url: str
    contract_address: str | None

    def parse_withdraw_amount(self, text: str) -> int:
        """A withdrawal ``size`` → atoms, at most ``withdraw_scale`` places."""
        return lots_to_atoms(_parse(text, self.withdraw_scale, "size"), self.withdraw_scale)


@dataclass(frozen=True, slots=True)
class Coin:
    coin: str
    coin_id: int
    rank: int  # 0 = largest
    ref_price_usd: Fraction
    chains: tuple[Chain, ...]

    def chain(self, name: str) -> Chain:
        for chain in self.chains:
            if chain.chain == name:
                return chain
        raise ParamInvalid("chain", f"{self.coin} has no such chain")


@dataclass(frozen=True, slots=True)
class Symbol:
    """A spot market. Prices are ``ticks`` (10^-price_places quote), sizes ``lots``
    (10^-size_places base); see :mod:`sealbook.money`."""

    symbol: str
    base: str
    quote: str
    rank: int  # the base coin's rank
    price_places: int
    size_places: int
    ref_ticks: int
    min_lots: int
    max_lots: int
    min_trade_usdt: str
    max_limit_order_value: str
    max_market_order_value: str
    status: str
    maker_rate: FeeRate
    taker_rate: FeeRate
    # Atoms of base in one lot, and of quote in one tick × lot: what a fill multiplies by.
    base_unit_atoms: int = field(init=False, repr=False, compare=False)
    quote_unit_atoms: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_unit_atoms", lots_to_atoms(1, self.size_places))
        object.__setattr__(
            self,
            "quote_unit_atoms",
            ticks_lots_to_quote_atoms(1, 1, self.price_places, self.size_places),
        )

    @property
    def quote_places(self) -> int:
        return self.price_places + self.size_places

    @property
    def online(self) -> bool:
        return self.status == "online"

    @property
    def ref_price(self) -> str:
        return self.price_str(self.ref_ticks)

    # text at the edge → exact ints; refusals are PrecisionError (Bitget 40808)

    def parse_price(self, text: str) -> int:
        """``"104000.5"`` → ticks. Refuses more places than ``pricePrecision``, signs,
        exponents and anything but a plain decimal. ``"0"`` parses (to 0): minimums are the
        caller's check."""
        return _parse(text, self.price_places, "price")

    def parse_size(self, text: str) -> int:
        """A base-coin size → lots; same rules, at most ``quantityPrecision`` places."""
        return _parse(text, self.size_places, "size")

    def parse_quote_amount(self, text: str) -> int:
        """A quote-coin amount (a market buy's ``size``) → quote atoms, at most
        ``quotePrecision`` places."""
        places = self.quote_places
        return lots_to_atoms(_parse(text, places, "size"), places)

    # exact ints → text and atoms

    def price_str(self, ticks: int) -> str:
        return scaled_to_str(ticks, self.price_places)

    def size_str(self, lots: int) -> str:
        return scaled_to_str(lots, self.size_places)

    def base_atoms(self, lots: int) -> int:
        return lots * self.base_unit_atoms

    def quote_atoms(self, ticks: int, lots: int) -> int:
        """Exact quote value of ``lots`` at ``ticks``."""
        return ticks * lots * self.quote_unit_atoms

    def price_atoms(self, ticks: int) -> int:
        """Quote atoms per whole base coin at ``ticks``."""
        return lots_to_atoms(ticks, self.price_places)


def _parse(text: str, places: int, field: str) -> int:
    if not isinstance(text, str):
        raise PrecisionError(f"{field} must be a decimal string")
    if len(text) > MAX_TEXT or not text.isascii():
        raise PrecisionError(f"{field} is not a plain decimal number")
    try:
        return parse_scaled(text, places)
    except MoneyError as exc:
        if "decimal places" in str(exc):
            raise PrecisionError(
                f"{field} checkBDScale error value={text.strip()} checkScale={places}"
            ) from None
        raise PrecisionError(f"{field} {exc}") from None


# --- building --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ChainFacts:
    native: str
    fee_usd: Fraction
    deposit_confirm: int
    withdraw_confirm: int
    style: str
    url: str


def _chain_table() -> dict[str, _ChainFacts]:
    table: dict[str, _ChainFacts] = {}
    for line in _data.CHAINS.strip().splitlines():
        name, native, fee, dep, wd, style, url = line.split()
        table[name] = _ChainFacts(native, Fraction(fee), int(dep), int(wd), style, url)
    return table


def _withdraw_scale(price: Fraction) -> int:
    """Decimals a withdrawal may have: the least making one unit worth ≤ 10^-6 USD, capped
    to 0..8 (so 8 for BTC, 6 for USDT, 0 for coins under 10^-6 USD)."""
    return min(8, max(0, _ceil_log10(price) + 6))


def _build_chain(coin: str, price: Fraction, name: str, facts: _ChainFacts) -> Chain:
    scale = _withdraw_scale(price)
    to_atoms = 10 ** (ATOM_PLACES - scale)
    fee = _ceil_sig(facts.fee_usd / price, 2, scale)
    fee_coins = Fraction(fee, 10**scale)
    min_withdraw = _ceil_sig(max(2 * fee_coins, _MIN_WITHDRAW_USD / price), 1, scale)
    min_deposit = _ceil_sig(_MIN_DEPOSIT_USD / price, 1, scale)
    address = None if facts.native == coin else _contract_address(coin, name, facts.style)
    return Chain(
        chain=name,
        need_tag=name in _data.MEMO_CHAINS,
        withdrawable=True,
        rechargeable=True,
        withdraw_fee_atoms=fee * to_atoms,
        min_withdraw_atoms=min_withdraw * to_atoms,
        min_deposit_atoms=min_deposit * to_atoms,
        deposit_confirm=facts.deposit_confirm,
        withdraw_confirm=facts.withdraw_confirm,
        withdraw_scale=scale,
        browser_url=facts.url,
        contract_address=address,
    )


def _build_coins(lines: Iterable[str]) -> tuple[Coin, ...]:
    table = _chain_table()
    coins: list[Coin] = []
    for rank, line in enumerate(lines):
        name, price_text, *chain_names = line.split()
        price = Fraction(price_text)
        if price <= 0 or not chain_names:
            raise ValueError(f"bad coin line {line!r}")
        chains = []
        for chain_name in chain_names:
            if chain_name not in table:  # the coin's own chain
                table[chain_name] = _ChainFacts(
                    name,
                    Fraction(_DEFAULT_FEE_USD),
                    *_DEFAULT_CONFIRMS,
                    "-",
                    _DEFAULT_URL.format(slug=chain_name.lower()),
                )
            chains.append(_build_chain(name, price, chain_name, table[chain_name]))
        coins.append(Coin(name, rank + 1, rank, price, tuple(chains)))
    return tuple(coins)


def _price_places(price: Fraction) -> int:
    """Least p ≥ 0 with 10^-p ≤ price × 10^-4."""
    return max(0, 4 - _floor_log10(price))


def _size_places(base_usd: Fraction) -> int:
    """Least q ≥ 0 with 10^-q × base_usd ≤ 0.1 USDT."""
    return max(0, _ceil_log10(base_usd * 10))


def _quote_value_limit(usd: Fraction, quote_usd: Fraction) -> str:
    return str(10 ** _pow10_at_most(usd / quote_usd))


def _build_symbol(base: Coin, quote: Coin, fees: FeeSchedule) -> Symbol | None:
    price = base.ref_price_usd / quote.ref_price_usd
    p = _price_places(price)
    if p > MAX_PRICE_PLACES:
        return None
    q = _size_places(base.ref_price_usd)
    if p + q > ATOM_PLACES:  # cannot happen for quote coins under 10^6 USD
        return None
    ticks = _round_half_up(price, p)
    max_base = 10 ** _pow10_at_most(_MAX_TRADE_USD / base.ref_price_usd)
    return Symbol(
        symbol=base.coin + quote.coin,
        base=base.coin,
        quote=quote.coin,
        rank=base.rank,
        price_places=p,
        size_places=q,
        ref_ticks=ticks,
        min_lots=1,
        max_lots=max_base * 10**q,
        min_trade_usdt="1",
        max_limit_order_value=_quote_value_limit(_MAX_LIMIT_ORDER_USD, quote.ref_price_usd),
        max_market_order_value=_quote_value_limit(_MAX_MARKET_ORDER_USD, quote.ref_price_usd),
        status="online",
        maker_rate=fees.spot_maker,
        taker_rate=fees.spot_taker,
    )


def _build_symbols(coins: Sequence[Coin], cross_top: int, fees: FeeSchedule) -> tuple[Symbol, ...]:
    by_name = {c.coin: c for c in coins}
    quote_rank = {name: i for i, name in enumerate(QUOTE_COINS)}
    symbols: list[Symbol] = []
    for quote_name in QUOTE_COINS:
        quote = by_name[quote_name]
        candidates = coins if quote_name == "USDT" else coins[:cross_top]
        for base in candidates:
            if base.coin == quote_name:
                continue
            if quote_rank.get(base.coin, len(QUOTE_COINS)) < quote_rank[quote_name]:
                continue  # a higher-ranked quote coin is never quoted in a lower one
            if base.coin in _data.STABLECOINS and quote_name not in ("USDT", "USDC"):
                continue
            symbol = _build_symbol(base, quote, fees)
            if symbol is not None:
                symbols.append(symbol)
    return tuple(symbols)


class Catalog:
    """Every coin and spot symbol, in a stable order, with lookups.

    ``Catalog()`` builds the default catalog (433 coins, 1,395 symbols) in about 40 ms;
    :func:`default_catalog` shares one instance.
    """

    __slots__ = ("_coin_by_name", "_symbol_by_id", "coins", "fees", "symbols")

    def __init__(
        self,
        coin_lines: Iterable[str] | None = None,
        *,
        cross_top: int = 250,
        fees: FeeSchedule | None = None,
    ) -> None:
        lines = _data.COINS.strip().splitlines() if coin_lines is None else list(coin_lines)
        self.fees = fees if fees is not None else FeeSchedule()
        self.coins: tuple[Coin, ...] = _build_coins(lines)
        self._coin_by_name = {c.coin: c for c in self.coins}
        if len(self._coin_by_name) != len(self.coins):
            raise ValueError("duplicate coin in the catalog")
        missing = [q for q in QUOTE_COINS if q not in self._coin_by_name]
        if missing:
            raise ValueError(f"quote coins missing from the catalog: {missing}")
        self.symbols: tuple[Symbol, ...] = _build_symbols(self.coins, cross_top, self.fees)
        self._symbol_by_id = {s.symbol: s for s in self.symbols}
        if len(self._symbol_by_id) != len(self.symbols):
            raise ValueError("duplicate symbol id in the catalog")

    def coin(self, name: str) -> Coin:
        """The coin named exactly ``name`` (``"BTC"``), else :class:`UnknownCoin` (40034)."""
        try:
            return self._coin_by_name[name]
        except (KeyError, TypeError):
            raise UnknownCoin(name) from None

    def symbol(self, symbol_id: str) -> Symbol:
        """The symbol ``"BTCUSDT"`` (ASCII case ignored), else :class:`UnknownSymbol` (50004,
        ccxt ``BadSymbol``)."""
        found = None
        if isinstance(symbol_id, str):
            found = self._symbol_by_id.get(symbol_id)
            if found is None and symbol_id.isascii():
                found = self._symbol_by_id.get(symbol_id.upper())
        if found is None:
            raise UnknownSymbol(symbol_id)
        return found

    def has_symbol(self, symbol_id: str) -> bool:
        """Whether ``symbol_id`` is exactly a symbol's id (no case folding)."""
        return symbol_id in self._symbol_by_id

    def quoted_in(self, quote: str) -> tuple[Symbol, ...]:
        return tuple(s for s in self.symbols if s.quote == quote)

    def top_symbols(self, n: int) -> tuple[Symbol, ...]:
        """The ``n`` largest online USDT pairs, largest first (for the demo market maker)."""
        usdt = [s for s in self.symbols if s.quote == "USDT" and s.online]
        return tuple(sorted(usdt, key=lambda s: s.rank)[: max(0, n)])


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The shared default catalog (immutable, built on first use)."""
    return Catalog()
