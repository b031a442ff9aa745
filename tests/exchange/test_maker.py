"""The demo market maker: its pure decisions, a run on a real core, and ``serve --demo``.

Prices are ticks. BTCUSDT's catalog price is 104000 ticks (a tick is 1 USDT), so the grid
is 52 ticks (0.05 %) and half the minimum spread 52 ticks: around a reference of 104000
the maker bids 103948, 103896, ... and asks 104052, 104104, ...
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import IO

import httpx
import pytest

import sealbook.exchange.service as service_module
from fixtures.services import cli_env, run_cli
from sealbook.engine import OrderStatus, Side
from sealbook.errors import InsufficientBalance, ServiceUnavailable
from sealbook.exchange.context import Context
from sealbook.exchange.core import Changes, ExchangeCore, PlaceRequest
from sealbook.exchange.ledgercheck import check_database
from sealbook.exchange.maker import Maker, MakerBot, MakerConfig, Plan, Resting, run_maker
from sealbook.exchange.service import ExchangeService
from sealbook.markets import default_catalog
from sealbook.money import ATOMS_PER_UNIT, parse_atoms
from sealbook.store.db import make_engine, migrate
from sealbook.store.exchange import load_core, persist

CATALOG = default_catalog()
TOP = CATALOG.top_symbols(20)
BTC = CATALOG.symbol("BTCUSDT")
MAKER, TAKER, DEMO = 1, 2, 3
T0 = 1_800_000_000_000
SEED = 42


def quotes(plan: Plan, side: Side) -> list[int]:
    return [q.price_ticks for q in plan.place if q.side is side]


# --- pure decisions ------------------------------------------------------------------------


def test_twenty_usdt_symbols_are_quoted() -> None:
    assert len(TOP) == 20
    assert [s.symbol for s in TOP[:3]] == ["BTCUSDT", "ETHUSDT", "XRPUSDT"]
    assert all(s.quote == "USDT" for s in TOP)


def test_fresh_quotes_straddle_the_reference_on_the_grid() -> None:
    maker = Maker([BTC], SEED)

    plan = maker.plan(BTC, 104_000, [])

    assert plan.cancel == ()
    assert quotes(plan, Side.BUY) == [103_948, 103_896, 103_844, 103_792, 103_740]
    assert quotes(plan, Side.SELL) == [104_052, 104_104, 104_156, 104_208, 104_260]
    for quote in plan.place:
        value = BTC.quote_atoms(quote.price_ticks, quote.size_lots)
        assert value >= parse_atoms(BTC.min_trade_usdt)
        assert BTC.min_lots <= quote.size_lots <= BTC.max_lots


def test_every_top_symbol_gets_five_levels_a_side_around_any_reference() -> None:
    maker = Maker(TOP, SEED)
    for sym in TOP:
        for ref in (sym.ref_ticks, sym.ref_ticks * 3 // 2, sym.ref_ticks * 2 // 3 + 7):
            plan = maker.plan(sym, ref, [])
            bids, asks = quotes(plan, Side.BUY), quotes(plan, Side.SELL)
            assert len(bids) == len(asks) == 5
            assert max(bids) < ref < min(asks)
            # The spread is at least 0.1 % of the reference (half of it each side).
            half = ref * 1_000 // 2_000_000
            assert ref - max(bids) >= half
            assert min(asks) - ref >= half
            assert min(asks) - max(bids) <= 2 * half + 2 * maker.grid(sym)


def test_sizes_grow_with_the_level_and_stay_a_few_times_the_unit() -> None:
    config = MakerConfig()
    maker = Maker([BTC], SEED, config)
    plan = maker.plan(BTC, 104_000, [])
    for side in (Side.BUY, Side.SELL):
        for level, quote in enumerate(q for q in plan.place if q.side is side):
            value = BTC.quote_atoms(quote.price_ticks, quote.size_lots)
            low = config.size_unit_usdt * config.min_size_mult * (level + 1) * ATOMS_PER_UNIT
            high = config.size_unit_usdt * config.max_size_mult * (level + 1) * ATOMS_PER_UNIT
            # Rounded up to whole lots (10^-7 BTC, about 0.01 USDT here).
            assert low <= value < high + BTC.quote_atoms(quote.price_ticks, 1)


def test_decisions_are_reproducible_from_the_seed() -> None:
    def run(seed: int) -> list[object]:
        maker = Maker(TOP, seed)
        seen: list[object] = []
        for _ in range(30):
            for sym in TOP:
                ref = maker.move(sym.symbol)
                seen.extend([ref, maker.plan(sym, ref, []), maker.cross(sym, ref - 5, ref + 5)])
        return seen

    assert run(SEED) == run(SEED)
    assert run(SEED) != run(SEED + 1)


def test_the_walk_moves_in_small_integer_steps_and_stays_in_range() -> None:
    maker = Maker([BTC], SEED)
    previous = maker.reference("BTCUSDT")
    seen = set()
    for _ in range(2_000):
        ref = maker.move("BTCUSDT")
        assert isinstance(ref, int)
        # walk_ppm 200: at most 20 ticks a step, plus the pull back (under 1 tick here).
        assert abs(ref - previous) <= 21
        assert 10_400 <= ref <= 1_040_000
        seen.add(ref)
        previous = ref
    assert len(seen) > 50  # it does move


def test_orders_on_wanted_prices_stay_and_stale_ones_are_cancelled() -> None:
    maker = Maker([BTC], SEED)
    resting = [
        Resting(11, Side.BUY, 103_948),  # a wanted level: stays
        Resting(12, Side.BUY, 103_948),  # a second order on that level: cancelled
        Resting(13, Side.BUY, 103_950),  # off the grid: cancelled
        Resting(14, Side.SELL, 104_104),  # a wanted level: stays
        Resting(15, Side.SELL, 103_000),  # an ask below the reference: cancelled
        Resting(16, Side.BUY, 104_052),  # a bid where an ask belongs: cancelled
        Resting(17, Side.BUY, 103_000),  # below the five levels: cancelled
    ]

    plan = maker.plan(BTC, 104_000, resting)

    assert plan.cancel == (12, 13, 15, 16, 17)
    assert quotes(plan, Side.BUY) == [103_896, 103_844, 103_792, 103_740]
    assert quotes(plan, Side.SELL) == [104_052, 104_156, 104_208, 104_260]


def test_after_a_move_only_the_levels_that_changed_are_requoted() -> None:
    maker = Maker([BTC], SEED)
    first = maker.plan(BTC, 104_000, [])
    resting = [Resting(i, q.side, q.price_ticks) for i, q in enumerate(first.place, 1)]

    # Up by one grid step: the lowest bid and the best ask go; one level is added per side.
    plan = maker.plan(BTC, 104_052, resting)

    by_id = {r.order_id: r for r in resting}
    assert [(by_id[i].side, by_id[i].price_ticks) for i in plan.cancel] == [
        (Side.BUY, 103_740),
        (Side.SELL, 104_052),
    ]
    assert [(q.side, q.price_ticks) for q in plan.place] == [
        (Side.BUY, 104_000),
        (Side.SELL, 104_312),
    ]

    # Between grid steps (104026: bids from 103948, asks from 104104), a small move
    # changes nothing.
    middle = maker.plan(BTC, 104_026, [])
    resting = [Resting(i, q.side, q.price_ticks) for i, q in enumerate(middle.place, 1)]
    assert quotes(middle, Side.BUY)[0] == 103_948
    assert quotes(middle, Side.SELL)[0] == 104_104
    assert maker.plan(BTC, 104_001, resting) == Plan((), ())
    assert maker.plan(BTC, 104_051, resting) == Plan((), ())


def test_own_quotes_never_cross_whatever_was_resting() -> None:
    maker = Maker(TOP, SEED)
    resting: dict[str, list[Resting]] = {s.symbol: [] for s in TOP}
    next_id = 1
    for _ in range(200):
        for sym in TOP:
            ref = maker.move(sym.symbol)
            plan = maker.plan(sym, ref, resting[sym.symbol])
            kept = [r for r in resting[sym.symbol] if r.order_id not in plan.cancel]
            for quote in plan.place:
                kept.append(Resting(next_id, quote.side, quote.price_ticks))
                next_id += 1
            bids = [r.price_ticks for r in kept if r.side is Side.BUY]
            asks = [r.price_ticks for r in kept if r.side is Side.SELL]
            assert len(bids) == len(asks) == 5
            assert max(bids) < ref < min(asks)
            resting[sym.symbol] = kept


def test_crossing_orders_take_the_best_price_on_the_other_side() -> None:
    maker = Maker([BTC], SEED, MakerConfig(cross_per_mille=1000))
    crosses = [maker.cross(BTC, 103_948, 104_052) for _ in range(50)]

    assert all(c is not None for c in crosses)
    sides = {c.side for c in crosses if c is not None}
    assert sides == {Side.BUY, Side.SELL}
    for c in crosses:
        assert c is not None
        assert c.price_ticks == (104_052 if c.side is Side.BUY else 103_948)
        value = BTC.quote_atoms(c.price_ticks, c.size_lots)
        assert 25 * ATOMS_PER_UNIT <= value < 101 * ATOMS_PER_UNIT
    assert maker.cross(BTC, None, None) is None
    assert Maker([BTC], SEED, MakerConfig(cross_per_mille=0)).cross(BTC, 1, 2) is None


def test_only_usdt_pairs_and_sane_settings() -> None:
    with pytest.raises(ValueError, match="USDT pairs only"):
        Maker([CATALOG.symbol("ETHBTC")], SEED)
    with pytest.raises(ValueError):
        MakerConfig(levels=0)
    with pytest.raises(ValueError):
        MakerConfig(min_size_mult=5, max_size_mult=2)
    with pytest.raises(ValueError):
        MakerBot(Maker([BTC], SEED), 7, 7)


# --- on a real core ------------------------------------------------------------------------


def book_sides(core: ExchangeCore, symbol: str) -> tuple[int, int]:
    bids, asks = core.engine.depth(symbol, 100)
    return len(bids), len(asks)


def test_steps_on_a_real_core_keep_it_sound_and_every_book_two_sided() -> None:
    core = ExchangeCore(CATALOG)
    bot = MakerBot(Maker(TOP, SEED), MAKER, TAKER)
    # The demo user's order far below the market: the maker must leave it alone.
    core.deposit(DEMO, "USDT", None, parse_atoms("1000"), "demo", T0)
    mine = core.place(DEMO, PlaceRequest("BTCUSDT", "buy", "limit", "0.001", "52000"), T0)

    trades = 0
    for step in range(60):
        report = bot.step(core, T0 + step * 1000)
        assert report.errors == []
        assert core.check_invariants() == []
        trades += len(core.drain().trades)
        for sym in TOP:
            # A crossing IOC order may have taken one level since the maker quoted.
            bids, asks = book_sides(core, sym.symbol)
            assert bids >= 4, sym.symbol
            assert 4 <= asks <= 5, sym.symbol
            assert 9 <= len(core.open_orders(MAKER, sym.symbol)) <= 10

    assert trades > 0
    assert core.last_price  # candles and tickers have something to show
    assert mine.status is OrderStatus.LIVE
    assert mine.filled_lots == 0
    assert core.open_orders(DEMO) == [mine]
    # Funded on the first step with about a million USDT of every coin, once.
    assert core.ledger.available(MAKER, "USDT") + core.ledger.frozen(MAKER, "USDT") > (
        parse_atoms("900000")
    )


def test_a_refused_command_is_reported_and_the_rest_goes_on() -> None:
    core = ExchangeCore(CATALOG)
    bot = MakerBot(Maker(TOP, SEED, MakerConfig(cross_per_mille=0)), MAKER, TAKER)
    place = core.place

    def refuse_btc(user_id: int, req: PlaceRequest, now_ms: int) -> object:
        if req.symbol == "BTCUSDT":
            raise InsufficientBalance()
        return place(user_id, req, now_ms)

    core.place = refuse_btc  # type: ignore[method-assign,assignment]
    report = bot.step(core, T0)

    assert len(report.errors) == 10
    assert all(e.startswith("quote BTCUSDT ") and "43012" in e for e in report.errors)
    assert book_sides(core, "BTCUSDT") == (0, 0)
    assert all(book_sides(core, s.symbol) == (5, 5) for s in TOP[1:])
    assert core.check_invariants() == []

    core.place = place  # type: ignore[method-assign]
    assert bot.step(core, T0 + 1000).errors == []
    assert book_sides(core, "BTCUSDT") == (5, 5)


def test_after_a_restart_it_carries_on_with_the_orders_it_left(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'maker.db'}")
    migrate(engine)
    try:
        core = ExchangeCore(CATALOG)
        bot = MakerBot(Maker(TOP, SEED), MAKER, TAKER)
        for step in range(10):
            bot.step(core, T0 + step * 1000)
            with engine.begin() as conn:
                persist(conn, core.drain())
        before = {o.order_id for o in core.open_orders(MAKER)}

        traded = dict(core.last_price)
        assert traded  # some symbols traded: the new maker starts from their last prices

        restored = load_core(engine, CATALOG, T0 + 10_000)
        again = MakerBot(Maker(TOP, SEED + 1, MakerConfig(cross_per_mille=0)), MAKER, TAKER)
        again.step(restored, T0 + 11_000)

        assert restored.check_invariants() == []
        for symbol, last in traded.items():
            reach = last * 200 // 1_000_000 + 1  # one step of the walk
            assert abs(again.maker.reference(symbol) - last) <= reach, symbol
        # It picked up its own open orders: no level is quoted twice.
        after = restored.open_orders(MAKER)
        for sym in TOP:
            levels = [(o.side, o.price_ticks) for o in after if o.symbol == sym.symbol]
            assert len(levels) == len(set(levels)) == 10, sym.symbol
        kept = before & {o.order_id for o in after}
        assert len(kept) > 100  # most levels did not need to move in one step
    finally:
        engine.dispose()


def test_the_maker_keeps_going_through_a_failed_commit(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A commit fails; while the core reloads, commands are refused (before the fix they
    were applied to the old core and waited for a commit count that had restarted: the
    maker hung, and a later commit could acknowledge a command that was lost); then the
    maker carries on, and what was committed is a sound ledger with two-sided books."""
    service = ExchangeService(ctx, CATALOG)
    writes = 0
    write = service._write

    def flaky_write(changes: Changes, done: list[tuple[int, str, int]]) -> None:
        nonlocal writes
        writes += 1
        if writes == 3:
            raise OSError("disk full")
        write(changes, done)

    reloading, resume = threading.Event(), threading.Event()
    load = service_module.load_core

    def slow_load(*args: object) -> ExchangeCore:
        reloading.set()
        resume.wait(30)
        return load(*args)  # type: ignore[arg-type]

    service._write = flaky_write  # type: ignore[method-assign]
    monkeypatch.setattr(service_module, "load_core", slow_load)
    bot = MakerBot(Maker(TOP, SEED), MAKER, TAKER)
    deposit = parse_atoms("1")

    async def scenario() -> None:
        await service.start()
        task = asyncio.create_task(run_maker(service, bot, ctx.clock, interval_s=0.02))
        try:
            assert await asyncio.to_thread(reloading.wait, 30)
            refused = service.run(lambda core: core.deposit(DEMO, "USDT", None, deposit, "x", T0))
            with pytest.raises(ServiceUnavailable):
                await asyncio.wait_for(refused, 10)
            resume.set()
            deadline = time.monotonic() + 30
            while writes < 10 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        finally:
            resume.set()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await service.stop()

    asyncio.run(scenario())

    assert writes >= 10
    assert check_database(ctx.engine, CATALOG).violations == ()
    stored = load_core(ctx.engine, CATALOG, T0)
    assert stored.check_invariants() == []
    assert stored.ledger.available(DEMO, "USDT") == 0
    for sym in TOP:
        bids, asks = book_sides(stored, sym.symbol)
        assert bids >= 4, sym.symbol
        assert asks >= 4, sym.symbol


# --- serve --demo ----------------------------------------------------------------------------

STARTUP_S = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class DemoServer:
    """``sealbook serve --demo`` in a subprocess, its output in a file."""

    def __init__(self, home: Path, log_path: Path) -> None:
        self.home = home
        self.log_path = log_path
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._log: IO[bytes] = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sealbook.cli.main", "serve", "--demo", *self._where()],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**cli_env(), "PYTHONUNBUFFERED": "1"},
        )

    def _where(self) -> list[str]:
        return ["--home", str(self.home), "--port", str(self.port)]

    def wait_until_serving(self) -> None:
        deadline = time.monotonic() + STARTUP_S
        with httpx.Client(timeout=2.0) as http:
            while time.monotonic() < deadline:
                assert self.process.poll() is None, self.output()
                try:
                    if http.get(f"{self.base_url}/api/v2/public/time").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        raise TimeoutError(f"serve --demo did not answer in {STARTUP_S} s:\n{self.output()}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(15)
        self._log.close()


def _maker_books(home: Path) -> dict[str, set[str]]:
    """symbol → sides with open demo-maker orders, read from the database."""
    conn = sqlite3.connect(home / "sealbook.db")
    try:
        rows = conn.execute(
            "SELECT o.symbol, o.side FROM orders o JOIN users u ON u.id = o.user_id "
            "WHERE u.name = 'demo-maker' AND o.status IN ('live', 'partially_filled')"
        ).fetchall()
    finally:
        conn.close()
    books: dict[str, set[str]] = {}
    for symbol, side in rows:
        books.setdefault(symbol, set()).add(side)
    return books


def _demo_user_deposits(home: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(home / "sealbook.db")
    try:
        return conn.execute(
            "SELECT d.coin, d.amount FROM deposits d JOIN users u ON u.id = d.user_id "
            "WHERE u.name = 'demo' ORDER BY d.deposit_id"
        ).fetchall()
    finally:
        conn.close()


@pytest.mark.e2e
def test_serve_demo_funds_the_demo_user_and_keeps_books_moving(tmp_path: Path) -> None:
    demo_home = tmp_path / "demo-home"
    first = DemoServer(demo_home, tmp_path / "first.log")
    try:
        first.wait_until_serving()
        deadline = time.monotonic() + 30
        books = _maker_books(demo_home)
        while time.monotonic() < deadline and (
            len(books) < 20 or any(sides != {"buy", "sell"} for sides in books.values())
        ):
            time.sleep(0.2)
            books = _maker_books(demo_home)
        assert sorted(books) == sorted(s.symbol for s in TOP)
        assert all(sides == {"buy", "sell"} for sides in books.values())

        reply = httpx.get(
            f"{first.base_url}/api/v2/spot/market/orderbook", params={"symbol": "BTCUSDT"}
        ).json()
        assert reply["code"] == "00000"
        bids, asks = reply["data"]["bids"], reply["data"]["asks"]
        assert len(bids) >= 4
        assert len(asks) >= 4
        assert Decimal(bids[0][0]) < Decimal(asks[0][0])
    finally:
        first.stop()
    banner = first.output()

    assert banner.count("These credentials are shown ONCE") == 1
    assert "balances: 100000 USDT, 1 BTC, 10 ETH, 1000 BGB" in banner
    assert f"{first.base_url}/console" in banner
    assert "import ccxt" in banner
    secret = re.search(r"secret key: ([0-9a-f]{64})", banner)
    assert secret is not None
    assert _demo_user_deposits(demo_home) == [
        ("USDT", str(parse_atoms("100000"))),
        ("BTC", str(parse_atoms("1"))),
        ("ETH", str(parse_atoms("10"))),
        ("BGB", str(parse_atoms("1000"))),
    ]

    second = DemoServer(demo_home, tmp_path / "second.log")
    try:
        second.wait_until_serving()
    finally:
        second.stop()
    again = second.output()
    assert "These credentials are shown ONCE" not in again
    assert "secret key" not in again
    assert secret.group(1) not in again
    assert "Demo mode: the demo account exists" in again
    assert len(_demo_user_deposits(demo_home)) == 4  # funded once

    check = run_cli(["ledger", "check", "--json", "--home", str(demo_home)], env=cli_env())
    assert check.returncode == 0, check.stdout
    assert '"ok": true' in check.stdout
