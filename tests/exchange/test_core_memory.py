"""The core's memory stays bounded: closed orders beyond a limit leave memory, their
user-chosen clientOids are retired (refused, never reused), open orders are indexed."""

from __future__ import annotations

import pytest

from sealbook.errors import DuplicateOrder
from sealbook.exchange.core import ExchangeCore, PlaceRequest
from sealbook.markets import default_catalog
from sealbook.money import from_units

CATALOG = default_catalog()
PRICE = CATALOG.symbol("BTCUSDT").ref_price


def _core(limit: int) -> ExchangeCore:
    core = ExchangeCore(CATALOG)
    core.max_closed_in_memory = limit
    core.deposit(1, "USDT", None, from_units(1_000_000), "t", 0)
    return core


def _buy(core: ExchangeCore, oid: str | None, now: int) -> int:
    req = PlaceRequest("BTCUSDT", "buy", "limit", "0.001", PRICE, client_oid=oid)
    return core.place(1, req, now).order_id


def test_closed_orders_beyond_the_limit_leave_memory() -> None:
    core = _core(limit=5)
    for i in range(20):
        order_id = _buy(core, f"mine-{i}", 1000 + i)
        core.cancel(1, "BTCUSDT", 2000 + i, order_id=order_id)
    assert len(core.orders) == 5
    assert sorted(core.orders) == list(range(16, 21))
    assert core.check_invariants() == []


def test_a_forgotten_client_oid_is_refused_and_a_remembered_one_is_idempotent() -> None:
    core = _core(limit=2)
    first = _buy(core, "old", 1000)
    core.cancel(1, "BTCUSDT", 1001, order_id=first)
    for i in range(3):
        core.cancel(1, "BTCUSDT", 1100 + i, order_id=_buy(core, f"x{i}", 1050 + i))
    assert first not in core.orders
    balances = core.ledger.balances(1)
    with pytest.raises(DuplicateOrder):
        _buy(core, "old", 3000)
    assert core.ledger.balances(1) == balances  # refused: nothing changed
    recent = core.orders[max(core.orders)]
    again = core.place(
        1, PlaceRequest("BTCUSDT", "buy", "limit", "0.001", PRICE, client_oid="x2"), 4000
    )
    assert again is recent


def test_open_orders_are_found_without_a_scan_and_survive_the_limit() -> None:
    core = _core(limit=1)
    resting = [_buy(core, None, 1000 + i) for i in range(3)]
    for i in range(4):
        core.cancel(1, "BTCUSDT", 1200 + i, order_id=_buy(core, None, 1100 + i))
    assert sorted(o.order_id for o in core.open_orders(1)) == resting
    assert core.open_orders(1, "ETHUSDT") == []
    assert core.open_orders(2) == []
    for order_id in resting:
        core.cancel(1, "BTCUSDT", 1300, order_id=order_id)
    assert core.open_orders(1) == []
    assert core.check_invariants() == []


def test_a_snapshot_copies_every_field_and_shares_nothing_mutable() -> None:
    import dataclasses

    from sealbook.engine import Force, OrderStatus, OrderType, Side
    from sealbook.exchange.orders import Order

    values: list[object] = [
        7, "cid", 3, "BTCUSDT", Side.SELL, OrderType.LIMIT, Force.IOC, 101, 5, 9,
        OrderStatus.PARTIALLY_FILLED, 11, 12, 2, 202, {"BTC": 4}, "user",
    ]  # fmt: skip
    # A new field must be listed here; hold_id is derived from order_id, not passed.
    assert len(values) == len([f for f in dataclasses.fields(Order) if f.init])
    order = Order(*values)  # type: ignore[arg-type]
    copy = order.snapshot()
    assert dataclasses.asdict(copy) == dataclasses.asdict(order)
    assert copy.hold_id == order.hold_id == "o7"
    order.fees["BTC"] = 5
    order.filled_lots = 3
    assert copy.fees == {"BTC": 4} and copy.filled_lots == 2
