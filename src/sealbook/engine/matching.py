"""The matching engine: price-time priority over one :class:`Book` per symbol.

Pure and deterministic: no I/O, no clock (every command brings its ``ts_ms``), no
randomness, no floats. The same commands in the same order give the same results.

Rules, as Bitget applies them:

* A taker trades at the maker's price, best price first, oldest order first.
* ``gtc`` rests what it cannot fill; ``ioc`` cancels it; ``fok`` fills in full or does
  nothing at all; ``post_only`` that would take liquidity is **cancelled** whole (Bitget
  cancels it rather than rejecting the request or repricing it), else it rests.
* Market orders never rest and ignore ``force``. A market sell sells ``lots``; a market buy
  spends at most ``quote_budget``, taking at each maker ``min(maker lots, budget // price)``.
  It is *filled* once what is left of the budget cannot buy one more lot (at the best
  remaining ask, or, if it emptied the ask side, at the last price it paid); otherwise it
  ran out of book and its remainder is cancelled.
* Self-trade prevention follows the taker's mode when it meets its own user's order:
  ``cancel_taker`` cancels the taker's remainder and leaves the maker; ``cancel_maker``
  cancels that maker and goes on matching; ``cancel_both`` cancels both. A taker that was
  stopped by it never rests (its rest would cross its own order).
* The whole order is checked (shape, duplicate id, FOK liquidity, post-only crossing)
  before anything changes: a refused order raises and leaves the book as it was.
"""

from __future__ import annotations

from dataclasses import replace

from sealbook.engine.book import Book
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
from sealbook.errors import Conflict, DuplicateOrder, OrderParamInvalid, UnknownSymbol

__all__ = ["Engine"]

# Why a walk over the book stopped.
_MORE = 0  # the book (or the part within the limit price) ran out; the taker wants more
_DONE = 1  # the taker got all it asked for (or all its budget can buy)
_STP = 2  # self-trade prevention stopped the taker


class Engine:
    """Order books for any number of symbols, sharing one order-id index."""

    __slots__ = ("_books", "_orders", "_trade_seq")

    def __init__(self, trade_seq: int = 0) -> None:
        """``trade_seq``: the last trade id issued before (after a restart, the stored one)."""
        self._books: dict[str, Book] = {}
        self._orders: dict[int, RestingOrder] = {}
        self._trade_seq = trade_seq

    @property
    def trade_seq(self) -> int:
        return self._trade_seq

    def restore(self, order: RestingOrder) -> None:
        """Put back an order that was resting before a restart, without matching it.

        Orders must be restored in their original time order; the book they rebuild was
        uncrossed when it was saved, so it is uncrossed again.
        """
        if order.order_id in self._orders:
            raise DuplicateOrder(f"order id {order.order_id} is already on the book")
        if order.remaining <= 0 or order.remaining > order.lots:
            raise OrderParamInvalid("a restored order needs 0 < remaining <= lots")
        self._book(order.symbol).add(order)

    # --- commands ----------------------------------------------------------------------

    def add_symbol(self, symbol: str) -> None:
        if not symbol or not isinstance(symbol, str):
            raise OrderParamInvalid("symbol must be a non-empty string")
        if symbol in self._books:
            raise Conflict(f"symbol {symbol}")
        self._books[symbol] = Book(symbol, self._orders)

    def place(self, order: NewOrder, ts_ms: int) -> PlaceResult:
        """Match ``order`` and rest what a limit gtc/post-only order has left.

        Raises :class:`~sealbook.errors.UnknownSymbol` (50004) for a symbol it does not
        trade, :class:`~sealbook.errors.OrderParamInvalid` (40808) for a malformed order and
        :class:`~sealbook.errors.DuplicateOrder` (43118) for an order id that is resting; in
        every case nothing has changed.
        """
        book = self._book(order.symbol)
        _validate(order)
        if order.order_id in self._orders:
            raise DuplicateOrder(f"Duplicate order id {order.order_id}")
        if order.type is OrderType.LIMIT:
            return self._place_limit(book, order, ts_ms)
        if order.side is Side.BUY:
            return self._place_market_buy(book, order, ts_ms)
        return self._place_market_sell(book, order, ts_ms)

    def cancel(self, symbol: str, order_id: int) -> Cancellation | None:
        """Take a resting order off ``symbol``'s book; ``None`` if it is not resting there."""
        book = self._books.get(symbol)
        if book is None:
            return None
        order = book.remove(order_id)
        if order is None:
            return None
        return _cancellation(order, order.remaining, CancelReason.USER)

    # --- queries -----------------------------------------------------------------------

    def order(self, order_id: int) -> RestingOrder | None:
        """A copy of the resting order ``order_id``, or ``None`` if it is not resting."""
        order = self._orders.get(order_id)
        return None if order is None else replace(order)

    def is_resting(self, order_id: int) -> bool:
        return order_id in self._orders

    def resting_ids(self) -> list[int]:
        """The id of every resting order, on any book."""
        return list(self._orders)

    def depth(self, symbol: str, limit: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """``(bids, asks)``, up to ``limit`` levels each, best first: ``(price_ticks, lots)``."""
        return self._book(symbol).depth(limit)

    def symbols(self) -> list[str]:
        return list(self._books)

    def check_invariants(self) -> None:
        """Raise ``AssertionError`` unless every book is sound and the index matches them."""
        resting = sum(book.check_invariants() for book in self._books.values())
        if resting != len(self._orders):
            raise AssertionError(f"index holds {len(self._orders)} orders, books {resting}")

    # --- matching ----------------------------------------------------------------------

    def _book(self, symbol: str) -> Book:
        book = self._books.get(symbol)
        if book is None:
            raise UnknownSymbol(symbol)
        return book

    def _place_limit(self, book: Book, order: NewOrder, ts_ms: int) -> PlaceResult:
        price = order.price_ticks
        lots = order.lots
        assert price is not None and lots is not None  # _validate made sure
        buy = order.side is Side.BUY
        force = order.force
        fills: list[Fill] = []
        cancelled: list[Cancellation] = []
        if force is Force.POST_ONLY:
            best = book.best_ask() if buy else book.best_bid()
            if best is not None and (best <= price if buy else best >= price):
                return _refused(order, lots, CancelReason.POST_ONLY)
            filled = quote = 0
            stop = _MORE
        else:
            if force is Force.FOK and not _can_fill(book, order, price, lots):
                return _refused(order, lots, CancelReason.FOK)
            walked = self._walk(book, order, price, lots, None, ts_ms, fills, cancelled)
            filled, quote, stop, _ = walked
        rest = lots - filled
        if rest == 0:
            status = OrderStatus.FILLED
        elif stop == _STP or force is Force.IOC or force is Force.FOK:
            if stop == _STP:
                reason = CancelReason.SELF_TRADE
            else:
                reason = CancelReason.IOC if force is Force.IOC else CancelReason.FOK
            cancelled.append(
                Cancellation(
                    order.order_id,
                    order.user_id,
                    order.symbol,
                    order.side,
                    price,
                    rest,
                    filled,
                    quote,
                    reason,
                )
            )
            status = OrderStatus.CANCELLED
            rest = 0
        else:
            book.add(
                RestingOrder(
                    order.order_id,
                    order.user_id,
                    order.symbol,
                    order.side,
                    price,
                    lots,
                    rest,
                    force,
                    order.stp,
                    ts_ms,
                    quote,
                )
            )
            status = OrderStatus.PARTIALLY_FILLED if filled else OrderStatus.LIVE
        return PlaceResult(order.order_id, status, filled, quote, rest, None, fills, cancelled)

    def _place_market_sell(self, book: Book, order: NewOrder, ts_ms: int) -> PlaceResult:
        lots = order.lots
        assert lots is not None  # _validate made sure
        fills: list[Fill] = []
        cancelled: list[Cancellation] = []
        filled, quote, stop, _ = self._walk(book, order, None, lots, None, ts_ms, fills, cancelled)
        if filled == lots:
            status = OrderStatus.FILLED
        else:
            status = OrderStatus.CANCELLED
            reason = CancelReason.SELF_TRADE if stop == _STP else CancelReason.MARKET
            cancelled.append(
                Cancellation(
                    order.order_id,
                    order.user_id,
                    order.symbol,
                    order.side,
                    None,
                    lots - filled,
                    filled,
                    quote,
                    reason,
                )
            )
        return PlaceResult(order.order_id, status, filled, quote, 0, None, fills, cancelled)

    def _place_market_buy(self, book: Book, order: NewOrder, ts_ms: int) -> PlaceResult:
        budget = order.quote_budget
        assert budget is not None  # _validate made sure
        fills: list[Fill] = []
        cancelled: list[Cancellation] = []
        filled, quote, stop, last_price = self._walk(
            book, order, None, 0, budget, ts_ms, fills, cancelled
        )
        left = budget - quote
        if stop != _STP and filled > 0 and (stop == _DONE or left < last_price):
            status = OrderStatus.FILLED
        else:
            status = OrderStatus.CANCELLED
            reason = CancelReason.SELF_TRADE if stop == _STP else CancelReason.MARKET
            cancelled.append(
                Cancellation(
                    order.order_id,
                    order.user_id,
                    order.symbol,
                    order.side,
                    None,
                    0,
                    filled,
                    quote,
                    reason,
                )
            )
        return PlaceResult(order.order_id, status, filled, quote, 0, left, fills, cancelled)

    def _walk(
        self,
        book: Book,
        order: NewOrder,
        limit: int | None,
        lots: int,
        budget: int | None,
        ts_ms: int,
        fills: list[Fill],
        cancelled: list[Cancellation],
    ) -> tuple[int, int, int, int]:
        """Take liquidity for ``order`` up to ``limit`` (``None``: any price), for ``lots``
        or, if ``budget`` is given, for as many lots as it buys. Appends to ``fills`` and
        ``cancelled``; returns ``(filled lots, filled quote, why it stopped, last price)``.

        Makers leave a level only from its front (every maker before the one it stops at
        was filled or cancelled), so they are popped in one go after the level's loop.
        """
        buy = order.side is Side.BUY
        levels = book.asks if buy else book.bids
        end = 0 if buy else -1
        index = self._orders
        symbol = book.symbol
        side = order.side
        taker_id = order.order_id
        taker_user = order.user_id
        stp = order.stp
        trade_seq = self._trade_seq
        filled = quote = last_price = 0
        stop = _MORE
        while levels:
            price, level = levels.peekitem(end)
            if limit is not None and (price > limit if buy else price < limit):
                break
            makers = level.orders
            gone = 0
            for maker in makers.values():
                want = lots - filled if budget is None else (budget - quote) // price
                if want <= 0:
                    stop = _DONE
                    break
                if maker.user_id == taker_user:
                    if stp is StpMode.CANCEL_TAKER:
                        stop = _STP
                        break
                    gone += 1
                    level.total_lots -= maker.remaining
                    del index[maker.order_id]
                    cancelled.append(_cancellation(maker, maker.remaining, CancelReason.SELF_TRADE))
                    if stp is StpMode.CANCEL_BOTH:
                        stop = _STP
                        break
                    continue
                take = maker.remaining if maker.remaining <= want else want
                trade_seq += 1
                fills.append(
                    Fill(
                        trade_seq,
                        symbol,
                        maker.order_id,
                        taker_id,
                        maker.user_id,
                        taker_user,
                        side,
                        price,
                        take,
                        ts_ms,
                    )
                )
                value = price * take
                maker.remaining -= take
                maker.filled_quote += value
                level.total_lots -= take
                filled += take
                quote += value
                last_price = price
                if maker.remaining:
                    stop = _DONE  # the taker wanted less than this maker had
                    break
                gone += 1
                del index[maker.order_id]
            for _ in range(gone):
                makers.popitem(last=False)
            if not makers:
                del levels[price]
            if stop != _MORE:
                break
        self._trade_seq = trade_seq
        return filled, quote, stop, last_price


def _can_fill(book: Book, order: NewOrder, limit: int, lots: int) -> bool:
    """Could ``order`` fill ``lots`` in full within ``limit``, self-trade prevention
    included? Orders of the same user are skipped under ``cancel_maker`` (they would be
    cancelled) and end the walk otherwise (the taker would be)."""
    buy = order.side is Side.BUY
    levels = book.asks if buy else book.bids
    user = order.user_id
    skip_own = order.stp is StpMode.CANCEL_MAKER
    need = lots
    for price in iter(levels) if buy else reversed(levels):
        if price > limit if buy else price < limit:
            return False
        for maker in levels[price].orders.values():
            if maker.user_id == user:
                if skip_own:
                    continue
                return False
            need -= maker.remaining
            if need <= 0:
                return True
    return False


def _validate(order: NewOrder) -> None:
    if not isinstance(order.side, Side):
        raise OrderParamInvalid("side must be a Side")
    if not isinstance(order.type, OrderType):
        raise OrderParamInvalid("orderType must be an OrderType")
    if not isinstance(order.force, Force):
        raise OrderParamInvalid("force must be a Force")
    if not isinstance(order.stp, StpMode):
        raise OrderParamInvalid("stpMode must be an StpMode")
    if order.type is OrderType.LIMIT:
        _positive(order.price_ticks, "price")
        _positive(order.lots, "size")
        if order.quote_budget is not None:
            raise OrderParamInvalid("a limit order has a size, not a quote budget")
        return
    if order.price_ticks is not None:
        raise OrderParamInvalid("a market order has no price")
    if order.side is Side.BUY:
        _positive(order.quote_budget, "size")
        if order.lots is not None:
            raise OrderParamInvalid("a market buy is sized in quote, not in base lots")
    else:
        _positive(order.lots, "size")
        if order.quote_budget is not None:
            raise OrderParamInvalid("a market sell is sized in base lots, not in quote")


def _positive(value: int | None, name: str) -> None:
    if type(value) is not int or value <= 0:
        raise OrderParamInvalid(f"{name} must be a positive integer")


def _refused(order: NewOrder, lots: int, reason: CancelReason) -> PlaceResult:
    """A FOK or post-only order cancelled whole, before it touched the book."""
    gone = Cancellation(
        order.order_id,
        order.user_id,
        order.symbol,
        order.side,
        order.price_ticks,
        lots,
        0,
        0,
        reason,
    )
    return PlaceResult(order.order_id, OrderStatus.CANCELLED, 0, 0, 0, None, [], [gone])


def _cancellation(order: RestingOrder, lots: int, reason: CancelReason) -> Cancellation:
    return Cancellation(
        order.order_id,
        order.user_id,
        order.symbol,
        order.side,
        order.price_ticks,
        lots,
        order.lots - order.remaining,
        order.filled_quote,
        reason,
    )
