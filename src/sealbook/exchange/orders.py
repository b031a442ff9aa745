"""Orders, fills, deposits and withdrawals as the exchange records them (exact ints)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sealbook.engine import Force, OrderStatus, OrderType, Side
from sealbook.ledger.records import hold_name

__all__ = [
    "ORDER_OID_PREFIX",
    "WITHDRAWAL_OID_PREFIX",
    "Deposit",
    "MyFill",
    "Order",
    "Withdrawal",
    "WithdrawalStatus",
    "is_generated_oid",
    "is_valid_client_oid",
    "order_hold_id",
]

# clientOids the exchange makes up: the prefix and a number (``sb17``, ``sbw3``). Clients
# may not choose one of that shape, so a generated id never collides with a chosen one.
ORDER_OID_PREFIX = "sb"
WITHDRAWAL_OID_PREFIX = "sbw"
_CLIENT_OID_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-+_#")


def is_valid_client_oid(text: str) -> bool:
    """Bitget's rule: fewer than 50 of ``0-9 a-z A-Z - + _ #``."""
    return 0 < len(text) < 50 and set(text) <= _CLIENT_OID_CHARS


def is_generated_oid(client_oid: str, prefix: str) -> bool:
    return client_oid.startswith(prefix) and client_oid[len(prefix) :].isdigit()


def order_hold_id(order_id: int) -> str:
    """The name of the ledger hold an order's funds sit under (the ledger keys it by the
    order id)."""
    return hold_name(order_id)


@dataclass(slots=True)
class Order:
    """One order and everything that happened to it so far.

    ``size_lots`` is the base size (limit orders, market sells); a market buy has
    ``budget_atoms`` (quote) instead. ``filled_quote_atoms`` is what the fills were worth
    in quote atoms; ``fees`` maps coin → atoms charged.
    """

    order_id: int
    client_oid: str
    user_id: int
    symbol: str
    side: Side
    type: OrderType
    force: Force
    price_ticks: int | None
    size_lots: int | None
    budget_atoms: int | None
    status: OrderStatus
    ctime_ms: int
    utime_ms: int
    filled_lots: int = 0
    filled_quote_atoms: int = 0
    fees: dict[str, int] = field(default_factory=dict)
    cancel_reason: str = ""
    # The ledger hold this order's funds sit under; read on every fill and release.
    hold_id: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.hold_id = order_hold_id(self.order_id)

    def snapshot(self) -> Order:
        """A copy as of now (``fees`` copied too), for the store to write while the live
        order keeps changing. Positional on purpose: ``dataclasses.replace`` costs ~5x."""
        return Order(
            self.order_id, self.client_oid, self.user_id, self.symbol, self.side, self.type,
            self.force, self.price_ticks, self.size_lots, self.budget_atoms, self.status,
            self.ctime_ms, self.utime_ms, self.filled_lots, self.filled_quote_atoms,
            dict(self.fees), self.cancel_reason,
        )  # fmt: skip

    @property
    def is_open(self) -> bool:
        return self.status in (OrderStatus.LIVE, OrderStatus.PARTIALLY_FILLED)

    def same_terms(self, other: Order) -> bool:
        """A retried place-order with the same clientOid must ask for the same thing."""
        return (
            self.symbol,
            self.side,
            self.type,
            self.force,
            self.price_ticks,
            self.size_lots,
            self.budget_atoms,
        ) == (
            other.symbol,
            other.side,
            other.type,
            other.force,
            other.price_ticks,
            other.size_lots,
            other.budget_atoms,
        )


@dataclass(frozen=True, slots=True)
class MyFill:
    """One side of a trade, as that side's owner sees it (``spot/trade/fills``)."""

    trade_id: int
    order_id: int
    user_id: int
    symbol: str
    side: Side
    order_type: OrderType
    price_ticks: int
    lots: int
    quote_atoms: int
    maker: bool
    fee_coin: str
    fee_atoms: int
    ts_ms: int


@dataclass(frozen=True, slots=True)
class Deposit:
    deposit_id: int
    user_id: int
    coin: str
    chain: str
    amount_atoms: int
    address: str
    tx_id: str
    ts_ms: int


class WithdrawalStatus(StrEnum):
    PENDING = "pending"
    SUCCESS = "success"
    FAILED = "failed"


@dataclass(slots=True)
class Withdrawal:
    withdrawal_id: int
    client_oid: str
    user_id: int
    coin: str
    chain: str
    address: str
    tag: str
    amount_atoms: int  # what arrives at the address
    fee_atoms: int
    status: WithdrawalStatus
    ctime_ms: int
    utime_ms: int
    tx_id: str = ""

    @property
    def hold_id(self) -> str:
        return f"w{self.withdrawal_id}"
