"""The grid bot against a real demo server (market maker running), driven in-process.

A second user (the "mover") trades through the grid with IOC orders, so fills happen when
the test says so; the maker keeps the rest of the book alive around it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from bot_support import profit_from_server, spot_client, trader

from fixtures.server import SealbookServer, running_server
from sealbook.client.bots import pnl
from sealbook.client.bots.events import Events
from sealbook.client.bots.grid import GridMode, GridSpec
from sealbook.client.bots.gridbot import GridBot
from sealbook.client.bots.state import BotState
from sealbook.client.bots.venue import LiveVenue

pytestmark = pytest.mark.e2e

SYMBOL = "ETH/USDT"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SealbookServer]:
    with running_server(tmp_path_factory.mktemp("grid-demo"), {}, demo=True) as server:
        yield server


@pytest.fixture(scope="module")
def mover(demo: SealbookServer) -> Any:
    key = trader(demo, {"ETH": "50", "USDT": "200000"})
    client = spot_client(demo, key)
    client.load_markets()
    return client


def _spec(venue: LiveVenue, **extra: Any) -> GridSpec:
    mid = venue.book().mid
    assert mid is not None
    lower = venue.market.round_price(mid * Decimal("0.97"))
    upper = venue.market.round_price(mid * Decimal("1.03"))
    return GridSpec(lower=lower, upper=upper, grids=6, mode=GridMode.ARITHMETIC,
                    investment=Decimal(600), **extra)


def _server_orders(client: Any) -> list[dict[str, Any]]:
    reply = client.privateSpotGetV2SpotTradeUnfilledOrders({"symbol": "ETHUSDT"})
    return list(reply["data"])


def _one_per_level(client: Any, bot: GridBot) -> list[dict[str, Any]]:
    """The server's open orders of the bot: each at a grid level, no level twice."""
    rows = _server_orders(client)
    prices = [Decimal(r["priceAvg"]) for r in rows]
    assert len(prices) == len(set(prices)), f"two orders on one level: {sorted(prices)}"
    assert set(prices) <= set(bot.plan.levels)
    assert len(rows) <= bot.spec.grids
    return rows


def _ticks(bot: GridBot, client: Any, n: int = 2) -> None:
    for _ in range(n):
        bot.tick()
        _one_per_level(client, bot)


def _sweep(mover: Any, side: str, price: Decimal) -> None:
    mover.create_order(SYMBOL, "limit", side, "3", str(price), {"timeInForce": "IOC"})


def test_grid_places_turns_fills_and_counts_pair_profit_from_the_fills(
    demo: SealbookServer, mover: Any, tmp_path: Path
) -> None:
    key = trader(demo, {"USDT": "2000"})
    client = spot_client(demo, key)
    venue = LiveVenue(client, SYMBOL)
    bot = GridBot(venue, _spec(venue), BotState(tmp_path / "grid.sqlite"), Events())
    bot.start()
    _ticks(bot, client, 3)
    rows = _one_per_level(client, bot)
    levels = bot.plan.levels
    assert len(rows) == 6  # seven levels, the one nearest the price left empty
    sides = {Decimal(r["priceAvg"]): r["side"] for r in rows}
    assert set(sides) == set(levels) - {levels[3]}
    assert all(sides[p] == "buy" for p in levels[:3])
    assert all(sides[p] == "sell" for p in levels[4:])
    seed = bot.state.order(f"g{bot.run_id}seed")
    assert seed is not None and seed.status in ("filled", "cancelled")

    _sweep(mover, "sell", levels[2])  # price falls through level 2: our buy there fills
    _ticks(bot, client)
    sides = {Decimal(r["priceAvg"]): r["side"] for r in _one_per_level(client, bot)}
    assert levels[2] not in sides or sides[levels[2]] == "buy"
    assert bot.state.pairs() or sides.get(levels[3]) == "sell"  # its sell one level up

    _sweep(mover, "buy", levels[3])  # and back up through level 3: the pair completes
    _ticks(bot, client, 3)
    pairs = bot.state.pairs()
    assert pairs, "no completed buy/sell pair"
    total = Decimal(0)
    for pair in pairs:
        first, second = bot.state.order(pair.first_oid), bot.state.order(pair.second_oid)
        assert first is not None and second is not None
        buy, sell = (first, second) if first.side == "buy" else (second, first)
        assert (buy.level, sell.level) == (pair.cell, pair.cell + 1)
        expected = profit_from_server(client, venue.market, buy.order_id, sell.order_id)
        assert pair.profit == expected
        total += expected
    # one level of 1.0 % less two 0.1 % fees, on about 100 USDT
    assert Decimal("0.5") < pairs[0].profit < Decimal("1.0")
    status = bot.status()
    assert status.realised == total
    position = pnl.position(bot.state.fills(), venue.market)
    assert status.unrealised == position.value(status.price or Decimal(0)) - total
    # nothing the bot did is unknown to its state: every order on the server is ours
    states = {o.order_id: o for o in bot.state.orders()}
    for row in _server_orders(client):
        assert row["orderId"] in states and states[row["orderId"]].status == "open"


def test_take_profit_cancels_the_grid_and_sells_what_the_bot_bought(
    demo: SealbookServer, mover: Any, tmp_path: Path
) -> None:
    key = trader(demo, {"USDT": "2000"})
    client = spot_client(demo, key)
    venue = LiveVenue(client, SYMBOL)
    probe = _spec(venue)
    take = probe.upper + Decimal(20)
    bot = GridBot(venue, _spec(venue, take_profit=take), BotState(tmp_path / "tp.sqlite"),
                  Events())
    bot.start()
    _ticks(bot, client, 3)
    assert len(_server_orders(client)) == 6
    held = pnl.position(bot.state.fills(), venue.market).base
    assert held > 0  # the seed bought the base the sells need

    # someone trades above the take-profit price: the last price crosses it
    seller = trader(demo, {"ETH": "1"})
    seller_client = spot_client(demo, seller)
    seller_client.create_order(SYMBOL, "limit", "sell", "0.01", str(take + 1))
    mover.create_order(SYMBOL, "limit", "buy", "3", str(take + 1), {"timeInForce": "IOC"})
    for _ in range(8):
        bot.tick()
        if bot.phase == "closed":
            break
        time.sleep(0.2)
    assert bot.phase == "closed"
    assert _server_orders(client) == []
    close = [o for o in bot.state.orders() if o.role == "close"]
    assert len(close) == 1 and close[0].status == "filled"
    assert pnl.position(bot.state.fills(), venue.market).base < venue.market.lot * 10
    before = len(bot.state.orders())
    bot.tick()  # a closed grid does nothing more
    assert len(bot.state.orders()) == before


def test_dry_run_simulates_fills_against_the_live_book_and_sends_nothing(
    demo: SealbookServer, mover: Any
) -> None:
    from sealbook.client.bots.dryrun import DryRunVenue

    key = trader(demo, {"USDT": "1000"}, perms=())  # read only: it could not send anyway
    client = spot_client(demo, key)
    venue = DryRunVenue(client, SYMBOL)
    events = Events()
    bot = GridBot(venue, _spec(venue._live), BotState(":memory:"), events)
    bot.start()
    bot.tick()
    bot.tick()
    assert events.counts.get("placed") == 7  # the seed and six grid orders, simulated
    assert "rejected" not in events.counts
    levels = bot.plan.levels
    assert bot.status().orders == {0: "buy", 1: "buy", 2: "buy", 4: "sell", 5: "sell", 6: "sell"}

    # a large resting sell at level 2 becomes the best ask: the simulated buy there fills
    resting = mover.create_order(SYMBOL, "limit", "sell", "5", str(levels[2]))
    try:
        for _ in range(3):
            bot.tick()
    finally:
        mover.cancel_order(resting["id"], SYMBOL)
    status = bot.status()
    assert status.orders.get(3) == "sell" and 2 not in status.orders
    buy = [f for f in bot.state.fills() if f.price == levels[2]]
    assert len(buy) == 1 and buy[0].fee == buy[0].amount * venue.market.maker_fee
    # nothing reached the exchange: no order, no fill
    assert client.privateSpotGetV2SpotTradeUnfilledOrders({})["data"] == []
    assert client.privateSpotGetV2SpotTradeFills({"symbol": "ETHUSDT"})["data"] == []


class _TimeoutOnPlace(LiveVenue):
    """A real venue whose first place-order of each client order id waits too little for
    the answer: the request goes out, the bot hears nothing (ccxt.RequestTimeout)."""

    tried: set[str]

    def place(self, req: Any) -> Any:
        if req.client_oid in self.tried:
            return super().place(req)
        self.tried.add(req.client_oid)
        saved = self.exchange.timeout
        self.exchange.timeout = 1
        try:
            return super().place(req)
        finally:
            self.exchange.timeout = saved


def test_a_timeout_on_place_order_is_looked_up_not_placed_again(
    demo: SealbookServer, tmp_path: Path
) -> None:
    key = trader(demo, {"USDT": "2000"})
    client = spot_client(demo, key)
    venue = _TimeoutOnPlace(client, SYMBOL)
    venue.tried = set()
    events = Events()
    bot = GridBot(venue, _spec(venue), BotState(tmp_path / "t.sqlite"), events)
    bot.start()
    for _ in range(6):
        bot.tick()
        _one_per_level(client, bot)
    counts = events.counts
    # every order's first attempt timed out; each was then looked up by its client order
    # id and adopted (the server had placed it) or, had it not, sent once more
    assert counts["unknown"] == 7
    assert counts.get("adopted", 0) >= 1
    assert counts.get("adopted", 0) + counts.get("placed", 0) == 7
    rows = _one_per_level(client, bot)
    assert len(rows) == 6
    done = client.privateSpotGetV2SpotTradeHistoryOrders({"symbol": "ETHUSDT"})["data"]
    oids = [r["clientOid"] for r in [*rows, *done]]
    assert len(oids) == len(set(oids)) == len(bot.state.orders()) == 7
    assert bot.state.orders("intent") == []
