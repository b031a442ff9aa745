"""The running service drops committed postings from memory; nothing is lost by it."""

from __future__ import annotations

import asyncio

from sealbook.exchange.context import Context
from sealbook.exchange.core import ExchangeCore, PlaceRequest
from sealbook.exchange.ledgercheck import check_database
from sealbook.exchange.service import ExchangeService
from sealbook.markets import default_catalog
from sealbook.money import from_units
from sealbook.store.exchange import load_core

CATALOG = default_catalog()
PRICE = CATALOG.symbol("BTCUSDT").ref_price


def test_compaction_keeps_memory_small_and_the_database_whole(ctx: Context) -> None:
    service = ExchangeService(ctx, CATALOG)
    service.core.compact_after = 8
    now = ctx.clock.now_ms()

    def trade(core: ExchangeCore, i: int) -> None:
        core.place(1, PlaceRequest("BTCUSDT", "buy", "limit", "0.001", PRICE), now + i)
        core.place(2, PlaceRequest("BTCUSDT", "sell", "market", "0.001"), now + i)

    async def drive() -> None:
        await service.start()
        try:
            await service.run(
                lambda core: core.deposit(1, "USDT", None, from_units(10_000), "a", now)
            )
            await service.run(lambda core: core.deposit(2, "BTC", None, from_units(1), "a", now))
            for i in range(30):
                await service.run(lambda core, i=i: trade(core, i))
        finally:
            await service.stop()

    asyncio.run(drive())
    ledger = service.core.ledger
    assert ledger.last_seq > 150  # every trade posted hold, settle, fees, release
    assert ledger.kept < 40  # most of them only in the database now
    assert service.core.check_invariants() == []
    report = check_database(ctx.engine, CATALOG)
    assert report.ok, report.violations
    reloaded = load_core(ctx.engine, CATALOG, now + 60_000)
    for user in (1, 2):
        assert reloaded.ledger.balances(user) == ledger.balances(user)
