"""Persisting the exchange core's changes, and rebuilding the core from what was persisted."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Engine, Row, Table, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from sealbook.engine import Force, OrderStatus, OrderType, Side
from sealbook.exchange.core import Changes, ExchangeCore
from sealbook.exchange.orders import (
    ORDER_OID_PREFIX,
    WITHDRAWAL_OID_PREFIX,
    Deposit,
    MyFill,
    Order,
    Withdrawal,
    WithdrawalStatus,
    is_generated_oid,
)
from sealbook.ledger import Account, Hold, Ledger, Posting
from sealbook.ledger.records import Checkpoint, expand, posting_of
from sealbook.markets import Catalog
from sealbook.store.tables import (
    deposits,
    fills,
    inbox,
    ledger_checkpoint_balances,
    ledger_checkpoint_holds,
    ledger_checkpoints,
    orders,
    postings,
    user_settings,
    withdrawals,
)

__all__ = [
    "load_core",
    "load_trades",
    "order_from_row",
    "persist",
    "read_checkpoint",
    "read_postings",
    "write_checkpoint",
]

log = logging.getLogger(__name__)

# Closed orders younger than this stay in memory after a restart (clientOid idempotency,
# orderInfo); older ones are read from the database when asked for.
RECENT_MS = 24 * 3_600_000


def _upsert(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], keys: Sequence[str]
) -> None:
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    changing = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
    conn.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=changing), list(rows))


def _owner(account: Account) -> str:
    return str(account.owner)


def _order_row(o: Order) -> dict[str, Any]:
    return {
        "order_id": o.order_id,
        "client_oid": o.client_oid,
        "oid_generated": is_generated_oid(o.client_oid, ORDER_OID_PREFIX),
        "user_id": o.user_id,
        "symbol": o.symbol,
        "side": o.side.value,
        "order_type": o.type.value,
        "force": o.force.value,
        "price_ticks": o.price_ticks,
        "size_lots": o.size_lots,
        "budget_atoms": o.budget_atoms,
        "status": o.status.value,
        "filled_lots": o.filled_lots,
        "filled_quote_atoms": o.filled_quote_atoms,
        "fees": json.dumps({coin: str(v) for coin, v in o.fees.items()}, sort_keys=True),
        "cancel_reason": o.cancel_reason,
        "ctime_ms": o.ctime_ms,
        "utime_ms": o.utime_ms,
    }


def _fill_row(f: MyFill) -> dict[str, Any]:
    return {
        "trade_id": f.trade_id,
        "order_id": f.order_id,
        "user_id": f.user_id,
        "symbol": f.symbol,
        "side": f.side.value,
        "order_type": f.order_type.value,
        "price_ticks": f.price_ticks,
        "lots": f.lots,
        "quote_atoms": f.quote_atoms,
        "maker": f.maker,
        "fee_coin": f.fee_coin,
        "fee_atoms": f.fee_atoms,
        "ts_ms": f.ts_ms,
    }


def _posting_row(p: Posting) -> dict[str, Any]:
    return {
        "seq": p.seq,
        "transfer_id": p.id,
        "debit_owner": _owner(p.debit),
        "debit_bucket": p.debit.bucket,
        "credit_owner": _owner(p.credit),
        "credit_bucket": p.credit.bucket,
        "asset": p.asset,
        "amount": p.amount,
        "kind": p.kind,
        "ref": p.ref,
        "hold_id": p.hold_id,
    }


def _withdrawal_row(w: Withdrawal) -> dict[str, Any]:
    return {
        "withdrawal_id": w.withdrawal_id,
        "client_oid": w.client_oid,
        "user_id": w.user_id,
        "coin": w.coin,
        "chain": w.chain,
        "address": w.address,
        "tag": w.tag,
        "amount": w.amount_atoms,
        "fee": w.fee_atoms,
        "status": w.status.value,
        "ctime_ms": w.ctime_ms,
        "utime_ms": w.utime_ms,
        "tx_id": w.tx_id,
    }


def persist(
    conn: Connection, changes: Changes, inbox_done: Iterable[tuple[int, str, int]] = ()
) -> None:
    """Write one batch of changes inside the caller's transaction."""
    if changes.records:
        rows = [_posting_row(posting_of(e)) for r in changes.records for e in expand(r)]
        conn.execute(postings.insert(), rows)
    if changes.checkpoint is not None:
        write_checkpoint(conn, *changes.checkpoint)
    _upsert(conn, orders, [_order_row(o) for o in changes.orders.values()], ["order_id"])
    if changes.fills:
        conn.execute(fills.insert(), [_fill_row(f) for f in changes.fills])
    if changes.deposits:
        conn.execute(
            deposits.insert(),
            [
                {
                    "deposit_id": d.deposit_id,
                    "user_id": d.user_id,
                    "coin": d.coin,
                    "chain": d.chain,
                    "amount": d.amount_atoms,
                    "address": d.address,
                    "tx_id": d.tx_id,
                    "ts_ms": d.ts_ms,
                }
                for d in changes.deposits
            ],
        )
    _upsert(
        conn,
        withdrawals,
        [_withdrawal_row(w) for w in changes.withdrawals.values()],
        ["withdrawal_id"],
    )
    _upsert(
        conn,
        user_settings,
        [{"user_id": u, "bgb_deduct": on} for u, on in changes.bgb_deduct.items()],
        ["user_id"],
    )
    for inbox_id, result, done_ms in inbox_done:
        conn.execute(
            update(inbox).where(inbox.c.id == inbox_id).values(done_ms=done_ms, result=result)
        )


def _account(owner: str, asset: str, bucket: str) -> Account:
    return Account(int(owner) if owner.isdigit() else owner, asset, bucket)  # type: ignore[arg-type]


# Checkpoints kept: the one a restart starts from, and the one before it.
CHECKPOINTS_KEPT = 2


def write_checkpoint(conn: Connection, checkpoint: Checkpoint, records: Mapping[str, Hold]) -> None:
    """Store the ledger's state as of posting ``checkpoint.seq``; drop the older ones."""
    seq = checkpoint.seq
    conn.execute(
        ledger_checkpoint_balances.insert(),
        [
            {
                "seq": seq,
                "owner": _owner(account),
                "asset": account.asset,
                "bucket": account.bucket,
                "amount": amount,
            }
            for account, amount in checkpoint.balances.items()
        ],
    )
    if checkpoint.left:
        conn.execute(
            ledger_checkpoint_holds.insert(),
            [
                {
                    "seq": seq,
                    "hold_id": hold.id,
                    "user_id": hold.user,
                    "asset": hold.asset,
                    "amount": hold.amount,
                    "kind": hold.kind,
                    "ref": hold.ref,
                    "remaining": checkpoint.left[hold.id],
                }
                for hold in (records[hold_id] for hold_id in checkpoint.left)
            ],
        )
    # Written last: a checkpoint row means its balances and holds are all there.
    conn.execute(ledger_checkpoints.insert(), [{"seq": seq}])
    seqs = conn.execute(
        select(ledger_checkpoints.c.seq).order_by(ledger_checkpoints.c.seq.desc())
    ).scalars()
    older = list(seqs)[CHECKPOINTS_KEPT:]
    if older:
        for table in (ledger_checkpoints, ledger_checkpoint_balances, ledger_checkpoint_holds):
            conn.execute(delete(table).where(table.c.seq <= older[0]))


def read_checkpoint(conn: Connection) -> tuple[Checkpoint, dict[str, Hold]] | None:
    """The newest stored checkpoint and the records of its open holds, if there is one."""
    seq = conn.execute(select(func.max(ledger_checkpoints.c.seq))).scalar()
    if seq is None:
        return None
    balances = {
        _account(r.owner, r.asset, r.bucket): r.amount
        for r in conn.execute(
            select(ledger_checkpoint_balances).where(ledger_checkpoint_balances.c.seq == seq)
        )
    }
    left: dict[str, int] = {}
    records: dict[str, Hold] = {}
    for r in conn.execute(
        select(ledger_checkpoint_holds).where(ledger_checkpoint_holds.c.seq == seq)
    ):
        left[r.hold_id] = r.remaining
        records[r.hold_id] = Hold(r.hold_id, r.user_id, r.asset, r.amount, r.kind, r.ref)
    return Checkpoint(int(seq), balances, left), records


def read_postings(conn: Connection, after_seq: int = 0) -> list[Posting]:
    rows = conn.execute(select(postings).where(postings.c.seq > after_seq).order_by(postings.c.seq))
    return [
        Posting(
            r.seq,
            r.transfer_id,
            _account(r.debit_owner, r.asset, r.debit_bucket),
            _account(r.credit_owner, r.asset, r.credit_bucket),
            r.asset,
            r.amount,
            r.kind,
            r.ref,
            r.hold_id,
        )
        for r in rows
    ]


def order_from_row(r: Row[Any]) -> Order:
    return Order(
        order_id=r.order_id,
        client_oid=r.client_oid,
        user_id=r.user_id,
        symbol=r.symbol,
        side=Side(r.side),
        type=OrderType(r.order_type),
        force=Force(r.force),
        price_ticks=r.price_ticks,
        size_lots=r.size_lots,
        budget_atoms=r.budget_atoms,
        status=OrderStatus(r.status),
        ctime_ms=r.ctime_ms,
        utime_ms=r.utime_ms,
        filled_lots=r.filled_lots,
        filled_quote_atoms=r.filled_quote_atoms,
        fees={coin: int(v) for coin, v in json.loads(r.fees).items()},
        cancel_reason=r.cancel_reason,
    )


def withdrawal_from_row(r: Row[Any]) -> Withdrawal:
    return Withdrawal(
        r.withdrawal_id,
        r.client_oid,
        r.user_id,
        r.coin,
        r.chain,
        r.address,
        r.tag,
        r.amount,
        r.fee,
        WithdrawalStatus(r.status),
        r.ctime_ms,
        r.utime_ms,
        r.tx_id,
    )


def deposit_from_row(r: Row[Any]) -> Deposit:
    return Deposit(r.deposit_id, r.user_id, r.coin, r.chain, r.amount, r.address, r.tx_id, r.ts_ms)


def fill_from_row(r: Row[Any]) -> MyFill:
    return MyFill(
        r.trade_id,
        r.order_id,
        r.user_id,
        r.symbol,
        Side(r.side),
        OrderType(r.order_type),
        r.price_ticks,
        r.lots,
        r.quote_atoms,
        r.maker,
        r.fee_coin,
        r.fee_atoms,
        r.ts_ms,
    )


class PublicTrade(NamedTuple):
    symbol: str
    trade_id: int
    price_ticks: int
    lots: int
    taker_side: str
    ts_ms: int


def load_trades(engine: Engine, now_ms: int, days: int = 30) -> list[PublicTrade]:
    """Public trades of the last ``days`` (the takers' rows), oldest first."""
    since = now_ms - days * 86_400_000
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                fills.c.symbol,
                fills.c.trade_id,
                fills.c.price_ticks,
                fills.c.lots,
                fills.c.side,
                fills.c.ts_ms,
            )
            .where(fills.c.maker.is_(False), fills.c.ts_ms >= since)
            .order_by(fills.c.trade_id)
        )
        return [
            PublicTrade(r.symbol, r.trade_id, r.price_ticks, r.lots, r.side, r.ts_ms) for r in rows
        ]


def _load_ledger(conn: Connection) -> Ledger:
    """From the newest checkpoint and the postings after it; from the whole log if there
    is no checkpoint, or if it cannot be loaded (``sealbook ledger check`` says why)."""
    start = read_checkpoint(conn)
    if start is not None:
        checkpoint, records = start
        try:
            return Ledger.from_postings(
                read_postings(conn, checkpoint.seq), start=checkpoint, records=records
            )
        except ValueError as exc:
            log.warning("ledger checkpoint %d not used: %s", checkpoint.seq, exc)
    return Ledger.from_postings(read_postings(conn))


def load_core(engine: Engine, catalog: Catalog, now_ms: int) -> ExchangeCore:
    """Rebuild the core: ledger from the posting log, open orders back on their books."""
    with engine.connect() as conn:
        ledger = _load_ledger(conn)
        max_order = conn.execute(select(func.max(orders.c.order_id))).scalar() or 0
        max_trade = conn.execute(select(func.max(fills.c.trade_id))).scalar() or 0
        max_deposit = conn.execute(select(func.max(deposits.c.deposit_id))).scalar() or 0
        max_withdrawal = conn.execute(select(func.max(withdrawals.c.withdrawal_id))).scalar() or 0
        core = ExchangeCore(
            catalog,
            ledger=ledger,
            next_order_id=int(max_order) + 1,
            trade_seq=int(max_trade),
            next_deposit_id=int(max_deposit) + 1,
            next_withdrawal_id=int(max_withdrawal) + 1,
        )
        open_statuses = (OrderStatus.LIVE.value, OrderStatus.PARTIALLY_FILLED.value)
        is_open = orders.c.status.in_(open_statuses)
        # Open orders back on their books, in time order.
        for row in conn.execute(
            select(orders).where(is_open).order_by(orders.c.ctime_ms, orders.c.order_id)
        ):
            core.restore_order(order_from_row(row))
        # The closed orders a running core would still hold: the recent ones, at most as
        # many as it keeps (not a whole busy day of them), oldest first.
        recent = conn.execute(
            select(orders)
            .where(~is_open, orders.c.utime_ms >= now_ms - RECENT_MS)
            .order_by(orders.c.utime_ms.desc(), orders.c.order_id.desc())
            .limit(core.max_closed_in_memory)
        ).all()
        for row in reversed(recent):
            core.restore_order(order_from_row(row))
        # Every other closed order's clientOid, if a user chose it, is refused from now on.
        # The database leaves out the generated ones (rows from before revision 0003 say
        # neither, and are checked here).
        kept = {row.order_id for row in recent}
        old_orders = select(orders.c.order_id, orders.c.user_id, orders.c.client_oid).where(
            ~is_open, orders.c.oid_generated.is_not(True)
        )
        core.retired_order_oids.update(
            (r.user_id, r.client_oid)
            for r in conn.execute(old_orders)
            if r.order_id not in kept and not is_generated_oid(r.client_oid, ORDER_OID_PREFIX)
        )
        old_withdrawals = select(withdrawals.c.user_id, withdrawals.c.client_oid).where(
            withdrawals.c.status != WithdrawalStatus.PENDING.value,
            withdrawals.c.ctime_ms < now_ms - RECENT_MS,
        )
        core.retired_withdrawal_oids.update(
            (r.user_id, r.client_oid)
            for r in conn.execute(old_withdrawals)
            if not is_generated_oid(r.client_oid, WITHDRAWAL_OID_PREFIX)
        )
        recent_or_pending = (withdrawals.c.status == WithdrawalStatus.PENDING.value) | (
            withdrawals.c.ctime_ms >= now_ms - RECENT_MS
        )
        for row in conn.execute(select(withdrawals).where(recent_or_pending)):
            core.restore_withdrawal(withdrawal_from_row(row))
        for row in conn.execute(select(user_settings).where(user_settings.c.bgb_deduct.is_(True))):
            core.bgb_deduct.add(row.user_id)
        for row in conn.execute(
            select(fills.c.symbol, func.max(fills.c.trade_id).label("last_trade")).group_by(
                fills.c.symbol
            )
        ):
            last = conn.execute(
                select(fills.c.price_ticks).where(fills.c.trade_id == row.last_trade).limit(1)
            ).scalar()
            if last is not None:
                core.last_price[row.symbol] = int(last)
    core.restore_counters(next_deposit_id=int(max_deposit) + 1)
    # Every posting is in the database: keep only balances and open holds in memory, not
    # the whole history the rebuild read.
    core.ledger.compact(core.ledger.last_seq)
    return core
