"""The arbitrage bot between two real servers: A runs the demo market maker, B is quiet
and a liquidity provider there sets B's prices relative to A's, making an edge or not."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from bot_support import raw_fills, spot_client, trader

from fixtures.server import IssuedKey, SealbookServer, running_server
from sealbook.client.bots.arb import ArbBot, ArbConfig, parse_edge
from sealbook.client.bots.events import Events
from sealbook.client.bots.pnl import pair_profit
from sealbook.client.bots.state import BotState
from sealbook.client.bots.venue import LiveVenue
from sealbook.client.errors import ClientError

pytestmark = pytest.mark.e2e

SYMBOL = "ETH/USDT"
MAX = Decimal("0.05")


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SealbookServer, ...]]:
    with (
        running_server(tmp_path_factory.mktemp("arb-a"), {}, demo=True) as a,
        running_server(tmp_path_factory.mktemp("arb-b"), {}) as b,
    ):
        yield a, b


class Setup:
    def __init__(self, a: SealbookServer, b: SealbookServer, state: Path) -> None:
        self.a, self.b = a, b
        self.key_a = trader(a, {"USDT": "5000"})
        self.key_b = trader(b, {"ETH": "1", "USDT": "100"})
        self.lp_key: IssuedKey = trader(b, {"ETH": "10", "USDT": "100000"})
        self.events = Events()
        self.state = BotState(state)
        self.bot = self.make_bot()

    def make_bot(self) -> ArbBot:
        venues = {
            "A": LiveVenue(spot_client(self.a, self.key_a), SYMBOL, "A"),
            "B": LiveVenue(spot_client(self.b, self.key_b), SYMBOL, "B"),
        }
        config = ArbConfig(SYMBOL, Decimal("0.003"), MAX)
        return ArbBot(venues, config, self.state, self.events)

    def lp(self) -> Any:
        return spot_client(self.b, self.lp_key)

    def a_book(self) -> tuple[Decimal, Decimal]:
        book = self.bot.venues["A"].book()
        assert book.bid is not None and book.ask is not None
        return book.bid, book.ask

    def orders(self, server: SealbookServer, key: IssuedKey) -> list[dict[str, Any]]:
        client = spot_client(server, key)
        done = client.privateSpotGetV2SpotTradeHistoryOrders({"symbol": "ETHUSDT"})["data"]
        live = client.privateSpotGetV2SpotTradeUnfilledOrders({"symbol": "ETHUSDT"})["data"]
        return [*done, *live]

    def traded(self, server: SealbookServer, key: IssuedKey, side: str) -> Decimal:
        return sum((Decimal(o["baseVolume"]) for o in self.orders(server, key)
                    if o["side"] == side), Decimal(0))


@pytest.fixture
def setup(servers: tuple[SealbookServer, ...], tmp_path: Path) -> Iterator[Setup]:
    s = Setup(servers[0], servers[1], tmp_path / "arb.sqlite")
    yield s
    lp = s.lp()
    for order in lp.fetch_open_orders(SYMBOL):
        lp.cancel_order(order["id"], SYMBOL)
    s.state.close()


def _quote_b(s: Setup, bid: Decimal, ask: Decimal) -> list[str]:
    lp = s.lp()
    return [lp.create_order(SYMBOL, "limit", "buy", "1", str(bid))["id"],
            lp.create_order(SYMBOL, "limit", "sell", "1", str(ask))["id"]]


def test_trades_only_when_the_edge_is_there_and_stays_within_its_limits(setup: Setup) -> None:
    s, bot = setup, setup.bot
    bot.start()
    tick = s.bot.venues["A"].market.tick
    # no edge: B quotes inside A's spread
    bid_a, ask_a = s.a_book()
    ids = _quote_b(s, bid_a + tick, ask_a - tick)
    for _ in range(3):
        bot.tick()
    assert s.orders(s.a, s.key_a) == [] and s.orders(s.b, s.key_b) == []
    assert all(e < Decimal("0.003") for e in bot.last_edge.values())
    for order_id in ids:
        s.lp().cancel_order(order_id, SYMBOL)

    # an edge: B's bid 1 % over A's ask, beyond 2 × 0.1 % taker fees + 0.3 %
    _, ask_a = s.a_book()
    bid_b = (ask_a * Decimal("1.01")).quantize(tick)
    ids = _quote_b(s, bid_b, bid_b * 2)
    for _ in range(12):
        bot.tick()
        pos = bot.exposure()
        assert pos["A"] <= MAX and pos["B"] >= -MAX
        assert bot.positions()["A"] <= pos["A"]
        if pos["A"] > MAX - Decimal("0.001"):
            break
    bought_a = s.traded(s.a, s.key_a, "buy")
    sold_b = s.traded(s.b, s.key_b, "sell")
    assert MAX - Decimal("0.001") < bought_a <= MAX  # it went to its limit, not beyond
    assert sold_b == bought_a
    assert s.traded(s.a, s.key_a, "sell") == 0 and s.traded(s.b, s.key_b, "buy") == 0
    pairs = bot.state.pairs()
    assert pairs and all(p.profit > 0 for p in pairs)
    client_a, client_b = spot_client(s.a, s.key_a), spot_client(s.b, s.key_b)
    market = bot.venues["A"].market
    for pair in pairs:
        buy, sell = bot.state.order(pair.first_oid), bot.state.order(pair.second_oid)
        assert buy is not None and sell is not None
        assert (buy.venue, sell.venue) == ("A", "B")
        expected = pair_profit(raw_fills(client_a, buy.order_id, "ETH"),
                               raw_fills(client_b, sell.order_id, "ETH"), market)
        assert pair.profit == expected
    assert bot.status().realised == sum((p.profit for p in pairs), Decimal(0))

    # at its limit it stops, though the edge is still there
    before = len(bot.state.orders())
    for _ in range(3):
        bot.tick()
    assert len(bot.state.orders()) == before

    # the edge gone (B back inside A's spread): selling on A / buying on B would be within
    # the limits now, but there is no edge that way either: nothing happens
    for order_id in ids:
        s.lp().cancel_order(order_id, SYMBOL)
    bid_a, ask_a = s.a_book()
    _quote_b(s, bid_a * Decimal("0.999"), ask_a * Decimal("1.001"))
    for _ in range(3):
        bot.tick()
    assert len(bot.state.orders()) == before


def test_runs_on_through_a_restart_of_one_server(setup: Setup) -> None:
    s, bot = setup, setup.bot
    stop = threading.Event()
    thread = threading.Thread(target=bot.run, args=(stop.is_set,), kwargs={"interval_s": 0.2})
    thread.start()
    try:
        time.sleep(1.0)
        s.b.kill()
        deadline = time.monotonic() + 20
        while not s.events.counts.get("backoff") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert s.events.counts.get("backoff"), "the bot did not notice the server going"
        s.b.start(same_port=True)
        tick = bot.venues["A"].market.tick
        _, ask_a = s.a_book()
        bid_b = (ask_a * Decimal("1.01")).quantize(tick)
        _quote_b(s, bid_b, bid_b * 2)
        deadline = time.monotonic() + 30
        while not s.events.counts.get("round") and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()
    assert s.events.counts.get("round"), f"no round after the restart: {list(s.events.recent)}"
    assert bot.status().realised > 0
    assert s.traded(s.b, s.key_b, "sell") <= MAX


def test_config_is_checked() -> None:
    assert parse_edge("0.3%") == Decimal("0.003")
    assert parse_edge("0.002") == Decimal("0.002")
    for bad in ("abc", "-1%", "150%", "nan"):
        with pytest.raises(ClientError):
            parse_edge(bad)
    with pytest.raises(ClientError, match="max-position"):
        ArbConfig(SYMBOL, Decimal(0), Decimal(0)).check()


def test_the_arb_command_shows_both_keys_and_reports_as_json(
    setup: Setup, tmp_path: Path
) -> None:
    from bot_support import bot_env, creds_env, invoke_bot

    env = bot_env(tmp_path, creds_env("a", setup.a, setup.key_a),
                  creds_env("b", setup.b, setup.key_b))
    args = ["arb", "--creds", "a", "--creds", "b", "--symbol", SYMBOL, "--min-edge", "0.3%",
            "--max-position", "0.05", "--state", str(tmp_path / "cli.sqlite"), "--interval",
            "0.1"]
    same = invoke_bot(env, *args[:3], "--creds", "a", *args[5:], "--json")
    assert same.returncode == 1 and "two different --creds" in same.stderr
    bad = invoke_bot(env, *[("lots" if a == "0.3%" else a) for a in args], "--json")
    assert bad.returncode == 1 and "--min-edge" in bad.stderr
    result = invoke_bot(env, *args, "--json", "--ticks", "2")
    assert result.returncode == 0, result.stderr
    assert "a (" in result.stderr and "b (" in result.stderr
    assert result.stderr.count("key permissions: read, spot trade") == 2
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["permissions"] for e in events if e["event"] == "key"] == [
        "read, spot trade", "read, spot trade"]
    assert events[2]["event"] == "started" and events[-1]["event"] == "stopped"
    assert events[-1]["rounds"] == 0  # B's book is empty: nothing to arbitrage
    panel = invoke_bot(env, *args, "--ticks", "1")
    assert panel.returncode == 0 and "arbitrage ETH/USDT" in panel.stdout
