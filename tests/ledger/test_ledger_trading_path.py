"""The trading path (open_hold, trade, close_hold) against apply() with the same transfers.

The trading path logs one small record per step and skips apply()'s general checks, so
each case runs twice: once through it, once through apply() on a twin ledger; the two must
end with the same postings (ids included), balances and holds. Refusals must change
nothing. An order's hold is keyed by its order id: hold 1 is named "o1".
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sealbook.errors import Conflict, InsufficientBalance, NotFound, ParamInvalid
from sealbook.ledger import Account, Kind, Ledger, Transfer
from sealbook.ledger.records import FILLED, OPENED, RELEASED, FillFees, hold_key, hold_name
from sealbook.money import from_units

USDT, BTC, BGB = "USDT", "BTC", "BGB"
BUYER, SELLER = 1, 2
U = from_units(1)


def _state(ledger: Ledger) -> tuple[Any, ...]:
    return (
        ledger.all_accounts(),
        ledger.open_holds(),
        ledger.holds(),
        ledger.postings(),
        ledger.last_seq,
    )


def _pair() -> tuple[Ledger, Ledger]:
    """Two identical ledgers: the buyer holds quote, the seller base; both have some BGB."""
    pair = []
    for _ in range(2):
        ledger = Ledger()
        ledger.deposit("d1", BUYER, USDT, 10_000 * U)
        ledger.deposit("d2", SELLER, BTC, 10 * U)
        ledger.deposit("d3", BUYER, BGB, 5 * U)
        ledger.deposit("d4", SELLER, BGB, 5 * U)
        pair.append(ledger)
    return pair[0], pair[1]


def _open_both(fast: Ledger, slow: Ledger, buy: int, sell: int) -> None:
    fast.open_hold(1, BUYER, USDT, buy)
    fast.open_hold(2, SELLER, BTC, sell)
    slow.apply([Transfer.hold("o1", BUYER, USDT, buy)])
    slow.apply([Transfer.hold("o2", SELLER, BTC, sell)])


def _tags(ledger: Ledger, after_seq: int) -> list[object]:
    """What kind of record each step after ``after_seq`` logged."""
    return [record[1] for record in ledger.records(after_seq)]


def _trade_transfers(
    base: int, quote: int, improvement: int, fees: FillFees | None, slow: Ledger
) -> list[Transfer]:
    """What the exchange core posted per fill before the trading path existed."""
    buy, sell = slow.get_hold("o1"), slow.get_hold("o2")
    batch = [
        Transfer.settle(sell, Account.available(BUYER, BTC), base, Kind.TRADE, "t1"),
        Transfer.settle(buy, Account.available(SELLER, USDT), quote, Kind.TRADE, "t1"),
    ]
    if improvement:
        batch.append(Transfer.release(buy, improvement, ref="t1"))
    buyer_coin, buyer_fee, seller_coin, seller_fee = fees or ("", 0, "", 0)
    for fee_id, user, coin, amount in (
        ("fee:t1:1", BUYER, buyer_coin, buyer_fee),
        ("fee:t1:2", SELLER, seller_coin, seller_fee),
    ):
        if amount:
            batch.append(
                Transfer.move(
                    fee_id,
                    Account.available(user, coin),
                    Account.fees(coin),
                    amount,
                    Kind.FEE,
                    "t1",
                )
            )
    return batch


@given(
    buy_hold=st.integers(1, 5_000 * U),
    sell_hold=st.integers(1, 5 * U),
    base_share=st.fractions(0, 1),
    quote_share=st.fractions(0, 1),
    improvement_share=st.fractions(0, 1),
    buyer_fee=st.none() | st.tuples(st.sampled_from([BTC, BGB]), st.integers(1, 3 * U)),
    seller_fee=st.none() | st.tuples(st.sampled_from([USDT, BGB]), st.integers(1, 3 * U)),
)
def test_a_fill_posts_what_apply_posts_or_refuses_the_same_way(
    buy_hold: int,
    sell_hold: int,
    base_share: Any,
    quote_share: Any,
    improvement_share: Any,
    buyer_fee: tuple[str, int] | None,
    seller_fee: tuple[str, int] | None,
) -> None:
    fast, slow = _pair()
    _open_both(fast, slow, buy_hold, sell_hold)
    base = max(1, int(sell_hold * base_share))
    quote = max(1, int(buy_hold * quote_share))
    improvement = int((buy_hold - quote) * improvement_share) if quote < buy_hold else 0
    fees: FillFees | None = None
    if buyer_fee is not None or seller_fee is not None:
        fees = (*(buyer_fee or (BTC, 0)), *(seller_fee or (USDT, 0)))  # type: ignore[assignment]
    before = _state(fast)
    seq = fast.last_seq
    fast_error = slow_error = None
    try:
        fast.trade("t1", 1, 2, base, quote, improvement, fees)
    except InsufficientBalance as exc:
        fast_error = exc
    try:
        slow.apply(_trade_transfers(base, quote, improvement, fees, slow))
    except InsufficientBalance as exc:
        slow_error = exc
    if slow_error is not None:
        # The trading path may refuse more (it does not count a price improvement
        # towards a fee), never less.
        assert fast_error is not None
    if fast_error is not None:
        assert _state(fast) == before
        return
    assert _state(fast) == _state(slow)
    assert _tags(fast, seq) == [FILLED]  # one record, not apply()'s postings
    assert fast.check_invariants() == []


def test_a_buy_below_its_limit_gets_the_difference_back_and_full_holds_close() -> None:
    fast, slow = _pair()
    _open_both(fast, slow, 1_000 * U, 1 * U)  # a buy of 1 BTC at 1,000; a sell of 1 BTC
    fees = (BTC, U // 1000, USDT, U * 9 // 10)
    fast.trade("t1", 1, 2, 1 * U, 900 * U, 100 * U, fees)
    slow.apply(_trade_transfers(1 * U, 900 * U, 100 * U, fees, slow))
    assert _state(fast) == _state(slow)
    assert fast.open_holds() == {}
    assert fast.balances(BUYER)[USDT] == (9_100 * U, 0)
    assert fast.balances(BUYER)[BTC] == (U - U // 1000, 0)
    assert fast.balances(SELLER)[USDT] == (900 * U - U * 9 // 10, 0)
    assert fast.balance(Account.fees(USDT)) == U * 9 // 10
    assert [p.id for p in fast.postings(fast.last_seq - 5)] == [
        "trade:t1@o2",
        "trade:t1@o1",
        "order_release:t1@o1",
        "fee:t1:1",
        "fee:t1:2",
    ]


def test_a_fee_in_bgb_needs_bgb_available_before() -> None:
    fast, _ = _pair()
    fast.open_hold(1, BUYER, USDT, 100 * U)
    fast.open_hold(2, SELLER, BTC, 1 * U)
    before = _state(fast)
    with pytest.raises(InsufficientBalance):
        fast.trade("t1", 1, 2, U, 100 * U, 0, (BGB, 6 * U, USDT, 0))
    assert _state(fast) == before
    fast.trade("t1", 1, 2, U, 100 * U, 0, (BGB, 5 * U, USDT, 0))
    assert fast.balances(BUYER)[BGB] == (0, 0)
    assert fast.check_invariants() == []


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("t1", 9, 2, U, U), NotFound),  # unknown hold
        (("t1", "o9", "o2", U, U), NotFound),  # by name
        (("t1", 1, 2, 2 * U, U), InsufficientBalance),  # more base than the seller held
        (("t1", 1, 2, U, 101 * U), InsufficientBalance),  # more quote than held
        (("t1", 1, 2, U, 100 * U, 1), InsufficientBalance),  # improvement on top
        (("t1", 1, 2, 0, U), ParamInvalid),
        (("t1", 1, 2, U, 1.5), ParamInvalid),  # money is never a float
        (("t1", 1, 2, U, U, -1), ParamInvalid),
        (("t1", 1, 2, U, U, 0, (BTC, -1, USDT, 0)), ParamInvalid),
        (("t1", 1, 2, U, U, 0, (BTC, 0.5, USDT, 0)), ParamInvalid),
        (("t1", 1, 2, U, U, 0, ("", 1, USDT, 0)), ParamInvalid),  # a fee needs its coin
        (("t1", 1, 2, U, U, 0, (BTC, U + 1, USDT, 0)), InsufficientBalance),
        (("t1", 1, 2, U, U, 0, (BTC, 0, USDT, U + 1)), InsufficientBalance),
    ],
)
def test_a_refused_fill_changes_nothing(args: tuple[Any, ...], error: type[Exception]) -> None:
    fast, _ = _pair()
    fast.open_hold(1, BUYER, USDT, 100 * U)
    fast.open_hold(2, SELLER, BTC, 1 * U)
    before = _state(fast)
    with pytest.raises(error):
        fast.trade(*args)
    assert _state(fast) == before


def test_a_closed_hold_cannot_be_drawn_again() -> None:
    fast, _ = _pair()
    fast.open_hold(1, BUYER, USDT, 100 * U)
    fast.open_hold(2, SELLER, BTC, 1 * U)
    fast.trade("t1", 1, 2, U, 100 * U)  # both holds spent: both close
    assert fast.open_holds() == {}
    with pytest.raises(NotFound):
        fast.trade("t2", 1, 2, 1, 1)
    assert fast.remaining("o1") == 0 and fast.get_hold("o1").amount == 100 * U


def test_one_user_on_both_sides_takes_the_general_path() -> None:
    ledger = Ledger()
    ledger.deposit("d1", BUYER, USDT, 100 * U)
    ledger.deposit("d2", BUYER, BTC, 1 * U)
    ledger.open_hold(1, BUYER, USDT, 100 * U)
    ledger.open_hold(2, BUYER, BTC, 1 * U)
    seq = ledger.last_seq
    ledger.trade("t1", 1, 2, U, 100 * U, 0, (BTC, 1, USDT, 1))
    # apply()'s entries, one per posting, each with its id
    assert _tags(ledger, seq) == ["trade:t1@o2", "trade:t1@o1", "fee:t1:1", "fee:t1:2"]
    assert ledger.balances(BUYER) == {BTC: (U - 1, 0), USDT: (100 * U - 1, 0)}
    assert ledger.check_invariants() == []


def test_holds_and_releases_post_what_apply_posts() -> None:
    fast, slow = _pair()
    fast.open_hold(1, BUYER, USDT, 300 * U)
    fast.close_hold(1)
    fast.close_hold(1)  # closed already: nothing more
    assert _tags(fast, fast.last_seq - 2) == [OPENED, RELEASED]
    slow.apply([Transfer.hold("o1", BUYER, USDT, 300 * U)])
    slow.apply([Transfer.release(slow.get_hold("o1"), 300 * U)])
    assert _state(fast) == _state(slow)
    assert [p.id for p in fast.postings(fast.last_seq - 2)] == [
        "order_hold@o1",
        "order_release:o1@o1",
    ]
    with pytest.raises(InsufficientBalance):
        fast.open_hold(2, BUYER, USDT, 10_001 * U)
    assert _state(fast) == _state(slow)


def test_ids_the_trading_path_logged_are_known_to_apply() -> None:
    """Its ids are indexed lazily; apply() and posting() must still see them."""
    ledger, _ = _pair()
    ledger.open_hold(1, BUYER, USDT, 100 * U)
    ledger.open_hold(2, SELLER, BTC, 1 * U)
    ledger.trade("t1", 1, 2, U, 50 * U, 0, (BTC, 1, USDT, 0))
    posted = ledger.posting("trade:t1@o2")
    assert posted is not None and posted.amount == U and posted.hold_id == "o2"
    # The same fee id again, with other contents, is a conflict, not a second posting.
    with pytest.raises(Conflict):
        ledger.apply(
            [
                Transfer.move(
                    "fee:t1:1",
                    Account.available(BUYER, USDT),
                    Account.fees(USDT),
                    2,
                    Kind.FEE,
                    "t1",
                )
            ]
        )
    # The same hold again replays its opening posting.
    again = ledger.hold("o1", BUYER, USDT, 100 * U)
    assert again.seq == ledger.postings()[4].seq
    assert ledger.check_invariants() == []


def test_a_rebuilt_ledger_has_the_trading_path_postings() -> None:
    ledger, _ = _pair()
    ledger.open_hold(1, BUYER, USDT, 100 * U)
    ledger.open_hold(2, SELLER, BTC, 1 * U)
    ledger.trade("t1", 1, 2, U // 2, 40 * U, 10 * U, (BGB, 1, USDT, 0))
    ledger.close_hold(2)
    rebuilt = Ledger.from_postings(ledger.postings(), ledger.open_holds())
    assert _state(rebuilt) == _state(ledger)
    assert rebuilt.check_invariants() == []


def test_a_release_never_reuses_an_id_apply_has_taken() -> None:
    ledger, _ = _pair()
    ledger.open_hold(1, BUYER, USDT, 300 * U)
    # A partial release given the hold's own ref takes the id the rest's release would.
    ledger.release("o1", 100 * U, ref="o1")
    with pytest.raises(Conflict):
        ledger.close_hold(1)
    ids = [p.id for p in ledger.postings()]
    assert len(ids) == len(set(ids))
    assert ledger.open_holds() == {"o1": 200 * U}


def test_a_checkpoint_and_the_postings_after_it_rebuild_the_ledger() -> None:
    ledger, _ = _pair()
    ledger.open_hold(1, BUYER, USDT, 100 * U)
    ledger.open_hold(2, SELLER, BTC, 1 * U)
    ledger.trade("t1", 1, 2, U // 2, 40 * U, 10 * U, (BGB, 1, USDT, 0))
    ledger.compact(ledger.last_seq)  # o1 and o2 are open at the checkpoint
    checkpoint, records = ledger.checkpoint()
    assert checkpoint.seq == ledger.last_seq and set(records) == {"o1", "o2"}
    ledger.open_hold(3, BUYER, USDT, 5 * U)
    ledger.trade("t2", 1, 2, U // 2, 50 * U)  # both spent: they close after it
    tail = ledger.postings(checkpoint.seq)
    rebuilt = Ledger.from_postings(tail, ledger.open_holds(), start=checkpoint, records=records)
    assert rebuilt.all_accounts() == ledger.all_accounts()
    assert rebuilt.open_holds() == ledger.open_holds() == {"o3": 5 * U}
    assert rebuilt.postings() == tail
    assert rebuilt.check_invariants() == []
    with pytest.raises(ValueError, match="no record"):
        Ledger.from_postings(tail, start=checkpoint, records={"o1": records["o1"]})
    with pytest.raises(ValueError, match="seq"):  # the first posting after it is missing
        Ledger.from_postings(tail[1:], start=checkpoint, records=records)


def test_a_fill_whose_ids_apply_has_taken_is_refused_whole() -> None:
    ledger, _ = _pair()
    ledger.open_hold(1, BUYER, USDT, 100 * U)
    ledger.open_hold(2, SELLER, BTC, 1 * U)
    # Someone moved money under the id the fill's base settlement would get.
    odd = Transfer.move(
        "trade:t1@o2", Account.available(BUYER, BGB), Account.fees(BGB), 1, "x", "y"
    )
    ledger.apply([odd])
    before = _state(ledger)
    with pytest.raises(Conflict):
        ledger.trade("t1", 1, 2, U, 100 * U)
    assert _state(ledger) == before
    ids = [p.id for p in ledger.postings()]
    assert len(ids) == len(set(ids))


def test_an_order_hold_is_keyed_by_its_order_id_and_named_o_id() -> None:
    assert hold_name(42) == "o42" and hold_key("o42") == 42 and hold_key("o0") == 0
    for name in ("o042", "o", "o-1", "o4x", "w42", "o\u0662", "O42"):  # not an order's name
        assert hold_key(name) == name
    ledger, _ = _pair()
    ledger.hold("o5", BUYER, USDT, 10 * U)  # by name, then by key: the same hold
    assert ledger.is_open("o5") and ledger.open_holds() == {"o5": 10 * U}
    ledger.close_hold(5)
    assert ledger.balances(BUYER)[USDT] == (10_000 * U, 0)
    with pytest.raises(ParamInvalid):
        ledger.open_hold(-1, BUYER, USDT, U)
    with pytest.raises(ParamInvalid):
        ledger.open_hold(True, BUYER, USDT, U)
    assert ledger.check_invariants() == []


def test_an_order_id_not_above_every_one_before_goes_through_apply() -> None:
    """Order ids only grow, so the trading path opens a hold only above the highest
    key it opened; below it apply() checks the id against everything it knows."""
    ledger, _ = _pair()
    ledger.open_hold(10, BUYER, USDT, 10 * U)
    seq = ledger.last_seq
    ledger.open_hold(3, BUYER, USDT, 5 * U)
    assert _tags(ledger, seq) == ["order_hold@o3"]  # apply()'s entry
    ledger.close_hold(10)
    ledger.open_hold(10, BUYER, USDT, 10 * U)  # the same hold again: a replay, nothing new
    assert not ledger.is_open("o10")
    with pytest.raises(Conflict):
        ledger.open_hold(10, BUYER, USDT, 11 * U)  # another hold under a closed hold's id
    ids = [p.id for p in ledger.postings()]
    assert len(ids) == len(set(ids))
    assert ledger.check_invariants() == []


def test_a_restart_keeps_a_hold_released_with_its_own_ref_off_the_trading_path() -> None:
    ledger, _ = _pair()
    ledger.open_hold(1, BUYER, USDT, 300 * U)
    ledger.release("o1", 100 * U, ref="o1")  # takes the id closing o1 would get
    rebuilt = Ledger.from_postings(ledger.postings(), ledger.open_holds())
    with pytest.raises(Conflict):
        rebuilt.close_hold(1)
    assert rebuilt.open_holds() == {"o1": 200 * U}


def test_records_are_whole_steps_and_compaction_keeps_them_whole() -> None:
    ledger, _ = _pair()
    ledger.open_hold(1, BUYER, USDT, 100 * U)
    ledger.open_hold(2, SELLER, BTC, 1 * U)
    before = ledger.last_seq
    ledger.trade("t1", 1, 2, U // 2, 40 * U, 10 * U, (BTC, 1, USDT, 2))  # five postings
    assert ledger.last_seq == before + 5 and _tags(ledger, before) == [FILLED]
    assert [p.seq for p in ledger.postings(before + 2)] == [before + 3, before + 4, before + 5]
    with pytest.raises(ValueError, match="inside a record"):
        ledger.records(before + 2)
    assert ledger.compact(before + 2) == before  # what came before the fill
    assert ledger.compacted_seq == before  # the fill waits, whole
    assert ledger.compact(before + 5) == 5 and ledger.kept == 0
    assert ledger.check_invariants() == []
