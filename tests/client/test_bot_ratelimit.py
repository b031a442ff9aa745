"""The grid bot on a server with rate limits four times tighter than Bitget's: it meets
HTTP 429 on place-order and on reads, waits, and still builds its grid exactly once."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt
import pytest
from bot_support import spot_client, trader

from fixtures.server import SealbookServer, running_server
from sealbook.client.bots.events import Events
from sealbook.client.bots.grid import GridMode, GridSpec
from sealbook.client.bots.gridbot import GridBot
from sealbook.client.bots.retry import Backoff
from sealbook.client.bots.state import BotState
from sealbook.client.bots.venue import LiveVenue

pytestmark = pytest.mark.e2e

SYMBOL = "ETH/USDT"


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SealbookServer]:
    env = {"SEALBOOK_RATE_LIMIT_FACTOR": "0.25"}
    with running_server(tmp_path_factory.mktemp("bot-429"), env) as server:
        yield server


def patient(fn: Callable[[], Any]) -> Any:
    """The test's own calls wait out the limits too."""
    for _ in range(50):
        try:
            return fn()
        except ccxt.DDoSProtection:
            time.sleep(0.3)
    raise AssertionError("still limited")


def test_429s_are_waited_out_and_no_order_is_placed_twice(
    tight: SealbookServer, tmp_path: Path
) -> None:
    lp = spot_client(tight, trader(tight, {"ETH": "10", "USDT": "50000"}))
    patient(lambda: lp.create_order(SYMBOL, "limit", "buy", "1", "3590"))
    patient(lambda: lp.create_order(SYMBOL, "limit", "sell", "1", "3610"))
    key = trader(tight, {"USDT": "2000", "ETH": "1"})  # holds the base: no seed buy
    client = spot_client(tight, key, enableRateLimit=False)  # nothing slows it client-side
    events = Events()
    venue = LiveVenue(client, SYMBOL)
    spec = GridSpec(lower=Decimal(3500), upper=Decimal(3700), grids=8,
                    mode=GridMode.ARITHMETIC, investment=Decimal(800))
    bot = GridBot(venue, spec, BotState(tmp_path / "429.sqlite"), events,
                  backoff=Backoff(events, base_s=0.05, cap_s=0.5))
    bot.start()
    for _ in range(40):
        bot.tick()
        if len(bot.state.orders("open")) == 8:
            break
    assert events.counts.get("backoff", 0) >= 1
    assert events.counts.get("unknown", 0) >= 1  # a 429 on place-order, looked up after
    checker = spot_client(tight, key)
    mine = patient(lambda: checker.privateSpotGetV2SpotTradeUnfilledOrders(
        {"symbol": "ETHUSDT"}))["data"]
    prices = sorted(Decimal(r["priceAvg"]) for r in mine)
    assert prices == [Decimal(p) for p in (3500, 3525, 3550, 3575, 3625, 3650, 3675, 3700)]
    assert len({r["clientOid"] for r in mine}) == 8 == len(bot.state.orders())
    assert bot.state.orders("intent") == []
