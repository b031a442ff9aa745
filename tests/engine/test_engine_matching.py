"""Price-time priority, partial fills, time in force and market orders, with real numbers.

Prices are ticks and sizes lots; a quote amount is ticks*lots.
"""

from __future__ import annotations

import pytest

from sealbook.engine import (
    Cancellation,
    CancelReason,
    Engine,
    Force,
    NewOrder,
    OrderStatus,
    OrderType,
    Side,
    StpMode,
)
from sealbook.errors import DuplicateOrder, OrderParamInvalid, UnknownSymbol

SYM = "BTCUSDT"
BUY, SELL = Side.BUY, Side.SELL


def _engine() -> Engine:
    engine = Engine()
    engine.add_symbol(SYM)
    return engine


def _limit(
    order_id: int, user: int, side: Side, price: int, lots: int, force: Force = Force.GTC
) -> NewOrder:
    return NewOrder.limit(order_id, user, SYM, side, price, lots, force=force)


def _book(engine: Engine, *orders: NewOrder) -> None:
    """Rest ``orders`` (they must not cross), at ts 1, 2, ..."""
    for ts, order in enumerate(orders, start=1):
        assert engine.place(order, ts).status is OrderStatus.LIVE


# --- price-time priority ---------------------------------------------------------------


def test_same_price_fills_the_oldest_order_first() -> None:
    engine = _engine()
    _book(engine, _limit(1, 1, SELL, 100, 3), _limit(2, 2, SELL, 100, 3))

    result = engine.place(_limit(3, 3, BUY, 100, 4), 10)

    assert [(f.maker_order_id, f.price_ticks, f.lots) for f in result.fills] == [
        (1, 100, 3),
        (2, 100, 1),
    ]
    assert result.status is OrderStatus.FILLED
    assert (result.filled_lots, result.filled_quote, result.resting_lots) == (4, 400, 0)
    assert result.cancelled == []
    assert engine.order(1) is None
    maker = engine.order(2)
    assert maker is not None
    assert (maker.remaining, maker.filled_lots, maker.filled_quote) == (2, 1, 100)
    assert maker.status is OrderStatus.PARTIALLY_FILLED
    assert engine.depth(SYM, 5) == ([], [(100, 2)])
    engine.check_invariants()


def test_a_better_price_fills_first_even_when_it_came_later() -> None:
    engine = _engine()
    _book(engine, _limit(1, 1, SELL, 101, 3), _limit(2, 2, SELL, 100, 3))

    result = engine.place(_limit(3, 3, BUY, 102, 4), 10)

    # The taker pays each maker's own price, not its limit of 102.
    assert [(f.maker_order_id, f.price_ticks, f.lots) for f in result.fills] == [
        (2, 100, 3),
        (1, 101, 1),
    ]
    assert result.filled_quote == 3 * 100 + 1 * 101
    assert engine.depth(SYM, 5) == ([], [(101, 2)])


def test_a_limit_buy_walks_levels_and_rests_the_rest_at_its_price() -> None:
    engine = _engine()
    _book(
        engine,
        _limit(1, 1, SELL, 100, 2),
        _limit(2, 2, SELL, 101, 3),
        _limit(3, 1, SELL, 103, 5),
    )

    result = engine.place(_limit(4, 3, BUY, 101, 10), 50)

    assert [(f.trade_id, f.maker_order_id, f.price_ticks, f.lots) for f in result.fills] == [
        (1, 1, 100, 2),
        (2, 2, 101, 3),
    ]
    assert all(f.ts_ms == 50 and f.taker_order_id == 4 for f in result.fills)
    assert all(f.taker_user_id == 3 and f.taker_side is BUY for f in result.fills)
    assert [f.maker_user_id for f in result.fills] == [1, 2]
    assert result.status is OrderStatus.PARTIALLY_FILLED
    assert (result.filled_lots, result.filled_quote, result.resting_lots) == (5, 503, 5)
    assert result.resting
    rested = engine.order(4)
    assert rested is not None
    assert (rested.price_ticks, rested.lots, rested.remaining, rested.filled_quote) == (
        101,
        10,
        5,
        503,
    )
    assert rested.ts_ms == 50
    assert engine.depth(SYM, 5) == ([(101, 5)], [(103, 5)])
    engine.check_invariants()


def test_a_limit_sell_walks_the_bids_down() -> None:
    engine = _engine()
    _book(
        engine,
        _limit(1, 1, BUY, 100, 2),
        _limit(2, 2, BUY, 99, 2),
        _limit(3, 1, BUY, 98, 2),
    )

    result = engine.place(_limit(4, 3, SELL, 99, 5), 9)

    assert [(f.price_ticks, f.lots) for f in result.fills] == [(100, 2), (99, 2)]
    assert all(f.taker_side is SELL for f in result.fills)
    assert (result.status, result.filled_quote, result.resting_lots) == (
        OrderStatus.PARTIALLY_FILLED,
        398,
        1,
    )
    assert engine.depth(SYM, 5) == ([(98, 2)], [(99, 1)])
    engine.check_invariants()


def test_trade_ids_increase_across_commands() -> None:
    engine = _engine()
    _book(engine, _limit(1, 1, SELL, 100, 1), _limit(2, 1, SELL, 100, 1))
    first = engine.place(_limit(3, 2, BUY, 100, 1), 5)
    second = engine.place(_limit(4, 2, BUY, 100, 1), 6)
    assert [f.trade_id for f in first.fills + second.fills] == [1, 2]


# --- time in force ---------------------------------------------------------------------


def _three_asks(engine: Engine) -> None:
    _book(
        engine,
        _limit(1, 1, SELL, 100, 2),
        _limit(2, 2, SELL, 101, 3),
        _limit(3, 1, SELL, 102, 4),
    )


def test_ioc_fills_what_it_can_and_cancels_the_rest() -> None:
    engine = _engine()
    _three_asks(engine)

    result = engine.place(_limit(4, 3, BUY, 101, 10, Force.IOC), 10)

    assert [(f.price_ticks, f.lots) for f in result.fills] == [(100, 2), (101, 3)]
    assert result.status is OrderStatus.CANCELLED
    assert (result.filled_lots, result.filled_quote, result.resting_lots) == (5, 503, 0)
    assert result.cancelled == [
        Cancellation(4, 3, SYM, BUY, 101, 5, 5, 503, CancelReason.IOC),
    ]
    assert engine.order(4) is None
    assert engine.depth(SYM, 5) == ([], [(102, 4)])
    engine.check_invariants()


def test_ioc_filled_in_full_is_filled() -> None:
    engine = _engine()
    _three_asks(engine)
    result = engine.place(_limit(4, 3, BUY, 100, 2, Force.IOC), 10)
    assert (result.status, result.filled_lots, result.cancelled) == (OrderStatus.FILLED, 2, [])


def test_ioc_against_nothing_is_cancelled_without_fills() -> None:
    engine = _engine()
    _three_asks(engine)
    result = engine.place(_limit(4, 3, BUY, 99, 5, Force.IOC), 10)
    assert result.fills == []
    assert result.status is OrderStatus.CANCELLED
    assert [(c.order_id, c.cancelled_lots, c.reason) for c in result.cancelled] == [
        (4, 5, CancelReason.IOC)
    ]
    assert engine.depth(SYM, 5) == ([], [(100, 2), (101, 3), (102, 4)])


def test_fok_that_cannot_fill_in_full_changes_nothing() -> None:
    engine = _engine()
    _three_asks(engine)

    result = engine.place(_limit(4, 3, BUY, 101, 6, Force.FOK), 10)

    assert result.fills == []
    assert result.status is OrderStatus.CANCELLED
    assert (result.filled_lots, result.filled_quote, result.resting_lots) == (0, 0, 0)
    assert result.cancelled == [Cancellation(4, 3, SYM, BUY, 101, 6, 0, 0, CancelReason.FOK)]
    assert engine.depth(SYM, 5) == ([], [(100, 2), (101, 3), (102, 4)])
    maker = engine.order(1)
    assert maker is not None
    assert maker.remaining == 2
    # No trade id was spent on the refused order.
    later = engine.place(_limit(5, 3, BUY, 100, 1), 11)
    assert [f.trade_id for f in later.fills] == [1]
    engine.check_invariants()


def test_fok_that_can_fill_fills_across_levels() -> None:
    engine = _engine()
    _three_asks(engine)

    result = engine.place(_limit(4, 3, BUY, 102, 9, Force.FOK), 10)

    assert [(f.price_ticks, f.lots) for f in result.fills] == [(100, 2), (101, 3), (102, 4)]
    assert (result.status, result.filled_lots, result.filled_quote) == (
        OrderStatus.FILLED,
        9,
        200 + 303 + 408,
    )
    assert engine.depth(SYM, 5) == ([], [])
    engine.check_invariants()


def test_fok_exactly_at_the_liquidity_within_its_limit_fills() -> None:
    engine = _engine()
    _three_asks(engine)
    result = engine.place(_limit(4, 3, BUY, 101, 5, Force.FOK), 10)
    assert (result.status, result.filled_lots) == (OrderStatus.FILLED, 5)
    assert engine.depth(SYM, 5) == ([], [(102, 4)])


@pytest.mark.parametrize("price", [100, 101, 150])
def test_post_only_that_would_take_is_cancelled_whole(price: int) -> None:
    engine = _engine()
    _three_asks(engine)

    result = engine.place(_limit(4, 3, BUY, price, 2, Force.POST_ONLY), 10)

    assert result.fills == []
    assert result.status is OrderStatus.CANCELLED
    assert result.cancelled == [
        Cancellation(4, 3, SYM, BUY, price, 2, 0, 0, CancelReason.POST_ONLY),
    ]
    assert engine.order(4) is None
    assert engine.depth(SYM, 5) == ([], [(100, 2), (101, 3), (102, 4)])


def test_post_only_that_would_not_take_rests() -> None:
    engine = _engine()
    _three_asks(engine)
    result = engine.place(_limit(4, 3, BUY, 99, 2, Force.POST_ONLY), 10)
    assert (result.status, result.resting_lots, result.fills) == (OrderStatus.LIVE, 2, [])
    sell = engine.place(_limit(5, 3, SELL, 103, 1, Force.POST_ONLY), 11)
    assert sell.status is OrderStatus.LIVE
    assert engine.depth(SYM, 5) == ([(99, 2)], [(100, 2), (101, 3), (102, 4), (103, 1)])
    engine.check_invariants()


def test_a_resting_post_only_order_is_a_maker_like_any_other() -> None:
    engine = _engine()
    _book(engine, _limit(1, 1, SELL, 100, 2, Force.POST_ONLY))
    result = engine.place(_limit(2, 2, BUY, 100, 2), 5)
    assert [(f.maker_order_id, f.lots) for f in result.fills] == [(1, 2)]


# --- market orders ---------------------------------------------------------------------


def test_market_buy_spends_its_budget_level_by_level() -> None:
    engine = _engine()
    _book(engine, _limit(1, 1, SELL, 100, 3), _limit(2, 2, SELL, 105, 10))

    result = engine.place(NewOrder.market_buy(3, 3, SYM, 1000), 7)

    # 100: min(3, 1000 // 100) = 3 lots for 300; 105: min(10, 700 // 105) = 6 lots for 630.
    assert [(f.price_ticks, f.lots) for f in result.fills] == [(100, 3), (105, 6)]
    assert result.status is OrderStatus.FILLED
    assert (result.filled_lots, result.filled_quote, result.unspent_quote) == (9, 930, 70)
    assert result.cancelled == []
    assert not result.resting
    assert engine.depth(SYM, 5) == ([], [(105, 4)])
    engine.check_invariants()


def test_market_buy_that_empties_the_book_with_budget_to_spare_is_cancelled() -> None:
    engine = _engine()
    _book(engine, _limit(1, 1, SELL, 100, 2))

    result = engine.place(NewOrder.market_buy(2, 3, SYM, 1000), 7)

    assert (result.filled_lots, result.filled_quote, result.unspent_quote) == (2, 200, 800)
    assert result.status is OrderStatus.CANCELLED
    assert result.cancelled == [Cancellation(2, 3, SYM, BUY, None, 0, 2, 200, CancelReason.MARKET)]
    assert engine.depth(SYM, 5) == ([], [])


def test_market_buy_that_empties_the_book_leaving_dust_is_filled() -> None:
    engine = _engine()
    _book(engine, _limit(1, 1, SELL, 100, 2))
    result = engine.place(NewOrder.market_buy(2, 3, SYM, 250), 7)
    assert (result.status, result.filled_lots, result.unspent_quote) == (OrderStatus.FILLED, 2, 50)
    assert result.cancelled == []


def test_market_buy_whose_budget_cannot_buy_one_lot_buys_nothing() -> None:
    engine = _engine()
    _book(engine, _limit(1, 1, SELL, 100, 2))
    result = engine.place(NewOrder.market_buy(2, 3, SYM, 99), 7)
    assert (result.fills, result.status, result.unspent_quote) == ([], OrderStatus.CANCELLED, 99)
    assert [c.reason for c in result.cancelled] == [CancelReason.MARKET]
    assert engine.depth(SYM, 5) == ([], [(100, 2)])


def test_market_buy_stops_inside_a_level_when_the_budget_runs_out() -> None:
    engine = _engine()
    _book(engine, _limit(1, 1, SELL, 7, 10), _limit(2, 2, SELL, 7, 10))
    result = engine.place(NewOrder.market_buy(3, 3, SYM, 100), 7)
    # 100 // 7 = 14 lots: all 10 of the first maker, 4 of the second; 2 left over.
    assert [(f.maker_order_id, f.lots) for f in result.fills] == [(1, 10), (2, 4)]
    assert (result.status, result.filled_quote, result.unspent_quote) == (
        OrderStatus.FILLED,
        98,
        2,
    )
    assert engine.depth(SYM, 5) == ([], [(7, 6)])


def test_market_sell_sells_its_lots_down_the_bids() -> None:
    engine = _engine()
    _book(engine, _limit(1, 1, BUY, 100, 2), _limit(2, 2, BUY, 99, 5))

    result = engine.place(NewOrder.market_sell(3, 3, SYM, 4), 7)

    assert [(f.price_ticks, f.lots) for f in result.fills] == [(100, 2), (99, 2)]
    assert (result.status, result.filled_lots, result.filled_quote) == (
        OrderStatus.FILLED,
        4,
        398,
    )
    assert result.unspent_quote is None
    assert engine.depth(SYM, 5) == ([(99, 3)], [])


def test_market_sell_larger_than_the_book_cancels_the_rest_and_never_rests() -> None:
    engine = _engine()
    _book(engine, _limit(1, 1, BUY, 100, 2))

    result = engine.place(NewOrder.market_sell(2, 3, SYM, 5), 7)

    assert (result.status, result.filled_lots, result.resting_lots) == (
        OrderStatus.CANCELLED,
        2,
        0,
    )
    assert result.cancelled == [
        Cancellation(2, 3, SYM, SELL, None, 3, 2, 200, CancelReason.MARKET),
    ]
    assert engine.order(2) is None
    assert engine.depth(SYM, 5) == ([], [])


def test_market_orders_on_an_empty_book_are_cancelled() -> None:
    engine = _engine()
    buy = engine.place(NewOrder.market_buy(1, 1, SYM, 1000), 1)
    sell = engine.place(NewOrder.market_sell(2, 1, SYM, 3), 2)
    assert (buy.status, buy.unspent_quote) == (OrderStatus.CANCELLED, 1000)
    assert (sell.status, sell.cancelled[0].cancelled_lots) == (OrderStatus.CANCELLED, 3)
    assert engine.depth(SYM, 5) == ([], [])
    engine.check_invariants()


# --- refused orders change nothing -----------------------------------------------------


@pytest.mark.parametrize(
    "order",
    [
        NewOrder(order_id=9, user_id=1, symbol=SYM, side=BUY, type=OrderType.LIMIT, lots=1),
        NewOrder(order_id=9, user_id=1, symbol=SYM, side=BUY, type=OrderType.LIMIT, price_ticks=1),
        NewOrder.limit(9, 1, SYM, BUY, 0, 1),
        NewOrder.limit(9, 1, SYM, BUY, 100, 0),
        NewOrder.limit(9, 1, SYM, BUY, -1, 1),
        NewOrder.limit(9, 1, SYM, BUY, 100, True),
        NewOrder(
            order_id=9,
            user_id=1,
            symbol=SYM,
            side=BUY,
            type=OrderType.LIMIT,
            price_ticks=100,
            lots=1,
            quote_budget=100,
        ),
        NewOrder.market_buy(9, 1, SYM, 0),
        NewOrder(order_id=9, user_id=1, symbol=SYM, side=BUY, type=OrderType.MARKET, lots=1),
        NewOrder(
            order_id=9, user_id=1, symbol=SYM, side=BUY, type=OrderType.MARKET, quote_budget=1,
            price_ticks=100,
        ),
        NewOrder.market_sell(9, 1, SYM, 0),
        NewOrder(
            order_id=9, user_id=1, symbol=SYM, side=SELL, type=OrderType.MARKET, lots=1,
            quote_budget=5,
        ),
    ],
    ids=[
        "limit-no-price",
        "limit-no-size",
        "zero-price",
        "zero-size",
        "negative-price",
        "bool-size",
        "limit-with-budget",
        "market-buy-zero-budget",
        "market-buy-in-lots",
        "market-with-price",
        "market-sell-zero",
        "market-sell-with-budget",
    ],
)
def test_malformed_orders_raise_40808_and_change_nothing(order: NewOrder) -> None:
    engine = _engine()
    _three_asks(engine)
    before = engine.depth(SYM, 10)

    with pytest.raises(OrderParamInvalid) as raised:
        engine.place(order, 10)

    assert raised.value.code == "40808"
    assert raised.value.msg.startswith("Parameter verification exception ")
    assert engine.depth(SYM, 10) == before
    assert engine.order(9) is None
    engine.check_invariants()


def test_an_unknown_symbol_is_refused_as_50004() -> None:
    engine = _engine()
    with pytest.raises(UnknownSymbol) as raised:
        engine.place(NewOrder.limit(9, 1, "ETHUSDT", BUY, 100, 1), 10)
    assert raised.value.code == "50004"
    assert engine.order(9) is None


def test_an_order_id_that_is_resting_is_refused_as_a_duplicate() -> None:
    engine = _engine()
    _three_asks(engine)
    with pytest.raises(DuplicateOrder) as raised:
        engine.place(_limit(1, 3, BUY, 100, 2), 10)
    assert raised.value.code == "43118"
    assert engine.depth(SYM, 5) == ([], [(100, 2), (101, 3), (102, 4)])


def test_an_order_id_that_is_done_may_be_used_again() -> None:
    """The engine remembers resting orders only; the services own id uniqueness."""
    engine = _engine()
    _book(engine, _limit(1, 1, SELL, 100, 1))
    engine.place(_limit(2, 2, BUY, 100, 1), 5)
    assert engine.place(_limit(1, 2, BUY, 90, 1), 6).status is OrderStatus.LIVE


def test_default_force_and_stp() -> None:
    order = NewOrder.limit(1, 1, SYM, BUY, 100, 1)
    assert (order.force, order.stp, order.type) == (
        Force.GTC,
        StpMode.CANCEL_TAKER,
        OrderType.LIMIT,
    )
