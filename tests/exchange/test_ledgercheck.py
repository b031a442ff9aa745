"""The ledger check: a real exchange's state is sound; each kind of damage is named.

One workload on a real :class:`ExchangeCore` gives fourteen postings (amounts worked out
by hand below); the tests feed :func:`check_ledger` that state with one thing changed,
and :func:`check_database` reads it back from SQLite and PostgreSQL.

     1  deposit d1: 1000 USDT to alice (user 1)
     2  deposit d2: 1 BTC to bob (user 2)
     3  hold o1: alice 500 USDT (buy 0.01 BTC @ 50000)
     4  hold o2: bob 0.004 BTC (sell 0.004 BTC @ 50000, fills against o1)
     5  trade: 0.004 BTC from o2 to alice
     6  trade: 200 USDT from o1 to bob
     7  fee: alice pays 0.000004 BTC
     8  fee: bob pays 0.2 USDT
     9  hold o3: alice 150 USDT (buy 0.05 ETH @ 3000)
    10  release o3 (cancelled)
    11  hold w1: alice 101.5 USDT (withdraw 100 + 1.5 fee; stays pending)
    12  hold w2: bob 0.01077 BTC (withdraw 0.01 + 0.00077 fee)
    13  settle w2: 0.01 BTC to WORLD
    14  fee w2: 0.00077 BTC to FEES

Afterwards order 1 is open with 0.006 BTC unfilled (holding 300 USDT) and withdrawal 1 is
pending (holding 101.5 USDT): alice has 401.5 USDT frozen.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sealbook.engine import OrderStatus, Side
from sealbook.exchange.context import Context
from sealbook.exchange.core import Changes, ExchangeCore, PlaceRequest
from sealbook.exchange.ledgercheck import LedgerReport, check_database, check_ledger
from sealbook.exchange.orders import Deposit, Order, Withdrawal, WithdrawalStatus
from sealbook.ledger import Account, Posting
from sealbook.markets import default_catalog
from sealbook.money import parse_atoms
from sealbook.store.exchange import persist

ALICE, BOB = 1, 2
T0 = 1_700_000_000_000
CATALOG = default_catalog()


@dataclass
class State:
    core: ExchangeCore
    changes: Changes
    postings: list[Posting]
    open_orders: list[Order]
    pending: list[Withdrawal]
    deposits: list[Deposit]

    def check(self) -> LedgerReport:
        return check_ledger(self.postings, self.open_orders, self.pending, self.deposits, CATALOG)


def workload() -> State:
    core = ExchangeCore(CATALOG)
    core.deposit(ALICE, "USDT", "TRC20", parse_atoms("1000"), "alice-addr", T0)
    core.deposit(BOB, "BTC", None, parse_atoms("1"), "bob-addr", T0)
    core.place(ALICE, PlaceRequest("BTCUSDT", "buy", "limit", "0.01", "50000"), T0)
    core.place(BOB, PlaceRequest("BTCUSDT", "sell", "limit", "0.004", "50000"), T0)
    core.place(ALICE, PlaceRequest("ETHUSDT", "buy", "limit", "0.05", "3000"), T0)
    core.cancel(ALICE, "ETHUSDT", T0, order_id=3)
    core.request_withdrawal(ALICE, "USDT", "TRC20", "TAliceAddr", "", "100", "", T0)
    core.request_withdrawal(BOB, "BTC", "BTC", "bc1qbob", "", "0.01", "", T0)
    core.complete_withdrawal(2, T0)
    assert core.check_invariants() == []
    changes = core.drain()
    return State(
        core,
        changes,
        core.ledger.postings(),
        [o for o in core.orders.values() if o.is_open],
        [w for w in core.withdrawals.values() if w.status is WithdrawalStatus.PENDING],
        list(changes.deposits),
    )


def without(postings: list[Posting], seq: int) -> list[Posting]:
    return [p for p in postings if p.seq != seq]


def test_the_workload_is_sound_and_as_worked_out() -> None:
    state = workload()
    assert [o.order_id for o in state.open_orders] == [1]
    assert [w.withdrawal_id for w in state.pending] == [1]
    assert state.core.ledger.frozen(ALICE, "USDT") == parse_atoms("401.5")

    report = state.check()

    assert report.ok
    assert report.as_dict() == {"ok": True, "postings": 14, "violations": []}


def test_a_changed_deposit_amount_is_named() -> None:
    state = workload()
    state.postings[0] = state.postings[0]._replace(amount=parse_atoms("2000"))

    report = state.check()

    assert not report.ok
    assert report.violations == (
        "posting 1 moves 2000 USDT from WORLD/USDT/available to 1/USDT/available, "
        "but deposit 1 (1000 USDT to user 1) records otherwise",
    )


def test_a_changed_hold_amount_leaves_the_hold_open() -> None:
    state = workload()
    state.postings[2] = state.postings[2]._replace(amount=parse_atoms("400"))  # hold o1

    assert state.check().violations == (
        "hold 'o1' has 200000000000000000000 remaining but 300000000000000000000 is expected",
        "user 1 has 301.5 USDT frozen, but their open orders and pending withdrawals hold 401.5",
    )


def test_a_missing_posting_is_named_and_the_rest_still_checked() -> None:
    state = workload()
    state.postings = without(state.postings, 7)  # alice's trade fee

    violations = state.check().violations

    assert violations[0] == "posting log is missing seq 7"
    # Without the fee, nothing else is inconsistent: FEES just has less.
    assert violations == ("posting log is missing seq 7",)


def test_several_missing_postings_in_a_row() -> None:
    state = workload()
    state.postings = without(without(state.postings, 9), 10)  # the cancelled ETH order

    assert state.check().violations == ("posting log is missing seqs 9-10",)


def test_a_log_that_cannot_be_a_ledger_is_named() -> None:
    state = workload()
    state.postings = without(state.postings, 4)  # the hold bob's fill draws on

    violations = state.check().violations

    assert violations[0] == "posting log is missing seq 4"
    assert violations[1] == "posting log cannot be loaded: posting 5 draws on unknown hold 'o2'"


def test_dropped_last_postings_leave_a_pending_withdrawal_without_its_hold() -> None:
    state = workload()
    state.postings = state.postings[:10]  # the withdrawals' postings (11-14) are gone

    assert state.check().violations == (
        "hold 'w1' has 0 remaining but 101500000000000000000 is expected",
        "pending withdrawal 1 has no hold 'w1' in the ledger",
        "user 1 has 300 USDT frozen, but their open orders and pending withdrawals hold 401.5",
    )


def test_frozen_funds_must_match_what_open_orders_still_need() -> None:
    state = workload()
    # The order table says 0.006 BTC was filled; the ledger paid for 0.004.
    state.open_orders = [dataclasses.replace(state.open_orders[0], filled_lots=60_000)]

    violations = state.check().violations

    assert violations == (
        "hold 'o1' has 300000000000000000000 remaining but 200000000000000000000 is expected",
        "user 1 has 401.5 USDT frozen, but their open orders and pending withdrawals hold 301.5",
    )


def test_a_hold_with_no_open_order_is_named() -> None:
    state = workload()
    state.open_orders = []

    violations = state.check().violations

    assert violations == (
        "hold 'o1' has 300000000000000000000 remaining but 0 is expected",
        "user 1 has 401.5 USDT frozen, but their open orders and pending withdrawals hold 101.5",
    )


def test_an_open_order_whose_hold_was_released_is_named() -> None:
    state = workload()
    cancelled = state.core.orders[3]
    assert cancelled.status is OrderStatus.CANCELLED
    state.open_orders.append(dataclasses.replace(cancelled, status=OrderStatus.LIVE))

    violations = state.check().violations

    assert violations == (
        "hold 'o3' has 0 remaining but 150000000000000000000 is expected",
        "user 1 has 401.5 USDT frozen, but their open orders and pending withdrawals hold 551.5",
    )


def test_an_open_order_must_hold_the_right_coin() -> None:
    state = workload()
    state.open_orders = [dataclasses.replace(state.open_orders[0], side=Side.SELL)]

    violations = state.check().violations

    assert "open order 1 should hold BTC of user 1, but hold 'o1' is USDT of user 1" in violations


def test_money_from_nowhere_is_named() -> None:
    state = workload()
    forged = Posting(
        15, "forged", Account.world("USDT"), Account.available(BOB, "USDT"), "USDT",
        parse_atoms("5000"), "trade", "t99", None,
    )  # fmt: skip
    state.postings.append(forged)

    assert state.check().violations == (
        "posting 15 takes 5000 USDT from WORLD as 'trade': only deposits bring money in",
    )


def test_a_deposit_posting_without_a_record_and_a_record_without_a_posting() -> None:
    state = workload()
    state.deposits = state.deposits[:1]  # deposit 2's record is gone

    assert state.check().violations == (
        "posting 2 deposits 1 BTC to 2/BTC/available as 'd2', but there is no such deposit",
    )

    state = workload()
    state.postings = without(state.postings, 2)
    state.postings = [p._replace(seq=i) for i, p in enumerate(state.postings, 1)]

    violations = state.check().violations

    assert "deposit 2 (1 BTC to user 2) has no posting" in violations
    assert any(v.startswith("account 2/BTC/available is negative") for v in violations)


def test_the_database_reader_sees_what_was_persisted(ctx: Context) -> None:
    state = workload()
    with ctx.engine.begin() as conn:
        persist(conn, state.changes)
    report = check_database(ctx.engine, CATALOG)

    assert report.as_dict() == {"ok": True, "postings": 14, "violations": []}


def test_an_empty_database_is_sound(ctx: Context) -> None:
    assert check_database(ctx.engine, CATALOG).as_dict() == {
        "ok": True,
        "postings": 0,
        "violations": [],
    }
