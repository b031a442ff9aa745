"""What goes into the engine and what comes out of it: integers only.

Prices are **ticks** and sizes are **lots** of one symbol (:mod:`sealbook.money`); a quote
amount is ``ticks * lots``, counted in units of 10^-(pricePlaces + quantityPlaces) of the
quote coin, so every product of a price and a size is exact.

The command (:class:`NewOrder`) and the records the engine returns (:class:`Fill`,
:class:`Cancellation`, :class:`PlaceResult`) are plain slots dataclasses rather than frozen
ones: frozen dataclasses cost about five times as much to build, and one is built per
order and per fill. The engine copies what it keeps and never reads a record back, so
changing one afterwards changes nothing inside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Self, TypeVar

from sealbook.errors import OrderParamInvalid

__all__ = [
    "CancelReason",
    "Cancellation",
    "Fill",
    "Force",
    "NewOrder",
    "OrderStatus",
    "OrderType",
    "PlaceResult",
    "RestingOrder",
    "Side",
    "StpMode",
]

_E = TypeVar("_E", bound=StrEnum)


def _parse(enum: type[_E], text: str, name: str) -> _E:
    """``"GTC"``, ``"Gtc"`` and ``" gtc "`` are all :attr:`Force.GTC`; anything else is 40808."""
    if isinstance(text, str):
        exact = enum._value2member_map_.get(text)  # the usual spelling: no strip or lower
        if exact is not None:
            return exact  # type: ignore[return-value]
        try:
            return enum(text.strip().lower())
        except ValueError:
            pass
    allowed = ", ".join(member.value for member in enum)
    raise OrderParamInvalid(f"{name} must be one of {allowed}")


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @classmethod
    def parse(cls, text: str) -> Self:
        return _parse(cls, text, "side")


class OrderType(StrEnum):
    LIMIT = "limit"
    MARKET = "market"

    @classmethod
    def parse(cls, text: str) -> Self:
        return _parse(cls, text, "orderType")


class Force(StrEnum):
    """Time in force. Market orders ignore it, as Bitget does: they never rest."""

    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    POST_ONLY = "post_only"

    @classmethod
    def parse(cls, text: str) -> Self:
        return _parse(cls, text, "force")


class StpMode(StrEnum):
    """Self-trade prevention; the taker's mode decides. "Self" means the same ``user_id``.

    Bitget's ``none`` (let a user trade with themself) is not offered: a wash trade is
    never what an exchange should book, so the default is ``cancel_taker``.
    """

    CANCEL_TAKER = "cancel_taker"
    CANCEL_MAKER = "cancel_maker"
    CANCEL_BOTH = "cancel_both"

    @classmethod
    def parse(cls, text: str) -> Self:
        return _parse(cls, text, "stpMode")


class OrderStatus(StrEnum):
    """Bitget's spot order states."""

    LIVE = "live"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"


class CancelReason(StrEnum):
    USER = "user"  # engine.cancel
    IOC = "ioc"  # the unfilled rest of an IOC order
    FOK = "fok"  # a FOK order the book could not fill in full
    POST_ONLY = "post_only"  # a post-only order that would have taken liquidity
    MARKET = "market"  # a market order that ran out of book
    SELF_TRADE = "self_trade"  # self-trade prevention, taker or maker


@dataclass(slots=True)
class NewOrder:
    """One order command. ``order_id`` is assigned by the caller, so replays are exact.

    * limit: ``price_ticks`` and ``lots``;
    * market sell: ``lots``;
    * market buy: ``quote_budget`` in ticks*lots units: it buys as many lots as the
      budget affords, walking the book, and leaves the unspendable rest unspent.
    """

    order_id: int
    user_id: int
    symbol: str
    side: Side
    type: OrderType
    force: Force = Force.GTC
    price_ticks: int | None = None
    lots: int | None = None
    quote_budget: int | None = None
    stp: StpMode = StpMode.CANCEL_TAKER

    @classmethod
    def limit(
        cls,
        order_id: int,
        user_id: int,
        symbol: str,
        side: Side,
        price_ticks: int,
        lots: int,
        *,
        force: Force = Force.GTC,
        stp: StpMode = StpMode.CANCEL_TAKER,
    ) -> NewOrder:
        return cls(
            order_id, user_id, symbol, side, OrderType.LIMIT, force, price_ticks, lots, None, stp
        )

    @classmethod
    def market_buy(
        cls,
        order_id: int,
        user_id: int,
        symbol: str,
        quote_budget: int,
        *,
        stp: StpMode = StpMode.CANCEL_TAKER,
    ) -> NewOrder:
        return cls(
            order_id=order_id,
            user_id=user_id,
            symbol=symbol,
            side=Side.BUY,
            type=OrderType.MARKET,
            quote_budget=quote_budget,
            stp=stp,
        )

    @classmethod
    def market_sell(
        cls,
        order_id: int,
        user_id: int,
        symbol: str,
        lots: int,
        *,
        stp: StpMode = StpMode.CANCEL_TAKER,
    ) -> NewOrder:
        return cls(
            order_id=order_id,
            user_id=user_id,
            symbol=symbol,
            side=Side.SELL,
            type=OrderType.MARKET,
            lots=lots,
            stp=stp,
        )


@dataclass(slots=True)
class RestingOrder:
    """A limit order on the book. ``lots`` is what was ordered, ``remaining`` what rests."""

    order_id: int
    user_id: int
    symbol: str
    side: Side
    price_ticks: int
    lots: int
    remaining: int
    force: Force
    stp: StpMode
    ts_ms: int
    filled_quote: int = 0

    @property
    def filled_lots(self) -> int:
        return self.lots - self.remaining

    @property
    def status(self) -> OrderStatus:
        return OrderStatus.LIVE if self.remaining == self.lots else OrderStatus.PARTIALLY_FILLED


@dataclass(slots=True)
class Fill:
    """One trade: the maker's price, ``lots`` of base for ``quote`` of quote."""

    trade_id: int
    symbol: str
    maker_order_id: int
    taker_order_id: int
    maker_user_id: int
    taker_user_id: int
    taker_side: Side
    price_ticks: int
    lots: int
    ts_ms: int

    @property
    def quote(self) -> int:
        return self.price_ticks * self.lots


@dataclass(slots=True)
class Cancellation:
    """An order that left the book (or never reached it) without filling in full.

    ``cancelled_lots`` is what was not filled; a market buy's unspent budget is in
    :attr:`PlaceResult.unspent_quote` instead, and its ``cancelled_lots`` is 0.
    ``price_ticks`` is ``None`` for a market order.
    """

    order_id: int
    user_id: int
    symbol: str
    side: Side
    price_ticks: int | None
    cancelled_lots: int
    filled_lots: int
    filled_quote: int
    reason: CancelReason


@dataclass(slots=True)
class PlaceResult:
    """What one :meth:`Engine.place` did: the taker's final state, its fills, and every
    order it cancelled (makers by self-trade prevention, and its own unfilled rest)."""

    order_id: int
    status: OrderStatus
    filled_lots: int
    filled_quote: int
    resting_lots: int  # 0 unless the order now rests on the book
    unspent_quote: int | None  # market buys only: quote_budget - filled_quote
    fills: list[Fill]
    cancelled: list[Cancellation]

    @property
    def resting(self) -> bool:
        return self.resting_lots > 0
