"""Random workloads: an auditor checks the engine after every step, and replays agree.

The machine places and cancels random orders for 3 users on 1-2 symbols and keeps its own
model of every order (what was asked, what was filled, whether it still rests). After each
step ``check_invariants()`` runs and the model and the engine must agree exactly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from sealbook.engine import (
    Cancellation,
    CancelReason,
    Engine,
    Force,
    NewOrder,
    OrderStatus,
    OrderType,
    PlaceResult,
    Side,
    StpMode,
)

SYMBOLS = ("BTCUSDT", "ETHUSDT")
USERS = st.sampled_from([1, 2, 3])
SIDES = st.sampled_from(list(Side))
PRICES = st.integers(95, 105)
LOTS = st.integers(1, 10)
FORCES = st.sampled_from(list(Force))
STPS = st.sampled_from(list(StpMode))


@dataclass
class _Model:
    order: NewOrder
    filled_lots: int = 0
    filled_quote: int = 0
    live: bool = False


class EngineMachine(RuleBasedStateMachine):
    placed = Bundle("placed")

    def __init__(self) -> None:
        super().__init__()
        self.engine = Engine()
        self.symbols: tuple[str, ...] = ()
        self.models: dict[int, _Model] = {}
        self.next_id = 1
        self.ts = 1_800_000_000_000
        self.trade_seq = 0

    @initialize(n_symbols=st.integers(1, 2))
    def add_symbols(self, n_symbols: int) -> None:
        self.symbols = SYMBOLS[:n_symbols]
        for symbol in self.symbols:
            self.engine.add_symbol(symbol)

    # --- rules -------------------------------------------------------------------------

    @rule(target=placed, user=USERS, symbol=st.integers(0, 1), side=SIDES, price=PRICES,
          lots=LOTS, force=FORCES, stp=STPS)
    def place_limit(
        self, user: int, symbol: int, side: Side, price: int, lots: int, force: Force, stp: StpMode
    ) -> int:
        order = NewOrder.limit(
            self._id(), user, self._symbol(symbol), side, price, lots, force=force, stp=stp
        )
        return self._place(order)

    @rule(target=placed, user=USERS, symbol=st.integers(0, 1), lots=LOTS, stp=STPS)
    def place_market_sell(self, user: int, symbol: int, lots: int, stp: StpMode) -> int:
        return self._place(
            NewOrder.market_sell(self._id(), user, self._symbol(symbol), lots, stp=stp)
        )

    @rule(target=placed, user=USERS, symbol=st.integers(0, 1), budget=st.integers(1, 3000),
          stp=STPS)
    def place_market_buy(self, user: int, symbol: int, budget: int, stp: StpMode) -> int:
        return self._place(
            NewOrder.market_buy(self._id(), user, self._symbol(symbol), budget, stp=stp)
        )

    @rule(order_id=placed, symbol=st.integers(0, 1))
    def cancel(self, order_id: int, symbol: int) -> None:
        model = self.models[order_id]
        asked = self._symbol(symbol)
        gone = self.engine.cancel(asked, order_id)
        if not model.live or asked != model.order.symbol:
            assert gone is None
            return
        order = model.order
        assert order.lots is not None
        assert gone == Cancellation(
            order_id,
            order.user_id,
            order.symbol,
            order.side,
            order.price_ticks,
            order.lots - model.filled_lots,
            model.filled_lots,
            model.filled_quote,
            CancelReason.USER,
        )
        model.live = False

    @rule(order_id=st.integers(10_000, 20_000), symbol=st.integers(0, 1))
    def cancel_unknown(self, order_id: int, symbol: int) -> None:
        assert self.engine.cancel(self._symbol(symbol), order_id) is None

    # --- the auditor -------------------------------------------------------------------

    @invariant()
    def engine_is_sound(self) -> None:
        self.engine.check_invariants()

    @invariant()
    def resting_orders_match_the_model(self) -> None:
        for order_id, model in self.models.items():
            resting = self.engine.order(order_id)
            assert (resting is not None) == model.live, order_id
            if resting is None:
                continue
            assert model.order.lots is not None
            assert resting.remaining == model.order.lots - model.filled_lots
            assert resting.filled_lots == model.filled_lots
            assert resting.filled_quote == model.filled_quote
            assert resting.price_ticks == model.order.price_ticks
            assert resting.user_id == model.order.user_id

    @invariant()
    def depth_matches_the_model(self) -> None:
        for symbol in self.symbols:
            levels: dict[tuple[Side, int], int] = {}
            for model in self.models.values():
                order = model.order
                if model.live and order.symbol == symbol:
                    assert order.price_ticks is not None and order.lots is not None
                    key = (order.side, order.price_ticks)
                    levels[key] = levels.get(key, 0) + order.lots - model.filled_lots
            bids = sorted(((p, n) for (s, p), n in levels.items() if s is Side.BUY), reverse=True)
            asks = sorted((p, n) for (s, p), n in levels.items() if s is Side.SELL)
            assert self.engine.depth(symbol, 100) == (bids, asks)

    # --- helpers -----------------------------------------------------------------------

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    def _symbol(self, index: int) -> str:
        return self.symbols[index % len(self.symbols)]

    def _place(self, order: NewOrder) -> int:
        self.ts += 7
        result = self.engine.place(order, self.ts)
        taker = _Model(order)
        self.models[order.order_id] = taker
        self._check_fills(order, result, taker)
        self._check_cancellations(order, result, taker)
        self._check_outcome(order, result, taker)
        return order.order_id

    def _check_fills(self, order: NewOrder, result: PlaceResult, taker: _Model) -> None:
        previous_price: int | None = None
        for fill in result.fills:
            maker = self.models[fill.maker_order_id]
            self.trade_seq += 1
            assert fill.trade_id == self.trade_seq
            assert (fill.taker_order_id, fill.taker_user_id) == (order.order_id, order.user_id)
            assert (fill.symbol, fill.taker_side, fill.ts_ms) == (order.symbol, order.side, self.ts)
            assert maker.live
            assert maker.order.symbol == order.symbol
            assert maker.order.side is not order.side
            assert fill.maker_user_id == maker.order.user_id != order.user_id
            assert fill.price_ticks == maker.order.price_ticks
            # Never more than either side still had.
            assert maker.order.lots is not None
            assert 0 < fill.lots <= maker.order.lots - maker.filled_lots
            if order.lots is not None:
                assert fill.lots <= order.lots - taker.filled_lots
            if order.quote_budget is not None:
                assert taker.filled_quote + fill.quote <= order.quote_budget
            # Within the taker's limit, best prices first (``sign`` makes "better" smaller).
            sign = 1 if order.side is Side.BUY else -1
            if order.price_ticks is not None:
                assert sign * fill.price_ticks <= sign * order.price_ticks
            if previous_price is not None:
                assert sign * fill.price_ticks >= sign * previous_price
            previous_price = fill.price_ticks
            maker.filled_lots += fill.lots
            maker.filled_quote += fill.quote
            if maker.filled_lots == maker.order.lots:
                maker.live = False
            taker.filled_lots += fill.lots
            taker.filled_quote += fill.quote
        assert (result.filled_lots, result.filled_quote) == (taker.filled_lots, taker.filled_quote)

    def _check_cancellations(self, order: NewOrder, result: PlaceResult, taker: _Model) -> None:
        for gone in result.cancelled:
            if gone.order_id == order.order_id:
                assert gone.user_id == order.user_id
                assert (gone.filled_lots, gone.filled_quote) == (
                    taker.filled_lots,
                    taker.filled_quote,
                )
                expected = 0 if order.lots is None else order.lots - taker.filled_lots
                assert gone.cancelled_lots == expected
                continue
            # A maker cancelled by self-trade prevention.
            maker = self.models[gone.order_id]
            assert maker.live
            assert gone.reason is CancelReason.SELF_TRADE
            assert order.stp is not StpMode.CANCEL_TAKER
            assert gone.user_id == maker.order.user_id == order.user_id
            assert maker.order.lots is not None
            assert gone.cancelled_lots == maker.order.lots - maker.filled_lots
            assert (gone.filled_lots, gone.filled_quote) == (maker.filled_lots, maker.filled_quote)
            maker.live = False

    def _check_outcome(self, order: NewOrder, result: PlaceResult, taker: _Model) -> None:
        own = [gone for gone in result.cancelled if gone.order_id == order.order_id]
        assert result.order_id == order.order_id
        assert len(own) <= 1
        if result.status is OrderStatus.CANCELLED:
            assert len(own) == 1
            assert not result.resting
        else:
            assert own == []
        if result.resting:
            assert order.type is OrderType.LIMIT
            assert order.force in (Force.GTC, Force.POST_ONLY)
            assert order.lots is not None
            assert result.resting_lots == order.lots - taker.filled_lots
            expected = OrderStatus.PARTIALLY_FILLED if taker.filled_lots else OrderStatus.LIVE
            assert result.status is expected
            taker.live = True
        if result.status is OrderStatus.FILLED and order.lots is not None:
            assert taker.filled_lots == order.lots
        if order.force is Force.POST_ONLY and order.type is OrderType.LIMIT:
            assert result.fills == []
        if order.force is Force.FOK and order.type is OrderType.LIMIT:
            assert result.status in (OrderStatus.FILLED, OrderStatus.CANCELLED)
            if result.status is OrderStatus.CANCELLED:
                assert result.fills == []
                assert result.cancelled == own
        if order.quote_budget is not None:
            assert result.unspent_quote == order.quote_budget - taker.filled_quote
        else:
            assert result.unspent_quote is None


EngineMachine.TestCase.settings = settings(
    max_examples=50, stateful_step_count=50, deadline=None
)
TestEngineMachine = EngineMachine.TestCase


# --- determinism -----------------------------------------------------------------------


def _commands(seed: int, n: int) -> list[NewOrder | tuple[str, int]]:
    rng = random.Random(seed)
    commands: list[NewOrder | tuple[str, int]] = []
    for order_id in range(1, n + 1):
        symbol = rng.choice(SYMBOLS)
        roll = rng.random()
        if roll < 0.3 and order_id > 1:
            commands.append((symbol, rng.randrange(1, order_id)))
        elif roll < 0.85:
            commands.append(
                NewOrder.limit(
                    order_id,
                    rng.randint(1, 3),
                    symbol,
                    rng.choice(list(Side)),
                    rng.randint(95, 105),
                    rng.randint(1, 10),
                    force=rng.choice(list(Force)),
                    stp=rng.choice(list(StpMode)),
                )
            )
        elif roll < 0.93:
            commands.append(NewOrder.market_buy(order_id, rng.randint(1, 3), symbol, 1500))
        else:
            commands.append(NewOrder.market_sell(order_id, rng.randint(1, 3), symbol, 12))
    return commands


def _replay(commands: list[NewOrder | tuple[str, int]]) -> list[object]:
    engine = Engine()
    for symbol in SYMBOLS:
        engine.add_symbol(symbol)
    out: list[object] = []
    for ts, command in enumerate(commands, start=1_800_000_000_000):
        if isinstance(command, NewOrder):
            out.append(engine.place(command, ts))
        else:
            out.append(engine.cancel(*command))
    engine.check_invariants()
    out.extend(engine.depth(symbol, 100) for symbol in SYMBOLS)
    return out


def test_the_same_commands_give_the_same_results() -> None:
    commands = _commands(seed=20240611, n=2000)
    first = _replay(commands)
    second = _replay(commands)
    assert first == second
    fills = [f for r in first if isinstance(r, PlaceResult) for f in r.fills]
    assert len(fills) > 100  # the workload really trades
    assert [f.trade_id for f in fills] == list(range(1, len(fills) + 1))


def test_a_different_seed_gives_a_different_history() -> None:
    assert _replay(_commands(seed=1, n=300)) != _replay(_commands(seed=2, n=300))
