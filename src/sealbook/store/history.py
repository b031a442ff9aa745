"""Committed history, newest first: closed orders, fills, deposits and withdrawals.

One :class:`Page` describes what every history endpoint filters by (Bitget's ``symbol`` or
``coin``, ``orderId``, ``clientOid``, ``startTime``/``endTime``, ``idLessThan``, ``limit``);
one query builder applies it to each table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Column, Engine, Row, Select, Table, select

from sealbook.engine import OrderStatus
from sealbook.exchange.orders import Deposit, MyFill, Order, Withdrawal
from sealbook.store.exchange import (
    deposit_from_row,
    fill_from_row,
    order_from_row,
    withdrawal_from_row,
)
from sealbook.store.tables import deposits, fills, orders, withdrawals

__all__ = [
    "Page",
    "closed_orders",
    "deposit_records",
    "my_fills",
    "stored_order",
    "withdrawal_records",
]

T = TypeVar("T")
CLOSED = (OrderStatus.FILLED.value, OrderStatus.CANCELLED.value)


@dataclass(frozen=True, slots=True)
class Page:
    user_id: int
    limit: int
    market: str | None = None  # a symbol (orders, fills) or a coin (deposits, withdrawals)
    record_id: int | None = None
    client_oid: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    before_id: int | None = None


def _query(
    table: Table,
    page: Page,
    *,
    market: Column[Any],
    record: Column[Any],
    time: Column[Any],
    paging: Column[Any] | None = None,
) -> Select[Any]:
    """``record`` is what Bitget's ``orderId`` names; ``paging`` what ``idLessThan`` counts
    (the same column, except for fills: order id vs trade id)."""
    paging = record if paging is None else paging
    query = select(table).where(table.c.user_id == page.user_id)
    if page.market is not None:
        query = query.where(market == page.market)
    if page.record_id is not None:
        query = query.where(record == page.record_id)
    if page.client_oid is not None and "client_oid" in table.c:
        query = query.where(table.c.client_oid == page.client_oid)
    if page.start_ms is not None:
        query = query.where(time >= page.start_ms)
    if page.end_ms is not None:
        query = query.where(time <= page.end_ms)
    if page.before_id is not None:
        query = query.where(paging < page.before_id)
    return query.order_by(paging.desc()).limit(page.limit)


def _run(engine: Engine, query: Select[Any], build: Callable[[Row[Any]], T]) -> list[T]:
    with engine.connect() as conn:
        return [build(row) for row in conn.execute(query)]


def closed_orders(engine: Engine, page: Page) -> list[Order]:
    t = orders
    query = _query(t, page, market=t.c.symbol, record=t.c.order_id, time=t.c.ctime_ms)
    return _run(engine, query.where(t.c.status.in_(CLOSED)), order_from_row)


def stored_order(
    engine: Engine, user_id: int, order_id: int | None, client_oid: str | None
) -> list[Order]:
    """The user's order by id or clientOid, as committed (a list of at most one)."""
    t = orders
    query = select(t).where(t.c.user_id == user_id)
    if order_id is not None:
        query = query.where(t.c.order_id == order_id)
    if client_oid is not None:
        query = query.where(t.c.client_oid == client_oid)
    return _run(engine, query.limit(1), order_from_row)


def my_fills(engine: Engine, page: Page) -> list[MyFill]:
    t = fills
    query = _query(
        t, page, market=t.c.symbol, record=t.c.order_id, paging=t.c.trade_id, time=t.c.ts_ms
    )
    return _run(engine, query.order_by(t.c.order_id.desc()), fill_from_row)


def deposit_records(engine: Engine, page: Page) -> list[Deposit]:
    t = deposits
    query = _query(t, page, market=t.c.coin, record=t.c.deposit_id, time=t.c.ts_ms)
    return _run(engine, query, deposit_from_row)


def withdrawal_records(engine: Engine, page: Page) -> list[Withdrawal]:
    t = withdrawals
    query = _query(t, page, market=t.c.coin, record=t.c.withdrawal_id, time=t.c.ctime_ms)
    return _run(engine, query, withdrawal_from_row)
