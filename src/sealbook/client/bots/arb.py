"""The arbitrage bot: one symbol on two exchanges; buy where it is cheap and sell where it
is dear, when the gap beats both taker fees plus a minimum edge.

A *round* buys on one exchange (an IOC limit at the ask it saw) and then sells what was
bought on the other (an IOC limit at the bid it saw; whatever that leaves unsold is sold
at the best bid of later ticks). Each exchange's inventory — the base the bot bought
there minus what it sold there — stays within ``±max_position``. A round's realised
profit is computed from its fills once the sold amount equals the bought amount.
Every order is an intent in :class:`BotState` first, so restarts never repeat one.
"""

from __future__ import annotations

import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sealbook.client.bots import pnl
from sealbook.client.bots.events import Events
from sealbook.client.bots.reconcile import finished, resolve_intents, send_intent, sync_fills
from sealbook.client.bots.retry import Backoff, Stopped, pause
from sealbook.client.bots.state import LIVE, BotState
from sealbook.client.bots.venue import Book, Venue
from sealbook.client.errors import ClientError

__all__ = ["ArbBot", "ArbConfig", "ArbStatus", "parse_edge"]

ZERO = Decimal(0)


def parse_edge(text: str) -> Decimal:
    """``0.3%`` → 0.003; ``0.003`` → 0.003. Refuses negatives and nonsense."""
    raw = text.strip()
    try:
        value = Decimal(raw[:-1]) / 100 if raw.endswith("%") else Decimal(raw)
    except ArithmeticError:
        raise ClientError(f"--min-edge {text!r} is not a number or a percentage") from None
    if not value.is_finite() or value < 0 or value >= 1:
        raise ClientError(f"--min-edge {text!r} must be at least 0 and under 100 %")
    return value


@dataclass(frozen=True, slots=True)
class ArbConfig:
    symbol: str
    min_edge: Decimal  # a fraction: 0.003 is 0.3 %
    max_position: Decimal  # base coin, per exchange, either way

    def check(self) -> None:
        if self.max_position <= 0:
            raise ClientError("--max-position must be positive")


@dataclass(slots=True)
class ArbStatus:
    symbol: str
    books: dict[str, Book]
    positions: dict[str, Decimal]
    rounds: int
    realised: Decimal
    last_edge: dict[str, Decimal]  # "A>B" → the edge of buying on A and selling on B


def _now_ms() -> int:
    return int(time.time() * 1000)


class ArbBot:
    def __init__(
        self,
        venues: dict[str, Venue],
        config: ArbConfig,
        state: BotState,
        events: Events,
        *,
        backoff: Backoff | None = None,
        clock_ms: Callable[[], int] = _now_ms,
    ) -> None:
        if len(venues) != 2:
            raise ClientError("the arbitrage bot needs exactly two --creds")
        config.check()
        self.venues = venues
        self.config = config
        self.state = state
        self.events = events
        self.backoff = backoff or Backoff(events)
        self.clock_ms = clock_ms
        self.books: dict[str, Book] = {}
        self.last_edge: dict[str, Decimal] = {}
        markets = [v.market for v in venues.values()]
        if len({(m.base, m.quote) for m in markets}) != 1:
            raise ClientError("both exchanges must trade the same base and quote coin")
        # Sizes must be valid on both exchanges: use the coarser lot.
        self.lot_market = max(markets, key=lambda m: m.lot)

    @property
    def run_id(self) -> str:
        return self.state.get("run_id") or ""

    def start(self) -> None:
        names = ",".join(sorted(self.venues))
        if self.state.get("kind") is not None:
            if (self.state.get("kind"), self.state.get("symbol"), self.state.get("venues")) != (
                "arb", self.config.symbol, names
            ):
                raise ClientError(
                    f"the state file {self.state.path} belongs to another bot; give another --state"
                )
            self.events.emit("resumed", symbol=self.config.symbol, run_id=self.run_id)
            return
        with self.state.transaction():
            self.state.put("kind", "arb")
            self.state.put("symbol", self.config.symbol)
            self.state.put("venues", names)
            self.state.put("run_id", "".join(
                secrets.choice(string.ascii_lowercase + string.digits) for _ in range(6)))
            self.state.put("rounds", "0")
        self.events.emit("started", symbol=self.config.symbol, run_id=self.run_id,
                         venues=sorted(self.venues))

    # --- the loop ------------------------------------------------------------------------

    def run(self, should_stop: Callable[[], bool], *, interval_s: float = 1.0,
            on_tick: Callable[[ArbBot], None] | None = None) -> None:
        self.backoff.should_stop = should_stop
        try:
            self.start()
            while not should_stop():
                self.tick()
                if on_tick is not None:
                    on_tick(self)
                pause(should_stop, interval_s)
        except Stopped:
            pass

    def tick(self) -> None:
        for _ in range(4):  # a round's legs follow each other within one tick
            self._sync()
            if not self._advance():
                break

    def _sync(self) -> None:
        for name, venue in self.venues.items():
            resolve_intents(self.state, venue, self.backoff, self.events, vname=name)
            open_ids = {o.client_oid for o in self.backoff.call("open orders", venue.open_orders)}
            sync_fills(self.state, venue, self.backoff, self.clock_ms(), vname=name)
            for done in finished(self.state, venue, open_ids, self.backoff, vname=name):
                self.state.set_status(done.order.client_oid, done.outcome)

    def _advance(self) -> bool:
        """One step of the current round, or a new round; True if an order was sent."""
        if self.state.orders(*LIVE):
            return False  # a leg is still on its way
        current = int(self.state.get("rounds") or 0)
        if current and self.state.get(f"round:{current}:done") is None:
            return self._continue_round(current)
        self.books = {n: self.backoff.call("order book", v.book) for n, v in self.venues.items()}
        return self._maybe_open_round(current + 1)

    def _round_fills(self, r: int) -> tuple[list[str], list[str]]:
        orders = [o for o in self.state.orders() if o.role == "arb" and o.cell == r]
        buys = [o.client_oid for o in orders if o.side == "buy"]
        sells = [o.client_oid for o in orders if o.side == "sell"]
        return buys, sells

    def _continue_round(self, r: int) -> bool:
        sell_v = self.state.get(f"round:{r}:sell") or ""
        buys, sells = self._round_fills(r)
        bought = sum((self.state.filled_amount(o) for o in buys), ZERO)
        sold = sum((self.state.filled_amount(o) for o in sells), ZERO)
        left = self.lot_market.floor_amount(bought - sold)
        if left <= 0:
            self._close_round(r, buys, sells)
            return False
        if sells:  # the first sell fell short: sell the rest at the best bid now
            book = self.backoff.call("order book", self.venues[sell_v].book)
            if book.bid is None:
                return False  # nobody buys there right now: try again next tick
            price = book.bid
        else:
            price = Decimal(self.state.get(f"round:{r}:bid") or "0")
        if not self.venues[sell_v].market.tradable(price, left):
            self._close_round(r, buys, sells)  # a rest too small to sell: it stays inventory
            return False
        oid = f"a{self.run_id}r{r}s{len(sells)}"
        order = self.state.add_intent(oid, role="arb", side="sell", amount=left, price=price,
                                      now_ms=self.clock_ms(), cell=r, venue=sell_v, ioc=True)
        send_intent(self.state, self.venues[sell_v], order, self.backoff, self.events)
        return True

    def _close_round(self, r: int, buys: list[str], sells: list[str]) -> None:
        buy_fills = [f for o in buys for f in self.state.fills(o)]
        sell_fills = [f for o in sells for f in self.state.fills(o)]
        profit = pnl.pair_profit(buy_fills, sell_fills, self.lot_market)
        with self.state.transaction():
            if buy_fills:
                self.state.add_pair(r, buys[0], sells[-1] if sells else "", profit,
                                    self.clock_ms())
            self.state.put(f"round:{r}:done", "1")
        if buy_fills:
            self.events.emit("round", round=r, profit=profit,
                             bought=sum((f.amount for f in buy_fills), ZERO),
                             sold=sum((f.amount for f in sell_fills), ZERO),
                             realised=self.state.realised())

    def positions(self) -> dict[str, Decimal]:
        """Base held per exchange because of the bot: bought − sold − fees paid in base."""
        return {
            name: self.state.totals(venue=name).position(v.market).base
            for name, v in self.venues.items()
        }

    def exposure(self) -> dict[str, Decimal]:
        """Base bought − sold per exchange, fees ignored: what the limits are held to (a
        little stricter than the position, which the buys' fees make smaller)."""
        out: dict[str, Decimal] = {}
        for name in self.venues:
            totals = self.state.totals(venue=name)
            out[name] = totals.buy_amount - totals.sell_amount
        return out

    def _maybe_open_round(self, r: int) -> bool:
        names = list(self.venues)
        positions = self.exposure()
        best: tuple[Decimal, str, str, Decimal] | None = None
        for buy_v, sell_v in ((names[0], names[1]), (names[1], names[0])):
            ask, bid = self.books[buy_v].ask, self.books[sell_v].bid
            if ask is None or bid is None or ask <= 0:
                continue
            fees = self.venues[buy_v].market.taker_fee + self.venues[sell_v].market.taker_fee
            edge = (bid - ask) / ask - fees
            self.last_edge[f"{buy_v}>{sell_v}"] = edge
            if edge < self.config.min_edge:
                continue
            size = self._size(buy_v, sell_v, ask, positions)
            if size > 0 and (best is None or edge > best[0]):
                best = (edge, buy_v, sell_v, size)
        if best is None:
            return False
        edge, buy_v, sell_v, size = best
        ask, bid = self.books[buy_v].ask, self.books[sell_v].bid
        assert ask is not None and bid is not None
        oid = f"a{self.run_id}r{r}b0"
        with self.state.transaction():
            self.state.put("rounds", str(r))
            self.state.put(f"round:{r}:buy", buy_v)
            self.state.put(f"round:{r}:sell", sell_v)
            self.state.put(f"round:{r}:bid", str(bid))
            order = self.state.add_intent(oid, role="arb", side="buy", amount=size, price=ask,
                                          now_ms=self.clock_ms(), cell=r, venue=buy_v, ioc=True)
        self.events.emit("opportunity", round=r, buy=buy_v, sell=sell_v, ask=ask, bid=bid,
                         edge=edge, amount=size)
        send_intent(self.state, self.venues[buy_v], order, self.backoff, self.events)
        return True

    def _size(self, buy_v: str, sell_v: str, ask: Decimal, pos: dict[str, Decimal]) -> Decimal:
        cap = self.config.max_position
        buy_m = self.venues[buy_v].market
        quote = self.backoff.call("balance", lambda: self.venues[buy_v].free(buy_m.quote))
        base = self.backoff.call("balance", lambda: self.venues[sell_v].free(buy_m.base))
        size = min(
            self.books[buy_v].ask_size,
            self.books[sell_v].bid_size,
            cap - pos[buy_v],  # inventory bought on buy_v stays within +cap
            cap + pos[sell_v],  # inventory sold on sell_v stays within -cap
            quote / (ask * (1 + buy_m.taker_fee)),
            base,
        )
        size = self.lot_market.floor_amount(max(size, ZERO))
        ok = all(v.market.tradable(ask, size) for v in self.venues.values())
        return size if ok else ZERO

    def status(self) -> ArbStatus:
        return ArbStatus(
            symbol=self.config.symbol,
            books=dict(self.books),
            positions=self.positions(),
            rounds=self.state.pair_count(),
            realised=self.state.realised(),
            last_edge=dict(self.last_edge),
        )
