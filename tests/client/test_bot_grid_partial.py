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


@pytest.fixture()
def plain(tmp_path: Path) -> Iterator[SealbookServer]:
    # One server per test: a test's grid orders must not sit in the next test's book.
    with running_server(tmp_path / "server", {}) as server:
        yield server


def _open(client: Any) -> dict[Decimal, dict[str, Any]]:
    rows = client.privateSpotGetV2SpotTradeUnfilledOrders({"symbol": "ETHUSDT"})["data"]
    by_price = {Decimal(r["priceAvg"]): r for r in rows}
    assert len(by_price) == len(rows), "two orders on one level"
    return by_price


def _ioc(mover: Any, side: str, amount: Decimal, price: Decimal) -> None:
    mover.create_order(SYMBOL, "limit", side, str(amount), str(price), {"timeInForce": "IOC"})


def _running_grid(plain: SealbookServer, path: Path) -> tuple[Any, Any, LiveVenue, GridBot]:
    """A grid bot on ETH/USDT 3492..3708 (six cells) and a mover; the book is then the
    bot's alone, the level nearest 3600 empty, buys below it and sells above."""
    mover = spot_client(plain, trader(plain, {"ETH": "5", "USDT": "20000"}))
    mover.load_markets()
    # A book around 3600 for the bot to start from and buy its seed from.
    bid = mover.create_order(SYMBOL, "limit", "buy", "0.5", "3590")
    ask = mover.create_order(SYMBOL, "limit", "sell", "0.5", "3610")
    client = spot_client(plain, trader(plain, {"USDT": "2000"}))
    venue = LiveVenue(client, SYMBOL)
    spec = GridSpec(lower=Decimal("3492"), upper=Decimal("3708"), grids=6,
                    mode=GridMode.ARITHMETIC, investment=Decimal(600))
    bot = GridBot(venue, spec, BotState(path), Events())
    bot.start()
    for _ in range(3):
        bot.tick()
    for placed in (bid, ask):
        mover.cancel_order(placed["id"], SYMBOL)
    return mover, client, venue, bot


def test_a_partly_filled_order_cancelled_elsewhere_is_resumed_not_repeated(
    plain: SealbookServer, tmp_path: Path
) -> None:
    mover, client, venue, bot = _running_grid(plain, tmp_path / "grid.sqlite")
    levels, size = bot.plan.levels, bot.plan.sizes[2]
    buy = _open(client)[levels[2]]
    assert buy["side"] == "buy" and Decimal(buy["size"]) == size
    held = bot.status().position

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
    # The whole size was bought; the sell offers what arrived: less the 0.1 % maker fee
    # taken in ETH, down to the 0.00001 lot.
    net = venue.market.floor_amount(size * Decimal("0.999"))
    assert sell["side"] == "sell" and Decimal(sell["size"]) == net

    _ioc(mover, "buy", size, levels[3])  # and sold one level up: the pair completes
    bot.tick()
    bot.tick()
    [pair] = bot.state.pairs()
    buys = raw_fills(client, buy["orderId"], "ETH") + raw_fills(client, rest["orderId"], "ETH")
    sells = raw_fills(client, sell["orderId"], "ETH")
    assert sum(f.amount for f in buys) == size and sum(f.amount for f in sells) == net
    assert all(f.fee_coin == "ETH" for f in buys) and all(f.fee_coin == "USDT" for f in sells)
    # Money in − money out − the sell's USDT fee, plus the dust of ETH the pair kept
    # (what arrived beyond the lot-rounded sale) at the buy price.
    arrived = size - sum(f.fee for f in buys)
    expected = (sum(f.quote for f in sells) - sum(f.quote for f in buys)
                - sum(f.fee for f in sells) + (arrived - net) * levels[2])
    assert pair.profit == expected == pnl.pair_profit(buys, sells, venue.market)
    assert Decimal(0) < pair.profit < size * (levels[3] - levels[2])
    assert bot.status().realised == pair.profit
    # The round trip took no ETH from the stock the other cells' sells need (it used to
    # take the buy's fee each time, until sells were refused): it kept the dust.
    assert bot.status().position - held == arrived - net
    assert Decimal(0) <= arrived - net < Decimal("0.00001")
    # The cell is back to a full-size buy at its level, and nothing is carried any more.
    again = _open(client)[levels[2]]
    assert again["side"] == "buy" and Decimal(again["size"]) == size
    assert not bot.state.get_json("carry")


def test_a_rest_below_the_minimum_is_not_placed_and_the_cell_turns(
    plain: SealbookServer, tmp_path: Path
) -> None:
    mover, client, venue, bot = _running_grid(plain, tmp_path / "grid.sqlite")
    levels, size = bot.plan.levels, bot.plan.sizes[2]
    buy = _open(client)[levels[2]]
    lot = Decimal("0.00001")
    rest = lot * 20  # 0.0002 ETH at 3564 is worth 0.71 USDT: below the 1 USDT minimum
    assert not venue.market.tradable(levels[2], rest)
    _ioc(mover, "sell", size - rest, levels[2])
    bot.tick()
    client.cancel_order(buy["orderId"], SYMBOL)
    bot.tick()
    bot.tick()
    book = _open(client)
    assert levels[2] not in book or book[levels[2]]["side"] == "sell"  # no dust order placed
    assert book[levels[3]]["side"] == "sell"  # the cell turned on what traded
    assert bot.state.get_json("legs")[2] == f"g{bot.run_id}L2b0"
    assert not bot.state.get_json("carry")
