"""Deposits, holds, releases, settles, withdrawals, atomic batches, idempotency, rebuild."""

from __future__ import annotations

from typing import Any

import pytest

import sealbook.ledger
from sealbook.errors import Conflict, InsufficientBalance, NotFound, ParamInvalid
from sealbook.ledger import (
    AVAILABLE,
    FEES,
    FROZEN,
    WORLD,
    Account,
    Hold,
    Kind,
    Ledger,
    Posting,
    Transfer,
)
from sealbook.money import from_units

USDT, BTC = "USDT", "BTC"
ALICE, BOB = 1, 2
U = from_units(1)  # one unit in atoms


def _state(ledger: Ledger) -> tuple[Any, ...]:
    return (
        ledger.all_accounts(),
        ledger.open_holds(),
        ledger.holds(),
        ledger.postings(),
        {user: ledger.balances(user) for user in (ALICE, BOB)},
        ledger.last_seq,
    )


def _funded() -> Ledger:
    ledger = Ledger()
    ledger.deposit("d1", ALICE, USDT, 1000 * U)
    ledger.deposit("d2", BOB, BTC, 2 * U)
    return ledger


def test_public_surface_is_pinned() -> None:
    assert sealbook.ledger.__all__ == [
        "AVAILABLE",
        "FEES",
        "FROZEN",
        "WORLD",
        "Account",
        "Bucket",
        "Hold",
        "Kind",
        "Ledger",
        "Owner",
        "Posting",
        "Transfer",
    ]


def test_deposit_credits_the_user_from_world() -> None:
    ledger = Ledger()
    posting = ledger.deposit("d1", ALICE, USDT, 1000 * U)
    assert posting == Posting(
        1,
        "deposit:d1",
        Account(WORLD, USDT, AVAILABLE),
        Account(ALICE, USDT, AVAILABLE),
        USDT,
        1000 * U,
        "deposit",
        "d1",
        None,
    )
    assert ledger.available(ALICE, USDT) == 1000 * U
    assert ledger.frozen(ALICE, USDT) == 0
    assert ledger.balance(Account.world(USDT)) == -1000 * U
    assert ledger.balances(ALICE) == {USDT: (1000 * U, 0)}
    assert ledger.balances(BOB) == {}
    assert ledger.all_accounts() == {
        Account.world(USDT): -1000 * U,
        Account.available(ALICE, USDT): 1000 * U,
        Account.frozen(ALICE, USDT): 0,  # a user's asset has both buckets
    }
    assert ledger.check_invariants() == []


def test_same_deposit_twice_is_a_no_op_returning_the_original() -> None:
    ledger = Ledger()
    first = ledger.deposit("d1", ALICE, USDT, 5 * U)
    before = _state(ledger)
    assert ledger.deposit("d1", ALICE, USDT, 5 * U) == first
    assert ledger.apply([Transfer.deposit("d1", ALICE, USDT, 5 * U)]) == [first]
    assert _state(ledger) == before
    assert ledger.available(ALICE, USDT) == 5 * U


@pytest.mark.parametrize(
    ("user", "asset", "amount"),
    [(ALICE, USDT, 6 * U), (BOB, USDT, 5 * U), (ALICE, BTC, 5 * U)],
)
def test_reused_deposit_id_with_other_contents_is_a_conflict(
    user: int, asset: str, amount: int
) -> None:
    ledger = Ledger()
    ledger.deposit("d1", ALICE, USDT, 5 * U)
    before = _state(ledger)
    with pytest.raises(Conflict):
        ledger.deposit("d1", user, asset, amount)
    assert _state(ledger) == before


def test_hold_moves_available_to_frozen_and_partial_releases_give_it_back() -> None:
    ledger = _funded()
    opened = ledger.hold("h1", ALICE, USDT, 300 * U, ref="o1")
    assert opened.debit == Account.available(ALICE, USDT)
    assert opened.credit == Account.frozen(ALICE, USDT)
    assert (opened.id, opened.kind, opened.ref, opened.hold_id) == (
        "order_hold@h1",
        "order_hold",
        "o1",
        "h1",
    )
    assert ledger.get_hold("h1") == Hold("h1", ALICE, USDT, 300 * U, "order_hold", "o1")
    assert ledger.balances(ALICE) == {USDT: (700 * U, 300 * U)}

    part = ledger.release("h1", 100 * U, ref="f1")
    assert part is not None
    assert (part.kind, part.ref, part.id) == ("order_release", "f1", "order_release:f1@h1")
    assert ledger.balances(ALICE) == {USDT: (800 * U, 200 * U)}
    assert ledger.remaining("h1") == 200 * U
    assert ledger.open_holds() == {"h1": 200 * U}

    rest = ledger.release("h1")
    assert rest is not None
    assert (rest.amount, rest.ref) == (200 * U, "o1")
    assert ledger.balances(ALICE) == {USDT: (1000 * U, 0)}
    assert ledger.remaining("h1") == 0
    assert ledger.open_holds() == {}
    # Releasing the remainder again is a no-op that returns the same posting.
    assert ledger.release("h1") == rest
    assert ledger.check_invariants() == []


def test_hold_beyond_available_is_refused() -> None:
    ledger = _funded()
    before = _state(ledger)
    with pytest.raises(InsufficientBalance):
        ledger.hold("h1", ALICE, USDT, 1000 * U + 1)
    with pytest.raises(InsufficientBalance):
        ledger.hold("h2", BOB, USDT, 1)
    assert _state(ledger) == before


def test_release_beyond_remaining_and_partial_release_without_ref_are_refused() -> None:
    ledger = _funded()
    ledger.hold("h1", ALICE, USDT, 10 * U)
    before = _state(ledger)
    with pytest.raises(InsufficientBalance):
        ledger.release("h1", 10 * U + 1, ref="x")
    with pytest.raises(ParamInvalid):
        ledger.release("h1", 1 * U)
    with pytest.raises(NotFound):
        ledger.release("nope")
    assert _state(ledger) == before


def test_settle_from_hold_pays_the_counterparty_and_fees() -> None:
    """A fill: Alice buys 0.5 BTC at 600 USDT from Bob, each pays a fee in what they get."""
    ledger = _funded()
    ledger.hold("ha", ALICE, USDT, 400 * U, ref="o1")
    ledger.hold("hb", BOB, BTC, U // 2, ref="o2")
    alice_fee, bob_fee = U // 1000, 3 * U // 10
    ledger.apply(
        [
            Transfer.settle(ledger.get_hold("ha"), Account.available(BOB, USDT), 300 * U,
                            Kind.TRADE, "f1"),
            Transfer.settle(ledger.get_hold("hb"), Account.available(ALICE, BTC), U // 2,
                            Kind.TRADE, "f1"),
            Transfer.move("fee:f1:1", Account.available(ALICE, BTC), Account.fees(BTC),
                          alice_fee, Kind.FEE, "f1"),
            Transfer.move("fee:f1:2", Account.available(BOB, USDT), Account.fees(USDT),
                          bob_fee, Kind.FEE, "f1"),
        ]
    )  # fmt: skip
    assert ledger.balances(ALICE) == {BTC: (U // 2 - alice_fee, 0), USDT: (600 * U, 100 * U)}
    assert ledger.balances(BOB) == {BTC: (3 * U // 2, 0), USDT: (300 * U - bob_fee, 0)}
    assert ledger.balance(Account.fees(BTC)) == alice_fee
    assert ledger.balance(Account.fees(USDT)) == bob_fee
    assert ledger.open_holds() == {"ha": 100 * U}
    assert ledger.remaining("hb") == 0
    # A fee can also be paid straight out of the hold.
    fee = ledger.settle_from_hold("ha", Account.fees(USDT), 1 * U, Kind.FEE, "f1")
    assert (fee.id, fee.debit, fee.hold_id) == ("fee:f1@ha", Account.frozen(ALICE, USDT), "ha")
    assert ledger.balances(ALICE)[USDT] == (600 * U, 99 * U)
    assert ledger.balance(Account.fees(USDT)) == bob_fee + 1 * U
    assert ledger.settle_from_hold("ha", Account.fees(USDT), 1 * U, Kind.FEE, "f1") == fee
    assert ledger.check_invariants(open_holds_expected={"ha": 99 * U, "hb": 0}) == []


def test_withdrawal_holds_then_settles_to_world() -> None:
    ledger = _funded()
    ledger.hold("w1", ALICE, USDT, 250 * U, kind=Kind.WITHDRAW_HOLD)
    assert ledger.balances(ALICE) == {USDT: (750 * U, 250 * U)}
    sent = ledger.settle_from_hold("w1", Account.world(USDT), 250 * U, Kind.WITHDRAW_SETTLE, "w1")
    assert sent.credit == Account.world(USDT)
    assert ledger.balances(ALICE) == {USDT: (750 * U, 0)}
    assert ledger.balance(Account.world(USDT)) == -750 * U
    assert ledger.open_holds() == {}
    assert ledger.release("w1") is None  # closed by the settle: nothing left to release
    assert ledger.check_invariants() == []


def test_failed_withdrawal_is_released() -> None:
    ledger = _funded()
    ledger.hold("w1", ALICE, USDT, 250 * U, kind=Kind.WITHDRAW_HOLD)
    back = ledger.release("w1")
    assert back is not None
    assert (back.kind, back.amount) == ("withdraw_release", 250 * U)
    assert ledger.balances(ALICE) == {USDT: (1000 * U, 0)}
    assert ledger.balance(Account.world(USDT)) == -1000 * U
    assert ledger.check_invariants() == []


def test_refused_batch_changes_nothing() -> None:
    ledger = _funded()
    ledger.hold("h1", ALICE, USDT, 100 * U)
    before = _state(ledger)
    hold = ledger.get_hold("h1")
    batch = [
        Transfer.deposit("d3", BOB, USDT, 7 * U),
        Transfer.hold("h2", BOB, BTC, U),
        Transfer.settle(hold, Account.available(BOB, USDT), 60 * U, Kind.TRADE, "f1"),
        Transfer.settle(hold, Account.fees(USDT), 41 * U, Kind.FEE, "f1"),  # 1 atom too many
    ]
    with pytest.raises(InsufficientBalance):
        ledger.apply(batch)
    assert _state(ledger) == before
    # Within a batch, balances are checked as each transfer applies, not netted at the end.
    with pytest.raises(InsufficientBalance):
        ledger.apply(
            [
                Transfer.move("t1", Account.available(BOB, USDT), Account.available(ALICE, USDT),
                              5 * U, Kind.TRADE, "x"),
                Transfer.deposit("d4", BOB, USDT, 5 * U),
            ]
        )  # fmt: skip
    assert _state(ledger) == before
    # The same batch minus the bad transfer applies whole.
    postings = ledger.apply(batch[:3])
    assert [p.seq for p in postings] == [4, 5, 6]
    assert ledger.open_holds() == {"h1": 40 * U, "h2": U}
    assert ledger.check_invariants() == []


def test_batch_can_open_and_draw_on_a_hold() -> None:
    ledger = _funded()
    hold = Hold("h1", ALICE, USDT, 10 * U, Kind.ORDER_HOLD, "o1")
    postings = ledger.apply(
        [
            Transfer.hold("h1", ALICE, USDT, 10 * U, ref="o1"),
            Transfer.settle(hold, Account.available(BOB, USDT), 4 * U, Kind.TRADE, "f1"),
            Transfer.release(hold, 6 * U),
        ]
    )
    assert len(postings) == 3
    assert ledger.open_holds() == {}
    assert ledger.balances(ALICE) == {USDT: (996 * U, 0)}
    assert ledger.check_invariants() == []


def test_batch_replays_posted_transfers_and_refuses_duplicates_inside() -> None:
    ledger = _funded()
    first = ledger.apply([Transfer.deposit("d3", ALICE, BTC, U)])
    both = ledger.apply(
        [Transfer.deposit("d3", ALICE, BTC, U), Transfer.deposit("d4", BOB, BTC, U)]
    )
    assert both[0] == first[0]
    assert both[1].seq == first[0].seq + 1
    before = _state(ledger)
    with pytest.raises(Conflict):
        ledger.apply([Transfer.deposit("d5", ALICE, BTC, U)] * 2)
    assert _state(ledger) == before


def test_hold_ids_are_idempotent_and_never_reused() -> None:
    ledger = _funded()
    opened = ledger.hold("h1", ALICE, USDT, U)
    assert ledger.hold("h1", ALICE, USDT, U) == opened
    before = _state(ledger)
    with pytest.raises(Conflict):
        ledger.hold("h1", ALICE, USDT, 2 * U)
    with pytest.raises(Conflict):
        ledger.hold("h1", ALICE, USDT, U, kind=Kind.WITHDRAW_HOLD)
    ledger.release("h1")
    with pytest.raises(Conflict):
        ledger.hold("h1", ALICE, USDT, U, ref="o9")  # closed, but its id stays taken
    assert ledger.open_holds() == {}
    assert ledger.holds() == [Hold("h1", ALICE, USDT, U, "order_hold", "h1")]
    assert len(ledger.postings()) == len(before[3]) + 1


@pytest.mark.parametrize(
    ("transfer", "error"),
    [
        (Transfer("t", Account.world(USDT), Account.available(ALICE, USDT), 0, "x", "r"),
         ParamInvalid),
        (Transfer("t", Account.world(USDT), Account.available(ALICE, USDT), -1, "x", "r"),
         ParamInvalid),
        (Transfer("t", Account.world(USDT), Account.available(ALICE, USDT), True, "x", "r"),
         ParamInvalid),
        (Transfer("", Account.world(USDT), Account.available(ALICE, USDT), 1, "x", "r"),
         ParamInvalid),
        (Transfer("t", Account.world(USDT), Account.available(ALICE, BTC), 1, "x", "r"),
         ParamInvalid),
        (Transfer("t", Account.world(USDT), Account.world(USDT), 1, "x", "r"), ParamInvalid),
        (Transfer("t", Account.world(USDT), Account.available(0, USDT), 1, "x", "r"),
         ParamInvalid),
        (Transfer("t", Account.world(USDT), Account(WORLD, USDT, FROZEN), 1, "x", "r"),
         ParamInvalid),
        (Transfer("t", Account.world(USDT), Account("BANK", USDT), 1, "x", "r"),  # type: ignore[arg-type]
         ParamInvalid),
        (Transfer("t", Account.world(""), Account.available(ALICE, ""), 1, "x", "r"),
         ParamInvalid),
        # FEES only ever receives.
        (Transfer("t", Account.fees(USDT), Account.available(ALICE, USDT), 1, "x", "r"),
         ParamInvalid),
        # Frozen buckets move only through holds.
        (Transfer("t", Account.available(ALICE, USDT), Account.frozen(ALICE, USDT), 1, "x", "r"),
         ParamInvalid),
        (Transfer("t", Account.available(ALICE, USDT), Account.frozen(BOB, USDT), 1, "x", "r",
                  "h9"), ParamInvalid),
        (Transfer("t", Account.available(ALICE, USDT), Account.available(BOB, USDT), 1, "x", "r",
                  "h9"), ParamInvalid),
        (Transfer("t", Account.frozen(ALICE, USDT), Account.available(ALICE, USDT), 1, "x", "r",
                  "h9"), NotFound),
        # Drawing on a hold must debit that hold's own frozen account.
        (Transfer("t", Account.frozen(BOB, USDT), Account.available(BOB, USDT), 1, "x", "r",
                  "h1"), ParamInvalid),
        # Users cannot overdraw; WORLD can.
        (Transfer("t", Account.available(BOB, USDT), Account.world(USDT), U + 1, "x", "r"),
         InsufficientBalance),
    ],
)  # fmt: skip
def test_invalid_transfers_are_refused(transfer: Transfer, error: type[Exception]) -> None:
    ledger = _funded()
    ledger.hold("h1", ALICE, USDT, 10 * U)
    before = _state(ledger)
    with pytest.raises(error):
        ledger.apply([Transfer.deposit("ok", BOB, USDT, U), transfer])
    assert _state(ledger) == before


def test_unknown_hold_lookups() -> None:
    ledger = Ledger()
    with pytest.raises(NotFound):
        ledger.get_hold("h1")
    with pytest.raises(NotFound):
        ledger.remaining("h1")
    with pytest.raises(NotFound):
        ledger.settle_from_hold("h1", Account.fees(USDT), 1, Kind.FEE, "f1")
    assert ledger.posting("deposit:d1") is None


def test_postings_after_seq() -> None:
    ledger = _funded()
    ledger.hold("h1", ALICE, USDT, U)
    assert [p.seq for p in ledger.postings()] == [1, 2, 3]
    assert [p.seq for p in ledger.postings(after_seq=2)] == [3]
    assert ledger.postings(after_seq=3) == []


def _busy() -> Ledger:
    ledger = _funded()
    ledger.hold("ha", ALICE, USDT, 400 * U, ref="o1")
    ledger.hold("hb", BOB, BTC, U, ref="o2")
    ledger.settle_from_hold("ha", Account.available(BOB, USDT), 300 * U, Kind.TRADE, "f1")
    ledger.settle_from_hold("hb", Account.available(ALICE, BTC), U // 2, Kind.TRADE, "f1")
    ledger.settle_from_hold("ha", Account.fees(USDT), 3 * U, Kind.FEE, "f1")
    ledger.release("hb", U // 4, ref="f1")
    ledger.hold("w1", BOB, USDT, 100 * U, kind=Kind.WITHDRAW_HOLD)
    ledger.settle_from_hold("w1", Account.world(USDT), 100 * U, Kind.WITHDRAW_SETTLE, "w1")
    ledger.release("ha")
    return ledger


def test_rebuild_from_postings_equals_the_original() -> None:
    ledger = _busy()
    assert ledger.check_invariants() == []
    rebuilt = Ledger.from_postings(ledger.postings(), ledger.open_holds())
    assert _state(rebuilt) == _state(ledger)
    assert rebuilt.check_invariants() == []
    # It carries on exactly as the original: same seqs, same idempotency memory.
    assert rebuilt.deposit("d1", ALICE, USDT, 1000 * U) == ledger.posting("deposit:d1")
    assert rebuilt.release("hb") == ledger.release("hb")
    assert _state(rebuilt) == _state(ledger)
    # From storage, kinds come back as plain strings: still equal.
    plain = [p._replace(kind=str(p.kind)) for p in ledger.postings()]
    assert _state(Ledger.from_postings(plain)) == _state(ledger)


def test_rebuild_refuses_a_log_that_cannot_be_a_ledgers() -> None:
    log = _busy().postings()
    with pytest.raises(ValueError, match="seq"):
        Ledger.from_postings(log[1:])
    with pytest.raises(ValueError, match="repeats"):
        Ledger.from_postings([*log, log[0]._replace(seq=len(log) + 1)])
    with pytest.raises(ValueError, match="unknown hold"):
        stray = Posting(2, "r", Account.frozen(ALICE, USDT), Account.available(ALICE, USDT),
                        USDT, 1, "order_release", "o1", "zz")  # fmt: skip
        Ledger.from_postings([log[0], stray])
    with pytest.raises(ValueError, match="opens hold 'ha' again"):
        Ledger.from_postings([*log, log[2]._replace(seq=len(log) + 1, id="again")])
    with pytest.raises(ValueError, match="mixes assets"):
        Ledger.from_postings([log[0]._replace(asset=BTC)])
    with pytest.raises(ValueError, match="owner"):
        Ledger.from_postings([log[0]._replace(credit=Account(0, USDT))])
    with pytest.raises(ValueError, match="'ha' has 0 remaining but 5 is expected"):
        Ledger.from_postings(log, {"ha": 5})


def test_system_owner_and_bucket_constants() -> None:
    assert (WORLD, FEES, AVAILABLE, FROZEN) == ("WORLD", "FEES", "available", "frozen")
    assert Account(ALICE, USDT) == Account.available(ALICE, USDT)
    assert Account.fees(BTC) == Account(FEES, BTC, AVAILABLE)


def test_the_quick_hold_and_release_post_exactly_what_apply_would() -> None:
    """hold() and release() of the remainder skip apply()'s general checks for speed;
    the postings, balances and holds must be the very ones apply() would have made."""
    quick, general = Ledger(), Ledger()
    for ledger in (quick, general):
        ledger.deposit("d1", 7, "USDT", 1_000)
    quick.hold("o1", 7, "USDT", 300)
    general.apply([Transfer.hold("o1", 7, "USDT", 300)])
    quick.hold("w1", 7, "USDT", 200, kind=Kind.WITHDRAW_HOLD, ref="w1")
    general.apply([Transfer.hold("w1", 7, "USDT", 200, kind=Kind.WITHDRAW_HOLD, ref="w1")])
    for ledger in (quick, general):
        ledger.settle_from_hold("o1", Account.available(8, "USDT"), 100, Kind.TRADE, "t1")
    quick.release("o1")
    general.apply([Transfer.release(general.get_hold("o1"), 200)])
    quick.release("w1")
    general.apply([Transfer.release(general.get_hold("w1"), 200)])
    assert quick.postings() == general.postings()
    assert quick.all_accounts() == general.all_accounts()
    assert quick.holds() == general.holds() and quick.open_holds() == general.open_holds() == {}
    assert quick.balances(7) == general.balances(7) == {"USDT": (900, 0)}
    assert quick.check_invariants() == []
    # Replays and refusals still go the general way: same answers as before.
    assert quick.hold("o1", 7, "USDT", 300) == quick.postings()[1]
    assert quick.release("o1") == quick.postings()[4]
    with pytest.raises(InsufficientBalance):
        quick.hold("o2", 7, "USDT", 901)
    assert quick.postings() == general.postings()


def test_release_rest_gives_back_what_is_left_once() -> None:
    ledger = Ledger()
    ledger.deposit("d1", ALICE, USDT, 10 * U)
    ledger.hold("o1", ALICE, USDT, 4 * U)
    ledger.settle_from_hold("o1", Account.available(BOB, USDT), U, Kind.TRADE, "t1")
    posted = ledger.release_rest("o1")
    assert posted is not None and posted.amount == 3 * U and posted.kind == Kind.ORDER_RELEASE
    assert ledger.balances(ALICE) == {USDT: (9 * U, 0)}
    # A closed hold: nothing left, nothing posted, nothing changed.
    before = _state(ledger)
    assert ledger.release_rest("o1") is None
    assert _state(ledger) == before
    # A hold drawn to zero by a fill never gets a release posting.
    ledger.hold("o2", ALICE, USDT, U)
    ledger.settle_from_hold("o2", Account.available(BOB, USDT), U, Kind.TRADE, "t2")
    assert ledger.release_rest("o2") is None and ledger.open_holds() == {}
    assert ledger.release_rest("never-opened") is None
