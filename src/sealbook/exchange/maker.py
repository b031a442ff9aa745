"""The demo market maker: liquid, moving books on the largest symbols, from a seed.

Three parts, from pure to running:

* :class:`Maker` decides, and does nothing else (no I/O, no clock; integers only). It walks
  a reference price per symbol (ticks, a seeded ``random.Random``, gently pulled back to
  the catalog's price), says which quotes it wants around it (``levels`` per side on a
  fixed grid of prices, so a small move of the reference changes one or two levels, not
  all of them), which of its open orders to cancel and which quotes to place, and now and
  then a small IOC order that crosses the spread so trades happen.
* :class:`MakerBot` carries those decisions out on an :class:`ExchangeCore` as two system
  users: ``demo-maker`` quotes, ``demo-taker`` crosses. It only ever cancels orders it
  placed itself (and the core refuses anyone else's), tops both users up when a coin runs
  low, and logs a refused command and goes on.
* :func:`run_maker` is the asyncio task: every ``interval_s`` one :meth:`MakerBot.step`
  through :meth:`ExchangeService.run`, so each step is committed like any other command.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from sealbook.clock import Clock
from sealbook.engine import Side
from sealbook.errors import SealbookError
from sealbook.exchange.core import ExchangeCore, PlaceRequest
from sealbook.exchange.service import ExchangeService
from sealbook.markets import Symbol
from sealbook.money import ATOMS_PER_UNIT, parse_atoms

__all__ = [
    "Maker",
    "MakerBot",
    "MakerConfig",
    "Plan",
    "Quote",
    "Resting",
    "StepReport",
    "run_maker",
]

log = logging.getLogger("sealbook.demo.maker")

USDT = "USDT"
_PPM = 1_000_000


@dataclass(frozen=True, slots=True)
class MakerConfig:
    """How the maker quotes. Rates are parts per million of the reference price."""

    levels: int = 5  # quotes per side
    spread_ppm: int = 1_000  # the quoted spread is at least this (0.1 %)...
    grid_ppm: int = 500  # ...plus under one grid step; levels are one grid step apart
    size_unit_usdt: int = 25  # a level is worth unit × (level + 1) × a multiple, in USDT
    min_size_mult: int = 2
    max_size_mult: int = 10
    walk_ppm: int = 200  # each step moves the reference by up to this much
    revert_per: int = 3_600  # ...and 1/revert_per of the way back to the catalog's price
    cross_per_mille: int = 30  # chance per symbol and step of a crossing IOC order
    fund_usdt: int = 1_000_000  # each system user holds about this much of every coin

    def __post_init__(self) -> None:
        if self.levels < 1 or self.grid_ppm < 1 or self.spread_ppm < 2:
            raise ValueError("levels, grid and spread must be positive")
        if not 1 <= self.min_size_mult <= self.max_size_mult:
            raise ValueError("size multiples must satisfy 1 <= min <= max")
        if self.size_unit_usdt < 1 or self.revert_per < 1 or self.fund_usdt < 1:
            raise ValueError("size unit, reversion and funding must be positive")
        if not 0 <= self.cross_per_mille <= 1000:
            raise ValueError("cross_per_mille must be within 0..1000")


class Resting(NamedTuple):
    """One of the maker's open orders, as far as deciding goes."""

    order_id: int
    side: Side
    price_ticks: int


class Quote(NamedTuple):
    """An order to place: a limit price and a size in lots."""

    side: Side
    price_ticks: int
    size_lots: int


@dataclass(frozen=True, slots=True)
class Plan:
    """What to do on one symbol: cancel these order ids, then place these quotes."""

    cancel: tuple[int, ...]
    place: tuple[Quote, ...]


class Maker:
    """The maker's decisions for ``symbols`` (USDT-quoted), reproducible from ``seed``."""

    def __init__(
        self,
        symbols: Sequence[Symbol],
        seed: int,
        config: MakerConfig | None = None,
        *,
        start_ticks: Mapping[str, int] | None = None,
    ) -> None:
        for sym in symbols:
            if sym.quote != USDT:
                raise ValueError(f"the demo maker quotes USDT pairs only, not {sym.symbol}")
        self.symbols = tuple(symbols)
        self.config = config or MakerConfig()
        self._rng = random.Random(seed)
        self._by_name = {s.symbol: s for s in self.symbols}
        self._ref = {s.symbol: s.ref_ticks for s in self.symbols}
        for name, ticks in (start_ticks or {}).items():
            self.set_reference(name, ticks)

    # --- the reference price -----------------------------------------------------------

    def reference(self, symbol: str) -> int:
        return self._ref[symbol]

    def set_reference(self, symbol: str, ticks: int) -> None:
        sym = self._by_name[symbol]
        self._ref[symbol] = _clamp(ticks, sym.ref_ticks)

    def move(self, symbol: str) -> int:
        """One step of the walk: a random move of up to ``walk_ppm``, plus a pull of
        1/``revert_per`` of the distance back to the catalog's price (both in whole ticks,
        the pull rounded toward zero). Returns the new reference."""
        anchor = self._by_name[symbol].ref_ticks
        ref = self._ref[symbol]
        reach = max(1, ref * self.config.walk_ppm // _PPM)
        gap = anchor - ref
        pull = gap // self.config.revert_per if gap >= 0 else -(-gap // self.config.revert_per)
        ref = _clamp(ref + self._rng.randint(-reach, reach) + pull, anchor)
        self._ref[symbol] = ref
        return ref

    # --- quoting -----------------------------------------------------------------------

    def grid(self, symbol: Symbol) -> int:
        """Ticks between levels: fixed per symbol (from its catalog price), never 0."""
        return max(1, symbol.ref_ticks * self.config.grid_ppm // _PPM)

    def wanted(self, symbol: Symbol, ref_ticks: int) -> tuple[list[int], list[int]]:
        """``(bids, asks)`` prices, best first: the grid prices at least half the spread
        below and above ``ref_ticks``. Bids stay above zero."""
        step = self.grid(symbol)
        half = max(1, ref_ticks * self.config.spread_ppm // (2 * _PPM))
        top_bid = (ref_ticks - half) // step * step
        low_ask = -(-(ref_ticks + half) // step) * step
        levels = range(self.config.levels)
        bids = [p for p in (top_bid - i * step for i in levels) if p > 0]
        asks = [low_ask + i * step for i in levels]
        return bids, asks

    def plan(self, symbol: Symbol, ref_ticks: int, resting: Iterable[Resting]) -> Plan:
        """Orders on a wanted price stay (one per price, keeping their queue place);
        every other one is cancelled; each wanted price left empty gets a new quote."""
        bids, asks = self.wanted(symbol, ref_ticks)
        wanted = {(Side.BUY, p): i for i, p in enumerate(bids)}
        wanted.update({(Side.SELL, p): i for i, p in enumerate(asks)})
        kept: set[tuple[Side, int]] = set()
        cancel: list[int] = []
        for order in sorted(resting, key=lambda r: r.order_id):
            key = (order.side, order.price_ticks)
            if key in wanted and key not in kept:
                kept.add(key)
            else:
                cancel.append(order.order_id)
        place = [
            Quote(side, price, self._size(symbol, price, level))
            for (side, price), level in wanted.items()
            if (side, price) not in kept
        ]
        return Plan(tuple(cancel), tuple(place))

    def cross(self, symbol: Symbol, best_bid: int | None, best_ask: int | None) -> Quote | None:
        """Now and then (``cross_per_mille``) a small order at the best price on the other
        side, to be placed IOC: it trades at once or not at all."""
        if self._rng.randrange(1000) >= self.config.cross_per_mille:
            return None
        side = Side.BUY if self._rng.randrange(2) == 0 else Side.SELL
        price = best_ask if side is Side.BUY else best_bid
        if price is None:
            return None
        value = self.config.size_unit_usdt * self._rng.randint(1, 4)
        return Quote(side, price, self._lots_worth(symbol, price, value))

    def fund_atoms(self, symbol: Symbol) -> int:
        """About ``fund_usdt`` worth of the base coin at the reference, in whole lots."""
        price_atoms = symbol.price_atoms(self._ref[symbol.symbol])
        atoms = self.config.fund_usdt * ATOMS_PER_UNIT * ATOMS_PER_UNIT // price_atoms
        return symbol.base_atoms(max(1, atoms // symbol.base_atoms(1)))

    # --- internals ---------------------------------------------------------------------

    def _size(self, symbol: Symbol, price: int, level: int) -> int:
        mult = self._rng.randint(self.config.min_size_mult, self.config.max_size_mult)
        return self._lots_worth(symbol, price, self.config.size_unit_usdt * mult * (level + 1))

    def _lots_worth(self, symbol: Symbol, price: int, usdt: int) -> int:
        """Lots worth at least ``usdt`` (and the symbol's minimum order) at ``price``."""
        per_lot = symbol.quote_atoms(price, 1)
        floor_value = max(usdt * ATOMS_PER_UNIT, parse_atoms(symbol.min_trade_usdt))
        lots: int = max(symbol.min_lots, 1, -(-floor_value // per_lot))
        return min(lots, symbol.max_lots)


def _clamp(ticks: int, anchor: int) -> int:
    """Keep a walk within a tenth and ten times the catalog's price."""
    return min(max(ticks, 1, anchor // 10), anchor * 10)


@dataclass(slots=True)
class StepReport:
    """What one step did; ``errors`` are the commands the core refused."""

    placed: int = 0
    cancelled: int = 0
    crossed: int = 0
    deposits: int = 0
    errors: list[str] = field(default_factory=list)


class MakerBot:
    """Runs a :class:`Maker` on an :class:`ExchangeCore` as ``maker_id`` and ``taker_id``.

    It remembers the ids of the orders it placed, so a step never scans the core's orders
    (which keeps every order it saw); on a core it has not seen before (the first step,
    or after the service rebuilt its core from the database) it looks up the maker's open
    orders once.
    """

    def __init__(self, maker: Maker, maker_id: int, taker_id: int) -> None:
        if maker_id == taker_id:
            raise ValueError("the maker and the taker must be different users")
        self.maker = maker
        self.maker_id = maker_id
        self.taker_id = taker_id
        self._core: ExchangeCore | None = None
        self._mine: dict[str, set[int]] = {}

    def step(self, core: ExchangeCore, now_ms: int) -> StepReport:
        report = StepReport()
        if core is not self._core:
            self._adopt(core)
        self._fund(core, now_ms, report)
        for sym in self.maker.symbols:
            ref = self.maker.move(sym.symbol)
            plan = self.maker.plan(sym, ref, self.resting(core, sym.symbol))
            self._carry_out(core, sym, plan, now_ms, report)
            bids, asks = core.engine.depth(sym.symbol, 1)
            quote = self.maker.cross(
                sym, bids[0][0] if bids else None, asks[0][0] if asks else None
            )
            if quote is not None:
                self._cross(core, sym, quote, now_ms, report)
        return report

    def resting(self, core: ExchangeCore, symbol: str) -> list[Resting]:
        """The maker's open orders on ``symbol`` (forgetting the ones that ended)."""
        ids = self._mine.setdefault(symbol, set())
        found: list[Resting] = []
        for order_id in sorted(ids):
            order = core.orders.get(order_id)
            if (
                order is None
                or not order.is_open
                or order.user_id != self.maker_id
                or order.price_ticks is None
            ):
                ids.discard(order_id)
                continue
            found.append(Resting(order_id, order.side, order.price_ticks))
        return found

    def _adopt(self, core: ExchangeCore) -> None:
        names = {s.symbol for s in self.maker.symbols}
        self._mine = {name: set() for name in names}
        for order in core.open_orders(self.maker_id):
            if order.symbol in self._mine:
                self._mine[order.symbol].add(order.order_id)
        if self._core is None:  # first step: carry on from the last traded prices
            for name in names:
                if name in core.last_price:
                    self.maker.set_reference(name, core.last_price[name])
        self._core = core

    def _fund(self, core: ExchangeCore, now_ms: int, report: StepReport) -> None:
        """Top each system user up to ``fund_usdt`` worth of a coin when under a quarter."""
        targets = {USDT: self.maker.config.fund_usdt * ATOMS_PER_UNIT}
        for sym in self.maker.symbols:
            targets[sym.base] = self.maker.fund_atoms(sym)
        for user_id in (self.maker_id, self.taker_id):
            for coin, target in targets.items():
                have = core.ledger.available(user_id, coin) + core.ledger.frozen(user_id, coin)
                if have * 4 >= target:
                    continue
                try:
                    core.deposit(user_id, coin, None, target - have, "demo-maker", now_ms)
                    report.deposits += 1
                except SealbookError as exc:
                    self._refused(report, f"deposit {coin} to user {user_id}", exc)

    def _carry_out(
        self, core: ExchangeCore, sym: Symbol, plan: Plan, now_ms: int, report: StepReport
    ) -> None:
        mine = self._mine.setdefault(sym.symbol, set())
        for order_id in plan.cancel:
            try:
                core.cancel(self.maker_id, sym.symbol, now_ms, order_id=order_id)
                report.cancelled += 1
            except SealbookError as exc:
                self._refused(report, f"cancel {sym.symbol} order {order_id}", exc)
            mine.discard(order_id)
        for quote in plan.place:
            try:
                order = core.place(self.maker_id, _request(sym, quote, "gtc"), now_ms)
            except SealbookError as exc:
                self._refused(report, f"quote {sym.symbol} {quote.side} {quote.price_ticks}", exc)
                continue
            report.placed += 1
            if order.is_open:
                mine.add(order.order_id)

    def _cross(
        self, core: ExchangeCore, sym: Symbol, quote: Quote, now_ms: int, report: StepReport
    ) -> None:
        try:
            core.place(self.taker_id, _request(sym, quote, "ioc"), now_ms)
            report.crossed += 1
        except SealbookError as exc:
            self._refused(report, f"cross {sym.symbol} {quote.side}", exc)

    @staticmethod
    def _refused(report: StepReport, what: str, exc: SealbookError) -> None:
        line = f"{what}: {exc.code} {exc.msg}"
        report.errors.append(line)
        log.warning("demo market maker: %s", line)


def _request(sym: Symbol, quote: Quote, force: str) -> PlaceRequest:
    return PlaceRequest(
        symbol=sym.symbol,
        side=quote.side.value,
        order_type="limit",
        size=sym.size_str(quote.size_lots),
        price=sym.price_str(quote.price_ticks),
        force=force,
    )


async def run_maker(
    service: ExchangeService, bot: MakerBot, clock: Clock, *, interval_s: float = 1.0
) -> None:
    """Step ``bot`` every ``interval_s`` until cancelled; a failed step is logged, not fatal."""
    log.info(
        "demo market maker quoting %d symbols every %.1f s", len(bot.maker.symbols), interval_s
    )
    while True:
        try:
            await service.run(lambda core: bot.step(core, clock.now_ms()))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("demo market maker: a step failed; trying again")
        await asyncio.sleep(interval_s)
