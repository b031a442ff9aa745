"""The exchange's in-memory state machine: matching engine + ledger + catalog + fees.

Pure and deterministic: no I/O, time comes in with each command, ids are sequential. The
service layer persists what each command changed (:meth:`ExchangeCore.drain`) in one
transaction, and answers the caller only after it committed.

The money moves in :class:`~sealbook.exchange.settlement.Settlement`; this class adds what
the wire needs around it: parsing and validation, clientOids, order and fill records,
deposits and withdrawals. Money flow of an order:

* placing holds what the order may spend: quote for a buy (``price × size``, or a market
  buy's budget), base for a sell; 43012 if the available balance is short;
* each fill pays the seller's held base to the buyer and the buyer's held quote to the
  seller; a limit buy filled below its price gets the difference released at once;
* each side then pays its fee (maker or taker rate, rounded down) in the coin it
  received, or — with "pay fees in BGB" on and enough BGB available — 80 % of the fee's
  value in BGB at the last BGB/USDT price;
* when the order ends (filled, cancelled, or an IOC/FOK/market remainder), whatever is
  left of its hold is released.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace

from sealbook.engine import (
    CancelReason,
    Engine,
    Fill,
    Force,
    NewOrder,
    OrderStatus,
    OrderType,
    RestingOrder,
    Side,
    StpMode,
)
from sealbook.errors import (
    AmountTooSmall,
    DuplicateOrder,
    NotFound,
    OrderNotFound,
    OrderParamInvalid,
    OrderSizeTooSmall,
    ParamEmpty,
    ParamInvalid,
)
from sealbook.exchange.orders import (
    ORDER_OID_PREFIX,
    WITHDRAWAL_OID_PREFIX,
    Deposit,
    MyFill,
    Order,
    Withdrawal,
    WithdrawalStatus,
    is_generated_oid,
    is_valid_client_oid,
)
from sealbook.exchange.settlement import FillFees, Settlement
from sealbook.ledger import Account, Hold, Kind, Ledger, Transfer
from sealbook.ledger.records import Checkpoint, Record
from sealbook.markets import Catalog, Symbol
from sealbook.markets.fees import FeeSchedule
from sealbook.money import ATOMS_PER_UNIT, parse_atoms

__all__ = ["Changes", "ExchangeCore", "PlaceRequest"]

# Closed orders kept in memory (for clientOid retries and orderInfo without a database
# read); older ones are read from the database.
MAX_CLOSED_IN_MEMORY = 2_000
# Postings kept in memory before committed ones are compacted away. Their records hold
# plain values the garbage collector stops tracking, so the bound is about the pause: a
# compaction stops the engine for a few ms (bench/README.md).
COMPACT_AFTER = 10_000
# Postings between two ledger checkpoints written to the database: a restart reads the
# last checkpoint and at most about this many postings after it.
CHECKPOINT_EVERY = 100_000


@dataclass(frozen=True, slots=True)
class PlaceRequest:
    """A place-order as it arrives on the wire (strings, validated here)."""

    symbol: str
    side: str
    order_type: str
    size: str
    price: str | None = None
    force: str = "gtc"
    client_oid: str | None = None
    stp: str | None = None


@dataclass(slots=True)
class Changes:
    """What commands changed since the last :meth:`ExchangeCore.drain`, to persist."""

    orders: dict[int, Order] = field(default_factory=dict)
    fills: list[MyFill] = field(default_factory=list)
    trades: list[Fill] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)  # ledger postings, as logged
    upto_seq: int = 0  # the last posting in ``records``
    deposits: list[Deposit] = field(default_factory=list)
    withdrawals: dict[int, Withdrawal] = field(default_factory=dict)
    bgb_deduct: dict[int, bool] = field(default_factory=dict)
    # The ledger's state as of its last compaction, to write as a checkpoint.
    checkpoint: tuple[Checkpoint, dict[str, Hold]] | None = None

    def __bool__(self) -> bool:
        return bool(
            self.orders
            or self.fills
            or self.records
            or self.deposits
            or self.withdrawals
            or self.bgb_deduct
            or self.checkpoint is not None
        )


class ExchangeCore:
    def __init__(
        self,
        catalog: Catalog,
        fees: FeeSchedule | None = None,
        *,
        ledger: Ledger | None = None,
        next_order_id: int = 1,
        next_deposit_id: int = 1,
        next_withdrawal_id: int = 1,
        trade_seq: int = 0,
    ) -> None:
        self.catalog = catalog
        self.fees = fees or FeeSchedule()
        self.ledger = ledger or Ledger()
        self.engine = Engine(trade_seq)
        for symbol in catalog.symbols:
            self.engine.add_symbol(symbol.symbol)
        self.settlement = Settlement(catalog, self.engine, self.ledger, self.fees)
        # Shared with the settlement: who pays fees in BGB, and the last price per symbol.
        self.bgb_deduct: set[int] = self.settlement.bgb_deduct
        self.last_price: dict[str, int] = self.settlement.last_price
        self.orders: dict[int, Order] = {}
        self.by_client: dict[tuple[int, str], int] = {}
        self.withdrawals: dict[int, Withdrawal] = {}
        self._withdrawal_by_client: dict[tuple[int, str], Withdrawal] = {}
        # User-chosen clientOids of orders and withdrawals too old to keep in memory: a
        # clientOid is never reused, so these are refused (43118) instead of taken again.
        self.retired_order_oids: set[tuple[int, str]] = set()
        # Open orders per user, and the most recent closed ones (oldest first): memory
        # and scans stay bounded however many orders the exchange has seen.
        self._open: dict[int, dict[int, Order]] = {}
        self._closed: deque[int] = deque()
        self.max_closed_in_memory = MAX_CLOSED_IN_MEMORY
        self.compact_after = COMPACT_AFTER
        self.checkpoint_every = CHECKPOINT_EVERY
        self._checkpointed = self.ledger.compacted_seq  # the checkpoint it started from
        self.retired_withdrawal_oids: set[tuple[int, str]] = set()
        self._next_order_id = next_order_id
        self._next_deposit_id = next_deposit_id
        self._next_withdrawal_id = next_withdrawal_id
        self._posted = self.ledger.last_seq
        self._changes = Changes()
        self._min_value: dict[str, int] = {}  # symbol → minTradeUSDT in atoms, parsed once

    # --- orders ------------------------------------------------------------------------

    def place(self, user_id: int, req: PlaceRequest, now_ms: int) -> Order:
        sym, order = self._validate(user_id, req, now_ms)
        key = (user_id, order.client_oid)
        if key in self.retired_order_oids:
            raise DuplicateOrder()
        existing_id = self.by_client.get(key)
        if existing_id is not None:
            existing = self.orders[existing_id]
            if existing.same_terms(order):
                return existing  # a retry of an order that was placed: idempotent
            raise DuplicateOrder()
        self._check_value(sym, order)
        # Built (and its stpMode parsed) before the hold: a refused order changes nothing.
        new_order = self._engine_order(sym, order, req)
        self._next_order_id += 1
        result, fees = self.settlement.place(sym, new_order, now_ms, hold_atoms=order.budget_atoms)
        self.orders[order.order_id] = order
        self.by_client[key] = order.order_id
        for fill, fill_fees in zip(result.fills, fees, strict=True):
            self._record_fill(sym, fill, fill_fees, now_ms)
        for gone in result.cancelled:
            victim = self.orders[gone.order_id]
            victim.cancel_reason = gone.reason.value
            if victim is not order:  # the taker itself ends below
                victim.status = OrderStatus.CANCELLED
                self._finish(victim, now_ms)
        order.status = result.status
        order.utime_ms = now_ms
        if result.resting:
            self._open.setdefault(user_id, {})[order.order_id] = order
        else:
            if order.status not in (OrderStatus.FILLED, OrderStatus.CANCELLED):
                order.status = OrderStatus.CANCELLED
            self._finish(order, now_ms)
        self._touch(order)
        return order

    def cancel(
        self,
        user_id: int,
        symbol: str,
        now_ms: int,
        *,
        order_id: int | None = None,
        client_oid: str | None = None,
    ) -> Order:
        order = self.find(user_id, order_id=order_id, client_oid=client_oid)
        if order is None or (symbol and order.symbol != symbol) or not order.is_open:
            raise OrderNotFound()
        if not self.settlement.cancel(order.symbol, order.order_id):
            raise OrderNotFound()
        order.status = OrderStatus.CANCELLED
        order.cancel_reason = CancelReason.USER.value
        self._finish(order, now_ms)
        return order

    def find(
        self, user_id: int, *, order_id: int | None = None, client_oid: str | None = None
    ) -> Order | None:
        if order_id is None and client_oid:
            order_id = self.by_client.get((user_id, client_oid))
        order = self.orders.get(order_id) if order_id is not None else None
        return order if order is not None and order.user_id == user_id else None

    def open_orders(self, user_id: int, symbol: str | None = None) -> list[Order]:
        mine = self._open.get(user_id, {})
        return [o for o in mine.values() if symbol is None or o.symbol == symbol]

    # --- wallet ------------------------------------------------------------------------

    def deposit(
        self,
        user_id: int,
        coin: str,
        chain: str | None,
        amount_atoms: int,
        address: str,
        now_ms: int,
    ) -> Deposit:
        info = self.catalog.coin(coin)
        chain = info.chain(chain).chain if chain else info.chains[0].chain
        if amount_atoms <= 0:
            raise ParamInvalid("amount", "must be positive")
        deposit = Deposit(
            self._next_deposit_id,
            user_id,
            coin,
            chain,
            amount_atoms,
            address,
            f"sbtx{self._next_deposit_id:012d}",
            now_ms,
        )
        self._next_deposit_id += 1
        self.ledger.deposit(f"d{deposit.deposit_id}", user_id, coin, amount_atoms)
        self._changes.deposits.append(deposit)
        self._collect()
        return deposit

    def request_withdrawal(
        self,
        user_id: int,
        coin: str,
        chain: str,
        address: str,
        tag: str,
        size: str,
        client_oid: str,
        now_ms: int,
    ) -> Withdrawal:
        info = self.catalog.coin(coin).chain(chain)
        amount = info.parse_withdraw_amount(size)
        if client_oid:
            if is_generated_oid(client_oid, WITHDRAWAL_OID_PREFIX):
                raise ParamInvalid("clientOid", "'sbw' + digits is reserved for generated ids")
            if (user_id, client_oid) in self.retired_withdrawal_oids:
                raise DuplicateOrder("Duplicate clientOid")
            previous = self._withdrawal_by_client.get((user_id, client_oid))
            if previous is not None:
                # A retry is idempotent only if it asks for the same withdrawal.
                terms = (
                    previous.coin,
                    previous.chain,
                    previous.address,
                    previous.tag,
                    previous.amount_atoms,
                )
                if terms != (coin, info.chain, address, tag, amount):
                    raise DuplicateOrder("Duplicate clientOid")
                return previous
        else:
            client_oid = f"{WITHDRAWAL_OID_PREFIX}{self._next_withdrawal_id}"
        if not info.withdrawable:
            raise ParamInvalid("chain", f"withdrawals of {coin} on {chain} are suspended")
        if amount < info.min_withdraw_atoms:
            raise ParamInvalid("size", f"below the minimum withdrawal for {coin} on {chain}")
        withdrawal = Withdrawal(
            self._next_withdrawal_id,
            client_oid,
            user_id,
            coin,
            chain,
            address,
            tag,
            amount,
            info.withdraw_fee_atoms,
            WithdrawalStatus.PENDING,
            now_ms,
            now_ms,
        )
        self.ledger.hold(
            withdrawal.hold_id,
            user_id,
            coin,
            amount + info.withdraw_fee_atoms,
            kind=Kind.WITHDRAW_HOLD,
            ref=withdrawal.hold_id,
        )
        self._next_withdrawal_id += 1
        self.withdrawals[withdrawal.withdrawal_id] = withdrawal
        self._withdrawal_by_client[(user_id, client_oid)] = withdrawal
        self._changes.withdrawals[withdrawal.withdrawal_id] = withdrawal
        self._collect()
        return withdrawal

    def complete_withdrawal(self, withdrawal_id: int, now_ms: int) -> Withdrawal:
        """Send a pending withdrawal: the amount leaves to the world, the fee to FEES."""
        w = self.withdrawals.get(withdrawal_id)
        if w is None:
            raise NotFound(f"withdrawal {withdrawal_id}")
        if w.status is not WithdrawalStatus.PENDING:
            return w
        hold = self.ledger.get_hold(w.hold_id)
        batch = [
            Transfer.settle(
                hold, Account.world(w.coin), w.amount_atoms, Kind.WITHDRAW_SETTLE, w.hold_id
            )
        ]
        if w.fee_atoms:
            batch.append(
                Transfer.settle(
                    hold,
                    Account.fees(w.coin),
                    w.fee_atoms,
                    Kind.FEE,
                    w.hold_id,
                    transfer_id=f"fee@{w.hold_id}",
                )
            )
        self.ledger.apply(batch)
        w.status = WithdrawalStatus.SUCCESS
        w.utime_ms = now_ms
        w.tx_id = f"sbwd{w.withdrawal_id:012d}"
        self._changes.withdrawals[w.withdrawal_id] = w
        self._collect()
        return w

    def set_bgb_deduct(self, user_id: int, on: bool) -> None:
        if on:
            self.bgb_deduct.add(user_id)
        else:
            self.bgb_deduct.discard(user_id)
        self._changes.bgb_deduct[user_id] = on

    # --- reading -----------------------------------------------------------------------

    def price_of(self, symbol: str) -> int:
        """Last traded price in ticks, or the catalog's reference price before any trade."""
        return self.settlement.price_of(symbol)

    def usdt_value(self, coin: str, atoms: int) -> int:
        """``atoms`` of ``coin`` valued in USDT atoms at the last price (rounded down)."""
        return self.settlement.usdt_value(coin, atoms)

    def check_invariants(self) -> list[str]:
        """Ledger invariants, plus: every open order and pending withdrawal has its hold."""
        expected: dict[str, int] = {}
        problems: list[str] = []
        open_holds = self.ledger.open_holds()
        for order in self.orders.values():
            if order.is_open:
                if order.hold_id not in open_holds:
                    problems.append(f"open order {order.order_id} has no open hold")
                else:
                    expected[order.hold_id] = open_holds[order.hold_id]
        for w in self.withdrawals.values():
            if w.status is WithdrawalStatus.PENDING:
                expected[w.hold_id] = w.amount_atoms + w.fee_atoms
        problems.extend(self.ledger.check_invariants(expected))
        problems.extend(self.settlement.check_invariants())
        try:
            self.engine.check_invariants()
        except AssertionError as exc:
            problems.append(f"engine: {exc}")
        return problems

    def drain(self) -> Changes:
        """What changed since the last drain. Orders and withdrawals are copies as of now:
        the service writes them in another thread while later commands keep changing the
        live objects, and a row must not show fills or a status whose fills and postings
        belong to a later transaction (which a crash may lose)."""
        self._collect()
        changes, self._changes = self._changes, Changes()
        changes.orders = {i: o.snapshot() for i, o in changes.orders.items()}
        changes.withdrawals = {i: replace(w) for i, w in changes.withdrawals.items()}
        return changes

    def committed(self, changes: Changes) -> None:
        """The store has ``changes``. Once enough postings piled up, drop the committed
        ones from memory: the database has them, and a log kept whole would make every
        full garbage collection longer. Now and then the state that leaves behind goes to
        the database too (with the next changes), so a restart need not read every
        posting ever made."""
        if changes.records and self.ledger.kept >= self.compact_after:
            self.ledger.compact(changes.upto_seq)
            if self.ledger.compacted_seq - self._checkpointed >= self.checkpoint_every:
                self._changes.checkpoint = self.ledger.checkpoint()
                self._checkpointed = self.ledger.compacted_seq

    # --- restart -----------------------------------------------------------------------

    def restore_order(self, order: Order) -> None:
        """Load an order saved before a restart; open ones go back on the book."""
        self.orders[order.order_id] = order
        self.by_client[(order.user_id, order.client_oid)] = order.order_id
        self._next_order_id = max(self._next_order_id, order.order_id + 1)
        if order.is_open:
            self._open.setdefault(order.user_id, {})[order.order_id] = order
        else:
            self._closing(order)
        if order.is_open and order.price_ticks is not None and order.size_lots is not None:
            sym = self.catalog.symbol(order.symbol)
            # The engine counts quote in ticks*lots units; the book's invariants check a
            # partly filled order's fills against its limit, so they must come back too.
            filled_quote = order.filled_quote_atoms // sym.quote_unit_atoms
            self.engine.restore(
                RestingOrder(
                    order.order_id,
                    order.user_id,
                    order.symbol,
                    order.side,
                    order.price_ticks,
                    order.size_lots,
                    order.size_lots - order.filled_lots,
                    order.force,
                    StpMode.CANCEL_TAKER,
                    order.ctime_ms,
                    filled_quote,
                )
            )

    def restore_withdrawal(self, w: Withdrawal) -> None:
        self.withdrawals[w.withdrawal_id] = w
        self._withdrawal_by_client[(w.user_id, w.client_oid)] = w
        self._next_withdrawal_id = max(self._next_withdrawal_id, w.withdrawal_id + 1)

    def restore_counters(self, *, next_deposit_id: int) -> None:
        self._next_deposit_id = max(self._next_deposit_id, next_deposit_id)
        self._posted = self.ledger.last_seq

    # --- internals ---------------------------------------------------------------------

    def _validate(self, user_id: int, req: PlaceRequest, now_ms: int) -> tuple[Symbol, Order]:
        if not req.symbol:
            raise ParamEmpty("symbol")
        sym = self.catalog.symbol(req.symbol)
        if not sym.online:
            raise OrderParamInvalid(f"symbol {sym.symbol} is {sym.status}")
        side = Side.parse(req.side)
        order_type = OrderType.parse(req.order_type)
        force = Force.parse(req.force or "gtc") if order_type is OrderType.LIMIT else Force.GTC
        if not req.size:
            raise ParamEmpty("size")
        client_oid = req.client_oid or f"{ORDER_OID_PREFIX}{self._next_order_id}"
        if req.client_oid:  # a generated one is valid by construction
            if not is_valid_client_oid(client_oid):
                raise OrderParamInvalid("clientOid must be under 50 of 0-9 a-z A-Z - + _ #")
            if is_generated_oid(client_oid, ORDER_OID_PREFIX):
                raise OrderParamInvalid("clientOid 'sb' + digits is reserved for generated ids")
        price = lots = budget = None
        if order_type is OrderType.LIMIT:
            if not req.price:
                raise ParamEmpty("price")
            price = sym.parse_price(req.price)
            if price <= 0:
                raise OrderParamInvalid("price must be positive")
            lots = sym.parse_size(req.size)
        elif side is Side.BUY:
            budget = sym.parse_quote_amount(req.size)  # a market buy's size is in quote
            if budget <= 0:
                raise OrderParamInvalid("size must be positive")
        else:
            lots = sym.parse_size(req.size)
        if lots is not None and lots < max(sym.min_lots, 1):
            raise OrderSizeTooSmall(sym.size_str(max(sym.min_lots, 1)))
        if lots is not None and lots > sym.max_lots:
            raise OrderParamInvalid(f"size above the maximum {sym.size_str(sym.max_lots)}")
        return sym, Order(
            self._next_order_id, client_oid, user_id, sym.symbol, side, order_type, force,
            price, lots, budget, OrderStatus.LIVE, now_ms, now_ms,
        )  # fmt: skip

    def _check_value(self, sym: Symbol, order: Order) -> None:
        if order.budget_atoms is not None:
            quote_atoms = order.budget_atoms
        else:
            assert order.size_lots is not None
            price = (
                order.price_ticks if order.price_ticks is not None else self.price_of(sym.symbol)
            )
            quote_atoms = sym.quote_atoms(price, order.size_lots)
        minimum = self._min_value.get(sym.symbol)
        if minimum is None:
            minimum = self._min_value[sym.symbol] = parse_atoms(sym.min_trade_usdt)
        if self.usdt_value(sym.quote, quote_atoms) < minimum:
            raise AmountTooSmall(sym.min_trade_usdt)

    def _engine_order(self, sym: Symbol, order: Order, req: PlaceRequest) -> NewOrder:
        stp = StpMode.parse(req.stp) if req.stp else StpMode.CANCEL_TAKER
        if order.type is OrderType.LIMIT:
            assert order.price_ticks is not None and order.size_lots is not None
            return NewOrder.limit(
                order.order_id,
                order.user_id,
                sym.symbol,
                order.side,
                order.price_ticks,
                order.size_lots,
                force=order.force,
                stp=stp,
            )
        if order.side is Side.BUY:
            assert order.budget_atoms is not None
            # The engine counts a budget in ticks*lots units; the remainder below one unit
            # stays in the hold and is released when the order ends.
            units = order.budget_atoms // (ATOMS_PER_UNIT // 10**sym.quote_places)
            return NewOrder.market_buy(order.order_id, order.user_id, sym.symbol, units, stp=stp)
        assert order.size_lots is not None
        return NewOrder.market_sell(
            order.order_id, order.user_id, sym.symbol, order.size_lots, stp=stp
        )

    def _record_fill(self, sym: Symbol, fill: Fill, fees: FillFees, now_ms: int) -> None:
        """Both sides' records of one fill the settlement has paid."""
        taker = self.orders[fill.taker_order_id]
        maker = self.orders[fill.maker_order_id]
        buyer, seller = (taker, maker) if fill.taker_side is Side.BUY else (maker, taker)
        quote_atoms = sym.quote_atoms(fill.price_ticks, fill.lots)
        buyer_coin, buyer_fee, seller_coin, seller_fee = fees
        fills = self._changes.fills
        for order, fee_coin, fee in (
            (buyer, buyer_coin, buyer_fee),
            (seller, seller_coin, seller_fee),
        ):
            order.fees[fee_coin] = order.fees.get(fee_coin, 0) + fee
            order.filled_lots += fill.lots
            order.filled_quote_atoms += quote_atoms
            order.utime_ms = now_ms
            fills.append(
                MyFill(
                    fill.trade_id, order.order_id, order.user_id, sym.symbol, order.side,
                    order.type, fill.price_ticks, fill.lots, quote_atoms, order is maker,
                    fee_coin, fee, now_ms,
                )
            )  # fmt: skip
        if maker.size_lots is not None and maker.filled_lots >= maker.size_lots:
            maker.status = OrderStatus.FILLED
            self._finish(maker, now_ms)
        else:
            maker.status = OrderStatus.PARTIALLY_FILLED
            self._touch(maker)
        self._changes.trades.append(fill)

    def _finish(self, order: Order, now_ms: int) -> None:
        """The order left the book (the settlement released what was left of its hold)."""
        order.utime_ms = now_ms
        self._touch(order)
        self._closing(order)

    def _closing(self, order: Order) -> None:
        """Track a closed order; forget the oldest beyond the memory bound. The database
        keeps them all (orderInfo and history read it); a forgotten user-chosen clientOid
        is retired, so a late retry is refused (43118) rather than placed again."""
        mine = self._open.get(order.user_id)
        if mine is not None:
            mine.pop(order.order_id, None)
            if not mine:
                del self._open[order.user_id]
        self._closed.append(order.order_id)
        while len(self._closed) > self.max_closed_in_memory:
            old = self.orders.pop(self._closed.popleft(), None)
            if old is None:
                continue
            key = (old.user_id, old.client_oid)
            if self.by_client.get(key) == old.order_id:
                del self.by_client[key]
                if not is_generated_oid(old.client_oid, ORDER_OID_PREFIX):
                    self.retired_order_oids.add(key)

    def _touch(self, order: Order) -> None:
        # Its postings are gathered once, by drain(): per order it would scan the log.
        self._changes.orders[order.order_id] = order

    def _collect(self) -> None:
        if self.ledger.last_seq > self._posted:
            self._changes.records.extend(self.ledger.records(self._posted))
            self._posted = self._changes.upto_seq = self.ledger.last_seq
