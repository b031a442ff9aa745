"""Self-trade prevention: the taker's mode decides what happens when it meets its own user.

The book in most tests, asks only, best first::

    id 1  user 2  100 x 2
    id 2  user 1  100 x 2   <- user 1's own order, behind user 2's at the same price
    id 3  user 2  101 x 2
"""

from __future__ import annotations

from sealbook.engine import (
    Cancellation,
    CancelReason,
    Engine,
    Force,
    NewOrder,
    OrderStatus,
    Side,
    StpMode,
)

SYM = "BTCUSDT"
BUY, SELL = Side.BUY, Side.SELL


def _engine() -> Engine:
    engine = Engine()
    engine.add_symbol(SYM)
    for ts, (order_id, user, price) in enumerate([(1, 2, 100), (2, 1, 100), (3, 2, 101)], 1):
        engine.place(NewOrder.limit(order_id, user, SYM, SELL, price, 2), ts)
    return engine


def _buy(lots: int, stp: StpMode, force: Force = Force.GTC) -> NewOrder:
    return NewOrder.limit(10, 1, SYM, BUY, 101, lots, force=force, stp=stp)


def test_cancel_taker_stops_at_its_own_order_and_leaves_it() -> None:
    engine = _engine()

    result = engine.place(_buy(5, StpMode.CANCEL_TAKER), 10)

    assert [(f.maker_order_id, f.lots) for f in result.fills] == [(1, 2)]
    assert result.status is OrderStatus.CANCELLED
    assert (result.filled_lots, result.filled_quote, result.resting_lots) == (2, 200, 0)
    assert result.cancelled == [
        Cancellation(10, 1, SYM, BUY, 101, 3, 2, 200, CancelReason.SELF_TRADE),
    ]
    own = engine.order(2)
    assert own is not None
    assert own.remaining == 2
    assert engine.order(10) is None  # a GTC stopped by STP does not rest
    assert engine.depth(SYM, 5) == ([], [(100, 2), (101, 2)])
    engine.check_invariants()


def test_cancel_taker_is_the_default() -> None:
    engine = _engine()
    result = engine.place(NewOrder.limit(10, 1, SYM, BUY, 101, 5), 10)
    assert [c.reason for c in result.cancelled] == [CancelReason.SELF_TRADE]
    assert engine.order(2) is not None


def test_cancel_taker_at_the_front_trades_nothing() -> None:
    engine = Engine()
    engine.add_symbol(SYM)
    engine.place(NewOrder.limit(1, 1, SYM, SELL, 100, 2), 1)
    engine.place(NewOrder.limit(2, 2, SYM, SELL, 100, 2), 2)

    result = engine.place(NewOrder.limit(3, 1, SYM, BUY, 100, 2), 3)

    assert (result.fills, result.status) == ([], OrderStatus.CANCELLED)
    assert engine.depth(SYM, 5) == ([], [(100, 4)])


def test_cancel_maker_cancels_its_own_order_and_keeps_matching() -> None:
    engine = _engine()

    result = engine.place(_buy(5, StpMode.CANCEL_MAKER), 10)

    assert [(f.maker_order_id, f.price_ticks, f.lots) for f in result.fills] == [
        (1, 100, 2),
        (3, 101, 2),
    ]
    assert result.cancelled == [
        Cancellation(2, 1, SYM, SELL, 100, 2, 0, 0, CancelReason.SELF_TRADE),
    ]
    assert result.status is OrderStatus.PARTIALLY_FILLED
    assert (result.filled_lots, result.filled_quote, result.resting_lots) == (4, 402, 1)
    assert engine.order(2) is None
    assert engine.depth(SYM, 5) == ([(101, 1)], [])
    engine.check_invariants()


def test_cancel_both_cancels_the_maker_and_the_taker() -> None:
    engine = _engine()

    result = engine.place(_buy(5, StpMode.CANCEL_BOTH), 10)

    assert [(f.maker_order_id, f.lots) for f in result.fills] == [(1, 2)]
    assert result.cancelled == [
        Cancellation(2, 1, SYM, SELL, 100, 2, 0, 0, CancelReason.SELF_TRADE),
        Cancellation(10, 1, SYM, BUY, 101, 3, 2, 200, CancelReason.SELF_TRADE),
    ]
    assert result.status is OrderStatus.CANCELLED
    assert engine.order(2) is None
    assert engine.order(10) is None
    assert engine.depth(SYM, 5) == ([], [(101, 2)])
    engine.check_invariants()


def test_a_cancelled_maker_reports_what_it_had_filled() -> None:
    engine = Engine()
    engine.add_symbol(SYM)
    engine.place(NewOrder.limit(1, 1, SYM, SELL, 100, 5), 1)
    engine.place(NewOrder.limit(2, 2, SYM, BUY, 100, 2), 2)  # fills 2 of order 1

    result = engine.place(
        NewOrder.limit(3, 1, SYM, BUY, 100, 1, stp=StpMode.CANCEL_MAKER), 3
    )

    assert result.cancelled[0] == Cancellation(
        1, 1, SYM, SELL, 100, 3, 2, 200, CancelReason.SELF_TRADE
    )
    assert result.status is OrderStatus.LIVE  # nothing else to take: it rests


def test_a_satisfied_taker_does_not_touch_its_own_order_behind() -> None:
    engine = _engine()
    result = engine.place(_buy(2, StpMode.CANCEL_MAKER), 10)
    assert (result.status, result.cancelled) == (OrderStatus.FILLED, [])
    assert engine.order(2) is not None


def test_other_users_at_the_same_price_trade_normally() -> None:
    engine = _engine()
    result = engine.place(NewOrder.limit(10, 3, SYM, BUY, 101, 6), 10)
    assert [(f.maker_order_id, f.lots) for f in result.fills] == [(1, 2), (2, 2), (3, 2)]
    assert result.cancelled == []


def test_fok_under_cancel_taker_does_not_count_liquidity_behind_its_own_order() -> None:
    engine = _engine()

    result = engine.place(_buy(3, StpMode.CANCEL_TAKER, Force.FOK), 10)

    assert (result.fills, result.status) == ([], OrderStatus.CANCELLED)
    assert [(c.order_id, c.reason) for c in result.cancelled] == [(10, CancelReason.FOK)]
    assert engine.depth(SYM, 5) == ([], [(100, 4), (101, 2)])


def test_fok_under_cancel_both_does_not_count_it_either() -> None:
    engine = _engine()
    result = engine.place(_buy(3, StpMode.CANCEL_BOTH, Force.FOK), 10)
    assert (result.fills, result.status) == ([], OrderStatus.CANCELLED)
    assert engine.order(2) is not None


def test_fok_under_cancel_maker_counts_what_is_behind_its_own_order() -> None:
    engine = _engine()

    result = engine.place(_buy(4, StpMode.CANCEL_MAKER, Force.FOK), 10)

    assert result.status is OrderStatus.FILLED
    assert [(f.maker_order_id, f.lots) for f in result.fills] == [(1, 2), (3, 2)]
    assert [(c.order_id, c.reason) for c in result.cancelled] == [(2, CancelReason.SELF_TRADE)]
    assert engine.depth(SYM, 5) == ([], [])


def test_fok_under_cancel_maker_that_cannot_fill_cancels_no_maker() -> None:
    engine = _engine()

    result = engine.place(_buy(5, StpMode.CANCEL_MAKER, Force.FOK), 10)

    assert [(c.order_id, c.reason) for c in result.cancelled] == [(10, CancelReason.FOK)]
    assert engine.order(2) is not None
    assert engine.depth(SYM, 5) == ([], [(100, 4), (101, 2)])


def test_market_sell_stopped_by_its_own_bid() -> None:
    engine = Engine()
    engine.add_symbol(SYM)
    engine.place(NewOrder.limit(1, 1, SYM, BUY, 100, 2), 1)
    engine.place(NewOrder.limit(2, 2, SYM, BUY, 99, 2), 2)

    result = engine.place(NewOrder.market_sell(3, 1, SYM, 3), 3)

    assert (result.fills, result.status) == ([], OrderStatus.CANCELLED)
    assert result.cancelled == [
        Cancellation(3, 1, SYM, SELL, None, 3, 0, 0, CancelReason.SELF_TRADE),
    ]
    assert engine.depth(SYM, 5) == ([(100, 2), (99, 2)], [])


def test_market_buy_under_cancel_maker_skips_its_own_ask() -> None:
    engine = _engine()

    result = engine.place(NewOrder.market_buy(10, 1, SYM, 1000, stp=StpMode.CANCEL_MAKER), 10)

    assert [(f.maker_order_id, f.lots) for f in result.fills] == [(1, 2), (3, 2)]
    assert (result.filled_quote, result.unspent_quote) == (402, 598)
    # It ran out of book with budget for more: its remainder is cancelled.
    assert [(c.order_id, c.reason) for c in result.cancelled] == [
        (2, CancelReason.SELF_TRADE),
        (10, CancelReason.MARKET),
    ]
    assert result.status is OrderStatus.CANCELLED
    engine.check_invariants()


def test_market_buy_stopped_by_stp_is_cancelled_for_self_trade() -> None:
    engine = _engine()
    result = engine.place(NewOrder.market_buy(10, 1, SYM, 1000), 10)
    assert [(f.maker_order_id, f.lots) for f in result.fills] == [(1, 2)]
    assert (result.status, result.unspent_quote) == (OrderStatus.CANCELLED, 800)
    assert [(c.order_id, c.reason) for c in result.cancelled] == [(10, CancelReason.SELF_TRADE)]
