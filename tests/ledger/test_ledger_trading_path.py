"""The trading path (open_hold, trade, close_hold) against apply() with the same transfers.

The trading path logs flat entries and skips apply()'s general checks, so each case runs
twice: once through it, once through apply() on a twin ledger; the two must end with the
same postings (ids included), balances and holds. Refusals must change nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sealbook.errors import Conflict, InsufficientBalance, NotFound, ParamInvalid
from sealbook.ledger import Account, Kind, Ledger, Transfer
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
    fast.open_hold("o1", BUYER, USDT, buy)
    fast.open_hold("o2", SELLER, BTC, sell)
    slow.apply([Transfer.hold("o1", BUYER, USDT, buy)])
    slow.apply([Transfer.hold("o2", SELLER, BTC, sell)])


def _trade_transfers(
    base: int,
    quote: int,
    improvement: int,
    buyer_fee: tuple[str, str, int] | None,
    seller_fee: tuple[str, str, int] | None,
    slow: Ledger,
) -> list[Transfer]:
    """What the exchange core posted per fill before the trading path existed."""
    buy, sell = slow.get_hold("o1"), slow.get_hold("o2")
    batch = [
        Transfer.settle(sell, Account.available(BUYER, BTC), base, Kind.TRADE, "t1"),
        Transfer.settle(buy, Account.available(SELLER, USDT), quote, Kind.TRADE, "t1"),
    ]
    if improvement:
        batch.append(Transfer.release(buy, improvement, ref="t1"))
    for fee, user in ((buyer_fee, BUYER), (seller_fee, SELLER)):
        if fee is not None:
            fee_id, coin, amount = fee
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
    bfee = None if buyer_fee is None else ("fee:t1:1", *buyer_fee)
    sfee = None if seller_fee is None else ("fee:t1:2", *seller_fee)
    before = _state(fast)
    fast_error = slow_error = None
    try:
        fast.trade("t1", "o1", "o2", base, quote, improvement, bfee, sfee)
    except InsufficientBalance as exc:
        fast_error = exc
    try:
        slow.apply(_trade_transfers(base, quote, improvement, bfee, sfee, slow))
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
    assert fast.check_invariants() == []


def test_a_buy_below_its_limit_gets_the_difference_back_and_full_holds_close() -> None:
    fast, slow = _pair()
    _open_both(fast, slow, 1_000 * U, 1 * U)  # a buy of 1 BTC at 1,000; a sell of 1 BTC
    bfee, sfee = ("fee:t1:1", BTC, U // 1000), ("fee:t1:2", USDT, U * 9 // 10)
    fast.trade("t1", "o1", "o2", 1 * U, 900 * U, 100 * U, bfee, sfee)
    slow.apply(_trade_transfers(1 * U, 900 * U, 100 * U, bfee, sfee, slow))
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
    fast.open_hold("o1", BUYER, USDT, 100 * U)
    fast.open_hold("o2", SELLER, BTC, 1 * U)
    before = _state(fast)
    with pytest.raises(InsufficientBalance):
        fast.trade("t1", "o1", "o2", U, 100 * U, 0, ("fee:t1:1", BGB, 6 * U), None)
    assert _state(fast) == before
    fast.trade("t1", "o1", "o2", U, 100 * U, 0, ("fee:t1:1", BGB, 5 * U), None)
    assert fast.balances(BUYER)[BGB] == (0, 0)
    assert fast.check_invariants() == []


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("t1", "o9", "o2", U, U), NotFound),  # unknown hold
        (("t1", "o1", "o2", 2 * U, U), InsufficientBalance),  # more base than the seller held
        (("t1", "o1", "o2", U, 101 * U), InsufficientBalance),  # more quote than held
        (("t1", "o1", "o2", U, 100 * U, 1), InsufficientBalance),  # improvement on top
        (("t1", "o1", "o2", 0, U), ParamInvalid),
        (("t1", "o1", "o2", U, 1.5), ParamInvalid),  # money is never a float
        (("t1", "o1", "o2", U, U, -1), ParamInvalid),
        (("t1", "o1", "o2", U, U, 0, ("f", BTC, 0)), ParamInvalid),
        (("t1", "o1", "o2", U, U, 0, ("f", BTC, U + 1)), InsufficientBalance),
        (("t1", "o1", "o2", U, U, 0, None, ("f", USDT, U + 1)), InsufficientBalance),
    ],
)
def test_a_refused_fill_changes_nothing(args: tuple[Any, ...], error: type[Exception]) -> None:
    fast, _ = _pair()
    fast.open_hold("o1", BUYER, USDT, 100 * U)
    fast.open_hold("o2", SELLER, BTC, 1 * U)
    before = _state(fast)
    with pytest.raises(error):
        fast.trade(*args)
    assert _state(fast) == before


def test_a_closed_hold_cannot_be_drawn_again() -> None:
    fast, _ = _pair()
    fast.open_hold("o1", BUYER, USDT, 100 * U)
    fast.open_hold("o2", SELLER, BTC, 1 * U)
    fast.trade("t1", "o1", "o2", U, 100 * U)  # both holds spent: both close
    with pytest.raises(NotFound):
        fast.trade("t2", "o1", "o2", 1, 1)


def test_one_user_on_both_sides_takes_the_general_path() -> None:
    ledger = Ledger()
    ledger.deposit("d1", BUYER, USDT, 100 * U)
    ledger.deposit("d2", BUYER, BTC, 1 * U)
    ledger.open_hold("o1", BUYER, USDT, 100 * U)
    ledger.open_hold("o2", BUYER, BTC, 1 * U)
    ledger.trade("t1", "o1", "o2", U, 100 * U, 0, ("fee:t1:1", BTC, 1), ("fee:t1:2", USDT, 1))
    assert ledger.balances(BUYER) == {BTC: (U - 1, 0), USDT: (100 * U - 1, 0)}
    assert ledger.check_invariants() == []


def test_holds_and_releases_post_what_apply_posts() -> None:
    fast, slow = _pair()
    fast.open_hold("o1", BUYER, USDT, 300 * U)
    fast.close_hold("o1")
    fast.close_hold("o1")  # closed already: nothing more
    slow.apply([Transfer.hold("o1", BUYER, USDT, 300 * U)])
    slow.apply([Transfer.release(slow.get_hold("o1"), 300 * U)])
    assert _state(fast) == _state(slow)
    assert [p.id for p in fast.postings(fast.last_seq - 2)] == [
        "order_hold@o1",
        "order_release:o1@o1",
    ]
    with pytest.raises(InsufficientBalance):
        fast.open_hold("o2", BUYER, USDT, 10_001 * U)
    assert _state(fast) == _state(slow)


def test_ids_the_trading_path_logged_are_known_to_apply() -> None:
    """Its ids are indexed lazily; apply() and posting() must still see them."""
    ledger, _ = _pair()
    ledger.open_hold("o1", BUYER, USDT, 100 * U)
    ledger.open_hold("o2", SELLER, BTC, 1 * U)
    ledger.trade("t1", "o1", "o2", U, 50 * U, 0, ("fee:t1:1", BTC, 1), None)
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
    ledger.open_hold("o1", BUYER, USDT, 100 * U)
    ledger.open_hold("o2", SELLER, BTC, 1 * U)
    ledger.trade("t1", "o1", "o2", U // 2, 40 * U, 10 * U, ("fee:t1:1", BGB, 1), None)
    ledger.close_hold("o2")
    rebuilt = Ledger.from_postings(ledger.postings(), ledger.open_holds())
    assert _state(rebuilt) == _state(ledger)
    assert rebuilt.check_invariants() == []


def test_a_release_never_reuses_an_id_apply_has_taken() -> None:
    ledger, _ = _pair()
    ledger.open_hold("o1", BUYER, USDT, 300 * U)
    # A partial release given the hold's own ref takes the id the rest's release would.
    ledger.release("o1", 100 * U, ref="o1")
    with pytest.raises(Conflict):
        ledger.close_hold("o1")
    ids = [p.id for p in ledger.postings()]
    assert len(ids) == len(set(ids))
    assert ledger.open_holds() == {"o1": 200 * U}


def test_a_checkpoint_and_the_postings_after_it_rebuild_the_ledger() -> None:
    ledger, _ = _pair()
    ledger.open_hold("o1", BUYER, USDT, 100 * U)
    ledger.open_hold("o2", SELLER, BTC, 1 * U)
    ledger.trade("t1", "o1", "o2", U // 2, 40 * U, 10 * U, ("fee:t1:1", BGB, 1), None)
    ledger.compact(ledger.last_seq)  # o1 and o2 are open at the checkpoint
    checkpoint, records = ledger.checkpoint()
    assert checkpoint.seq == ledger.last_seq and set(records) == {"o1", "o2"}
    ledger.open_hold("o3", BUYER, USDT, 5 * U)
    ledger.trade("t2", "o1", "o2", U // 2, 50 * U)  # both spent: they close after it
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
    ledger.open_hold("o1", BUYER, USDT, 100 * U)
    ledger.open_hold("o2", SELLER, BTC, 1 * U)
    # Someone moved money under the id the fill's base settlement would get.
    odd = Transfer.move(
        "trade:t1@o2", Account.available(BUYER, BGB), Account.fees(BGB), 1, "x", "y"
    )
    ledger.apply([odd])
    before = _state(ledger)
    with pytest.raises(Conflict):
        ledger.trade("t1", "o1", "o2", U, 100 * U)
    assert _state(ledger) == before
    ids = [p.id for p in ledger.postings()]
    assert len(ids) == len(set(ids))
