"""The grid bot: place the grid, turn each filled order into the opposite one a level
away, count realised profit per completed buy/sell pair, close out on stop-loss or
take-profit. Every step is recorded in :class:`BotState` before it is acted on, so the
bot can be killed at any point and started again on the same state file.
"""

from __future__ import annotations

import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from sealbook.client.bots import pnl
from sealbook.client.bots.events import Events
from sealbook.client.bots.grid import GridPlan, GridSpec, plan_grid
from sealbook.client.bots.reconcile import Done, finished, resolve_intents, send_intent, sync_fills
from sealbook.client.bots.retry import Backoff, Stopped, pause
from sealbook.client.bots.state import LIVE, BotState
from sealbook.client.bots.venue import Book, Fill, Venue
from sealbook.client.errors import ClientError

__all__ = ["GridBot", "GridStatus"]

_RUN_ALPHABET = string.ascii_lowercase + string.digits
SEED_BUFFER = Decimal("0.02")  # extra base bought at the start: the buys' fees eat into it
SEED_SLIPPAGE = Decimal("0.01")
REJECT_COOLDOWN_S = 10.0  # the seed buy is an IOC limit this far above the ask


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(slots=True)
class GridStatus:
    symbol: str
    phase: str
    price: Decimal | None
    levels: list[Decimal]
    orders: dict[int, str]  # level → "buy" | "sell" for our live orders
    open_orders: int
    fills: int
    pairs: int
    realised: Decimal
    unrealised: Decimal
    position: Decimal
    other_fees: dict[str, Decimal] = field(default_factory=dict)


class GridBot:
    def __init__(
        self,
        venue: Venue,
        spec: GridSpec,
        state: BotState,
        events: Events,
        *,
        backoff: Backoff | None = None,
        clock_ms: Callable[[], int] = _now_ms,
    ) -> None:
        self.venue = venue
        self.market = venue.market
        self.spec = spec
        self.state = state
        self.events = events
        self.backoff = backoff or Backoff(events)
        self.clock_ms = clock_ms
        self.plan: GridPlan = plan_grid(spec, self.market)
        self.mark: Decimal | None = None
        self._started = False
        self._cooldown: dict[int, float] = {}

    # --- setup -------------------------------------------------------------------------

    @property
    def run_id(self) -> str:
        return self.state.get("run_id") or ""

    @property
    def phase(self) -> str:
        return self.state.get("phase") or "new"

    def start(self) -> None:
        """First run: fix the grid in the state and buy the base the sells need.
        A restart: check the state is this grid's, then carry on where it stopped."""
        saved = self.state.get_json("spec")
        if saved is not None:
            if self.state.get("kind") != "grid" or self.state.get("symbol") != self.market.symbol \
                    or saved != self.spec.as_dict():
                raise ClientError(
                    f"the state file {self.state.path} belongs to another bot or grid "
                    f"({self.state.get('kind')} {self.state.get('symbol')}); give another --state"
                )
            self.events.emit("resumed", symbol=self.market.symbol, run_id=self.run_id,
                             phase=self.phase)
            self._started = True
            return
        book = self.backoff.call("order book", self.venue.book)
        price = book.mid
        if price is None:
            raise ClientError(f"{self.market.symbol} has an empty order book; no price to start at")
        sides = self.plan.start_sides(price)
        have = self.backoff.call("balance", lambda: self.venue.free(self.market.base))
        run_id = "".join(secrets.choice(_RUN_ALPHABET) for _ in range(6))
        with self.state.transaction():
            self.state.put("kind", "grid")
            self.state.put("symbol", self.market.symbol)
            self.state.put_json("spec", self.spec.as_dict())
            self.state.put("run_id", run_id)
            self.state.put("phase", "running")
            self.state.put("checkpoint_ms", str(self.clock_ms()))
            self.state.put_json("sides", sides)
            self.state.put_json("legs", [""] * self.spec.grids)
            self._seed_intent(book, sides, have)
        self.events.emit("started", symbol=self.market.symbol, run_id=run_id, price=price,
                         levels=[str(p) for p in self.plan.levels])
        lv = self.plan.levels
        step = min(lv[i + 1] / lv[i] - 1 for i in range(len(lv) - 1))
        if step <= 2 * self.market.maker_fee:
            self.events.emit("warning", why="a grid step does not cover the fees of a pair: "
                             "each completed pair loses money", step=step,
                             fees=2 * self.market.maker_fee)
        self._started = True

    def _seed_intent(self, book: Book, sides: list[str], have: Decimal) -> None:
        """Write down the buy of the base the first sells need, beyond ``have``."""
        need = sum((s for s, side in zip(self.plan.sizes, sides, strict=True) if side == "sell"),
                   Decimal(0))
        if need <= 0 or book.ask is None:
            return
        short = self.market.ceil_amount(need * (1 + SEED_BUFFER) - have)
        price = self.market.ceil_price(book.ask * (1 + SEED_SLIPPAGE))
        if short > 0 and self.market.tradable(price, short):
            self.state.add_intent(f"g{self.run_id}seed", role="seed", side="buy", amount=short,
                                  price=price, now_ms=self.clock_ms(), ioc=True)

    # --- the loop ------------------------------------------------------------------------

    def run(self, should_stop: Callable[[], bool], *, interval_s: float = 1.0,
            on_tick: Callable[[GridBot], None] | None = None) -> None:
        self.backoff.should_stop = should_stop
        try:
            if not self._started:
                self.start()
            while not should_stop() and self.phase != "closed":
                self.tick()
                if on_tick is not None:
                    on_tick(self)
                pause(should_stop, interval_s)
        except Stopped:
            pass

    def tick(self) -> None:
        if self.phase == "closed":
            return
        book = self.backoff.call("order book", self.venue.book)
        self.mark = book.mark if book.mark is not None else self.mark
        resolve_intents(self.state, self.venue, self.backoff, self.events)
        open_ids = {o.client_oid for o in self.backoff.call("open orders", self.venue.open_orders)}
        sync_fills(self.state, self.venue, self.backoff, self.clock_ms())
        for done in finished(self.state, self.venue, open_ids, self.backoff):
            self._settle(done)
        if self.phase == "running" and self._triggered():
            self.state.put("phase", "closing")
        if self.phase == "closing":
            self._close_out(open_ids)
        elif self.phase == "running":
            self._place_missing()

    def _triggered(self) -> bool:
        mark, sl, tp = self.mark, self.spec.stop_loss, self.spec.take_profit
        if mark is None:
            return False
        hit = (sl is not None and mark <= sl) or (tp is not None and mark >= tp)
        if hit:
            why = "stop_loss" if sl is not None and mark <= sl else "take_profit"
            self.events.emit("close_out", reason=why, price=mark)
        return hit

    # --- fills and cancels ---------------------------------------------------------------

    def _settle(self, done: Done) -> None:
        order = done.order
        with self.state.transaction():
            self.state.set_status(order.client_oid, done.outcome)
            if order.role == "close":
                self.state.put("phase", "closed")
            if order.role == "grid" and done.outcome == "filled":
                self._turn_cell(order.cell, [*self._carried(order.cell), order.client_oid],
                                order.side)
            elif order.role == "grid" and self.state.filled_amount(order.client_oid) > 0:
                # Cancelled by someone else after a partial fill. What it bought or sold
                # stays this cell's: only the rest is placed again, and the cell turns
                # once the whole size has traded, so the grid never trades it twice.
                carry = self._carry()
                carry.setdefault(str(order.cell), []).append(order.client_oid)
                self.state.put_json("carry", carry)
        fills = self.state.fills(order.client_oid)
        self.events.emit(done.outcome, client_oid=order.client_oid, role=order.role,
                         side=order.side, price=order.price, amount=order.amount,
                         filled=sum((f.amount for f in fills), Decimal(0)))
        if order.role == "close":
            self.events.emit("closed", **self._summary())

    def _size(self, cell: int, side: str, price: Decimal) -> Decimal:
        """A buy buys the cell's size; a sell after a buy sells what that buy delivered."""
        size = self.plan.sizes[cell]
        got: dict[str, str] = self.state.get_json("delivered") or {}
        if side == "sell" and str(cell) in got:
            net = self.market.floor_amount(min(size, Decimal(got[str(cell)])))
            if self.market.tradable(price, net):
                return net
        return size

    def _carry(self) -> dict[str, list[str]]:
        """Cell → partly filled orders of its current side that someone else cancelled."""
        carry: dict[str, list[str]] = self.state.get_json("carry") or {}
        return carry

    def _carried(self, cell: int) -> list[str]:
        return list(self._carry().get(str(cell), []))

    def _fills_of(self, oids: list[str]) -> list[Fill]:
        return [f for oid in oids for f in self.state.fills(oid)]

    def _turn_cell(self, cell: int, oids: list[str], side: str) -> None:
        """The cell's ``side`` has traded its size (over the orders ``oids``): the next
        order there is the other side, and a second leg completes a pair."""
        sides: list[str] = self.state.get_json("sides")
        legs: list[str | list[str]] = self.state.get_json("legs")
        leg = _leg_oids(legs[cell])
        if leg:
            first, second = self._fills_of(leg), self._fills_of(oids)
            buys, sells = (first, second) if side == "sell" else (second, first)
            profit = pnl.pair_profit(buys, sells, self.market)
            self.state.add_pair(cell, leg[-1], oids[-1], profit, self.clock_ms())
            self.events.emit("pair", cell=cell, first=leg[-1], second=oids[-1], profit=profit)
            legs[cell] = ""
        else:
            legs[cell] = oids[0] if len(oids) == 1 else oids
        sides[cell] = "sell" if side == "buy" else "buy"
        # The sell that follows a buy sells what the buy delivered (less the fee taken in
        # the base coin), so fees never eat into the base the other cells need.
        got: dict[str, str] = self.state.get_json("delivered") or {}
        if side == "buy":
            got[str(cell)] = str(pnl.delivered(self._fills_of(oids), self.market))
        else:
            got.pop(str(cell), None)
        self.state.put_json("delivered", got)
        carry = self._carry()
        if carry.pop(str(cell), None) is not None:
            self.state.put_json("carry", carry)
        self.state.put_json("sides", sides)
        self.state.put_json("legs", legs)

    # --- placing -------------------------------------------------------------------------

    def _place_missing(self) -> None:
        every = self.state.orders(*LIVE)
        live = [o for o in every if o.role == "grid"]
        seeding = any(o.role == "seed" for o in every)  # sells wait for the base they sell
        busy_cells = {o.cell for o in live}
        busy_levels = {o.level for o in live}
        sides: list[str] = self.state.get_json("sides")
        for cell, side in enumerate(sides):
            if cell in busy_cells or (seeding and side == "sell"):
                continue
            level = self.plan.level_of(cell, side)
            if level in busy_levels:
                continue  # at most one order per level: wait until that one is done
            if self._cooldown.get(cell, 0.0) > time.monotonic():
                continue  # refused a moment ago (funds?): do not hammer the exchange
            price = self.plan.levels[level]
            carried = self._carried(cell)
            amount = self._size(cell, side, price) - sum(
                (self.state.filled_amount(oid) for oid in carried), Decimal(0)
            )
            if carried and not self.market.tradable(price, amount):
                # What is left is below the exchange's minimum: the leg is done as it is.
                with self.state.transaction():
                    self._turn_cell(cell, carried, side)
                continue
            seq = self.state.count_role("grid", cell)
            oid = f"g{self.run_id}L{level}{side[0]}{seq}"
            order = self.state.add_intent(
                oid, role="grid", side=side, amount=amount, price=price,
                now_ms=self.clock_ms(), cell=cell, level=level,
            )
            busy_levels.add(level)
            send_intent(self.state, self.venue, order, self.backoff, self.events)
            if (self.state.order(oid) or order).status == "rejected":
                self._cooldown[cell] = time.monotonic() + REJECT_COOLDOWN_S

    def _close_out(self, open_ids: set[str]) -> None:
        """Cancel the grid, then sell the base the bot holds with one market order."""
        grid_live = [o for o in self.state.orders(*LIVE) if o.role in ("grid", "seed")]
        for order in grid_live:
            if order.status == "intent":  # maybe sent: look before writing it off
                found = self.backoff.call(
                    "order lookup", lambda o=order: self.venue.lookup(o.client_oid)  # type: ignore[misc]
                )
                if found is None:
                    self.state.set_status(order.client_oid, "cancelled")  # never sent again
                    continue
                self.state.set_status(order.client_oid, "open", found.order_id)
                if found.status == "open":
                    self._cancel(order.client_oid)
            elif order.client_oid in open_ids:
                self._cancel(order.client_oid)
        if grid_live or self.state.orders(*LIVE):
            return  # the cancels show up next tick
        held = self.state.totals().position(self.market).base
        free = self.backoff.call("balance", lambda: self.venue.free(self.market.base))
        amount = self.market.floor_amount(min(held, free))
        mark = self.mark or Decimal(0)
        if amount <= 0 or not self.market.tradable(mark, amount):
            self.state.put("phase", "closed")
            self.events.emit("closed", **self._summary())
            return
        n = self.state.count_role("close", -1)
        order = self.state.add_intent(f"g{self.run_id}close{n}", role="close", side="sell",
                                      amount=amount, price=None, now_ms=self.clock_ms())
        send_intent(self.state, self.venue, order, self.backoff, self.events)

    def _cancel(self, client_oid: str) -> None:
        import ccxt

        try:
            self.backoff.call("cancel", lambda: self.venue.cancel(client_oid))
        except ccxt.OrderNotFound:
            pass  # filled or cancelled in between: the next tick sees which
        except ccxt.InvalidOrder:
            pass

    # --- reporting -----------------------------------------------------------------------

    def status(self) -> GridStatus:
        totals = self.state.totals()
        pos = totals.position(self.market)
        realised = self.state.realised()
        mark = self.mark
        unrealised = pos.value(mark) - realised if mark is not None else Decimal(0)
        live = [o for o in self.state.orders(*LIVE) if o.role == "grid"]
        return GridStatus(
            symbol=self.market.symbol,
            phase=self.phase,
            price=mark,
            levels=list(self.plan.levels),
            orders={o.level: o.side for o in live},
            open_orders=len(live),
            fills=self.state.fill_count(),
            pairs=self.state.pair_count(),
            realised=realised,
            unrealised=unrealised,
            position=pos.base,
            other_fees=totals.other_fees(self.market),
        )

    def _summary(self) -> dict[str, object]:
        s = self.status()
        return {"realised": s.realised, "unrealised": s.unrealised, "position": s.position,
                "pairs": s.pairs, "fills": s.fills}


def _leg_oids(leg: str | list[str]) -> list[str]:
    """A cell's open leg as stored: ``""`` (none), one client order id, or several (a
    partly filled order cancelled by someone else, then the rest)."""
    if isinstance(leg, str):
        return [leg] if leg else []
    return list(leg)
