"""The running exchange: the core on the event loop, every change committed before it is
acknowledged, and commits grouped so throughput is not one fsync per order.

Commands run synchronously on the event loop against the in-memory core (microseconds),
then wait for the group commit that carries their changes. While one transaction is
being written (in a worker thread), new commands keep applying; the next transaction
takes them all. Commits are strictly ordered, so a command's answer implies every earlier
command is durable too. If a write fails, every command not yet acknowledged gets a
retryable 45001 and the core is rebuilt from the database: what was acknowledged is
exactly what survives.

Reads that must not show uncommitted state call :meth:`ExchangeService.barrier` first.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import anyio

from sealbook.errors import SealbookError, ServiceUnavailable
from sealbook.exchange.context import Context
from sealbook.exchange.core import Changes, ExchangeCore
from sealbook.exchange.inbox import apply_command, pending_commands
from sealbook.exchange.orders import WithdrawalStatus
from sealbook.markets import Catalog, MarketData
from sealbook.store.exchange import load_core, load_trades, persist

__all__ = ["ExchangeService"]

T = TypeVar("T")
log = logging.getLogger("sealbook.exchange")

POLL_S = 0.25
class ExchangeService:
    def __init__(self, ctx: Context, catalog: Catalog, *, withdraw_delay_s: float = 2.0) -> None:
        self.ctx = ctx
        self.catalog = catalog
        self.core = load_core(ctx.engine, catalog, ctx.clock.now_ms())
        self.market = MarketData(catalog.symbol)
        self.market.replay(load_trades(ctx.engine, ctx.clock.now_ms()))
        self._withdraw_delay_ms = int(withdraw_delay_s * 1000)
        self._applied = 0
        self._committed = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._inbox_done: list[tuple[int, str, int]] = []
        # Inbox commands applied to the core whose "done" mark may not be committed yet:
        # the database still shows them pending, and they must not be applied again.
        self._inbox_applied: set[int] = set()
        self._wake: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._broken = False

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        # What start-up built (catalog, books, the loaded state) lives as long as the
        # process: keep it out of every later full collection, whose pause it would lengthen.
        gc.collect()
        gc.freeze()
        self._wake = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._committer(), name="sealbook-committer"),
            asyncio.create_task(self._housekeeping(), name="sealbook-housekeeping"),
        ]

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.barrier(), timeout=10)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- commands ----------------------------------------------------------------------

    async def run(self, command: Callable[[ExchangeCore], T]) -> T:
        """Apply ``command`` to the core now; return its result once it is committed."""
        result = self.apply(command)
        await self.barrier()
        return result

    def apply(self, command: Callable[[ExchangeCore], T]) -> T:
        if self._broken:
            raise ServiceUnavailable()
        try:
            result = command(self.core)
        except SealbookError:
            raise  # validated before anything changed
        except Exception:
            log.exception("a command failed half-way; rebuilding from the database")
            self._broken = True
            self._kick()
            raise ServiceUnavailable() from None
        self._applied += 1
        return result

    async def barrier(self) -> None:
        """Wait until everything applied so far is committed."""
        target = self._applied
        if self._committed >= target and not self._broken:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((target, future))
        self._kick()
        await future

    def _kick(self) -> None:
        if self._wake is not None:
            self._wake.set()

    # --- the single writer -------------------------------------------------------------

    async def _committer(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._broken:
                await self._rebuild()
                continue
            target = self._applied
            changes = self.core.drain()
            done, self._inbox_done = self._inbox_done, []
            if changes or done:
                try:
                    await anyio.to_thread.run_sync(self._write, changes, done)
                except Exception:
                    log.exception("commit failed; rebuilding from the database")
                    self._inbox_applied.difference_update(i for i, _, _ in done)
                    await self._rebuild()
                    continue
                self.core.committed(changes)
                for trade in changes.trades:
                    self.market.record_trade(
                        trade.symbol,
                        trade.trade_id,
                        trade.price_ticks,
                        trade.lots,
                        trade.taker_side.value,
                        trade.ts_ms,
                    )
            self._committed = target
            self._resolve(target)

    def _write(self, changes: Changes, done: list[tuple[int, str, int]]) -> None:
        with self.ctx.engine.begin() as conn:
            persist(conn, changes, done)

    def _resolve(self, target: int) -> None:
        still: list[tuple[int, asyncio.Future[None]]] = []
        for seq, future in self._waiters:
            if seq <= target:
                if not future.done():
                    future.set_result(None)
            else:
                still.append((seq, future))
        self._waiters = still

    async def _rebuild(self) -> None:
        # Refuse commands while the core reloads: applied to the old core, they would be
        # acknowledged by a later commit and yet lost.
        self._broken = True
        self._fail_waiters()
        self._inbox_applied.difference_update(i for i, _, _ in self._inbox_done)
        self._inbox_done = []
        now = self.ctx.clock.now_ms()
        self.core = await anyio.to_thread.run_sync(load_core, self.ctx.engine, self.catalog, now)
        self._applied = self._committed = 0
        self._broken = False
        self._fail_waiters()  # barriers taken meanwhile wait for a count that restarted

    def _fail_waiters(self) -> None:
        waiters, self._waiters = self._waiters, []
        for _, future in waiters:
            if not future.done():
                future.set_exception(ServiceUnavailable())

    # --- background work ---------------------------------------------------------------

    async def _housekeeping(self) -> None:
        """Apply CLI commands from the inbox and send due withdrawals."""
        while True:
            await asyncio.sleep(POLL_S)
            try:
                await self._drain_inbox()
                self._send_withdrawals()
            except Exception:
                log.exception("housekeeping failed")

    async def _drain_inbox(self) -> None:
        commands = await anyio.to_thread.run_sync(pending_commands, self.ctx.engine)
        # What this read no longer shows pending was committed done: forget it.
        self._inbox_applied.intersection_update(inbox_id for inbox_id, _, _ in commands)
        for inbox_id, kind, payload in commands:
            if self._broken:
                break  # the core is being rebuilt: the rest stays queued until it is back
            if inbox_id in self._inbox_applied:
                continue
            now = self.ctx.clock.now_ms()
            try:
                result: dict[str, Any] = self.apply(
                    functools.partial(_inbox_command, kind=kind, payload=payload, now_ms=now)
                )
            except SealbookError as error:
                result = {"error": {"code": error.code, "msg": error.msg}}
            self._inbox_done.append((inbox_id, json.dumps(result), now))
            self._inbox_applied.add(inbox_id)
            self._kick()

    def _send_withdrawals(self) -> None:
        now = self.ctx.clock.now_ms()
        due = [
            w.withdrawal_id
            for w in self.core.withdrawals.values()
            if w.status is WithdrawalStatus.PENDING and now - w.ctime_ms >= self._withdraw_delay_ms
        ]
        for withdrawal_id in due:
            self.apply(
                functools.partial(_complete_withdrawal, withdrawal_id=withdrawal_id, now_ms=now)
            )
        if due:
            self._kick()


def _inbox_command(
    core: ExchangeCore, *, kind: str, payload: dict[str, Any], now_ms: int
) -> dict[str, Any]:
    return apply_command(core, kind, payload, now_ms)


def _complete_withdrawal(core: ExchangeCore, *, withdrawal_id: int, now_ms: int) -> None:
    core.complete_withdrawal(withdrawal_id, now_ms)
