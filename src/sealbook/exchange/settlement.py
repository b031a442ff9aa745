"""The matching engine with money: holds, fills settled in the ledger, fees.

:class:`Settlement` is what every order does to balances, and nothing else: it holds what
an order may spend, matches it, settles each fill between the two holds with both fees,
gives back a buy's price improvement at the fill, and releases what is left of a hold
when its order leaves the book. :class:`~sealbook.exchange.core.ExchangeCore` wraps it
with what the wire needs (parsing, validation, clientOids, order and fill records).

It runs on every command, so it goes through the ledger's trading path
(:meth:`Ledger.open_hold`, :meth:`Ledger.trade`, :meth:`Ledger.close_hold`), which keys an
order's hold by its order id and logs one small record per step.

Fees: each side pays its rate (maker or taker) on what it received, rounded down, in the
coin it received; with "pay fees in BGB" on and enough BGB available before the fill,
80 % of the fee's value in BGB at the last BGB/USDT price instead.
"""

from __future__ import annotations

from sealbook.engine import Engine, Fill, NewOrder, OrderType, PlaceResult, Side
from sealbook.errors import Conflict, DuplicateOrder
from sealbook.exchange.orders import order_hold_id
from sealbook.ledger import Kind, Ledger
from sealbook.ledger.records import FillFees
from sealbook.markets import Catalog, Symbol
from sealbook.markets.fees import PPM, FeeSchedule, bgb_fee_atoms

__all__ = ["BGB", "USDT", "FillFees", "Settlement"]

BGB = "BGB"
USDT = "USDT"

class Settlement:
    """One engine and one ledger, kept in step order by order.

    Pure and deterministic like both of them. ``bgb_deduct`` (users paying fees in BGB)
    and ``last_price`` (symbol → last traded price in ticks) are shared with the caller.
    """

    __slots__ = (
        "_maker_ppm",
        "_taker_ppm",
        "bgb_deduct",
        "catalog",
        "engine",
        "fees",
        "last_price",
        "ledger",
    )

    def __init__(
        self,
        catalog: Catalog,
        engine: Engine,
        ledger: Ledger,
        fees: FeeSchedule | None = None,
    ) -> None:
        self.catalog = catalog
        self.engine = engine
        self.ledger = ledger
        self.fees = fees or FeeSchedule()
        self._maker_ppm = self.fees.spot_maker.ppm
        self._taker_ppm = self.fees.spot_taker.ppm
        self.bgb_deduct: set[int] = set()
        self.last_price: dict[str, int] = {}

    # --- commands ----------------------------------------------------------------------

    def place(
        self, sym: Symbol, order: NewOrder, now_ms: int, *, hold_atoms: int | None = None
    ) -> tuple[PlaceResult, list[FillFees]]:
        """Hold, match, settle. Returns the engine's result and each fill's fees.

        The hold is what the order may spend: the quote ``price × size`` of a limit buy,
        the base size of a sell, a market buy's budget (``hold_atoms``, which may hold a
        rest below the engine's quote unit; by default the budget itself). Raises
        ``InsufficientBalance`` (43012) before anything changed when it is not available,
        ``DuplicateOrder`` for an order id that had a hold before (on the book or not), and
        whatever the engine refuses the order with, after releasing the hold.
        """
        order_id = order.order_id
        limit: int | None = None  # a limit buy's price: a fill below it gives money back
        # Symbol.base_atoms / quote_atoms, inlined here and in _settle: once per order and fill.
        if order.side is Side.SELL:
            asset = sym.base
            assert order.lots is not None
            amount = order.lots * sym.base_unit_atoms
        elif order.type is OrderType.LIMIT:
            asset = sym.quote
            assert order.price_ticks is not None and order.lots is not None
            limit = order.price_ticks
            amount = limit * order.lots * sym.quote_unit_atoms
        else:
            asset = sym.quote
            assert order.quote_budget is not None
            amount = order.quote_budget * sym.quote_unit_atoms
        if hold_atoms is not None:
            amount = hold_atoms
        ledger, engine = self.ledger, self.engine
        try:  # the hold is keyed by the order id: one that had a hold is a duplicate
            if not ledger.open_hold(order_id, order.user_id, asset, amount):
                raise DuplicateOrder(f"Duplicate order id {order_id}")
        except Conflict:
            raise DuplicateOrder(f"Duplicate order id {order_id}") from None
        try:
            result = engine.place(order, now_ms)
        except BaseException:
            ledger.close_hold(order_id)
            raise
        fees: list[FillFees] = []
        for fill in result.fills:
            fees.append(self._settle(sym, fill, limit))
            # The next fill's BGB fee is valued at this one's price (on BGBUSDT itself).
            self.last_price[sym.symbol] = fill.price_ticks
            maker_id = fill.maker_order_id
            if not engine.is_resting(maker_id):  # filled: its hold is spent
                ledger.close_hold(maker_id)
        for gone in result.cancelled:
            if gone.order_id != order_id:  # a maker cancelled by self-trade prevention
                ledger.close_hold(gone.order_id)
        if not result.resting_lots:
            ledger.close_hold(order_id)
        return result, fees

    def cancel(self, symbol: str, order_id: int) -> bool:
        """Take a resting order off the book and release its hold; ``False`` if it was
        not resting."""
        if self.engine.cancel(symbol, order_id) is None:
            return False
        self.ledger.close_hold(order_id)
        return True

    # --- reading -----------------------------------------------------------------------

    def price_of(self, symbol: str) -> int:
        """Last traded price in ticks, or the catalog's reference price before any trade."""
        last = self.last_price.get(symbol)
        return last if last is not None else self.catalog.symbol(symbol).ref_ticks

    def usdt_value(self, coin: str, atoms: int) -> int:
        """``atoms`` of ``coin`` valued in USDT atoms at the last price (rounded down)."""
        if coin == USDT:
            return atoms
        symbol = f"{coin}{USDT}"
        if not self.catalog.has_symbol(symbol):
            return 0
        scale: int = 10 ** self.catalog.symbol(symbol).price_places
        return atoms * self.price_of(symbol) // scale

    def check_invariants(self) -> list[str]:
        """Every order on the book has its open hold, and every open order hold its order
        on the book. (An order's hold after a restart is the ledger's, rebuilt from the
        postings: the engine's book and the ledger are restored separately.)"""
        ledger = self.ledger
        on_book = {order_hold_id(order_id) for order_id in self.engine.resting_ids()}
        problems = [
            f"order {hold_id[1:]} rests without an open hold"
            for hold_id in sorted(on_book)
            if not ledger.is_open(hold_id)
        ]
        problems.extend(
            f"hold {hold.id!r} is open but its order is not on the book"
            for hold in ledger.holds()
            if hold.kind == Kind.ORDER_HOLD and ledger.is_open(hold.id) and hold.id not in on_book
        )
        return problems

    # --- internals ---------------------------------------------------------------------

    def _settle(self, sym: Symbol, fill: Fill, taker_limit: int | None) -> FillFees:
        """Move one fill's money: base to the buyer, quote to the seller, a taker buy's
        price improvement back to it (a maker fills at its own price), and both fees."""
        lots, price = fill.lots, fill.price_ticks
        base = lots * sym.base_unit_atoms
        quote = price * lots * sym.quote_unit_atoms
        improvement = 0
        if fill.taker_side is Side.BUY:
            buyer_id, seller_id = fill.taker_order_id, fill.maker_order_id
            buyer_user, seller_user = fill.taker_user_id, fill.maker_user_id
            buyer_ppm, seller_ppm = self._taker_ppm, self._maker_ppm
            if taker_limit is not None and taker_limit > price:
                improvement = (taker_limit - price) * lots * sym.quote_unit_atoms
        else:
            buyer_id, seller_id = fill.maker_order_id, fill.taker_order_id
            buyer_user, seller_user = fill.maker_user_id, fill.taker_user_id
            buyer_ppm, seller_ppm = self._maker_ppm, self._taker_ppm
        ref = f"t{fill.trade_id}"
        buyer_coin, buyer_fee = sym.base, base * buyer_ppm // PPM
        seller_coin, seller_fee = sym.quote, quote * seller_ppm // PPM
        if self.bgb_deduct:
            value_usdt = -1
            if buyer_user in self.bgb_deduct and buyer_fee > 0:
                value_usdt = self.usdt_value(sym.quote, quote)
                buyer_coin, buyer_fee = self._in_bgb(
                    buyer_user, value_usdt * buyer_ppm // PPM, buyer_coin, buyer_fee
                )
            if seller_user in self.bgb_deduct and seller_fee > 0:
                if value_usdt < 0:
                    value_usdt = self.usdt_value(sym.quote, quote)
                seller_coin, seller_fee = self._in_bgb(
                    seller_user, value_usdt * seller_ppm // PPM, seller_coin, seller_fee
                )
        fees = buyer_coin, buyer_fee, seller_coin, seller_fee
        self.ledger.trade(ref, buyer_id, seller_id, base, quote, improvement, fees)
        return fees

    def _in_bgb(self, user: int, fee_value_usdt: int, coin: str, fee: int) -> tuple[str, int]:
        """The fee in BGB if this user can pay it from BGB available before the fill."""
        symbol = f"{BGB}{USDT}"
        bgb = bgb_fee_atoms(
            fee_value_usdt,
            self.price_of(symbol),
            self.catalog.symbol(symbol).price_places,
            discount_ppm=self.fees.bgb_discount_ppm,
        )
        if 0 < bgb <= self.ledger.available(user, BGB):
            return BGB, bgb
        return coin, fee
