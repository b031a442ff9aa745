"""The lot engine: acquisitions become lots, disposals consume them by a method.

Everything here is scaled integers (``units.py``): quantities in 10^-18 of a coin, values
in 10^-18 USD. When part of a lot is consumed its basis is split by floor division and
the remainder stays with the lot, so the bases handed out plus the bases left always add
up to exactly what was paid; the last piece of a lot takes all that is left.

Methods: FIFO (oldest first), LIFO (newest first), HIFO (highest unit cost first, unit
costs compared to 10^-18 USD per coin, ties oldest first) and ACB (one pool per asset at
its average cost, the Canadian adjusted cost base; no lot dates).

An event is a tuple ``(ts_ms, kind, wallet, asset, qty, value, ref)``:

ACQUIRE          a lot of ``qty`` bought for ``value`` (its cost basis)
ACQUIRE_UNKNOWN  a lot whose cost is not known (a deposit from outside): basis 0, flagged
DISPOSE          ``qty`` sold (or spent) for ``value`` (net proceeds)
MOVE_OUT         ``qty`` leaves for another of the person's own wallets (``value`` = the
                 transfer's number): the lots travel with their dates and bases
MOVE_IN          the transfer ``value`` arrives as ``qty`` (less than what left: the
                 withdrawal fee); the lots shrink by that ratio and keep their whole basis
LEAVE            ``qty`` left to an address not known to be the person's: not taxed,
                 the lots simply go
"""

from __future__ import annotations

import gc
import heapq
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = [
    "ACQUIRE",
    "ACQUIRE_UNKNOWN",
    "DISPOSE",
    "LEAVE",
    "METHODS",
    "MOVE_IN",
    "MOVE_OUT",
    "NO_LOT",
    "POOLED",
    "Event",
    "LotBook",
    "run",
]

ACQUIRE, ACQUIRE_UNKNOWN, DISPOSE, MOVE_OUT, MOVE_IN, LEAVE = range(6)
METHODS = ("fifo", "lifo", "hifo", "acb")
NO_LOT = -1  # a trail piece no lot covered: basis 0, flagged as missing basis
POOLED = -2  # a trail piece taken from an ACB pool (no single lot, no date)

Event = tuple[int, int, str, str, int, int, int]
# A lot as the pools hold it: [ordering key, lot id, qty, cost]. Mutable so a partial
# consumption updates it in place.
Lot = list[int]
# A trail piece: (lot id, qty, basis).
Piece = tuple[int, int, int]


class _Ordered:
    """FIFO and LIFO: lots in acquisition order; FIFO takes from the left, LIFO from the
    right. Lots arriving by transfer carry older dates and are inserted in order."""

    __slots__ = ("lots", "newest_first")

    def __init__(self, newest_first: bool) -> None:
        self.lots: deque[Lot] = deque()
        self.newest_first = newest_first

    def add(self, lot: Lot) -> None:
        lots = self.lots
        if not lots or lots[-1][0] < lot[0] or (lots[-1][0] == lot[0] and lots[-1][1] < lot[1]):
            lots.append(lot)
            return
        at = len(lots)
        while at > 0 and (lots[at - 1][0], lots[at - 1][1]) > (lot[0], lot[1]):
            at -= 1
        lots.insert(at, lot)

    def take(self, qty: int, trail: list[Piece]) -> int:
        """Consume ``qty``, appending a piece per lot touched; returns the shortfall."""
        lots = self.lots
        pop = lots.pop if self.newest_first else lots.popleft
        end = -1 if self.newest_first else 0
        while qty and lots:
            lot = lots[end]
            have = lot[2]
            if have <= qty:
                pop()
                trail.append((lot[1], have, lot[3]))
                qty -= have
            else:
                basis = lot[3] * qty // have
                lot[2] = have - qty
                lot[3] -= basis
                trail.append((lot[1], qty, basis))
                qty = 0
        return qty

    def take_lots(self, qty: int) -> tuple[list[Lot], int]:
        """Remove ``qty`` as lots (for a transfer); returns them and the shortfall."""
        pieces: list[Piece] = []
        short = self.take(qty, pieces)
        return [[0, lot_id, q, basis] for lot_id, q, basis in pieces], short

    def holdings(self) -> list[Lot]:
        return list(self.lots)


class _Hifo:
    """Highest unit cost first: a heap keyed by minus the unit cost, then date, then id."""

    __slots__ = ("heap",)

    def __init__(self) -> None:
        # [-unit cost, date key, lot id, qty, cost]
        self.heap: list[list[int]] = []

    def add(self, lot: Lot) -> None:
        key, lot_id, qty, cost = lot
        unit = cost * 10**18 // qty if qty else 0
        heapq.heappush(self.heap, [-unit, key, lot_id, qty, cost])

    def take(self, qty: int, trail: list[Piece]) -> int:
        heap = self.heap
        while qty and heap:
            top = heap[0]
            have = top[3]
            if have <= qty:
                heapq.heappop(heap)
                trail.append((top[2], have, top[4]))
                qty -= have
            else:
                basis = top[4] * qty // have
                top[3] = have - qty
                top[4] -= basis
                trail.append((top[2], qty, basis))
                qty = 0
        return qty

    def take_lots(self, qty: int) -> tuple[list[Lot], int]:
        pieces: list[Piece] = []
        short = self.take(qty, pieces)
        return [[0, lot_id, q, basis] for lot_id, q, basis in pieces], short

    def holdings(self) -> list[Lot]:
        return [[e[1], e[2], e[3], e[4]] for e in self.heap]


class _Acb:
    """One pool per asset at its average cost; every piece is ``POOLED``."""

    __slots__ = ("cost", "qty")

    def __init__(self) -> None:
        self.qty = 0
        self.cost = 0

    def add(self, lot: Lot) -> None:
        self.qty += lot[2]
        self.cost += lot[3]

    def take(self, qty: int, trail: list[Piece]) -> int:
        if not self.qty or not qty:
            return qty
        take = min(qty, self.qty)
        basis = self.cost if take == self.qty else self.cost * take // self.qty
        self.qty -= take
        self.cost -= basis
        trail.append((POOLED, take, basis))
        return qty - take

    def take_lots(self, qty: int) -> tuple[list[Lot], int]:
        pieces: list[Piece] = []
        short = self.take(qty, pieces)
        return [[0, POOLED, q, basis] for _, q, basis in pieces], short

    def holdings(self) -> list[Lot]:
        return [[0, POOLED, self.qty, self.cost]] if self.qty else []


Pool = _Ordered | _Hifo | _Acb


def _pool(method: str) -> Pool:
    if method == "fifo":
        return _Ordered(newest_first=False)
    if method == "lifo":
        return _Ordered(newest_first=True)
    if method == "hifo":
        return _Hifo()
    return _Acb()


@dataclass(slots=True)
class LotBook:
    """What a run leaves: every lot made, every disposal and the pieces it consumed.

    ``disposals[i]`` is ``(ref, ts_ms, wallet, asset, qty, proceeds, first, end)``: its
    pieces are ``trail[first:end]``. ``lot_date[lot]`` / ``lot_missing[lot]`` /
    ``lot_ref[lot]`` describe each lot. ``moves`` lists ``(ref, kind, wallet, asset, qty,
    shortfall)`` for every transfer out and every unmatched withdrawal.
    """

    method: str
    lot_date: list[int] = field(default_factory=list)
    lot_missing: bytearray = field(default_factory=bytearray)
    lot_ref: list[int] = field(default_factory=list)
    disposals: list[tuple[int, int, str, str, int, int, int, int]] = field(default_factory=list)
    trail: list[Piece] = field(default_factory=list)
    moves: list[tuple[int, int, str, str, int, int]] = field(default_factory=list)
    pools: dict[object, Pool] = field(default_factory=dict)

    def holdings(self) -> dict[object, list[Lot]]:
        """What is left, per pool key: ``[date key, lot id, qty, cost]`` lots."""
        return {key: pool.holdings() for key, pool in self.pools.items() if pool.holdings()}


def run(events: Iterable[Event], method: str, *, per_wallet: bool = False) -> LotBook:
    """Feed ``events`` (already in time order) through ``method``."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    # The engine makes no reference cycles, but it keeps a million small lists alive: the
    # cyclic collector would walk them again and again (two thirds of the run time).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _run(events, method, per_wallet)
    finally:
        if enabled:
            gc.enable()


def _run(events: Iterable[Event], method: str, per_wallet: bool) -> LotBook:
    book = LotBook(method)
    pools = book.pools
    trail = book.trail
    disposals = book.disposals
    lot_date, lot_missing, lot_ref = book.lot_date, book.lot_missing, book.lot_ref
    in_transit: dict[int, list[Lot]] = {}
    for ts, kind, wallet, asset, qty, value, ref in events:
        key: object = (wallet, asset) if per_wallet else asset
        pool = pools.get(key)
        if pool is None:
            pool = pools[key] = _pool(method)
        if kind == DISPOSE:
            first = len(trail)
            short = pool.take(qty, trail)
            if short:
                trail.append((NO_LOT, short, 0))
            disposals.append((ref, ts, wallet, asset, qty, value, first, len(trail)))
        elif kind in (ACQUIRE, ACQUIRE_UNKNOWN):
            lot_id = len(lot_date)
            lot_date.append(ts)
            lot_missing.append(kind == ACQUIRE_UNKNOWN)
            lot_ref.append(ref)
            pool.add([ts, lot_id, qty, value])
        elif kind in (MOVE_OUT, LEAVE):
            lots, short = pool.take_lots(qty)
            if short:
                # More left than was held: the rest travels as a lot of unknown basis.
                lot_id = len(lot_date)
                lot_date.append(ts)
                lot_missing.append(True)
                lot_ref.append(ref)
                lots.append([0, lot_id, short, 0])
            book.moves.append((ref, kind, wallet, asset, qty, short))
            if kind == MOVE_OUT:
                in_transit[value] = lots
        elif kind == MOVE_IN:
            _arrive(pool, in_transit.pop(value, []), qty, lot_date)
        else:
            raise ValueError(f"unknown event kind {kind}")
    return book


def _arrive(pool: Pool, lots: list[Lot], qty: int, lot_date: list[int]) -> None:
    """Lots that left as ``sent`` arrive as ``qty``: each shrinks by the same ratio (the
    last takes the remainder) and keeps its whole basis and its acquisition date."""
    sent = sum(lot[2] for lot in lots)
    if not sent:
        return
    given = carry = 0
    for i, lot in enumerate(lots):
        share = qty - given if i == len(lots) - 1 else lot[2] * qty // sent
        given += share
        if share <= 0:
            carry += lot[3]  # a sliver too small to survive: its basis rides on
            continue
        date = lot_date[lot[1]] if lot[1] >= 0 else 0
        pool.add([date, lot[1], share, lot[3] + carry])
        carry = 0
