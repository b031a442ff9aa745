"""A grid order cancelled by someone else after a partial fill: the bot keeps what traded
and places only the rest, so the grid never buys (or sells) a level's size twice.

A plain server (no market maker): the book holds only the bot's orders and what the test
puts there, so a fill reaches exactly the order the test aims at.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from bot_support import raw_fills, spot_client, trader

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
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SealbookServer]:
    with running_server(tmp_path_factory.mktemp("grid-plain"), {}) as server:
        yield server


def _open(client: Any) -> dict[Decimal, dict[str, Any]]:
    rows = client.privateSpotGetV2SpotTradeUnfilledOrders({"symbol": "ETHUSDT"})["data"]
    by_price = {Decimal(r["priceAvg"]): r for r in rows}
    assert len(by_price) == len(rows), "two orders on one level"
    return by_price


def _ioc(mover: Any, side: str, amount: Decimal, price: Decimal) -> None:
    mover.create_order(SYMBOL, "limit", side, str(amount), str(price), {"timeInForce": "IOC"})


def test_a_partly_filled_order_cancelled_elsewhere_is_resumed_not_repeated(
    plain: SealbookServer, tmp_path: Path
) -> None:
    mover = spot_client(plain, trader(plain, {"ETH": "5", "USDT": "20000"}))
    mover.load_markets()
    # A book around 3600 for the bot to start from and buy its seed from.
    bid = mover.create_order(SYMBOL, "limit", "buy", "0.5", "3590")
    ask = mover.create_order(SYMBOL, "limit", "sell", "0.5", "3610")
    key = trader(plain, {"USDT": "2000"})
    client = spot_client(plain, key)
    venue = LiveVenue(client, SYMBOL)
    spec = GridSpec(lower=Decimal("3492"), upper=Decimal("3708"), grids=6,
                    mode=GridMode.ARITHMETIC, investment=Decimal(600))
    bot = GridBot(venue, spec, BotState(tmp_path / "grid.sqlite"), Events())
    bot.start()
    for _ in range(3):
        bot.tick()
    for placed in (bid, ask):  # from now on the book is the bot's alone
        mover.cancel_order(placed["id"], SYMBOL)
    levels, size = bot.plan.levels, bot.plan.sizes[2]
    buy = _open(client)[levels[2]]
    assert buy["side"] == "buy" and Decimal(buy["size"]) == size

    part = venue.market.floor_amount(size * Decimal("0.4"))
    _ioc(mover, "sell", part, levels[2])
    bot.tick()
    client.cancel_order(buy["orderId"], SYMBOL)  # the person, by hand, in another client
    bot.tick()
    bot.tick()
    rest = _open(client)[levels[2]]
    assert rest["side"] == "buy" and rest["orderId"] != buy["orderId"]
    assert Decimal(rest["size"]) == size - part  # not the whole size again
    assert levels[3] not in _open(client)  # the cell has not turned yet

    _ioc(mover, "sell", size, levels[2])  # the rest fills (and no more: nothing else bids)
    bot.tick()
    bot.tick()
    sell = _open(client)[levels[3]]
    assert sell["side"] == "sell" and Decimal(sell["size"]) == size  # the whole size bought

    _ioc(mover, "buy", size, levels[3])  # and sold one level up: the pair completes
    bot.tick()
    bot.tick()
    [pair] = bot.state.pairs()
    buys = raw_fills(client, buy["orderId"], "ETH") + raw_fills(client, rest["orderId"], "ETH")
    sells = raw_fills(client, sell["orderId"], "ETH")
    assert sum(f.amount for f in buys) == sum(f.amount for f in sells) == size
    assert pair.profit == pnl.pair_profit(buys, sells, venue.market)
    assert Decimal(0) < pair.profit < size * (levels[3] - levels[2])
    assert bot.status().realised == pair.profit
    # The cell is back to a full-size buy at its level, and nothing is carried any more.
    again = _open(client)[levels[2]]
    assert again["side"] == "buy" and Decimal(again["size"]) == size
    assert not bot.state.get_json("carry")
