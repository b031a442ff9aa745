"""Settlement: the engine with holds, fills settled in the ledger, fees — values by hand.

BTCUSDT has price places 0 and size places 7: a lot is 0.0000001 BTC and a tick 1 USDT.
"""

from __future__ import annotations

from typing import Any

import pytest

from sealbook.engine import Engine, Force, NewOrder, Side, StpMode
from sealbook.errors import DuplicateOrder, InsufficientBalance, UnknownSymbol
from sealbook.exchange.settlement import Settlement
from sealbook.ledger import Account, Ledger
from sealbook.markets import default_catalog
from sealbook.money import parse_atoms

CATALOG = default_catalog()
BTCUSDT = CATALOG.symbol("BTCUSDT")
BUYER, SELLER = 1, 2
LOTS_001 = 100_000  # 0.01 BTC


def atoms(text: str) -> int:
    return parse_atoms(text)


def _settlement(**funds: str) -> Settlement:
    engine = Engine()
    engine.add_symbol("BTCUSDT")
    engine.add_symbol("BGBUSDT")
    ledger = Ledger()
    ledger.deposit("d1", BUYER, "USDT", atoms(funds.get("buyer_usdt", "10000")))
    ledger.deposit("d2", SELLER, "BTC", atoms(funds.get("seller_btc", "1")))
    for n, (user, key) in enumerate(((BUYER, "buyer_bgb"), (SELLER, "seller_bgb")), 3):
        if key in funds:
            ledger.deposit(f"d{n}", user, "BGB", atoms(funds[key]))
    return Settlement(CATALOG, engine, ledger)


def _state(s: Settlement) -> tuple[Any, ...]:
    return (
        s.ledger.all_accounts(),
        s.ledger.open_holds(),
        s.ledger.postings(),
        s.engine.depth("BTCUSDT", 100),
        s.engine.trade_seq,
    )


def _sell(order_id: int, price: int, lots: int = LOTS_001, **kw: Any) -> NewOrder:
    return NewOrder.limit(order_id, SELLER, "BTCUSDT", Side.SELL, price, lots, **kw)


def _buy(order_id: int, price: int, lots: int = LOTS_001, **kw: Any) -> NewOrder:
    return NewOrder.limit(order_id, BUYER, "BTCUSDT", Side.BUY, price, lots, **kw)


def test_a_buy_through_the_book_pays_the_makers_price_and_both_fees() -> None:
    s = _settlement()
    rested, fees = s.place(BTCUSDT, _sell(1, 100_000), 1)
    assert rested.resting_lots == LOTS_001 and fees == []
    assert s.ledger.balances(SELLER)["BTC"] == (atoms("0.99"), atoms("0.01"))

    result, fees = s.place(BTCUSDT, _buy(2, 100_100), 2)
    # 0.01 BTC at 100,000 = 1,000 USDT; the buy held 1,001 and gets 1 back at once.
    assert [(f.price_ticks, f.lots) for f in result.fills] == [(100_000, LOTS_001)]
    assert fees == [("BTC", atoms("0.00001"), "USDT", atoms("1"))]
    assert s.ledger.balances(BUYER) == {
        "BTC": (atoms("0.00999"), 0),
        "USDT": (atoms("9000"), 0),
    }
    assert s.ledger.balances(SELLER) == {"BTC": (atoms("0.99"), 0), "USDT": (atoms("999"), 0)}
    assert s.ledger.balance(Account.fees("USDT")) == atoms("1")
    assert s.ledger.balance(Account.fees("BTC")) == atoms("0.00001")
    assert s.ledger.open_holds() == {}
    assert s.last_price == {"BTCUSDT": 100_000}
    assert s.check_invariants() == [] and s.ledger.check_invariants() == []


def test_a_partly_filled_maker_keeps_the_rest_of_its_hold() -> None:
    s = _settlement()
    s.place(BTCUSDT, _sell(1, 100_000, 3 * LOTS_001), 1)
    s.place(BTCUSDT, _buy(2, 100_000), 2)
    assert s.ledger.open_holds() == {"o1": atoms("0.02")}
    assert s.cancel("BTCUSDT", 1) is True
    assert s.cancel("BTCUSDT", 1) is False  # not on the book any more
    assert s.ledger.open_holds() == {}
    assert s.ledger.balances(SELLER)["BTC"] == (atoms("0.99"), 0)
    assert s.check_invariants() == []


def test_a_market_buy_gives_back_the_budget_it_could_not_spend() -> None:
    s = _settlement()
    s.place(BTCUSDT, _sell(1, 100_000), 1)
    # A 1,500 USDT budget (in ticks*lots units of 10^-7 USDT) buys the 0.01 BTC on the book.
    budget_units = 1_500 * 10**7
    order = NewOrder.market_buy(2, BUYER, "BTCUSDT", budget_units)
    result, _ = s.place(BTCUSDT, order, 2, hold_atoms=atoms("1500.00000001"))
    assert result.filled_lots == LOTS_001
    assert s.ledger.balances(BUYER)["USDT"] == (atoms("9000"), 0)
    assert s.ledger.open_holds() == {}
    assert s.check_invariants() == []


def test_self_trade_prevention_releases_the_cancelled_makers_hold() -> None:
    s = _settlement(buyer_usdt="10000")
    s.ledger.deposit("d9", BUYER, "BTC", atoms("1"))
    s.place(BTCUSDT, NewOrder.limit(1, BUYER, "BTCUSDT", Side.SELL, 100_000, LOTS_001), 1)
    s.place(BTCUSDT, _sell(2, 100_000), 2)
    result, _ = s.place(BTCUSDT, _buy(3, 100_000, stp=StpMode.CANCEL_MAKER), 3)
    assert [c.order_id for c in result.cancelled] == [1]
    assert [f.maker_order_id for f in result.fills] == [2]
    assert s.ledger.open_holds() == {}
    assert s.ledger.balances(BUYER)["BTC"] == (atoms("1.00999"), 0)
    assert s.check_invariants() == []


def test_a_fok_that_cannot_fill_changes_nothing_but_its_own_hold_and_release() -> None:
    s = _settlement()
    s.place(BTCUSDT, _sell(1, 100_000), 1)
    result, _ = s.place(BTCUSDT, _buy(2, 100_000, 2 * LOTS_001, force=Force.FOK), 2)
    assert result.fills == [] and result.resting_lots == 0
    assert s.ledger.balances(BUYER)["USDT"] == (atoms("10000"), 0)
    assert [p.kind for p in s.ledger.postings()[-2:]] == ["order_hold", "order_release"]
    assert s.check_invariants() == []


def test_short_funds_are_refused_before_the_book_is_touched() -> None:
    s = _settlement(buyer_usdt="999")
    s.place(BTCUSDT, _sell(1, 100_000), 1)
    before = _state(s)
    with pytest.raises(InsufficientBalance):
        s.place(BTCUSDT, _buy(2, 100_000), 2)
    assert _state(s) == before
    assert s.check_invariants() == []


def test_an_order_id_on_the_book_is_refused_before_anything_changes() -> None:
    s = _settlement()
    s.place(BTCUSDT, _sell(1, 100_001), 1)
    before = _state(s)
    with pytest.raises(DuplicateOrder):
        s.place(BTCUSDT, _buy(1, 100_000), 2)
    assert _state(s) == before


def test_an_order_the_engine_refuses_leaves_no_hold() -> None:
    s = _settlement()
    stray = NewOrder.limit(1, BUYER, "ETHUSDT", Side.BUY, 100_000, LOTS_001)  # not traded here
    with pytest.raises(UnknownSymbol):
        s.place(BTCUSDT, stray, 1)
    assert s.ledger.open_holds() == {}
    assert s.ledger.balances(BUYER)["USDT"] == (atoms("10000"), 0)
    assert [p.kind for p in s.ledger.postings()[-2:]] == ["order_hold", "order_release"]
    assert s.check_invariants() == []


def test_fees_in_bgb_when_on_and_available() -> None:
    s = _settlement(buyer_bgb="10")
    s.bgb_deduct.add(BUYER)
    s.last_price["BGBUSDT"] = 50_000  # 5 USDT (4 price places)
    s.place(BTCUSDT, _sell(1, 100_000), 1)
    _, fees = s.place(BTCUSDT, _buy(2, 100_000), 2)
    # Taker fee 0.1% of 1,000 USDT = 1 USDT, 80% of it in BGB at 5 USDT = 0.16 BGB.
    assert fees == [("BGB", atoms("0.16"), "USDT", atoms("1"))]
    assert s.ledger.balances(BUYER)["BGB"] == (atoms("9.84"), 0)
    assert s.ledger.balances(BUYER)["BTC"] == (atoms("0.01"), 0)
    assert s.ledger.balance(Account.fees("BGB")) == atoms("0.16")
    assert s.check_invariants() == []


def test_without_enough_bgb_the_fee_is_taken_from_what_was_received() -> None:
    s = _settlement(buyer_bgb="0.1")
    s.bgb_deduct.add(BUYER)
    s.last_price["BGBUSDT"] = 50_000
    s.place(BTCUSDT, _sell(1, 100_000), 1)
    _, fees = s.place(BTCUSDT, _buy(2, 100_000), 2)
    assert fees == [("BTC", atoms("0.00001"), "USDT", atoms("1"))]
    assert s.ledger.balances(BUYER)["BGB"] == (atoms("0.1"), 0)


def test_invariants_catch_a_book_and_holds_out_of_step() -> None:
    s = _settlement()
    s.place(BTCUSDT, _sell(1, 100_000), 1)
    s.place(BTCUSDT, _sell(2, 100_001), 2)
    s.engine.cancel("BTCUSDT", 1)  # behind the settlement's back
    s.ledger.close_hold("o2")
    assert s.check_invariants() == [
        "order 2 rests without an open hold",
        "hold 'o1' is open but its order is not on the book",
    ]


def test_restored_orders_settle_as_before_the_restart() -> None:
    s = _settlement()
    s.place(BTCUSDT, _buy(1, 100_100), 1)
    s.place(BTCUSDT, _sell(2, 100_200), 2)
    ledger = Ledger.from_postings(s.ledger.postings(), s.ledger.open_holds())
    engine = Engine(s.engine.trade_seq)
    engine.add_symbol("BTCUSDT")
    restored = Settlement(CATALOG, engine, ledger)
    for order_id in (1, 2):
        resting = s.engine.order(order_id)
        assert resting is not None
        engine.restore(resting)
    assert restored.check_invariants() == []
    # A sell at 100,000 meets the buy at its 100,100: no improvement for a maker.
    restored.place(BTCUSDT, _sell(3, 100_000), 3)
    assert restored.ledger.balances(BUYER)["USDT"] == (atoms("8999"), 0)
    assert restored.ledger.open_holds() == {"o2": atoms("0.01")}
    assert restored.check_invariants() == [] and restored.ledger.check_invariants() == []


def test_a_sweep_values_each_bgb_fee_at_the_price_before_that_fill() -> None:
    """On BGBUSDT itself the fills move the BGB price: fill 1 is valued at the reference
    price (4.6 USDT, no trade yet), fill 2 at fill 1's price (5 USDT)."""
    bgbusdt = CATALOG.symbol("BGBUSDT")  # 4 price places, 2 size places
    s = _settlement(buyer_bgb="10")
    s.ledger.deposit("d9", SELLER, "BGB", atoms("20"))
    s.bgb_deduct.add(BUYER)
    for order_id, price in ((1, 50_000), (2, 51_000)):
        s.place(bgbusdt, NewOrder.limit(order_id, SELLER, "BGBUSDT", Side.SELL, price, 1_000), 1)
    _, fees = s.place(bgbusdt, NewOrder.limit(3, BUYER, "BGBUSDT", Side.BUY, 51_000, 2_000), 2)
    # 0.1 % of 50 USDT, 80 % of it, in BGB at 4.6; then 0.1 % of 51 USDT, 80 %, at 5.
    assert [f[:2] for f in fees] == [
        ("BGB", atoms("0.008695652173913043")),
        ("BGB", atoms("0.00816")),
    ]
    assert s.last_price["BGBUSDT"] == 51_000
    assert s.check_invariants() == [] and s.ledger.check_invariants() == []
