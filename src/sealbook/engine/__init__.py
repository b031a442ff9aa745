"""The matching engine: pure, deterministic price-time matching in integers.

Prices are ticks, sizes are lots, quote amounts ticks*lots (:mod:`sealbook.money`). No I/O,
no clock, no randomness: the caller assigns order ids and brings each command's time.
"""

from __future__ import annotations

from sealbook.engine.book import Book, Level
from sealbook.engine.matching import Engine
from sealbook.engine.orders import (
    Cancellation,
    CancelReason,
    Fill,
    Force,
    NewOrder,
    OrderStatus,
    OrderType,
    PlaceResult,
    RestingOrder,
    Side,
    StpMode,
)

__all__ = [
    "Book",
    "CancelReason",
    "Cancellation",
    "Engine",
    "Fill",
    "Force",
    "Level",
    "NewOrder",
    "OrderStatus",
    "OrderType",
    "PlaceResult",
    "RestingOrder",
    "Side",
    "StpMode",
]
