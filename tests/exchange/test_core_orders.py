"""The exchange core's money flow, by hand: every amount below is worked out in the test.

BTCUSDT has price precision 0 and size precision 7 (a tick is 1 USDT, a lot 10^-7 BTC);
ETHBTC 6 and 5; BGBUSDT 4 and 2, reference price 4.6. Fees are 0.1 % maker and taker.
Amounts are atoms (10^-18 of a coin); ``atoms("0.01")`` is 10^16.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from sealbook.engine import OrderStatus
from sealbook.errors import SealbookError
from sealbook.exchange.core import ExchangeCore, PlaceRequest
from sealbook.exchange.orders import WithdrawalStatus
from sealbook.ledger import Account
from sealbook.ledger.records import expand, posting_of
from sealbook.markets import default_catalog

BTCUSDT, ETHBTC, BGBUSDT = "BTCUSDT", "ETHBTC", "BGBUSDT"
ALICE, BOB, CAROL = 1, 2, 3
T0 = 1_700_000_000_000


def atoms(text: str) -> int:
    """A decimal string of coins as atoms; refuses anything finer than an atom."""
    value = Decimal(text).scaleb(18)
    assert value == value.to_integral_value(), text
    return int(value)


def fresh() -> ExchangeCore:
    return ExchangeCore(default_catalog())


def fund(core: ExchangeCore, user: int, coin: str, amount: str) -> None:
    core.deposit(user, coin, None, atoms(amount), f"addr-{user}", T0)


def limit(symbol: str, side: str, size: str, price: str, **kw: Any) -> PlaceRequest:
    return PlaceRequest(symbol, side, "limit", size, price, **kw)


def market(symbol: str, side: str, size: str, **kw: Any) -> PlaceRequest:
    return PlaceRequest(symbol, side, "market", size, **kw)


def bal(core: ExchangeCore, user: int, coin: str) -> tuple[int, int]:
    """(available, frozen) in atoms."""
    return core.ledger.available(user, coin), core.ledger.frozen(user, coin)


def fees(core: ExchangeCore, coin: str) -> int:
    return core.ledger.balance(Account.fees(coin))


def world(core: ExchangeCore, coin: str) -> int:
    return core.ledger.balance(Account.world(coin))


def sound(core: ExchangeCore) -> None:
    assert core.check_invariants() == []


def snapshot(core: ExchangeCore) -> tuple[Any, ...]:
    depth = {s: core.engine.depth(s, 100) for s in (BTCUSDT, ETHBTC, BGBUSDT)}
    return (
        core.ledger.all_accounts(),
        core.ledger.open_holds(),
        core.ledger.last_seq,
        copy.deepcopy(core.orders),
        dict(core.by_client),
        copy.deepcopy(core.withdrawals),
        depth,
        core.engine.trade_seq,
    )


# --- limit orders, fills, fees -----------------------------------------------------------


def test_limit_buy_holds_price_times_size_of_quote() -> None:
    core = fresh()
    fund(core, ALICE, "USDT", "2000")
    order = core.place(ALICE, limit(BTCUSDT, "buy", "0.01", "100000"), T0 + 1)
    assert order.status is OrderStatus.LIVE
    assert order.price_ticks == 100000
    assert order.size_lots == 100_000  # 0.01 BTC in lots of 10^-7
    assert bal(core, ALICE, "USDT") == (atoms("1000"), atoms("1000"))
    assert core.ledger.remaining(order.hold_id) == atoms("1000")
    assert core.open_orders(ALICE) == [order]
    sound(core)


def test_limit_sell_holds_base() -> None:
    core = fresh()
    fund(core, BOB, "BTC", "0.5")
    order = core.place(BOB, limit(BTCUSDT, "sell", "0.0123457", "100000"), T0 + 1)
    assert bal(core, BOB, "BTC") == (atoms("0.4876543"), atoms("0.0123457"))
    assert core.ledger.remaining(order.hold_id) == atoms("0.0123457")
    sound(core)


def test_a_sell_fills_a_resting_buy_and_both_pay_the_fee_in_what_they_receive() -> None:
    core = fresh()
    fund(core, ALICE, "USDT", "2000")
    fund(core, BOB, "BTC", "0.01")
    buy = core.place(ALICE, limit(BTCUSDT, "buy", "0.01", "100000"), T0 + 1)
    core.drain()
    sell = core.place(BOB, limit(BTCUSDT, "sell", "0.01", "100000"), T0 + 2)

    assert buy.status is OrderStatus.FILLED
    assert sell.status is OrderStatus.FILLED
    # The buyer: 0.01 BTC less 0.1 % (0.00001 BTC), and the rest of 2000 USDT.
    assert bal(core, ALICE, "BTC") == (atoms("0.00999"), 0)
    assert bal(core, ALICE, "USDT") == (atoms("1000"), 0)
    # The seller: 1000 USDT less 0.1 % (1 USDT), no BTC left.
    assert bal(core, BOB, "USDT") == (atoms("999"), 0)
    assert bal(core, BOB, "BTC") == (0, 0)
    assert fees(core, "BTC") == atoms("0.00001")
    assert fees(core, "USDT") == atoms("1")
    assert buy.fees == {"BTC": atoms("0.00001")}
    assert sell.fees == {"USDT": atoms("1")}
    assert buy.filled_lots == sell.filled_lots == 100_000
    assert buy.filled_quote_atoms == sell.filled_quote_atoms == atoms("1000")

    changes = core.drain()
    assert [(f.order_id, f.maker, f.fee_coin, f.fee_atoms) for f in changes.fills] == [
        (buy.order_id, True, "BTC", atoms("0.00001")),
        (sell.order_id, False, "USDT", atoms("1")),
    ]
    assert {f.trade_id for f in changes.fills} == {1}
    assert set(changes.orders) == {buy.order_id, sell.order_id}
    assert core.price_of(BTCUSDT) == 100000
    sound(core)


def test_fee_is_the_rate_of_the_received_atoms_rounded_down() -> None:
    # 0.0000001 BTC (one lot) at 104 321 USDT: 0.0104321 USDT. 0.1 % of it is
    # 0.0000104321 USDT; of 10^11 BTC atoms, 10^8 atoms.
    core = fresh()
    fund(core, ALICE, "USDT", "10")
    fund(core, BOB, "BTC", "1")
    # One lot is worth under the 1 USDT minimum, so the fill is one lot out of a big ask.
    core.place(BOB, limit(BTCUSDT, "sell", "0.0001", "104321"), T0 + 1)
    buy = core.place(ALICE, limit(BTCUSDT, "buy", "0.0000096", "104321"), T0 + 2)
    assert buy.status is OrderStatus.FILLED
    received = 96 * 10**11
    assert buy.fees == {"BTC": received * 1000 // 10**6}
    assert bal(core, ALICE, "BTC") == (received - received // 1000, 0)
    paid = 104321 * 96 * 10**11  # ticks × lots × 10^(18 - 0 - 7)
    assert paid == atoms("1.0014816")
    assert bal(core, ALICE, "USDT") == (atoms("10") - paid, 0)
    sound(core)


def test_a_limit_buy_crossing_a_cheaper_ask_gets_the_difference_back() -> None:
    core = fresh()
    fund(core, ALICE, "USDT", "2000")
    fund(core, BOB, "BTC", "0.01")
    core.place(BOB, limit(BTCUSDT, "sell", "0.01", "99000"), T0 + 1)
    buy = core.place(ALICE, limit(BTCUSDT, "buy", "0.01", "100000"), T0 + 2)
    assert buy.status is OrderStatus.FILLED
    # Held 1000, paid 990: the 10 USDT of improvement is back at once.
    assert bal(core, ALICE, "USDT") == (atoms("1010"), 0)
    assert bal(core, ALICE, "BTC") == (atoms("0.00999"), 0)
    assert bal(core, BOB, "USDT") == (atoms("989.01"), 0)
    sound(core)


def test_improvement_is_released_at_the_fill_while_the_rest_stays_held() -> None:
    core = fresh()
    fund(core, ALICE, "USDT", "2000")
    fund(core, BOB, "BTC", "0.01")
    core.place(BOB, limit(BTCUSDT, "sell", "0.01", "99000"), T0 + 1)
    buy = core.place(ALICE, limit(BTCUSDT, "buy", "0.02", "100000"), T0 + 2)
    assert buy.status is OrderStatus.PARTIALLY_FILLED
    assert buy.filled_lots == 100_000
    # 2000 - 990 paid - 1000 still held for the 0.01 resting at 100 000.
    assert bal(core, ALICE, "USDT") == (atoms("10"), atoms("1000"))
    assert core.ledger.remaining(buy.hold_id) == atoms("1000")
    assert core.engine.depth(BTCUSDT, 5) == ([(100000, 100_000)], [])
    sound(core)


def test_partially_filled_maker_keeps_the_hold_for_its_rest() -> None:
    core = fresh()
    fund(core, ALICE, "USDT", "2000")
    fund(core, BOB, "BTC", "0.004")
    buy = core.place(ALICE, limit(BTCUSDT, "buy", "0.01", "100000"), T0 + 1)
    core.place(BOB, limit(BTCUSDT, "sell", "0.004", "100000"), T0 + 2)
    assert buy.status is OrderStatus.PARTIALLY_FILLED
    assert bal(core, ALICE, "USDT") == (atoms("1000"), atoms("600"))
    assert bal(core, ALICE, "BTC") == (atoms("0.003996"), 0)
    assert bal(core, BOB, "USDT") == (atoms("399.6"), 0)
    sound(core)


# --- time in force ------------------------------------------------------------------------


def test_ioc_fills_what_it_can_and_cancels_the_rest() -> None:
    core = fresh()
    fund(core, ALICE, "USDT", "3000")
    fund(core, BOB, "BTC", "0.01")
    core.place(BOB, limit(BTCUSDT, "sell", "0.01", "100000"), T0 + 1)
    ioc = core.place(ALICE, limit(BTCUSDT, "buy", "0.02", "100000", force="ioc"), T0 + 2)
    assert ioc.status is OrderStatus.CANCELLED
    assert ioc.cancel_reason == "ioc"
    assert ioc.filled_lots == 100_000
    assert bal(core, ALICE, "USDT") == (atoms("2000"), 0)
    assert bal(core, ALICE, "BTC") == (atoms("0.00999"), 0)
    assert core.engine.depth(BTCUSDT, 5) == ([], [])
    sound(core)


def test_ioc_with_nothing_to_take_is_cancelled_and_holds_nothing() -> None:
    core = fresh()
    fund(core, ALICE, "USDT", "3000")
    ioc = core.place(ALICE, limit(BTCUSDT, "buy", "0.02", "100000", force="IOC"), T0 + 1)
    assert ioc.status is OrderStatus.CANCELLED
    assert ioc.filled_lots == 0
    assert bal(core, ALICE, "USDT") == (atoms("3000"), 0)
    sound(core)


def test_fok_that_cannot_fill_in_full_does_nothing() -> None:
    core = fresh()
    fund(core, ALICE, "USDT", "3000")
    fund(core, BOB, "BTC", "0.01")
    core.place(BOB, limit(BTCUSDT, "sell", "0.01", "100000"), T0 + 1)
    fok = core.place(ALICE, limit(BTCUSDT, "buy", "0.02", "100000", force="fok"), T0 + 2)
    assert fok.status is OrderStatus.CANCELLED
    assert fok.cancel_reason == "fok"
    assert fok.filled_lots == 0
    assert bal(core, ALICE, "USDT") == (atoms("3000"), 0)
    assert bal(core, BOB, "BTC") == (0, atoms("0.01"))
    assert core.engine.depth(BTCUSDT, 5) == ([], [(100000, 100_000)])
    assert core.drain().fills == []
    sound(core)


def test_fok_that_can_fill_fills() -> None:
    core = fresh()
    fund(core, ALICE, "USDT", "3000")
    fund(core, BOB, "BTC", "0.02")
    core.place(BOB, limit(BTCUSDT, "sell", "0.01", "99000"), T0 + 1)
    core.place(BOB, limit(BTCUSDT, "sell", "0.01", "100000"), T0 + 2)
    fok = core.place(ALICE, limit(BTCUSDT, "buy", "0.015", "100000", force="fok"), T0 + 3)
    assert fok.status is OrderStatus.FILLED
    # 990 + 500 paid, the 10 USDT of improvement on the first 0.01 back.
    assert bal(core, ALICE, "USDT") == (atoms("1510"), 0)
    assert bal(core, ALICE, "BTC") == (atoms("0.014985"), 0)
    sound(core)


def test_post_only_that_would_take_is_cancelled_whole() -> None:
    core = fresh()
    fund(core, ALICE, "USDT", "3000")
    fund(core, BOB, "BTC", "0.01")
    core.place(BOB, limit(BTCUSDT, "sell", "0.01", "100000"), T0 + 1)
    post = core.place(ALICE, limit(BTCUSDT, "buy", "0.01", "100000", force="post_only"), T0 + 2)
    assert post.status is OrderStatus.CANCELLED
    assert post.cancel_reason == "post_only"
    assert post.filled_lots == 0
    assert bal(core, ALICE, "USDT") == (atoms("3000"), 0)
    sound(core)


def test_post_only_that_would_not_take_rests() -> None:
    core = fresh()
    fund(core, ALICE, "USDT", "3000")
    fund(core, BOB, "BTC", "0.01")
    core.place(BOB, limit(BTCUSDT, "sell", "0.01", "100000"), T0 + 1)
    post = core.place(ALICE, limit(BTCUSDT, "buy", "0.01", "99999", force="post_only"), T0 + 2)
    assert post.status is OrderStatus.LIVE
    assert bal(core, ALICE, "USDT") == (atoms("2000.01"), atoms("999.99"))
    sound(core)


# --- market orders ------------------------------------------------------------------------


def test_market_buy_spends_a_quote_budget_across_levels() -> None:
    core = fresh()
    fund(core, ALICE, "USDT", "2000")
    fund(core, BOB, "BTC", "0.01")
    fund(core, CAROL, "BTC", "0.01")
    core.place(BOB, limit(BTCUSDT, "sell", "0.01", "100000"), T0 + 1)
    core.place(CAROL, limit(BTCUSDT, "sell", "0.01", "101000"), T0 + 2)
    buy = core.place(ALICE, market(BTCUSDT, "buy", "1500"), T0 + 3)
    # 1000 USDT buy 0.01 at 100 000; the other 500 buy floor(500 / 101 000, 7 places)
    # = 0.0049504 BTC for 499.9904 USDT; 0.0096 USDT cannot buy a lot and comes back.
    assert buy.status is OrderStatus.FILLED
    assert buy.budget_atoms == atoms("1500")
    assert buy.filled_lots == 149_504
    assert buy.filled_quote_atoms == atoms("1499.9904")
    assert bal(core, ALICE, "USDT") == (atoms("500.0096"), 0)
    assert bal(core, ALICE, "BTC") == (atoms("0.0149504") - atoms("0.0000149504"), 0)
    assert bal(core, CAROL, "BTC") == (0, atoms("0.0050496"))
    assert bal(core, CAROL, "USDT") == (atoms("499.9904") - atoms("0.4999904"), 0)
    assert core.engine.depth(BTCUSDT, 5) == ([], [(101000, 50_496)])
    sound(core)


def test_market_buy_with_no_asks_is_cancelled_and_releases_its_budget() -> None:
    core = fresh()
    fund(core, ALICE, "USDT", "2000")
    buy = core.place(ALICE, market(BTCUSDT, "buy", "1500"), T0 + 1)
    assert buy.status is OrderStatus.CANCELLED
    assert buy.cancel_reason == "market"
    assert bal(core, ALICE, "USDT") == (atoms("2000"), 0)
    sound(core)


def test_market_buy_that_runs_out_of_book_is_cancelled_after_its_fills() -> None:
    core = fresh()
    fund(core, ALICE, "USDT", "2000")
    fund(core, BOB, "BTC", "0.01")
    core.place(BOB, limit(BTCUSDT, "sell", "0.01", "100000"), T0 + 1)
    buy = core.place(ALICE, market(BTCUSDT, "buy", "1500"), T0 + 2)
    assert buy.status is OrderStatus.CANCELLED
    assert buy.filled_lots == 100_000
    assert bal(core, ALICE, "USDT") == (atoms("1000"), 0)
    assert bal(core, ALICE, "BTC") == (atoms("0.00999"), 0)
    sound(core)


def test_market_sell_walks_the_bids() -> None:
    core = fresh()
    fund(core, ALICE, "USDT", "3000")
    fund(core, BOB, "BTC", "0.02")
    core.place(ALICE, limit(BTCUSDT, "buy", "0.01", "99000"), T0 + 1)
    core.place(ALICE, limit(BTCUSDT, "buy", "0.01", "100000"), T0 + 2)
    sell = core.place(BOB, market(BTCUSDT, "sell", "0.015"), T0 + 3)
    assert sell.status is OrderStatus.FILLED
    # 0.01 at 100 000 and 0.005 at 99 000: 1495 USDT less 1.495 of fee.
    assert bal(core, BOB, "USDT") == (atoms("1493.505"), 0)
    assert bal(core, BOB, "BTC") == (atoms("0.005"), 0)
    assert bal(core, ALICE, "USDT") == (atoms("1010"), atoms("495"))  # 3000 - 990 - 1000
    assert bal(core, ALICE, "BTC") == (atoms("0.014985"), 0)
    sound(core)


def test_market_sell_beyond_the_book_releases_the_unsold_base() -> None:
    core = fresh()
    fund(core, ALICE, "USDT", "3000")
    fund(core, BOB, "BTC", "0.02")
    core.place(ALICE, limit(BTCUSDT, "buy", "0.01", "100000"), T0 + 1)
    sell = core.place(BOB, market(BTCUSDT, "sell", "0.02"), T0 + 2)
    assert sell.status is OrderStatus.CANCELLED
    assert sell.cancel_reason == "market"
    assert sell.filled_lots == 100_000
    assert bal(core, BOB, "BTC") == (atoms("0.01"), 0)
    assert bal(core, BOB, "USDT") == (atoms("999"), 0)
    sound(core)


# --- cancel ---------------------------------------------------------------------------------


def test_cancel_releases_what_is_left_of_the_hold() -> None:
    core = fresh()
    fund(core, ALICE, "USDT", "3000")
    fund(core, BOB, "BTC", "0.005")
    buy = core.place(ALICE, limit(BTCUSDT, "buy", "0.02", "100000"), T0 + 1)
    core.place(BOB, limit(BTCUSDT, "sell", "0.005", "100000"), T0 + 2)
    assert bal(core, ALICE, "USDT") == (atoms("1000"), atoms("1500"))
    core.drain()
    gone = core.cancel(ALICE, BTCUSDT, T0 + 3, order_id=buy.order_id)
    assert gone is buy
    assert buy.status is OrderStatus.CANCELLED
    assert buy.cancel_reason == "user"
    assert buy.filled_lots == 50_000
    assert bal(core, ALICE, "USDT") == (atoms("2500"), 0)
    assert core.engine.depth(BTCUSDT, 5) == ([], [])
    changes = core.drain()
    assert list(changes.orders) == [buy.order_id]
    assert [posting_of(e).amount for r in changes.records for e in expand(r)] == [atoms("1500")]
    sound(core)


def test_cancel_by_client_oid() -> None:
    core = fresh()
    fund(core, BOB, "BTC", "1")
    core.place(BOB, limit(BTCUSDT, "sell", "0.1", "110000", client_oid="mine-1"), T0 + 1)
    gone = core.cancel(BOB, "", T0 + 2, client_oid="mine-1")
    assert gone.status is OrderStatus.CANCELLED
    assert bal(core, BOB, "BTC") == (atoms("1"), 0)
    sound(core)


@pytest.mark.parametrize(
    "how",
    ["unknown id", "another user", "other symbol", "twice", "unknown client oid"],
)
def test_cancel_of_no_such_open_order_is_43001_and_changes_nothing(how: str) -> None:
    core = fresh()
    fund(core, ALICE, "USDT", "3000")
    order = core.place(ALICE, limit(BTCUSDT, "buy", "0.01", "100000", client_oid="c1"), T0 + 1)
    user, symbol, kw = ALICE, BTCUSDT, {"order_id": order.order_id}
    if how == "unknown id":
        kw = {"order_id": 999}
    elif how == "another user":
        user = BOB
    elif how == "other symbol":
        symbol = ETHBTC
    elif how == "twice":
        core.cancel(ALICE, BTCUSDT, T0 + 2, order_id=order.order_id)
    else:
        kw = {"client_oid": "c2"}
    core.drain()
    before = snapshot(core)
    with pytest.raises(SealbookError) as info:
        core.cancel(user, symbol, T0 + 3, **kw)  # type: ignore[arg-type]
    assert info.value.code == "43001"
    assert snapshot(core) == before
    assert not core.drain()
    sound(core)


# --- self-trade prevention ------------------------------------------------------------------


def _own_ask_then_bob_ask() -> ExchangeCore:
    """Alice's ask 0.01 @ 100 000, then Bob's ask 0.01 @ 100 000 behind it."""
    core = fresh()
    fund(core, ALICE, "BTC", "0.01")
    fund(core, ALICE, "USDT", "3000")
    fund(core, BOB, "BTC", "0.01")
    core.place(ALICE, limit(BTCUSDT, "sell", "0.01", "100000"), T0 + 1)
    core.place(BOB, limit(BTCUSDT, "sell", "0.01", "100000"), T0 + 2)
    return core


@pytest.mark.parametrize("stp", [None, "cancel_taker", "CANCEL_TAKER", " Cancel_Taker "])
def test_stp_cancel_taker_cancels_the_taker_and_keeps_the_maker(stp: str | None) -> None:
    core = _own_ask_then_bob_ask()
    buy = core.place(ALICE, limit(BTCUSDT, "buy", "0.01", "100000", stp=stp), T0 + 3)
    assert buy.status is OrderStatus.CANCELLED
    assert buy.cancel_reason == "self_trade"
    assert buy.filled_lots == 0
    assert core.orders[1].status is OrderStatus.LIVE
    assert bal(core, ALICE, "USDT") == (atoms("3000"), 0)
    assert bal(core, ALICE, "BTC") == (0, atoms("0.01"))
    assert core.engine.depth(BTCUSDT, 5) == ([], [(100000, 200_000)])
    sound(core)


@pytest.mark.parametrize("stp", ["cancel_maker", "Cancel_Maker"])
def test_stp_cancel_maker_cancels_own_maker_and_trades_on(stp: str) -> None:
    core = _own_ask_then_bob_ask()
    buy = core.place(ALICE, limit(BTCUSDT, "buy", "0.01", "100000", stp=stp), T0 + 3)
    own = core.orders[1]
    assert own.status is OrderStatus.CANCELLED
    assert own.cancel_reason == "self_trade"
    assert buy.status is OrderStatus.FILLED
    # Alice's own BTC is back; she bought Bob's 0.01 for 1000 USDT.
    assert bal(core, ALICE, "BTC") == (atoms("0.01") + atoms("0.00999"), 0)
    assert bal(core, ALICE, "USDT") == (atoms("2000"), 0)
    assert bal(core, BOB, "USDT") == (atoms("999"), 0)
    assert core.engine.depth(BTCUSDT, 5) == ([], [])
    sound(core)


def test_stp_cancel_both_cancels_taker_and_maker() -> None:
    core = _own_ask_then_bob_ask()
    buy = core.place(ALICE, limit(BTCUSDT, "buy", "0.01", "100000", stp="cancel_both"), T0 + 3)
    assert buy.status is OrderStatus.CANCELLED
    assert buy.cancel_reason == "self_trade"
    assert core.orders[1].status is OrderStatus.CANCELLED
    assert core.orders[2].status is OrderStatus.LIVE
    assert bal(core, ALICE, "BTC") == (atoms("0.01"), 0)
    assert bal(core, ALICE, "USDT") == (atoms("3000"), 0)
    assert core.engine.depth(BTCUSDT, 5) == ([], [(100000, 100_000)])
    sound(core)


def test_stp_for_a_market_buy() -> None:
    core = _own_ask_then_bob_ask()
    buy = core.place(ALICE, market(BTCUSDT, "buy", "1000", stp="cancel_maker"), T0 + 3)
    assert buy.status is OrderStatus.FILLED
    assert core.orders[1].status is OrderStatus.CANCELLED
    assert bal(core, ALICE, "USDT") == (atoms("2000"), 0)
    sound(core)


# --- clientOid --------------------------------------------------------------------------------


def test_retry_with_the_same_client_oid_and_terms_returns_the_same_order() -> None:
    core = fresh()
    fund(core, ALICE, "USDT", "3000")
    req = limit(BTCUSDT, "buy", "0.01", "100000", client_oid="retry-1")
    first = core.place(ALICE, req, T0 + 1)
    core.drain()
    again = core.place(ALICE, req, T0 + 2)
    assert again is first
    assert bal(core, ALICE, "USDT") == (atoms("2000"), atoms("1000"))
    assert len(core.orders) == 1
    assert not core.drain()
    # Spelled differently but the same order: still the same one.
    same = limit("btcusdt", "BUY", "0.0100", "100000.0", client_oid="retry-1", force="GTC")
    assert core.place(ALICE, same, T0 + 3) is first
    # Another user may use the same clientOid.
    fund(core, BOB, "USDT", "3000")
    assert core.place(BOB, req, T0 + 4) is not first
    sound(core)


def test_retry_of_a_filled_order_returns_it_and_places_nothing() -> None:
    core = fresh()
    fund(core, ALICE, "USDT", "3000")
    fund(core, BOB, "BTC", "0.01")
    core.place(BOB, limit(BTCUSDT, "sell", "0.01", "100000"), T0 + 1)
    req = limit(BTCUSDT, "buy", "0.01", "100000", client_oid="once")
    first = core.place(ALICE, req, T0 + 2)
    assert first.status is OrderStatus.FILLED
    before = snapshot(core)
    assert core.place(ALICE, req, T0 + 3) is first
    assert snapshot(core) == before


@pytest.mark.parametrize(
    "other",
    [
        limit(BTCUSDT, "buy", "0.01", "100001", client_oid="dup"),
        limit(BTCUSDT, "buy", "0.02", "100000", client_oid="dup"),
        limit(BTCUSDT, "buy", "0.01", "100000", client_oid="dup", force="ioc"),
        limit(BTCUSDT, "sell", "0.01", "100000", client_oid="dup"),
        market(BTCUSDT, "buy", "1000", client_oid="dup"),
    ],
)
def test_same_client_oid_other_terms_is_43118_and_changes_nothing(other: PlaceRequest) -> None:
    core = fresh()
    fund(core, ALICE, "USDT", "3000")
    fund(core, ALICE, "BTC", "1")
    core.place(ALICE, limit(BTCUSDT, "buy", "0.01", "100000", client_oid="dup"), T0 + 1)
    core.drain()
    before = snapshot(core)
    with pytest.raises(SealbookError) as info:
        core.place(ALICE, other, T0 + 2)
    assert info.value.code == "43118"
    assert snapshot(core) == before
    assert not core.drain()


@pytest.mark.parametrize("oid", ["sb1", "sb42", "sb0000", "x" * 50, "bad oid", "ünï"])
def test_refused_client_oids(oid: str) -> None:
    core = fresh()
    fund(core, ALICE, "USDT", "3000")
    before = snapshot(core)
    with pytest.raises(SealbookError) as info:
        core.place(ALICE, limit(BTCUSDT, "buy", "0.01", "100000", client_oid=oid), T0 + 1)
    assert info.value.code == "40808"
    assert snapshot(core) == before


def test_generated_client_oids_and_accepted_user_ones() -> None:
    core = fresh()
    fund(core, ALICE, "USDT", "3000")
    first = core.place(ALICE, limit(BTCUSDT, "buy", "0.001", "100000"), T0 + 1)
    assert first.client_oid == f"sb{first.order_id}"
    for oid in ("sb", "sbx1", "SB1", "a-b+c_d#9", "x" * 49):
        order = core.place(ALICE, limit(BTCUSDT, "buy", "0.001", "100000", client_oid=oid), T0)
        assert order.client_oid == oid
        assert core.find(ALICE, client_oid=oid) is order
    sound(core)


# --- refusals change nothing ----------------------------------------------------------------


REFUSED = [
    ("40808", limit(BTCUSDT, "buy", "0.01", "100000.5")),  # BTCUSDT prices are whole USDT
    ("40808", limit(BTCUSDT, "buy", "0.00000001", "100000")),  # 8 places, 7 allowed
    ("40808", limit(ETHBTC, "sell", "0.1", "0.0346151")),  # 7 places, 6 allowed
    ("40808", market(BTCUSDT, "buy", "10.00000001")),  # quote has 0 + 7 places
    ("40808", limit(BTCUSDT, "buy", "-0.01", "100000")),
    ("40808", limit(BTCUSDT, "buy", "1e-2", "100000")),
    ("40808", limit(BTCUSDT, "buy", "0.01", "0")),
    ("40808", limit(BTCUSDT, "buy", "200", "100000")),  # above the maximum size
    ("40808", limit(BTCUSDT, "hold", "0.01", "100000")),
    ("40808", PlaceRequest(BTCUSDT, "buy", "stop", "0.01", "100000")),
    ("40808", limit(BTCUSDT, "buy", "0.01", "100000", force="day")),
    ("40808", limit(BTCUSDT, "buy", "0.01", "100000", stp="none")),
    ("40808", market(BTCUSDT, "buy", "1000", stp="cancelMaker")),
    ("40019", limit(BTCUSDT, "buy", "0.01", "")),
    ("40019", limit(BTCUSDT, "buy", "", "100000")),
    ("40019", limit("", "buy", "0.01", "100000")),
    ("43006", limit(BTCUSDT, "buy", "0", "100000")),
    ("43006", market(BTCUSDT, "sell", "0.0")),
    ("40808", market(BTCUSDT, "buy", "0")),
    ("45110", limit(BTCUSDT, "buy", "0.0000096", "100000")),  # 0.96 USDT
    ("45110", market(BTCUSDT, "buy", "0.9999999")),
    ("45110", market(BTCUSDT, "sell", "0.0000096")),  # at the 104 000 reference price
    ("45110", limit(ETHBTC, "buy", "0.00001", "0.034615")),  # 0.00000034615 BTC ≈ 0.036 USDT
    ("43012", limit(BTCUSDT, "buy", "0.05", "100000")),  # 5000 USDT, 3000 there
    ("43012", limit(BTCUSDT, "sell", "1.0000001", "100000")),
    ("43012", market(BTCUSDT, "buy", "2000.0000001")),  # 1000 of the 3000 are held
    ("43012", limit(ETHBTC, "sell", "0.01", "0.034615")),  # no ETH at all
    ("50004", limit("FOOBAR", "buy", "0.01", "100000")),
    ("50004", limit("BTCETH", "buy", "0.01", "1")),
]


@pytest.mark.parametrize(("code", "req"), REFUSED)
def test_a_refused_order_changes_nothing(code: str, req: PlaceRequest) -> None:
    core = fresh()
    fund(core, ALICE, "USDT", "3000")
    fund(core, ALICE, "BTC", "1")
    fund(core, BOB, "BTC", "1")
    fund(core, BOB, "USDT", "3000")
    core.place(ALICE, limit(BTCUSDT, "buy", "0.01", "100000"), T0 + 1)
    core.place(BOB, limit(BTCUSDT, "sell", "0.01", "101000"), T0 + 2)
    core.place(BOB, limit(ETHBTC, "buy", "1", "0.03"), T0 + 3)
    core.drain()
    before = snapshot(core)
    with pytest.raises(SealbookError) as info:
        core.place(ALICE, req, T0 + 4)
    assert info.value.code == code
    assert snapshot(core) == before
    assert not core.drain()
    sound(core)
    # And the exchange goes on as if nothing had happened.
    sell = core.place(ALICE, limit(BTCUSDT, "sell", "0.01", "101000"), T0 + 5)
    assert sell.status is OrderStatus.LIVE


# --- paying fees in BGB ------------------------------------------------------------------------


def _bgb_trade(bgb: str, *, deduct: bool = True) -> ExchangeCore:
    """Alice (BGB ``bgb``, deduction ``deduct``) buys 0.01 BTC from Bob at 100 000."""
    core = fresh()
    fund(core, ALICE, "USDT", "1000")
    fund(core, ALICE, "BGB", bgb)
    fund(core, BOB, "BTC", "0.01")
    core.set_bgb_deduct(ALICE, deduct)
    core.place(BOB, limit(BTCUSDT, "sell", "0.01", "100000"), T0 + 1)
    core.place(ALICE, limit(BTCUSDT, "buy", "0.01", "100000"), T0 + 2)
    return core


def test_bgb_deduction_charges_80_percent_of_the_fee_in_bgb_at_the_reference_price() -> None:
    core = _bgb_trade("1")
    # A 1 USDT fee at BGB 4.6 (no BGB trade yet): floor(0.8 / 4.6 BGB) in atoms.
    bgb_fee = 173913043478260869
    assert Fraction(8, 46) * 10**18 - bgb_fee < 1
    assert bal(core, ALICE, "BTC") == (atoms("0.01"), 0)  # nothing taken from the BTC
    assert bal(core, ALICE, "BGB") == (atoms("1") - bgb_fee, 0)
    assert bal(core, ALICE, "USDT") == (0, 0)
    assert fees(core, "BGB") == bgb_fee
    assert fees(core, "BTC") == 0
    assert fees(core, "USDT") == atoms("1")  # Bob pays as usual
    buy = core.orders[2]
    assert buy.fees == {"BGB": bgb_fee}
    fills = core.drain().fills
    assert [(f.user_id, f.maker, f.fee_coin, f.fee_atoms) for f in fills] == [
        (ALICE, False, "BGB", bgb_fee),
        (BOB, True, "USDT", atoms("1")),
    ]
    sound(core)


def test_bgb_deduction_uses_the_last_bgbusdt_price() -> None:
    core = fresh()
    fund(core, CAROL, "BGB", "100")
    fund(core, BOB, "USDT", "1000")
    core.place(CAROL, limit(BGBUSDT, "sell", "10", "5"), T0 + 1)
    core.place(BOB, limit(BGBUSDT, "buy", "10", "5"), T0 + 2)
    assert core.price_of(BGBUSDT) == 50000
    fund(core, ALICE, "USDT", "1000")
    fund(core, ALICE, "BGB", "1")
    fund(core, BOB, "BTC", "0.01")
    core.set_bgb_deduct(ALICE, True)
    core.place(BOB, limit(BTCUSDT, "sell", "0.01", "100000"), T0 + 3)
    core.place(ALICE, limit(BTCUSDT, "buy", "0.01", "100000"), T0 + 4)
    # 1 USDT fee × 0.8 / 5 = 0.16 BGB exactly.
    assert bal(core, ALICE, "BGB") == (atoms("0.84"), 0)
    assert bal(core, ALICE, "BTC") == (atoms("0.01"), 0)
    sound(core)


def test_bgb_deduction_values_a_btc_quote_at_the_btcusdt_price() -> None:
    core = fresh()
    fund(core, ALICE, "BTC", "1")
    fund(core, ALICE, "BGB", "10")
    fund(core, BOB, "ETH", "1")
    core.set_bgb_deduct(ALICE, True)
    core.place(BOB, limit(ETHBTC, "sell", "1", "0.034615"), T0 + 1)
    core.place(ALICE, limit(ETHBTC, "buy", "1", "0.034615"), T0 + 2)
    # 0.034615 BTC at 104 000 = 3599.96 USDT; fee 3.59996 USDT; × 0.8 / 4.6 BGB.
    fee_usdt = atoms("3.59996")
    bgb_fee = fee_usdt * 8 * 10 // (10 * 46)
    assert bgb_fee == int(Fraction(359996, 10**5) * Fraction(8, 46) * 10**18)
    assert bal(core, ALICE, "BGB") == (atoms("10") - bgb_fee, 0)
    assert bal(core, ALICE, "ETH") == (atoms("1"), 0)
    assert bal(core, ALICE, "BTC") == (atoms("1") - atoms("0.034615"), 0)
    assert bal(core, BOB, "BTC") == (atoms("0.034615") - atoms("0.000034615"), 0)
    sound(core)


def test_too_little_bgb_means_the_normal_fee() -> None:
    core = _bgb_trade("0.17")  # 0.1739... needed
    assert bal(core, ALICE, "BGB") == (atoms("0.17"), 0)
    assert bal(core, ALICE, "BTC") == (atoms("0.00999"), 0)
    assert fees(core, "BTC") == atoms("0.00001")
    assert fees(core, "BGB") == 0
    sound(core)


def test_held_bgb_does_not_pay_fees() -> None:
    core = fresh()
    fund(core, ALICE, "USDT", "1000")
    fund(core, ALICE, "BGB", "1")
    fund(core, BOB, "BTC", "0.01")
    core.set_bgb_deduct(ALICE, True)
    core.place(ALICE, limit(BGBUSDT, "sell", "0.9", "10"), T0 + 1)  # 0.1 BGB left available
    core.place(BOB, limit(BTCUSDT, "sell", "0.01", "100000"), T0 + 2)
    core.place(ALICE, limit(BTCUSDT, "buy", "0.01", "100000"), T0 + 3)
    assert bal(core, ALICE, "BGB") == (atoms("0.1"), atoms("0.9"))
    assert bal(core, ALICE, "BTC") == (atoms("0.00999"), 0)
    sound(core)


def test_without_the_toggle_bgb_is_not_touched() -> None:
    core = _bgb_trade("1", deduct=False)
    assert bal(core, ALICE, "BGB") == (atoms("1"), 0)
    assert bal(core, ALICE, "BTC") == (atoms("0.00999"), 0)


def test_bgb_toggle_off_again_and_its_change_record() -> None:
    core = fresh()
    core.set_bgb_deduct(ALICE, True)
    core.set_bgb_deduct(BOB, True)
    core.set_bgb_deduct(BOB, False)
    assert core.bgb_deduct == {ALICE}
    assert core.drain().bgb_deduct == {ALICE: True, BOB: False}


# --- deposits and withdrawals --------------------------------------------------------------------


def test_deposit_credits_the_user_from_the_world() -> None:
    core = fresh()
    dep = core.deposit(ALICE, "BTC", None, atoms("1.5"), "bc1-alice", T0)
    assert (dep.deposit_id, dep.chain, dep.amount_atoms) == (1, "BTC", atoms("1.5"))
    assert bal(core, ALICE, "BTC") == (atoms("1.5"), 0)
    assert world(core, "BTC") == -atoms("1.5")
    second = core.deposit(ALICE, "USDT", "ERC20", atoms("10"), "0xalice", T0)
    assert (second.deposit_id, second.chain) == (2, "ERC20")
    assert core.drain().deposits == [dep, second]
    sound(core)


@pytest.mark.parametrize(
    ("coin", "chain", "amount", "code"),
    [("BTC", None, 0, "40020"), ("BTC", None, -5, "40020"), ("NOPE", None, 1, "40034"),
     ("BTC", "ERC20", 1, "40020")],
)  # fmt: skip
def test_refused_deposits_change_nothing(
    coin: str, chain: str | None, amount: int, code: str
) -> None:
    core = fresh()
    fund(core, ALICE, "BTC", "1")
    core.drain()
    before = snapshot(core)
    with pytest.raises(SealbookError) as info:
        core.deposit(ALICE, coin, chain, amount, "addr", T0)
    assert info.value.code == code
    assert snapshot(core) == before
    assert not core.drain()


def test_withdrawal_holds_amount_and_fee_then_pays_world_and_fees() -> None:
    core = fresh()
    fund(core, ALICE, "BTC", "1")
    chain = default_catalog().coin("BTC").chain("BTC")
    fee = chain.withdraw_fee_atoms
    assert fee == atoms("0.000077")  # 8 USD at 104 000, up to two significant digits
    w = core.request_withdrawal(ALICE, "BTC", "BTC", "bc1-out", "", "0.01", "w-1", T0 + 1)
    assert (w.amount_atoms, w.fee_atoms, w.status) == (atoms("0.01"), fee, WithdrawalStatus.PENDING)
    assert bal(core, ALICE, "BTC") == (atoms("0.989923"), atoms("0.010077"))
    assert core.ledger.remaining(w.hold_id) == atoms("0.010077")
    sound(core)

    done = core.complete_withdrawal(w.withdrawal_id, T0 + 2)
    assert done is w
    assert w.status is WithdrawalStatus.SUCCESS
    assert w.tx_id
    assert bal(core, ALICE, "BTC") == (atoms("0.989923"), 0)
    assert world(core, "BTC") == -atoms("1") + atoms("0.01")
    assert fees(core, "BTC") == atoms("0.000077")
    sound(core)

    # Completing it again, or asking again with the same clientOid, does nothing more.
    seq = core.ledger.last_seq
    assert core.complete_withdrawal(w.withdrawal_id, T0 + 3) is w
    again = core.request_withdrawal(ALICE, "BTC", "BTC", "bc1-out", "", "0.01", "w-1", T0 + 4)
    assert again is w
    assert core.ledger.last_seq == seq


def test_a_pending_withdrawal_retried_by_client_oid_holds_once() -> None:
    core = fresh()
    fund(core, ALICE, "USDT", "100")
    w = core.request_withdrawal(ALICE, "USDT", "TRC20", "T-out", "", "50", "again", T0)
    assert core.request_withdrawal(ALICE, "USDT", "TRC20", "T-out", "", "50", "again", T0) is w
    assert bal(core, ALICE, "USDT") == (atoms("48.5"), atoms("51.5"))  # 1.5 USDT fee on TRC20
    sound(core)


@pytest.mark.parametrize(
    ("changed", "code"),
    [
        ({"size": "51"}, "43118"),
        ({"address": "T-other"}, "43118"),
        ({"tag": "memo"}, "43118"),
        ({"chain": "ERC20"}, "43118"),
        ({"client_oid": "sbw1"}, "40020"),  # generated ids are reserved
        ({"client_oid": "sbw77"}, "40020"),
        ({"size": "50.0000001"}, "40808"),  # 6 places on TRC20
    ],
)
def test_a_withdrawal_client_oid_with_other_terms_is_refused(
    changed: dict[str, str], code: str
) -> None:
    core = fresh()
    fund(core, ALICE, "USDT", "200")
    args = {"chain": "TRC20", "address": "T-out", "tag": "", "size": "50", "client_oid": "again"}
    first = core.request_withdrawal(ALICE, "USDT", **args, now_ms=T0)  # type: ignore[arg-type]
    core.drain()
    before = snapshot(core)
    with pytest.raises(SealbookError) as info:
        core.request_withdrawal(ALICE, "USDT", **{**args, **changed}, now_ms=T0)  # type: ignore[arg-type]
    assert info.value.code == code
    assert snapshot(core) == before
    assert not core.drain()
    # The same terms spelled another way are the same withdrawal.
    same = {**args, "size": "50.000000"}
    assert core.request_withdrawal(ALICE, "USDT", **same, now_ms=T0) is first  # type: ignore[arg-type]
    # Another user may use the same clientOid.
    fund(core, BOB, "USDT", "200")
    theirs = core.request_withdrawal(BOB, "USDT", **args, now_ms=T0)  # type: ignore[arg-type]
    assert theirs is not first


def test_withdrawals_without_client_oid_get_generated_ones() -> None:
    core = fresh()
    fund(core, ALICE, "USDT", "200")
    first = core.request_withdrawal(ALICE, "USDT", "TRC20", "T-out", "", "20", "", T0)
    second = core.request_withdrawal(ALICE, "USDT", "TRC20", "T-out", "", "20", "", T0)
    assert (first.client_oid, second.client_oid) == ("sbw1", "sbw2")
    assert bal(core, ALICE, "USDT") == (atoms("157"), atoms("43"))
    sound(core)


@pytest.mark.parametrize(
    ("size", "code"),
    [
        ("0.0001", "40020"),  # the BTC chain's minimum is 0.0002 (twice the fee)
        ("0.00019999", "40020"),
        ("0", "40020"),
        ("0.000000001", "40808"),  # 9 places, 8 allowed
        ("abc", "40808"),
        ("0.999924", "43012"),  # + 0.000077 fee is 1.000001 > 1
    ],
)
def test_refused_withdrawals_change_nothing(size: str, code: str) -> None:
    core = fresh()
    fund(core, ALICE, "BTC", "1")
    core.drain()
    before = snapshot(core)
    with pytest.raises(SealbookError) as info:
        core.request_withdrawal(ALICE, "BTC", "BTC", "bc1-out", "", size, "", T0)
    assert info.value.code == code
    assert snapshot(core) == before
    assert not core.drain()


def test_withdrawal_of_all_there_is_and_minimum_exactly() -> None:
    core = fresh()
    assert default_catalog().coin("BTC").chain("BTC").min_withdraw_atoms == atoms("0.0002")
    fund(core, ALICE, "BTC", "0.000277")
    w = core.request_withdrawal(ALICE, "BTC", "BTC", "bc1-out", "", "0.0002", "", T0)
    assert bal(core, ALICE, "BTC") == (0, atoms("0.000277"))
    core.complete_withdrawal(w.withdrawal_id, T0 + 1)
    assert bal(core, ALICE, "BTC") == (0, 0)
    sound(core)


def test_complete_unknown_withdrawal_is_not_found() -> None:
    core = fresh()
    with pytest.raises(SealbookError) as info:
        core.complete_withdrawal(42, T0)
    assert info.value.code == "40073"


def test_withdrawal_hold_and_order_hold_share_the_available_balance() -> None:
    core = fresh()
    fund(core, ALICE, "BTC", "0.02")
    core.request_withdrawal(ALICE, "BTC", "BTC", "bc1-out", "", "0.01", "", T0)
    with pytest.raises(SealbookError) as info:
        core.place(ALICE, limit(BTCUSDT, "sell", "0.01", "100000"), T0 + 1)
    assert info.value.code == "43012"
    order = core.place(ALICE, limit(BTCUSDT, "sell", "0.009923", "100000"), T0 + 2)
    assert order.status is OrderStatus.LIVE
    assert bal(core, ALICE, "BTC") == (0, atoms("0.02"))
    sound(core)
