"""A random workload over the exchange core, audited after every step by a model of its own.

Three users trade BTCUSDT, ETHBTC and BGBUSDT near the reference prices with every order
kind (limit gtc/ioc/fok/post_only, market buy by quote, market sell), valid and invalid
sizes, retried and clashing clientOids and every STP mode; they deposit, withdraw, cancel
and switch "pay fees in BGB" on and off.

The model never reads the ledger. It keeps, per user and coin, the total (available +
frozen) from deposits, completed withdrawals and the fills :meth:`ExchangeCore.drain`
reports — each fill's quote, received amount and fee recomputed from its price and size,
including whether the fee had to be paid in BGB — and derives every hold from the orders'
terms and fills. After every step the ledger must agree with it, the books must hold
exactly the open orders with their remaining sizes, and the core's auditor must find
nothing. At the end of each example everything drained goes into a fresh SQLite database
and a core rebuilt from it must be the same.
"""

from __future__ import annotations

import copy
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from itertools import groupby
from pathlib import Path
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from sealbook.engine import OrderStatus
from sealbook.errors import SealbookError
from sealbook.exchange.core import Changes, ExchangeCore, PlaceRequest
from sealbook.exchange.orders import MyFill, Order, WithdrawalStatus
from sealbook.ledger import Account
from sealbook.markets import Symbol, default_catalog
from sealbook.store.db import make_engine, migrate
from sealbook.store.exchange import load_core, persist

CATALOG = default_catalog()
USERS = (1, 2, 3)
SYMBOLS = ("BTCUSDT", "ETHBTC", "BGBUSDT")
COINS = ("BTC", "USDT", "ETH", "BGB")
CHAIN = {"BTC": "BTC", "USDT": "TRC20", "ETH": "ERC20", "BGB": "ERC20"}
USD = {"BTC": Fraction(104000), "USDT": Fraction(1), "ETH": Fraction(3600), "BGB": Fraction(46, 10)}
ATOMS = 10**18
FEE_PPM = 1000  # 0.1 %, maker and taker
MIN_TRADE = ATOMS  # 1 USDT
BGB_PRICE_SCALE = 10**4  # BGBUSDT has price precision 4
KINDS = ("gtc", "ioc", "fok", "post_only", "market")
STP = (None, "cancel_taker", "cancel_maker", "cancel_both")
MANGLES = (None,) * 10 + ("size places", "price places", "stp", "side", "symbol")
OIDS = (None, None, None, None, "x", "y")
PLACE_ARGS = {
    "user": st.sampled_from(USERS),
    "symbol": st.sampled_from(SYMBOLS),
    "side": st.sampled_from(("buy", "sell")),
    "kind": st.sampled_from(KINDS),
    "off": st.integers(-15, 15),
    "usd": st.integers(0, 2500) | st.integers(0, 3),
    "odd": st.integers(0, 99),
    "stp": st.sampled_from(STP),
    "oid": st.sampled_from(OIDS),
    "mangle": st.sampled_from(MANGLES),
    "aim": st.integers(0, 1000),
}
T0 = 1_700_000_000_000


def decimal_text(value: int, places: int) -> str:
    """``value × 10^-places`` as plain decimal text (never an exponent)."""
    return format(Decimal(value).scaleb(-places), "f")


def base_atoms(sym: Symbol, lots: int) -> int:
    return lots * 10 ** (18 - sym.size_places)


def quote_atoms(sym: Symbol, ticks: int, lots: int) -> int:
    return ticks * lots * 10 ** (18 - sym.price_places - sym.size_places)


@dataclass
class MOrder:
    """The model's order: its terms as the test asked for them, and its fills so far."""

    order_id: int
    user: int
    symbol: str
    side: str
    kind: str
    price: int | None
    lots: int | None
    budget: int | None
    client_oid: str
    filled_lots: int = 0
    filled_quote: int = 0
    fees: dict[str, int] = field(default_factory=dict)
    open: bool = False

    @property
    def sym(self) -> Symbol:
        return CATALOG.symbol(self.symbol)

    def hold(self) -> tuple[str, int]:
        """The coin and amount still held: what the order may still spend."""
        sym = self.sym
        if self.side == "sell":
            assert self.lots is not None
            return sym.base, base_atoms(sym, self.lots - self.filled_lots)
        if self.budget is not None:
            return sym.quote, self.budget - self.filled_quote
        assert self.price is not None and self.lots is not None
        return sym.quote, quote_atoms(sym, self.price, self.lots - self.filled_lots)


def terms(symbol: str, side: str, kind: str, price: int | None, lots: Any, budget: Any) -> tuple:
    order_type = "market" if kind == "market" else "limit"
    force = "gtc" if kind == "market" else kind
    return (symbol, side, order_type, force, price, lots, budget)


@dataclass
class MWithdrawal:
    withdrawal_id: int
    user: int
    coin: str
    amount: int
    fee: int
    client_oid: str
    size: str
    pending: bool = True


class CoreMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.core = ExchangeCore(CATALOG)
        self.now = T0
        self.drained: list[Changes] = []
        self.total: dict[tuple[int, str], int] = {(u, c): 0 for u in USERS for c in COINS}
        self.fees = dict.fromkeys(COINS, 0)
        self.world = dict.fromkeys(COINS, 0)
        self.orders: dict[int, MOrder] = {}
        self.oids: dict[tuple[int, str], int] = {}
        self.withdrawals: dict[int, MWithdrawal] = {}
        self.bgb: set[int] = set()
        self.last_price: dict[str, int] = {}
        self.trade_seq = 0
        self.n_withdrawals = 0

    # --- the model's arithmetic ---------------------------------------------------------

    def tick(self) -> int:
        self.now += 7
        return self.now

    def price_of(self, symbol: str) -> int:
        return self.last_price.get(symbol, CATALOG.symbol(symbol).ref_ticks)

    def usdt_value(self, coin: str, atoms: int) -> int:
        if coin == "USDT":
            return atoms
        assert coin == "BTC"  # the only other quote coin here; BTCUSDT has 0 price places
        return atoms * self.price_of("BTCUSDT")

    def frozen(self, user: int, coin: str, extra: MOrder | None = None) -> int:
        held = [o for o in self.orders.values() if o.open]
        if extra is not None:
            held.append(extra)
        total = 0
        for order in held:
            hold_coin, amount = order.hold()
            if order.user == user and hold_coin == coin:
                total += amount
        for w in self.withdrawals.values():
            if w.pending and w.user == user and w.coin == coin:
                total += w.amount + w.fee
        return total

    def available(self, user: int, coin: str, extra: MOrder | None = None) -> int:
        return self.total[user, coin] - self.frozen(user, coin, extra)

    def drain(self, *, expect_nothing: bool = False) -> Changes:
        changes = self.core.drain()
        if expect_nothing:
            assert not changes
            assert changes.trades == []
        self.drained.append(changes)
        return changes

    def snapshot(self) -> tuple[Any, ...]:
        core = self.core
        return (
            core.ledger.all_accounts(),
            core.ledger.open_holds(),
            core.ledger.last_seq,
            copy.deepcopy(core.orders),
            dict(core.by_client),
            copy.deepcopy(core.withdrawals),
            {s: core.engine.depth(s, 1000) for s in SYMBOLS},
            core.engine.trade_seq,
            set(core.bgb_deduct),
        )

    def refused(self, call: Any, expected_code: str | None = None) -> str:
        """Run ``call``; it must raise, and change nothing. Returns the error code."""
        before = self.snapshot()
        try:
            call()
        except SealbookError as exc:
            code = exc.code
        else:
            raise AssertionError(f"expected error {expected_code}, got success")
        if expected_code is not None:
            assert code == expected_code
        assert self.snapshot() == before
        self.drain(expect_nothing=True)
        return code

    # --- wallet -------------------------------------------------------------------------

    @initialize(usd=st.integers(5_000, 40_000), odd=st.integers(0, 10**6))
    def fund_everyone(self, usd: int, odd: int) -> None:
        """Everyone starts with some of every coin, so that orders meet."""
        for user in USERS:
            for coin in COINS:
                self.deposit(user, coin, usd, odd)

    @rule(
        user=st.sampled_from(USERS),
        coin=st.sampled_from(COINS),
        usd=st.integers(1, 20_000),
        odd=st.integers(0, 10**6),
    )
    def deposit(self, user: int, coin: str, usd: int, odd: int) -> None:
        amount = int(usd * ATOMS / USD[coin]) + odd
        self.core.deposit(user, coin, None, amount, f"addr{user}", self.tick())
        self.total[user, coin] += amount
        self.world[coin] -= amount
        changes = self.drain()
        assert [(d.user_id, d.coin, d.amount_atoms) for d in changes.deposits] == [
            (user, coin, amount)
        ]

    @rule(
        user=st.sampled_from(USERS),
        coin=st.sampled_from(COINS),
        usd=st.integers(0, 3000),
        odd=st.integers(0, 999),
        share=st.sampled_from((None, None, 100, 99, "retry", "complete", "complete")),
    )
    def withdraw(self, user: int, coin: str, usd: int, odd: int, share: int | str | None) -> None:
        """Ask for a withdrawal of ``usd`` worth (or a ``share`` of what is available); or
        retry one by its clientOid; or complete a pending one."""
        if share == "retry":
            if self.withdrawals:
                self.retry_withdrawal(usd)
            return
        if share == "complete":
            if any(w.pending for w in self.withdrawals.values()):
                self.complete_withdrawal(usd)
            return
        chain = CATALOG.coin(coin).chain(CHAIN[coin])
        unit = 10 ** (18 - chain.withdraw_scale)
        if share is None:
            amount = int(usd * ATOMS / USD[coin]) // unit * unit + odd * unit
        else:  # all (or nearly all) that is available, fee included
            assert isinstance(share, int)
            amount = max(self.available(user, coin) - chain.withdraw_fee_atoms, 0)
            amount = amount * share // 100 // unit * unit
        size = decimal_text(amount // unit, chain.withdraw_scale)
        self.n_withdrawals += 1
        oid = f"w{self.n_withdrawals}"
        call = (user, coin, CHAIN[coin], f"out{user}", "", size, oid)
        if amount < chain.min_withdraw_atoms:
            self.refused(lambda: self.core.request_withdrawal(*call, self.now), "40020")
            return
        if amount + chain.withdraw_fee_atoms > self.available(user, coin):
            self.refused(lambda: self.core.request_withdrawal(*call, self.now), "43012")
            return
        w = self.core.request_withdrawal(*call, self.tick())
        assert w.withdrawal_id not in self.withdrawals
        assert (w.user_id, w.coin, w.amount_atoms, w.fee_atoms) == (
            user,
            coin,
            amount,
            chain.withdraw_fee_atoms,
        )
        assert w.status is WithdrawalStatus.PENDING
        self.withdrawals[w.withdrawal_id] = MWithdrawal(
            w.withdrawal_id, user, coin, amount, chain.withdraw_fee_atoms, oid, size
        )
        assert list(self.drain().withdrawals) == [w.withdrawal_id]

    def complete_withdrawal(self, pick: int) -> None:
        pending = sorted(i for i, w in self.withdrawals.items() if w.pending)
        mw = self.withdrawals[pending[pick % len(pending)]]
        w = self.core.complete_withdrawal(mw.withdrawal_id, self.tick())
        assert w.status is WithdrawalStatus.SUCCESS
        mw.pending = False
        self.total[mw.user, mw.coin] -= mw.amount + mw.fee
        self.world[mw.coin] += mw.amount
        self.fees[mw.coin] += mw.fee
        assert list(self.drain().withdrawals) == [mw.withdrawal_id]

    def retry_withdrawal(self, pick: int) -> None:
        """The same clientOid again: with the same terms it is the same withdrawal, pending
        or done, and nothing moves; with other terms it is refused (43118)."""
        mw = self.withdrawals[sorted(self.withdrawals)[pick % len(self.withdrawals)]]
        address = f"out{mw.user}" if pick % 3 else "elsewhere"
        call = (mw.user, mw.coin, CHAIN[mw.coin], address, "", mw.size, mw.client_oid)
        if address == "elsewhere":
            self.refused(lambda: self.core.request_withdrawal(*call, self.now), "43118")
            return
        before = self.snapshot()
        w = self.core.request_withdrawal(*call, self.tick())
        assert w.withdrawal_id == mw.withdrawal_id
        assert self.snapshot() == before
        self.drain(expect_nothing=True)

    @rule(user=st.sampled_from(USERS), on=st.booleans())
    def toggle_bgb(self, user: int, on: bool) -> None:
        self.core.set_bgb_deduct(user, on)
        if on:
            self.bgb.add(user)
        else:
            self.bgb.discard(user)
        assert self.drain().bgb_deduct == {user: on}

    # --- orders -------------------------------------------------------------------------

    # One rule per style, so that placing orders is about half of all steps.

    @rule(**PLACE_ARGS)
    def place_anything(self, **args: Any) -> None:
        self.place("anything", **args)

    @rule(**PLACE_ARGS)
    def place_resting(self, **args: Any) -> None:
        self.place("resting", **args)

    @rule(**PLACE_ARGS)
    def place_aimed(self, **args: Any) -> None:
        self.place("aimed", **args)

    @rule(**PLACE_ARGS)
    def place_sweep(self, **args: Any) -> None:
        self.place("sweep", **args)

    def place(
        self,
        style: str,
        *,
        user: int,
        symbol: str,
        side: str,
        kind: str,
        off: int,
        usd: int,
        odd: int,
        stp: str | None,
        oid: str | None,
        mangle: str | None,
        aim: int,
    ) -> None:
        """Place an order. ``off`` is per mille from the reference price. The style:

        * ``anything``: any kind, price, size, clientOid and STP mode, valid or not;
        * ``resting``: a gtc or post-only order on its passive side of the reference (or a
          little past it), so that the books fill up on both sides;
        * ``aimed``: any kind against a resting order the model picks, at its price or
          through it — fills, partial fills, self-trade prevention;
        * ``sweep``: any kind, 4 to 19 per mille past the reference: through most books.
        """
        at = None
        if style != "anything":
            oid = mangle = None
            usd = max(usd % 800, 2)
        if style == "resting":
            kind = kind if kind in ("gtc", "post_only") else "gtc"
            off = off % 13 - 4
            off = off if side == "sell" else -off
        elif style == "sweep":
            off = -(4 + abs(off)) if side == "sell" else 4 + abs(off)
        elif style == "aimed":
            resting = sorted(i for i, o in self.orders.items() if o.open)
            if resting:
                target = self.orders[resting[aim % len(resting)]]
                assert target.price is not None
                symbol = target.symbol
                side = "sell" if target.side == "buy" else "buy"
                step = target.sym.ref_ticks // 1000 * (abs(off) % 4)
                at = target.price - step if side == "sell" else target.price + step
        self.place_one(user, symbol, side, kind, off, usd, odd, stp, oid, mangle, at)

    def place_one(
        self,
        user: int,
        symbol: str,
        side: str,
        kind: str,
        off: int,
        usd: int,
        odd: int,
        stp: str | None,
        oid: str | None,
        mangle: str | None,
        at: int | None,
    ) -> None:
        """Place one order ``off`` per mille from the reference price (or at ``at`` ticks)
        and check what happened against the model."""
        sym = CATALOG.symbol(symbol)
        price = lots = budget = None
        if kind == "market" and side == "buy":
            places = sym.quote_places
            units = int(usd * 10**places / USD[sym.quote]) + odd
            budget = units * 10 ** (18 - places)
            size = decimal_text(units, places)
        else:
            places = sym.size_places
            lots = int(usd * 10**places / USD[sym.base]) + odd
            size = decimal_text(lots, places)
        if kind != "market":
            price = max(1, sym.ref_ticks * (1000 + off) // 1000) if at is None else at
        req_symbol, req_side, req_price = symbol, side, None
        if price is not None:
            req_price = decimal_text(price, sym.price_places)
        if mangle == "size places":
            size = decimal_text(int(size.replace(".", "")) * 10 + 1, places + 1)
        elif mangle == "price places" and price is not None:
            req_price = decimal_text(price * 10 + 1, sym.price_places + 1)
        elif mangle == "side":
            req_side = "both"
        elif mangle == "symbol":
            req_symbol = "BTCETH"
        elif mangle == "stp" and oid is None:
            stp = "none"
        else:
            mangle = None
        req = PlaceRequest(
            req_symbol,
            req_side,
            "market" if kind == "market" else "limit",
            size,
            req_price,
            force=kind if kind != "market" else "gtc",
            client_oid=oid,
            stp=stp,
        )
        wanted = terms(symbol, side, kind, price, lots, budget)
        expected = self.predict(user, sym, side, wanted, oid, mangle)
        if expected is not None and expected != "existing":
            self.refused(lambda: self.core.place(user, req, self.now), expected)
            return
        if expected == "existing":
            assert oid is not None
            before = self.snapshot()
            order = self.core.place(user, req, self.tick())
            assert order.order_id == self.oids[user, oid]
            assert self.snapshot() == before
            self.drain(expect_nothing=True)
            return

        order = self.core.place(user, req, self.tick())
        assert order.order_id not in self.orders
        assert all(order.order_id > i for i in self.orders)
        assert order.client_oid == (oid or f"sb{order.order_id}")
        assert (order.user_id, order.symbol, order.side.value) == (user, symbol, side)
        new = MOrder(
            order.order_id,
            user,
            symbol,
            side,
            kind,
            price,
            lots,
            budget,
            order.client_oid,
        )
        self.orders[new.order_id] = new
        self.oids[user, new.client_oid] = new.order_id
        self.settle(new, self.drain(), stp)

    def predict(
        self, user: int, sym: Symbol, side: str, wanted: tuple, oid: str | None, mangle: str | None
    ) -> str | None:
        """The error code the core must give, ``"existing"`` for a retry, None to place."""
        if mangle == "symbol":
            return "50004"
        if mangle in ("side", "size places", "price places"):
            return "40808"
        _, _, _, _, price, lots, budget = wanted
        if lots == 0:
            return "43006"
        if budget == 0:
            return "40808"
        if oid is not None and (user, oid) in self.oids:
            known = self.orders[self.oids[user, oid]]
            same = terms(known.symbol, known.side, known.kind, known.price, known.lots,
                         known.budget) == wanted  # fmt: skip
            return "existing" if same else "43118"
        if budget is not None:
            value = budget
        else:
            at = price if price is not None else self.price_of(sym.symbol)
            value = quote_atoms(sym, at, lots)
        if self.usdt_value(sym.quote, value) < MIN_TRADE:
            return "45110"
        probe = MOrder(0, user, sym.symbol, side, "", price, lots, budget, "")
        coin, hold = probe.hold()
        if mangle == "stp":
            return "40808"  # parsed after the value check, before the hold
        if hold > self.available(user, coin):
            return "43012"
        return None

    def settle(self, taker: MOrder, changes: Changes, stp: str | None) -> None:
        """Apply the drained fills to the model, checking each against the terms."""
        sym = taker.sym
        was_open = {i for i, o in self.orders.items() if o.open}
        taker_prices = []
        for trade_id, group in groupby(changes.fills, key=lambda f: f.trade_id):
            pair = list(group)
            assert trade_id == self.trade_seq + 1
            self.trade_seq = trade_id
            assert len(pair) == 2
            buy = next(f for f in pair if f.side.value == "buy")
            sell = next(f for f in pair if f.side.value == "sell")
            assert buy.user_id != sell.user_id  # self-trade prevention
            assert (buy.price_ticks, buy.lots) == (sell.price_ticks, sell.lots)
            assert buy.symbol == sell.symbol == sym.symbol
            assert buy.maker != sell.maker
            price, lots = buy.price_ticks, buy.lots
            base, quote = base_atoms(sym, lots), quote_atoms(sym, price, lots)
            assert buy.quote_atoms == sell.quote_atoms == quote
            maker_fill = buy if buy.maker else sell
            taker_fill = sell if buy.maker else buy
            assert taker_fill.order_id == taker.order_id
            maker = self.orders[maker_fill.order_id]
            assert maker.order_id in was_open
            assert maker.price == price  # a taker trades at the maker's price
            if taker.price is not None:
                assert price <= taker.price if taker.side == "buy" else price >= taker.price
            taker_prices.append(price)
            # Fee decisions see the state before this trade's batch.
            decided = []
            for f, coin, received in ((buy, sym.base, base), (sell, sym.quote, quote)):
                decided.append(self.fee_for(f, coin, received, quote, taker))
            for f, (fee_coin, fee) in zip((buy, sell), decided, strict=True):
                assert (f.fee_coin, f.fee_atoms) == (fee_coin, fee)
            self.total[buy.user_id, sym.base] += base
            self.total[buy.user_id, sym.quote] -= quote
            self.total[sell.user_id, sym.base] -= base
            self.total[sell.user_id, sym.quote] += quote
            for f, (fee_coin, fee) in zip((buy, sell), decided, strict=True):
                self.total[f.user_id, fee_coin] -= fee
                self.fees[fee_coin] += fee
                order = self.orders[f.order_id]
                order.fees[fee_coin] = order.fees.get(fee_coin, 0) + fee
            for order in (maker, taker):
                order.filled_lots += lots
                order.filled_quote += quote
                if order.lots is not None:
                    assert order.filled_lots <= order.lots
                if order.budget is not None:
                    assert order.filled_quote <= order.budget
            self.last_price[sym.symbol] = price
        # Best price first.
        assert taker_prices == sorted(taker_prices, reverse=taker.side == "sell")

        assert taker.order_id in changes.orders
        for order_id, order in changes.orders.items():
            model = self.orders[order_id]
            self.same_order(model, order)
            model.open = order.is_open
            if order_id == taker.order_id:
                continue
            assert order_id in was_open
            if not model.open:  # a maker that left the book: filled, or self-trade prevention
                if order.status is OrderStatus.FILLED:
                    assert model.filled_lots == model.lots
                else:
                    assert order.status is OrderStatus.CANCELLED
                    assert order.cancel_reason == "self_trade"
                    assert model.user == taker.user
                    assert stp in ("cancel_maker", "cancel_both")
        for order_id in was_open - changes.orders.keys():
            assert self.orders[order_id].open
        if taker.open:
            assert taker.kind in ("gtc", "post_only")
            assert taker.lots is not None and taker.filled_lots < taker.lots
        if taker.kind == "post_only":
            assert taker_prices == []
        if taker.kind == "fok":
            assert taker.filled_lots in (0, taker.lots)
        if self.core.orders[taker.order_id].status is OrderStatus.FILLED and taker.lots:
            assert taker.filled_lots == taker.lots

    def fee_for(
        self, f: MyFill, coin: str, received: int, quote: int, taker: MOrder
    ) -> tuple[str, int]:
        normal = received * FEE_PPM // 10**6
        if f.user_id in self.bgb and normal > 0:
            fee_usdt = self.usdt_value(CATALOG.symbol(f.symbol).quote, quote) * FEE_PPM // 10**6
            price = self.price_of("BGBUSDT")
            bgb = fee_usdt * 800_000 * BGB_PRICE_SCALE // (10**6 * price)
            if 0 < bgb <= self.available(f.user_id, "BGB", extra=taker):
                return "BGB", bgb
        return coin, normal

    def same_order(self, model: MOrder, order: Order) -> None:
        assert order.filled_lots == model.filled_lots
        assert order.filled_quote_atoms == model.filled_quote
        assert {c: v for c, v in order.fees.items() if v} == {
            c: v for c, v in model.fees.items() if v
        }
        assert (order.price_ticks, order.size_lots, order.budget_atoms) == (
            model.price,
            model.lots,
            model.budget,
        )
        if order.is_open:
            assert order.status is (
                OrderStatus.LIVE if model.filled_lots == 0 else OrderStatus.PARTIALLY_FILLED
            )

    @rule(
        pick=st.integers(0, 1000),
        which=st.sampled_from(("open", "open", "open", "any", "unknown")),
        who=st.sampled_from(("owner", "owner", "owner", "other")),
        where=st.sampled_from(("right", "right", "empty", "wrong")),
        by_oid=st.booleans(),
    )
    def cancel(self, pick: int, which: str, who: str, where: str, by_oid: bool) -> None:
        ids = sorted(i for i, o in self.orders.items() if o.open or which == "any")
        if which == "unknown" or not ids:
            user, order_id = USERS[pick % len(USERS)], 10_000 + pick
            self.refused(lambda: self.core.cancel(user, "", self.now, order_id=order_id), "43001")
            return
        model = self.orders[ids[pick % len(ids)]]
        user = model.user if who == "owner" else model.user % len(USERS) + 1
        symbol = {"right": model.symbol, "empty": "", "wrong": "ETHBTC"}[where]
        if where == "wrong" and model.symbol == "ETHBTC":
            symbol = "BTCUSDT"
        key: dict[str, Any]
        if by_oid:
            key = {"client_oid": model.client_oid}
            found = self.oids.get((user, model.client_oid))  # the same clientOid: theirs
            target = None if found is None else self.orders[found]
        else:
            key = {"order_id": model.order_id}
            target = model if model.user == user else None
        if target is None or not target.open or symbol not in ("", target.symbol):
            self.refused(lambda: self.core.cancel(user, symbol, self.now, **key), "43001")
            return
        model = target
        order = self.core.cancel(user, symbol, self.tick(), **key)
        assert order.order_id == model.order_id
        assert order.status is OrderStatus.CANCELLED
        assert order.cancel_reason == "user"
        model.open = False
        changes = self.drain()
        assert list(changes.orders) == [model.order_id]
        assert changes.fills == []
        self.same_order(model, order)

    # --- the auditors -------------------------------------------------------------------

    @invariant()
    def core_audits_clean(self) -> None:
        assert self.core.check_invariants() == []

    @invariant()
    def balances_agree_with_the_model(self) -> None:
        ledger = self.core.ledger
        for user in USERS:
            for coin in COINS:
                frozen = self.frozen(user, coin)
                assert ledger.frozen(user, coin) == frozen
                assert ledger.available(user, coin) + frozen == self.total[user, coin]
                assert ledger.available(user, coin) >= 0
        for coin in COINS:
            assert ledger.balance(Account.fees(coin)) == self.fees[coin]
            assert ledger.balance(Account.world(coin)) == self.world[coin]
            users = sum(self.total[u, coin] for u in USERS)
            assert users + self.fees[coin] + self.world[coin] == 0
        per_coin: defaultdict[str, int] = defaultdict(int)
        for account, balance in ledger.all_accounts().items():
            per_coin[account.asset] += balance
        assert all(v == 0 for v in per_coin.values())

    @invariant()
    def holds_are_what_orders_may_still_spend(self) -> None:
        expected: dict[str, int] = {}
        for order in self.orders.values():
            if order.open:
                expected[f"o{order.order_id}"] = order.hold()[1]
        for w in self.withdrawals.values():
            if w.pending:
                expected[f"w{w.withdrawal_id}"] = w.amount + w.fee
        assert self.core.ledger.open_holds() == {k: v for k, v in expected.items() if v}

    @invariant()
    def books_hold_exactly_the_open_orders(self) -> None:
        engine = self.core.engine
        levels: dict[tuple[str, str], defaultdict[int, int]] = {
            (s, side): defaultdict(int) for s in SYMBOLS for side in ("buy", "sell")
        }
        for order in self.orders.values():
            resting = engine.order(order.order_id)
            if not order.open:
                assert resting is None
                assert not self.core.orders[order.order_id].is_open
                continue
            assert resting is not None
            assert order.lots is not None and order.price is not None
            assert resting.remaining == order.lots - order.filled_lots
            assert resting.price_ticks == order.price
            levels[order.symbol, order.side][order.price] += resting.remaining
        for symbol in SYMBOLS:
            bids, asks = engine.depth(symbol, 10_000)
            assert bids == sorted(levels[symbol, "buy"].items(), reverse=True)
            assert asks == sorted(levels[symbol, "sell"].items())
        assert engine.trade_seq == self.trade_seq

    # --- restart ------------------------------------------------------------------------

    def teardown(self) -> None:
        self.drain()
        with tempfile.TemporaryDirectory() as tmp:
            db = make_engine(f"sqlite:///{Path(tmp) / 'core.db'}")
            try:
                migrate(db)
                for changes in self.drained:
                    with db.begin() as conn:
                        persist(conn, changes)
                rebuilt = load_core(db, CATALOG, self.now)
            finally:
                db.dispose()
        core = self.core
        assert rebuilt.check_invariants() == []
        assert rebuilt.ledger.all_accounts() == core.ledger.all_accounts()
        for user in USERS:
            assert rebuilt.ledger.balances(user) == core.ledger.balances(user)
        assert rebuilt.ledger.open_holds() == core.ledger.open_holds()
        assert rebuilt.orders == core.orders
        assert rebuilt.by_client == core.by_client
        for order in core.orders.values():
            mine, theirs = core.engine.order(order.order_id), rebuilt.engine.order(order.order_id)
            if mine is None:
                assert theirs is None
            else:
                assert theirs is not None
                assert (theirs.remaining, theirs.price_ticks, theirs.side) == (
                    mine.remaining,
                    mine.price_ticks,
                    mine.side,
                )
        for symbol in SYMBOLS:
            assert rebuilt.engine.depth(symbol, 10_000) == core.engine.depth(symbol, 10_000)
        assert rebuilt.withdrawals == core.withdrawals  # pending ones, and all are recent
        assert rebuilt.bgb_deduct == core.bgb_deduct
        assert rebuilt.last_price == core.last_price
        assert rebuilt.engine.trade_seq == core.engine.trade_seq


CoreMachine.TestCase.settings = settings(
    max_examples=30, stateful_step_count=40, deadline=None, database=None
)
TestCoreMachine = CoreMachine.TestCase
