"""``sealbook ledger check``: audit the stored ledger against itself and the exchange's records.

It needs no master key and no running server: it reads the posting log, the open orders,
the pending withdrawals and the deposits (in one snapshot), rebuilds the ledger with
:meth:`Ledger.from_postings`, and reports every violation it finds:

* the posting log is whole (seqs 1, 2, 3, ... with none missing) and loadable;
* per asset, all accounts sum to zero; no user balance (nor FEES) is negative; every
  balance equals the sum of its postings (:meth:`Ledger.check_invariants`);
* the open holds are exactly those of the open orders (``o{order_id}``) and the pending
  withdrawals (``w{withdrawal_id}``), each on the right user and coin and with what is
  left to hold: a limit buy holds ``price × unfilled`` quote, a sell its unfilled base, a
  withdrawal its amount plus fee; so each user's frozen balance is what those hold;
* money enters only through deposits: every posting that takes from WORLD is a deposit
  posting, and deposit postings and deposit records match one to one;
* the newest ledger checkpoint (what a restart starts from) is the state the log gives at
  its posting.

:func:`check_ledger` is pure (rows in, report out); :func:`check_database` reads them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from sealbook.engine import OrderStatus, OrderType, Side
from sealbook.exchange.orders import Deposit, Order, Withdrawal, WithdrawalStatus
from sealbook.ledger import AVAILABLE, FROZEN, WORLD, Account, Hold, Kind, Ledger, Posting
from sealbook.ledger.records import Checkpoint
from sealbook.markets import Catalog
from sealbook.money import atoms_to_str
from sealbook.store.exchange import (
    deposit_from_row,
    order_from_row,
    read_checkpoint,
    read_postings,
    withdrawal_from_row,
)
from sealbook.store.tables import deposits, orders, withdrawals

__all__ = ["LedgerReport", "check_database", "check_ledger"]

_POSTING_SEQ = re.compile(r"\bposting (\d+)\b")


@dataclass(frozen=True, slots=True)
class LedgerReport:
    postings: int
    violations: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.violations

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "postings": self.postings, "violations": list(self.violations)}


@dataclass(frozen=True, slots=True)
class _Held:
    """What an open order or pending withdrawal must hold."""

    user_id: int
    asset: str
    atoms: int
    what: str


def check_ledger(
    postings: Sequence[Posting],
    open_orders: Sequence[Order],
    pending_withdrawals: Sequence[Withdrawal],
    deposit_records: Sequence[Deposit],
    catalog: Catalog,
    checkpoint: tuple[Checkpoint, Mapping[str, Hold]] | None = None,
) -> LedgerReport:
    """Every violation in the stored state, as a readable line (none when it is sound).
    ``checkpoint`` is the newest stored one, which a restart starts from."""
    problems = _gaps(postings)
    wanted, wanted_problems = _expected_holds(open_orders, pending_withdrawals, catalog)
    problems.extend(wanted_problems)
    # Past missing seqs (named above), the log is checked as if it were whole; what the
    # ledger says about "posting N" then speaks of the stored seqs again.
    whole = [p._replace(seq=i) for i, p in enumerate(postings, 1)]
    stored = {i: p.seq for i, p in enumerate(postings, 1)}
    found: list[str] = []
    try:
        ledger = Ledger.from_postings(whole)
    except ValueError as exc:
        found.append(f"posting log cannot be loaded: {exc}")
    else:
        found.extend(ledger.check_invariants({h: w.atoms for h, w in wanted.items()}))
        found.extend(_holds_match(ledger, wanted))
        found.extend(_frozen_per_user(ledger, wanted))
    if whole != list(postings):
        found = [_POSTING_SEQ.sub(lambda m: _stored_seq(m, stored), f) for f in found]
    problems.extend(found)
    problems.extend(_deposits_match(postings, deposit_records))
    if checkpoint is not None:
        problems.extend(_checkpoint_matches(postings, *checkpoint))
    return LedgerReport(len(postings), tuple(problems))


def _stored_seq(match: re.Match[str], stored: dict[int, int]) -> str:
    seq = int(match[1])
    return f"posting {stored.get(seq, seq)}"


def _expected_holds(
    open_orders: Sequence[Order], pending_withdrawals: Sequence[Withdrawal], catalog: Catalog
) -> tuple[dict[str, _Held], list[str]]:
    """``hold id → what it must hold`` for open orders and pending withdrawals."""
    wanted: dict[str, _Held] = {}
    problems: list[str] = []
    for order in open_orders:
        what = f"open order {order.order_id}"
        if (
            order.type is not OrderType.LIMIT
            or order.price_ticks is None
            or order.size_lots is None
        ):
            problems.append(f"{what} is not a limit order with a price and size")
            continue
        if not catalog.has_symbol(order.symbol):
            problems.append(f"{what} is on unknown symbol {order.symbol!r}")
            continue
        sym = catalog.symbol(order.symbol)
        unfilled = order.size_lots - order.filled_lots
        if unfilled <= 0:
            problems.append(f"{what} is open with nothing left to fill")
            continue
        if order.side is Side.BUY:
            held = _Held(
                order.user_id, sym.quote, sym.quote_atoms(order.price_ticks, unfilled), what
            )
        else:
            held = _Held(order.user_id, sym.base, sym.base_atoms(unfilled), what)
        wanted[order.hold_id] = held
    for w in pending_withdrawals:
        wanted[w.hold_id] = _Held(
            w.user_id, w.coin, w.amount_atoms + w.fee_atoms, f"pending withdrawal {w.withdrawal_id}"
        )
    return wanted, problems


def check_database(engine: Engine, catalog: Catalog) -> LedgerReport:
    """Read the ledger's rows in one snapshot and check them."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            # Every statement must see the same commit, while a server keeps writing.
            conn.execution_options(isolation_level="REPEATABLE READ")
        # (SQLite: the engine begins every transaction IMMEDIATE, which is a snapshot.)
        try:
            posting_rows = read_postings(conn)
            open_statuses = (OrderStatus.LIVE.value, OrderStatus.PARTIALLY_FILLED.value)
            order_rows = [
                order_from_row(r)
                for r in conn.execute(
                    select(orders)
                    .where(orders.c.status.in_(open_statuses))
                    .order_by(orders.c.order_id)
                )
            ]
            withdrawal_rows = [
                withdrawal_from_row(r)
                for r in conn.execute(
                    select(withdrawals)
                    .where(withdrawals.c.status == WithdrawalStatus.PENDING.value)
                    .order_by(withdrawals.c.withdrawal_id)
                )
            ]
            deposit_rows = [
                deposit_from_row(r)
                for r in conn.execute(select(deposits).order_by(deposits.c.deposit_id))
            ]
            checkpoint = read_checkpoint(conn)
        except (ValueError, TypeError, KeyError) as exc:
            return LedgerReport(0, (f"the stored rows cannot be read: {exc}",))
    return check_ledger(
        posting_rows, order_rows, withdrawal_rows, deposit_rows, catalog, checkpoint
    )


# --- the checks ----------------------------------------------------------------------------


def _checkpoint_matches(
    postings: Sequence[Posting], checkpoint: Checkpoint, records: Mapping[str, Hold]
) -> list[str]:
    """The checkpoint is the state the log gives at its seq: every balance, every open
    hold's record and what is left of it. A restart trusts it instead of the log."""
    what = f"checkpoint at posting {checkpoint.seq}"
    upto = [p for p in postings if p.seq <= checkpoint.seq]
    if not upto or upto[-1].seq != checkpoint.seq or len(upto) != checkpoint.seq:
        return [f"{what} is not at a posting of a whole log"]
    try:
        ledger = Ledger.from_postings(upto)
    except ValueError:
        return []  # the log itself cannot be loaded: reported above
    ledger.compact(checkpoint.seq)
    logged, logged_records = ledger.checkpoint()
    problems = [
        f"{what}: account {account.owner}/{account.asset}/{account.bucket} holds "
        f"{checkpoint.balances.get(account, 0)} but the log gives {logged.balances.get(account, 0)}"
        for account in sorted(
            checkpoint.balances.keys() | logged.balances.keys(),
            key=lambda a: (str(a.owner), a.asset, a.bucket),
        )
        if checkpoint.balances.get(account, 0) != logged.balances.get(account, 0)
    ]
    for hold_id in sorted(checkpoint.left.keys() | logged.left.keys()):
        have, want = checkpoint.left.get(hold_id, 0), logged.left.get(hold_id, 0)
        if have != want:
            problems.append(f"{what}: hold {hold_id!r} has {have} left but the log gives {want}")
        elif records.get(hold_id) != logged_records.get(hold_id):
            problems.append(f"{what}: hold {hold_id!r} is not recorded as the log opened it")
    return problems


def _gaps(postings: Sequence[Posting]) -> list[str]:
    problems: list[str] = []
    expected = 1
    for posting in postings:
        if posting.seq > expected:
            missing = (
                f"seq {expected}"
                if posting.seq == expected + 1
                else f"seqs {expected}-{posting.seq - 1}"
            )
            problems.append(f"posting log is missing {missing}")
        expected = posting.seq + 1
    return problems


def _holds_match(ledger: Ledger, wanted: dict[str, _Held]) -> list[str]:
    problems: list[str] = []
    opened = {hold.id: hold for hold in ledger.holds()}
    for hold_id, held in sorted(wanted.items()):
        hold = opened.get(hold_id)
        if hold is None:
            problems.append(f"{held.what} has no hold {hold_id!r} in the ledger")
        elif (hold.user, hold.asset) != (held.user_id, held.asset):
            problems.append(
                f"{held.what} should hold {held.asset} of user {held.user_id}, but hold "
                f"{hold_id!r} is {hold.asset} of user {hold.user}"
            )
    return problems


def _frozen_per_user(ledger: Ledger, wanted: dict[str, _Held]) -> list[str]:
    should: defaultdict[tuple[int, str], int] = defaultdict(int)
    for held in wanted.values():
        should[held.user_id, held.asset] += held.atoms
    frozen = {
        (account.owner, account.asset): balance
        for account, balance in ledger.all_accounts().items()
        if account.bucket == FROZEN and isinstance(account.owner, int)
    }
    problems: list[str] = []
    for user_id, asset in sorted(frozen.keys() | should.keys()):
        have, want = frozen.get((user_id, asset), 0), should.get((user_id, asset), 0)
        if have != want:
            problems.append(
                f"user {user_id} has {atoms_to_str(have)} {asset} frozen, but their open "
                f"orders and pending withdrawals hold {atoms_to_str(want)}"
            )
    return problems


def _deposits_match(postings: Sequence[Posting], records: Sequence[Deposit]) -> list[str]:
    problems: list[str] = []
    by_ref: dict[str, Posting] = {}
    for p in postings:
        if p.debit.owner == WORLD and p.kind != Kind.DEPOSIT:
            problems.append(
                f"posting {p.seq} takes {atoms_to_str(p.amount)} {p.asset} from WORLD "
                f"as {p.kind!r}: only deposits bring money in"
            )
        if p.kind == Kind.DEPOSIT:
            by_ref[p.ref] = p
    seen: set[str] = set()
    for d in records:
        ref = f"d{d.deposit_id}"
        seen.add(ref)
        found = by_ref.get(ref)
        what = (
            f"deposit {d.deposit_id} ({atoms_to_str(d.amount_atoms)} {d.coin} to user {d.user_id})"
        )
        if found is None:
            problems.append(f"{what} has no posting")
            continue
        world, credit = Account(WORLD, d.coin, AVAILABLE), Account(d.user_id, d.coin, AVAILABLE)
        if (found.debit, found.credit, found.amount) != (world, credit, d.amount_atoms):
            problems.append(
                f"posting {found.seq} moves {atoms_to_str(found.amount)} {found.asset} from "
                f"{_name(found.debit)} to {_name(found.credit)}, but {what} records otherwise"
            )
    for ref, p in by_ref.items():
        if ref not in seen:
            problems.append(
                f"posting {p.seq} deposits {atoms_to_str(p.amount)} {p.asset} to "
                f"{_name(p.credit)} as {ref!r}, but there is no such deposit"
            )
    return problems


def _name(account: Account) -> str:
    return f"{account.owner}/{account.asset}/{account.bucket}"
