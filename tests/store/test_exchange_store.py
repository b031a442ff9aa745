"""store.exchange: what the core changed goes into the database, and a core rebuilt from the
database is the one that was running — on SQLite and on PostgreSQL.

Every command below is persisted in its own transaction, as the service does; "restart"
is :func:`load_core` on the same database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, select, text, update

from sealbook.engine import OrderStatus
from sealbook.errors import DuplicateOrder, SealbookError
from sealbook.exchange import core as exchange_core
from sealbook.exchange.core import ExchangeCore, PlaceRequest
from sealbook.exchange.ledgercheck import check_database
from sealbook.exchange.orders import WithdrawalStatus
from sealbook.ledger import Account
from sealbook.markets import default_catalog
from sealbook.store import exchange as store_exchange
from sealbook.store.db import make_engine, migrate
from sealbook.store.exchange import load_core, persist, read_postings
from sealbook.store.tables import (
    deposits,
    fills,
    ledger_checkpoint_balances,
    ledger_checkpoint_holds,
    ledger_checkpoints,
    orders,
    postings,
    user_settings,
    withdrawals,
)

CATALOG = default_catalog()
T0 = 1_800_000_000_000
ALICE, BOB, CAROL = 1, 2, 3
SYMBOLS = ("BTCUSDT", "ETHBTC", "BGBUSDT")
# 52 digits of atoms (about 10^33 coins): far past any float, and no round zeros.
HUGE = 1234567890123456789012345678901234567890123456789012
R = TypeVar("R")


@pytest.fixture
def db(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    migrate(engine)
    yield engine
    engine.dispose()


class Running:
    """A core whose every command is persisted at once, like the service's."""

    def __init__(self, db: Engine, core: ExchangeCore | None = None) -> None:
        self.db = db
        self.core = core or ExchangeCore(CATALOG)
        self.now = T0

    def do(self, command: Callable[[ExchangeCore, int], R]) -> R:
        self.now += 1
        result = command(self.core, self.now)
        with self.db.begin() as conn:
            persist(conn, self.core.drain())
        return result

    def restart(self) -> Running:
        again = Running(self.db, load_core(self.db, CATALOG, self.now))
        again.now = self.now
        return again

    def deposit(self, user: int, coin: str, atoms: int) -> None:
        self.do(lambda core, now: core.deposit(user, coin, None, atoms, f"a{user}", now))

    def place(
        self, user: int, symbol: str, side: str, size: str, price: str | None = None, **kw: Any
    ) -> Any:
        order_type = "limit" if price is not None else "market"
        req = PlaceRequest(symbol, side, order_type, size, price, **kw)
        return self.do(lambda core, now: core.place(user, req, now))


def units(text_amount: str) -> int:
    whole, _, frac = text_amount.partition(".")
    return int(whole + frac.ljust(18, "0"))


def _pending(core: ExchangeCore) -> dict[int, Any]:
    return {i: w for i, w in core.withdrawals.items() if w.status is WithdrawalStatus.PENDING}


def same_state(a: ExchangeCore, b: ExchangeCore) -> None:
    """``b``, rebuilt from the database, is ``a``: balances, holds, books, open orders,
    pending withdrawals, settings and prices."""
    assert b.check_invariants() == []
    assert b.ledger.all_accounts() == a.ledger.all_accounts()
    assert b.ledger.open_holds() == a.ledger.open_holds()
    for user in (ALICE, BOB, CAROL):
        assert b.ledger.balances(user) == a.ledger.balances(user)
    assert {i: o for i, o in b.orders.items() if o.is_open} == {
        i: o for i, o in a.orders.items() if o.is_open
    }
    for symbol in SYMBOLS:
        assert b.engine.depth(symbol, 1000) == a.engine.depth(symbol, 1000)
    assert _pending(b) == _pending(a)
    assert b.bgb_deduct == a.bgb_deduct
    assert b.last_price == a.last_price
    assert b.engine.trade_seq == a.engine.trade_seq


# --- exact amounts ---------------------------------------------------------------------------


def test_atoms_of_fifty_digits_survive_exactly(db: Engine) -> None:
    ex = Running(db)
    ex.deposit(ALICE, "USDT", HUGE)
    ex.deposit(ALICE, "BTC", HUGE + 1)
    ex.deposit(BOB, "BTC", 10**48 - 1)  # 48 nines
    # A withdrawal of 30 integer digits and 8 places: 48 digits of atoms.
    size = "123456789012345678901234567890.12345678"
    w = ex.do(
        lambda core, now: core.request_withdrawal(BOB, "BTC", "BTC", "bc1", "", size, "", now)
    )
    assert w.amount_atoms == 123456789012345678901234567890_123456780000000000
    with db.connect() as conn:
        amounts = [int(r.amount) for r in conn.execute(select(postings.c.amount))]
        raw = conn.execute(select(deposits.c.amount).order_by(deposits.c.deposit_id)).scalars()
        assert list(raw) == [HUGE, HUGE + 1, 10**48 - 1]
        row = conn.execute(select(withdrawals.c.amount, withdrawals.c.fee)).one()
        assert (row.amount, row.fee) == (w.amount_atoms, w.fee_atoms)
        assert all(type(a) is int for a in (row.amount, row.fee))
        # Never a float on the way: the database itself keeps exact decimal digits.
        if db.dialect.name == "sqlite":
            kinds = conn.execute(text("SELECT DISTINCT typeof(amount) FROM postings")).scalars()
            assert set(kinds) == {"text"}
            stored = conn.execute(text("SELECT amount FROM deposits ORDER BY deposit_id"))
            assert [r[0] for r in stored] == [str(HUGE), str(HUGE + 1), "9" * 48]
        else:
            kinds = conn.execute(text("SELECT DISTINCT pg_typeof(amount)::text FROM postings"))
            assert set(kinds.scalars()) == {"numeric"}
            stored = conn.execute(text("SELECT amount::text FROM deposits ORDER BY deposit_id"))
            assert [r[0] for r in stored] == [str(HUGE), str(HUGE + 1), "9" * 48]
    assert HUGE in amounts and HUGE + 1 in amounts

    rebuilt = ex.restart().core
    assert rebuilt.ledger.available(ALICE, "USDT") == HUGE
    assert rebuilt.ledger.available(ALICE, "BTC") == HUGE + 1
    assert rebuilt.ledger.frozen(BOB, "BTC") == w.amount_atoms + w.fee_atoms
    assert rebuilt.ledger.balance(Account.world("BTC")) == -(HUGE + 1) - (10**48 - 1)
    same_state(ex.core, rebuilt)


def test_postings_read_back_are_the_postings_written(db: Engine) -> None:
    ex = _busy_exchange(db)
    with db.connect() as conn:
        assert read_postings(conn) == ex.core.ledger.postings()


def test_fees_and_fills_keep_every_digit(db: Engine) -> None:
    ex = Running(db)
    ex.deposit(ALICE, "USDT", units("20000000"))
    ex.deposit(BOB, "BTC", units("150"))
    # The largest order BTCUSDT takes: 100 BTC at 104 321.
    ex.place(BOB, "BTCUSDT", "sell", "100", "104321")
    buy = ex.place(ALICE, "BTCUSDT", "buy", "99.9999999", "104321")
    assert buy.status is OrderStatus.FILLED
    with db.connect() as conn:
        rows = conn.execute(select(fills).order_by(fills.c.maker)).all()
        order_row = conn.execute(select(orders).where(orders.c.order_id == buy.order_id)).one()
    quote = 104321 * 999999999 * 10**11
    assert [(r.lots, r.quote_atoms, r.fee_atoms) for r in rows] == [
        (999999999, quote, 999999999 * 10**11 // 1000),  # Alice, the taker, pays in BTC
        (999999999, quote, quote // 1000),  # Bob, the maker, in USDT
    ]
    assert order_row.filled_quote_atoms == quote
    rebuilt = ex.restart().core
    assert rebuilt.orders[buy.order_id] == buy
    same_state(ex.core, rebuilt)


# --- the book after a restart ------------------------------------------------------------------


def _busy_exchange(db: Engine, ex: Running | None = None) -> Running:
    """Three users, orders resting at several levels of two books, some partly filled (on
    both sides), a pending and a completed withdrawal, BGB deduction on for Alice."""
    ex = ex or Running(db)
    for user in (ALICE, BOB, CAROL):
        ex.deposit(user, "USDT", units("100000"))
        ex.deposit(user, "BTC", units("2"))
        ex.deposit(user, "ETH", units("30"))
        ex.deposit(user, "BGB", units("1000"))
    ex.do(lambda core, now: core.set_bgb_deduct(ALICE, True))
    ex.do(lambda core, now: core.set_bgb_deduct(CAROL, True))
    ex.do(lambda core, now: core.set_bgb_deduct(CAROL, False))
    # BGBUSDT trades at 4.7, so the BGB price is no longer the reference.
    ex.place(BOB, "BGBUSDT", "sell", "10", "4.7")
    ex.place(CAROL, "BGBUSDT", "buy", "10", "4.7")
    # BTCUSDT asks: three orders at 104 100 (Bob, Carol, Bob, in that time order; the last
    # two in the same millisecond), one at 104 200.
    ex.place(BOB, "BTCUSDT", "sell", "0.01", "104100")
    ex.place(CAROL, "BTCUSDT", "sell", "0.02", "104100")
    ex.now -= 1  # the next order gets the same ctime as Carol's
    ex.place(BOB, "BTCUSDT", "sell", "0.03", "104100")
    ex.place(CAROL, "BTCUSDT", "sell", "0.05", "104200")
    # Bids: Alice at 103 900 and 103 800, Carol at 103 900 after her.
    ex.place(ALICE, "BTCUSDT", "buy", "0.04", "103900")
    ex.place(ALICE, "BTCUSDT", "buy", "0.01", "103800")
    ex.place(CAROL, "BTCUSDT", "buy", "0.02", "103900")
    # Alice takes 0.015 of the 104 100 asks: Bob's 0.01 fills, Carol's is partly filled.
    ex.place(ALICE, "BTCUSDT", "buy", "0.015", "104100", force="ioc")
    # Bob sells into Alice's 103 900 bid: it is partly filled.
    ex.place(BOB, "BTCUSDT", "sell", "0.01", "103900")
    # ETHBTC: a partly filled buy that took liquidity below its price before resting.
    ex.place(BOB, "ETHBTC", "sell", "1", "0.0345")
    ex.place(CAROL, "ETHBTC", "buy", "2", "0.0347")
    # A withdrawal that completes and one that stays pending.
    done = ex.do(lambda core, now: core.request_withdrawal(
        BOB, "USDT", "TRC20", "T1", "", "100", "wd-1", now))  # fmt: skip
    ex.do(lambda core, now: core.complete_withdrawal(done.withdrawal_id, now))
    ex.do(lambda core, now: core.request_withdrawal(
        CAROL, "ETH", "ERC20", "0xc", "", "1.5", "wd-2", now))  # fmt: skip
    assert ex.core.check_invariants() == []
    return ex


def test_a_rebuilt_core_is_the_running_core(db: Engine) -> None:
    ex = _busy_exchange(db)
    rebuilt = ex.restart().core
    same_state(ex.core, rebuilt)
    # The history stays in the database; memory keeps balances and holds, from which the
    # next posting goes on numbering.
    assert ex.core.ledger.last_seq > 20
    assert rebuilt.ledger.kept == 0 and rebuilt.ledger.last_seq == ex.core.ledger.last_seq
    # Closed orders and done withdrawals too: all of them are recent.
    assert rebuilt.orders == ex.core.orders
    assert rebuilt.by_client == ex.core.by_client
    assert rebuilt.withdrawals == ex.core.withdrawals


def test_a_day_later_only_what_is_open_comes_back_into_memory(db: Engine) -> None:
    ex = _busy_exchange(db)
    later = ex.now + 2 * 86_400_000
    rebuilt = load_core(db, CATALOG, later)
    same_state(ex.core, rebuilt)
    assert rebuilt.orders == {i: o for i, o in ex.core.orders.items() if o.is_open}
    assert rebuilt.withdrawals == _pending(ex.core)
    # Ids still go on from the stored ones, not from what is in memory.
    fresh = Running(db, rebuilt)
    fresh.now = later
    order = fresh.place(BOB, "BTCUSDT", "buy", "0.01", "100000")
    assert order.order_id == max(ex.core.orders) + 1


def _sweep(core: ExchangeCore, now: int) -> list[tuple[int, int, int, int]]:
    """Alice buys 0.06 BTC up to 104 200: ``(maker order id, user, price, lots)`` per fill."""
    core.drain()
    core.place(ALICE, PlaceRequest("BTCUSDT", "buy", "limit", "0.06", "104200"), now)
    return [(f.order_id, f.user_id, f.price_ticks, f.lots) for f in core.drain().fills if f.maker]


def test_open_orders_go_back_on_the_book_in_time_order(db: Engine) -> None:
    ex = _busy_exchange(db)
    again = ex.restart()
    book = again.core.engine.depth("BTCUSDT", 10)
    assert book == ex.core.engine.depth("BTCUSDT", 10)
    assert book == (
        [(103900, 300_000 + 200_000), (103800, 100_000)],
        [(104100, 150_000 + 300_000), (104200, 500_000)],
    )
    # Carol's partly filled 0.02 and Bob's 0.03 at 104 100 have the same ctime: the order
    # id keeps Carol's first, as before the restart.
    carol_2 = _ask_of(ex.core, CAROL, 200_000)
    bob_3 = _ask_of(ex.core, BOB, 300_000)
    carol_5 = _ask_of(ex.core, CAROL, 500_000)
    assert ex.core.orders[carol_2].ctime_ms == ex.core.orders[bob_3].ctime_ms
    expected = [
        (carol_2, CAROL, 104100, 150_000),
        (bob_3, BOB, 104100, 300_000),
        (carol_5, CAROL, 104200, 150_000),
    ]
    assert _sweep(again.core, again.now + 1) == expected
    assert _sweep(ex.core, ex.now + 1) == expected  # the core that never restarted
    same_state(ex.core, again.core)


def _ask_of(core: ExchangeCore, user: int, size_lots: int) -> int:
    (order_id,) = [
        o.order_id
        for o in core.orders.values()
        if (o.user_id, o.symbol, o.side.value, o.size_lots) == (user, "BTCUSDT", "sell", size_lots)
    ]
    return order_id


def test_partly_filled_orders_keep_what_was_filled(db: Engine) -> None:
    ex = _busy_exchange(db)
    partial = [o for o in ex.core.orders.values() if o.status is OrderStatus.PARTIALLY_FILLED]
    # Carol's ask and Alice's bid on BTCUSDT; Carol's ETHBTC bid, filled below its price.
    assert sorted((o.user_id, o.symbol, o.side.value) for o in partial) == [
        (ALICE, "BTCUSDT", "buy"),
        (CAROL, "BTCUSDT", "sell"),
        (CAROL, "ETHBTC", "buy"),
    ]
    eth_bid = next(o for o in partial if o.symbol == "ETHBTC")
    assert eth_bid.filled_quote_atoms < eth_bid.filled_lots * 34700 * 10**7
    rebuilt = ex.restart().core
    for order in partial:
        back = rebuilt.orders[order.order_id]
        assert back == order
        assert (back.filled_lots, back.filled_quote_atoms, back.fees) == (
            order.filled_lots,
            order.filled_quote_atoms,
            order.fees,
        )
        assert back.fees and all(v > 0 for v in back.fees.values())
        resting = rebuilt.engine.order(order.order_id)
        assert resting is not None
        assert order.size_lots is not None
        assert resting.remaining == order.size_lots - order.filled_lots
        assert rebuilt.ledger.remaining(order.hold_id) == ex.core.ledger.remaining(order.hold_id)
    assert rebuilt.check_invariants() == []
    # Filling them up after the restart closes them with nothing left held.
    again = Running(db, rebuilt)
    again.now = ex.now
    for order in partial:
        assert order.size_lots is not None and order.price_ticks is not None
        sym = CATALOG.symbol(order.symbol)
        rest = sym.size_str(order.size_lots - order.filled_lots)
        side = "sell" if order.side.value == "buy" else "buy"
        taker = BOB if order.user_id != BOB else ALICE
        again.place(taker, order.symbol, side, rest, sym.price_str(order.price_ticks),
                    stp="cancel_maker")  # fmt: skip
        back = rebuilt.orders[order.order_id]
        assert back.status is OrderStatus.FILLED
        assert rebuilt.ledger.remaining(back.hold_id) == 0
    assert rebuilt.check_invariants() == []
    same_state(rebuilt, again.restart().core)


def test_pending_withdrawals_are_restored_and_complete_after_a_restart(db: Engine) -> None:
    ex = _busy_exchange(db)
    again = ex.restart()
    (pending,) = _pending(again.core).values()
    assert (pending.user_id, pending.coin, pending.client_oid) == (CAROL, "ETH", "wd-2")
    assert pending.status is WithdrawalStatus.PENDING
    assert pending == ex.core.withdrawals[pending.withdrawal_id]
    held = pending.amount_atoms + pending.fee_atoms
    assert again.core.ledger.remaining(pending.hold_id) == held
    # A retry with its clientOid after the restart is still the same withdrawal.
    retry = again.do(lambda core, now: core.request_withdrawal(
        CAROL, "ETH", "ERC20", "0xc", "", "1.5", "wd-2", now))  # fmt: skip
    assert retry.withdrawal_id == pending.withdrawal_id
    fees_before = again.core.ledger.balance(Account.fees("ETH"))
    world_before = again.core.ledger.balance(Account.world("ETH"))
    again.do(lambda core, now: core.complete_withdrawal(pending.withdrawal_id, now))
    assert again.core.ledger.frozen(CAROL, "ETH") == ex.core.ledger.frozen(CAROL, "ETH") - held
    assert again.core.ledger.balance(Account.fees("ETH")) == fees_before + pending.fee_atoms
    assert again.core.ledger.balance(Account.world("ETH")) == world_before + pending.amount_atoms
    third = again.restart().core
    assert _pending(third) == {}
    assert third.withdrawals[pending.withdrawal_id].status is WithdrawalStatus.SUCCESS
    with db.connect() as conn:
        statuses = conn.execute(
            select(withdrawals.c.client_oid, withdrawals.c.status).order_by(
                withdrawals.c.withdrawal_id
            )
        ).all()
    assert [tuple(r) for r in statuses] == [("wd-1", "success"), ("wd-2", "success")]
    same_state(again.core, third)


def test_ids_continue_after_a_restart(db: Engine) -> None:
    ex = _busy_exchange(db)
    with db.connect() as conn:
        last_trade = conn.execute(
            select(fills.c.trade_id).order_by(fills.c.trade_id.desc())
        ).first()
        last_order = conn.execute(
            select(orders.c.order_id).order_by(orders.c.order_id.desc())
        ).first()
    assert last_trade is not None and last_order is not None
    assert last_trade.trade_id == ex.core.engine.trade_seq
    again = ex.restart()
    core = again.core
    assert core.engine.trade_seq == last_trade.trade_id
    # A new trade, a new order, a new deposit and withdrawal: every id is past the stored.
    order = again.place(BOB, "BTCUSDT", "buy", "0.01", "104100")
    assert order.order_id == last_order.order_id + 1
    assert order.client_oid == f"sb{order.order_id}"
    with db.connect() as conn:
        new_trades = conn.execute(
            select(fills.c.trade_id).where(fills.c.order_id == order.order_id)
        ).scalars()
        assert list(new_trades) == [last_trade.trade_id + 1]
    dep = again.do(lambda core, now: core.deposit(ALICE, "BTC", None, 5, "a", now))
    assert dep.deposit_id == 4 * 3 + 1
    w = again.do(lambda core, now: core.request_withdrawal(
        ALICE, "USDT", "TRC20", "T9", "", "20", "wd-3", now))  # fmt: skip
    assert w.withdrawal_id == 3
    # The posting log goes on from where it was (the seqs are the table's key); memory
    # holds only what came after the restart.
    with db.connect() as conn:
        stored = read_postings(conn)
    kept = core.ledger.postings()
    assert kept and stored[-len(kept) :] == kept
    assert [p.seq for p in stored] == list(range(1, len(stored) + 1))
    same_state(core, again.restart().core)


def test_bgb_deduction_setting_and_last_price_survive_a_restart(db: Engine) -> None:
    ex = _busy_exchange(db)
    with db.connect() as conn:
        rows = conn.execute(select(user_settings).order_by(user_settings.c.user_id)).all()
    assert [(r.user_id, r.bgb_deduct) for r in rows] == [(ALICE, True), (CAROL, False)]
    again = ex.restart()
    core = again.core
    assert core.bgb_deduct == {ALICE}
    assert core.last_price == {"BGBUSDT": 47000, "BTCUSDT": 103900, "ETHBTC": 34500}
    # After the restart Alice still pays in BGB, at the last BGBUSDT price (4.7): buying
    # 0.01 BTC at 104 100 costs a 1.041 USDT fee, 80 % of it in BGB at 4.7.
    bgb_before = core.ledger.available(ALICE, "BGB")
    btc_before = core.ledger.available(ALICE, "BTC")
    again.place(ALICE, "BTCUSDT", "buy", "0.01", "104100", force="ioc")
    bgb_fee = units("1.041") * 8 * 10 // (10 * 47)
    assert bgb_fee == 177191489361702127
    assert core.ledger.available(ALICE, "BGB") == bgb_before - bgb_fee
    assert core.ledger.available(ALICE, "BTC") == btc_before + units("0.01")
    # Carol turned it off; turning it off again after the restart is recorded too.
    again.do(lambda core, now: core.set_bgb_deduct(ALICE, False))
    assert again.restart().core.bgb_deduct == set()


# --- known gaps ----------------------------------------------------------------------------------


@pytest.mark.parametrize("what", ["order", "withdrawal"])
def test_an_old_client_oid_is_not_taken_again_after_a_restart(db: Engine, what: str) -> None:
    ex = Running(db)
    ex.deposit(ALICE, "USDT", units("10000"))
    ex.deposit(BOB, "BTC", units("1"))

    def again(core: ExchangeCore, now: int) -> Any:
        if what == "order":
            req = PlaceRequest("BTCUSDT", "buy", "limit", "0.01", "104000", client_oid="mine")
            return core.place(ALICE, req, now)
        return core.request_withdrawal(ALICE, "USDT", "TRC20", "T1", "", "20", "mine", now)

    first = ex.do(again)
    if what == "order":
        ex.place(BOB, "BTCUSDT", "sell", "0.01", "104000")
    else:
        ex.do(lambda core, now: core.complete_withdrawal(first.withdrawal_id, now))
    later = Running(db, load_core(db, CATALOG, ex.now + 2 * 86_400_000))
    later.now = ex.now + 2 * 86_400_000
    # The retry must find the old one, or be refused as a duplicate; either way, what the
    # core did must be persistable.
    try:
        retry = later.do(again)
    except SealbookError as exc:
        assert exc.code == "43118"
    else:
        assert retry == first


# --- ledger checkpoints ----------------------------------------------------------------------


class Committing(Running):
    """Running, plus what the service's committer does after each commit: ``committed()``,
    which compacts the ledger and now and then hands a checkpoint to the next commit."""

    def do(self, command: Callable[[ExchangeCore, int], R]) -> R:
        self.now += 1
        result = command(self.core, self.now)
        changes = self.core.drain()
        with self.db.begin() as conn:
            persist(conn, changes)
        self.core.committed(changes)
        return result


def _checkpointing(db: Engine) -> Committing:
    core = ExchangeCore(CATALOG)
    core.compact_after, core.checkpoint_every = 8, 10
    ex = Committing(db, core)
    _busy_exchange(db, ex)
    ex.do(lambda core, now: None)  # the last checkpoint handed over gets written
    return ex


def _checkpoint_seqs(db: Engine) -> list[int]:
    with db.connect() as conn:
        return list(conn.execute(select(ledger_checkpoints.c.seq).order_by("seq")).scalars())


def test_a_restart_reads_the_newest_checkpoint_and_the_postings_after_it(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ex = _checkpointing(db)
    seqs = _checkpoint_seqs(db)
    assert len(seqs) == 2 and seqs[1] - seqs[0] >= 10  # older ones were dropped
    read_after: list[int] = []
    real = store_exchange.read_postings

    def spy(conn: Any, after_seq: int = 0) -> Any:
        read_after.append(after_seq)
        return real(conn, after_seq)

    monkeypatch.setattr(store_exchange, "read_postings", spy)
    rebuilt = ex.restart().core
    assert read_after == [seqs[1]]
    same_state(ex.core, rebuilt)
    assert check_database(db, CATALOG).ok
    # The rebuilt core goes on writing checkpoints from there.
    rebuilt.compact_after, rebuilt.checkpoint_every = 8, 10
    again = Committing(db, rebuilt)
    again.now = ex.now
    for _ in range(12):
        again.deposit(ALICE, "USDT", units("1"))
    assert _checkpoint_seqs(db)[-1] > seqs[1]
    assert check_database(db, CATALOG).ok


def test_ledger_check_catches_a_checkpoint_that_disagrees_with_the_log(db: Engine) -> None:
    _checkpointing(db)
    seq = _checkpoint_seqs(db)[-1]
    table = ledger_checkpoint_balances
    mine = (table.c.seq == seq) & (table.c.owner == str(ALICE)) & (table.c.asset == "BGB")
    with db.begin() as conn:
        right = conn.execute(
            select(table.c.amount).where(mine & (table.c.bucket == "available"))
        ).scalar_one()
        conn.execute(
            update(table).where(mine & (table.c.bucket == "available")).values(amount=right + 1)
        )
    report = check_database(db, CATALOG)
    assert report.violations == (
        f"checkpoint at posting {seq}: account {ALICE}/BGB/available holds {right + 1} but "
        f"the log gives {right}",
    )


def test_a_checkpoint_that_cannot_be_loaded_is_passed_over(db: Engine) -> None:
    ex = _checkpointing(db)
    seq = _checkpoint_seqs(db)[-1]
    table = ledger_checkpoint_holds
    with db.begin() as conn:
        assert conn.execute(update(table).where(table.c.seq == seq).values(remaining=0)).rowcount
    same_state(ex.core, ex.restart().core)  # rebuilt from the whole log instead
    assert not check_database(db, CATALOG).ok  # and the check says the checkpoint is wrong


def test_a_restart_brings_back_no_more_closed_orders_than_a_running_core_keeps(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exchange_core, "MAX_CLOSED_IN_MEMORY", 3)
    ex = Running(db)
    ex.deposit(ALICE, "USDT", units("100000"))
    placed = []
    for i in range(6):
        order = ex.place(ALICE, "BTCUSDT", "buy", "0.01", "100000", client_oid=f"mine-{i}")
        ex.do(lambda core, now, o=order: core.cancel(ALICE, "BTCUSDT", now, order_id=o.order_id))
        placed.append(order)
    restored: list[int] = []
    real = ExchangeCore.restore_order

    def spy(core: ExchangeCore, order: Any) -> None:
        restored.append(order.order_id)
        real(core, order)

    monkeypatch.setattr(ExchangeCore, "restore_order", spy)
    rebuilt = ex.restart()
    assert sorted(restored) == sorted(rebuilt.core.orders) == [o.order_id for o in placed[3:]]
    # A retry of a remembered one is the same order; a forgotten clientOid is refused.
    again = rebuilt.place(ALICE, "BTCUSDT", "buy", "0.01", "100000", client_oid="mine-5")
    assert again.order_id == placed[5].order_id
    with pytest.raises(DuplicateOrder):
        rebuilt.place(ALICE, "BTCUSDT", "buy", "0.01", "100000", client_oid="mine-0")


def test_a_restart_reads_only_the_client_oids_users_chose(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exchange_core, "MAX_CLOSED_IN_MEMORY", 1)
    ex = Running(db)
    ex.deposit(ALICE, "USDT", units("100000"))

    def place_and_cancel(**kw: Any) -> Any:
        order = ex.place(ALICE, "BTCUSDT", "buy", "0.01", "100000", **kw)
        ex.do(lambda core, now: core.cancel(ALICE, "BTCUSDT", now, order_id=order.order_id))
        return order

    chosen = place_and_cancel(client_oid="mine-1")
    before = place_and_cancel(client_oid="old-1")
    generated = [place_and_cancel() for _ in range(3)]  # the last one stays in memory
    with db.begin() as conn:  # a row written before revision 0003 says neither
        conn.execute(
            update(orders).where(orders.c.order_id == before.order_id).values(oid_generated=None)
        )
        flags = dict(conn.execute(select(orders.c.client_oid, orders.c.oid_generated)).all())
    assert flags == {
        "mine-1": False,
        "old-1": None,
        **{order.client_oid: True for order in generated},
    }
    rebuilt = ex.restart()
    assert list(rebuilt.core.orders) == [generated[-1].order_id]
    assert rebuilt.core.retired_order_oids == {(ALICE, "mine-1"), (ALICE, "old-1")}
    with pytest.raises(DuplicateOrder):
        rebuilt.place(ALICE, "BTCUSDT", "buy", "0.01", "100000", client_oid="old-1")
    assert chosen.client_oid == "mine-1"
