"""Cancel, depth, queries, symbols, invariants and the public surface of sealbook.engine."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import ItemsView, Iterator, KeysView, ValuesView

import pytest

import sealbook.engine
from sealbook.engine import (
    Book,
    Cancellation,
    CancelReason,
    Engine,
    Force,
    NewOrder,
    OrderStatus,
    OrderType,
    RestingOrder,
    Side,
    StpMode,
)
from sealbook.errors import Conflict, DuplicateOrder, OrderParamInvalid, UnknownSymbol

SYM = "BTCUSDT"
ETH = "ETHUSDT"
BUY, SELL = Side.BUY, Side.SELL


def _engine(*symbols: str) -> Engine:
    engine = Engine()
    for symbol in symbols or (SYM,):
        engine.add_symbol(symbol)
    return engine


def _limit(order_id: int, user: int, side: Side, price: int, lots: int) -> NewOrder:
    return NewOrder.limit(order_id, user, SYM, side, price, lots)


# --- cancel ----------------------------------------------------------------------------


def test_cancel_takes_the_order_off_and_reports_it() -> None:
    engine = _engine()
    engine.place(_limit(1, 7, BUY, 100, 3), 1)
    engine.place(_limit(2, 8, BUY, 100, 4), 2)

    gone = engine.cancel(SYM, 1)

    assert gone == Cancellation(1, 7, SYM, BUY, 100, 3, 0, 0, CancelReason.USER)
    assert engine.order(1) is None
    assert engine.depth(SYM, 5) == ([(100, 4)], [])
    engine.check_invariants()


def test_cancelling_the_last_order_of_a_level_removes_the_level() -> None:
    engine = _engine()
    engine.place(_limit(1, 7, SELL, 100, 3), 1)
    engine.place(_limit(2, 7, SELL, 101, 3), 2)
    assert engine.cancel(SYM, 1) is not None
    assert engine.depth(SYM, 5) == ([], [(101, 3)])
    engine.check_invariants()


def test_cancel_of_an_unknown_id_or_twice_is_none() -> None:
    engine = _engine()
    assert engine.cancel(SYM, 42) is None
    engine.place(_limit(1, 7, BUY, 100, 3), 1)
    assert engine.cancel(SYM, 1) is not None
    assert engine.cancel(SYM, 1) is None
    assert engine.cancel("NOPEUSDT", 1) is None


def test_cancel_after_a_full_fill_is_none() -> None:
    engine = _engine()
    engine.place(_limit(1, 7, SELL, 100, 3), 1)
    engine.place(_limit(2, 8, BUY, 100, 3), 2)
    assert engine.cancel(SYM, 1) is None
    assert engine.cancel(SYM, 2) is None


def test_cancel_of_a_partly_filled_order_reports_its_fills() -> None:
    engine = _engine()
    engine.place(_limit(1, 7, SELL, 100, 5), 1)
    engine.place(_limit(2, 8, BUY, 100, 2), 2)

    gone = engine.cancel(SYM, 1)

    assert gone == Cancellation(1, 7, SYM, SELL, 100, 3, 2, 200, CancelReason.USER)


def test_cancel_in_the_middle_keeps_the_others_in_time_order() -> None:
    engine = _engine()
    for order_id in (1, 2, 3):
        engine.place(_limit(order_id, order_id, SELL, 100, 1), order_id)
    engine.cancel(SYM, 2)

    result = engine.place(_limit(4, 9, BUY, 100, 2), 4)

    assert [f.maker_order_id for f in result.fills] == [1, 3]


def test_cancel_names_the_right_symbol() -> None:
    engine = _engine(SYM, ETH)
    engine.place(NewOrder.limit(1, 7, ETH, BUY, 100, 3), 1)
    assert engine.cancel(SYM, 1) is None
    assert engine.order(1) is not None
    gone = engine.cancel(ETH, 1)
    assert gone is not None
    assert gone.symbol == ETH


class _NoScan(OrderedDict[int, RestingOrder]):
    """A level whose orders may be looked up and deleted by id, but never walked."""

    def __iter__(self) -> Iterator[int]:
        raise AssertionError("cancel walked the level")

    def keys(self) -> KeysView[int]:
        raise AssertionError("cancel walked the level")

    def values(self) -> ValuesView[RestingOrder]:
        raise AssertionError("cancel walked the level")

    def items(self) -> ItemsView[int, RestingOrder]:
        raise AssertionError("cancel walked the level")


def test_cancel_finds_the_order_by_id_without_walking_its_level() -> None:
    book = Book(SYM)
    for order_id in range(1, 1001):
        book.add(
            RestingOrder(order_id, 1, SYM, BUY, 100, 1, 1, Force.GTC, StpMode.CANCEL_TAKER, 0)
        )
    level = book.bids[100]
    level.orders = _NoScan(dict.items(level.orders))

    removed = book.remove(500)

    assert removed is not None
    assert removed.order_id == 500
    assert 500 not in book.index
    assert level.total_lots == 999
    assert book.remove(500) is None


# --- depth -----------------------------------------------------------------------------


def test_depth_sums_each_level_and_lists_best_first() -> None:
    engine = _engine()
    orders = [
        (1, BUY, 99, 3),
        (2, BUY, 100, 1),
        (3, BUY, 99, 4),
        (4, BUY, 97, 2),
        (5, SELL, 103, 5),
        (6, SELL, 101, 2),
        (7, SELL, 101, 6),
        (8, SELL, 102, 1),
    ]
    for order_id, side, price, lots in orders:
        engine.place(_limit(order_id, order_id, side, price, lots), order_id)

    assert engine.depth(SYM, 10) == (
        [(100, 1), (99, 7), (97, 2)],
        [(101, 8), (102, 1), (103, 5)],
    )
    assert engine.depth(SYM, 2) == ([(100, 1), (99, 7)], [(101, 8), (102, 1)])
    assert engine.depth(SYM, 0) == ([], [])


def test_depth_follows_fills() -> None:
    engine = _engine()
    engine.place(_limit(1, 1, SELL, 101, 2), 1)
    engine.place(_limit(2, 2, SELL, 101, 6), 2)
    engine.place(_limit(3, 3, BUY, 101, 5), 3)
    assert engine.depth(SYM, 10) == ([], [(101, 3)])


def test_depth_of_an_unknown_symbol_is_refused() -> None:
    with pytest.raises(UnknownSymbol):
        _engine().depth(ETH, 5)


# --- symbols and ids -------------------------------------------------------------------


def test_symbols_do_not_trade_with_each_other() -> None:
    engine = _engine(SYM, ETH)
    engine.place(NewOrder.limit(1, 1, SYM, SELL, 100, 2), 1)
    result = engine.place(NewOrder.limit(2, 2, ETH, BUY, 100, 2), 2)
    assert (result.fills, result.status) == ([], OrderStatus.LIVE)
    assert engine.depth(SYM, 5) == ([], [(100, 2)])
    assert engine.depth(ETH, 5) == ([(100, 2)], [])
    assert engine.symbols() == [SYM, ETH]
    engine.check_invariants()


def test_order_ids_are_unique_across_symbols() -> None:
    engine = _engine(SYM, ETH)
    engine.place(NewOrder.limit(1, 1, SYM, SELL, 100, 2), 1)
    with pytest.raises(DuplicateOrder):
        engine.place(NewOrder.limit(1, 1, ETH, SELL, 100, 2), 2)


def test_a_symbol_is_added_once() -> None:
    engine = _engine()
    with pytest.raises(Conflict):
        engine.add_symbol(SYM)
    with pytest.raises(OrderParamInvalid):
        engine.add_symbol("")


def test_order_returns_a_copy() -> None:
    engine = _engine()
    engine.place(_limit(1, 7, BUY, 100, 3), 1)
    copy = engine.order(1)
    assert copy is not None
    assert (copy.status, copy.lots, copy.remaining, copy.force) == (
        OrderStatus.LIVE,
        3,
        3,
        Force.GTC,
    )
    copy.remaining = 1
    again = engine.order(1)
    assert again is not None
    assert again.remaining == 3
    engine.check_invariants()


# --- invariants ------------------------------------------------------------------------


def _busy_engine() -> Engine:
    engine = _engine()
    engine.place(_limit(1, 1, BUY, 99, 3), 1)
    engine.place(_limit(2, 2, BUY, 99, 2), 2)
    engine.place(_limit(3, 3, SELL, 101, 4), 3)
    engine.check_invariants()
    return engine


def test_invariants_catch_a_wrong_level_total() -> None:
    engine = _busy_engine()
    engine._books[SYM].bids[99].total_lots += 1
    with pytest.raises(AssertionError, match="level 99 total"):
        engine.check_invariants()


def test_invariants_catch_an_empty_level() -> None:
    engine = _busy_engine()
    level = engine._books[SYM].asks[101]
    level.orders.clear()
    level.total_lots = 0
    with pytest.raises(AssertionError, match="empty"):
        engine.check_invariants()


def test_invariants_catch_an_index_that_disagrees_with_the_books() -> None:
    engine = _busy_engine()
    del engine._orders[2]
    with pytest.raises(AssertionError, match="not indexed"):
        engine.check_invariants()


def test_invariants_catch_a_stray_index_entry() -> None:
    engine = _busy_engine()
    stray = engine.order(3)
    assert stray is not None
    engine._orders[99] = stray
    with pytest.raises(AssertionError, match="index holds 4 orders, books 3"):
        engine.check_invariants()


def test_invariants_catch_a_crossed_book() -> None:
    engine = _busy_engine()
    book = engine._books[SYM]
    book.add(RestingOrder(9, 9, SYM, BUY, 102, 1, 1, Force.GTC, StpMode.CANCEL_TAKER, 0))
    with pytest.raises(AssertionError, match="crossed"):
        engine.check_invariants()


def test_invariants_catch_an_order_that_cannot_rest() -> None:
    engine = _busy_engine()
    book = engine._books[SYM]
    book.add(RestingOrder(9, 9, SYM, BUY, 90, 1, 1, Force.IOC, StpMode.CANCEL_TAKER, 0))
    with pytest.raises(AssertionError, match="cannot rest"):
        engine.check_invariants()


def test_invariants_catch_an_order_with_nothing_left() -> None:
    engine = _busy_engine()
    engine._orders[1].remaining = 0
    engine._books[SYM].bids[99].total_lots -= 3
    with pytest.raises(AssertionError, match="remaining"):
        engine.check_invariants()


# --- parsing and exports ---------------------------------------------------------------


@pytest.mark.parametrize("text", ["GTC", "gtc", "Gtc", " gTc "])
def test_force_parses_in_any_case(text: str) -> None:
    assert Force.parse(text) is Force.GTC


def test_every_enum_parses_its_wire_spelling() -> None:
    assert Force.parse("Post_Only") is Force.POST_ONLY
    assert Force.parse("FOK") is Force.FOK
    assert Force.parse("ioc") is Force.IOC
    assert Side.parse("BUY") is Side.BUY
    assert Side.parse("Sell") is Side.SELL
    assert OrderType.parse("Market") is OrderType.MARKET
    assert StpMode.parse("CANCEL_MAKER") is StpMode.CANCEL_MAKER


@pytest.mark.parametrize("text", ["gtd", "", "post-only", "none"])
def test_unknown_spellings_are_40808(text: str) -> None:
    with pytest.raises(OrderParamInvalid) as raised:
        Force.parse(text)
    assert raised.value.code == "40808"
    with pytest.raises(OrderParamInvalid):
        StpMode.parse(text)


def test_public_surface_is_pinned() -> None:
    assert sorted(sealbook.engine.__all__) == [
        "Book",
        "CancelReason",
        "Cancellation",
        "Engine",
        "Fill",
        "Force",
        "Level",
        "NewOrder",
        "OrderStatus",
        "OrderType",
        "PlaceResult",
        "RestingOrder",
        "Side",
        "StpMode",
    ]
    for name in sealbook.engine.__all__:
        assert getattr(sealbook.engine, name) is not None
