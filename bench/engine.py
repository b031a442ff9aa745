"""The engine with holds and ledger postings beside the bare engine (and the whole core).

Run as ``python bench/engine.py [--commands N] [--seed S] [--rounds R] [--json]``.

Every side runs the same fixed-seed, cancel-heavy mix of ``bench/engine_bare.py`` on
BTCUSDT around its reference price, in the same process, alternating rounds; the figure
is the median commands per second of each. ``engine+ledger`` feeds the bare engine's own
``NewOrder`` objects through :class:`~sealbook.exchange.settlement.Settlement`: hold funds,
match, settle every fill and fee in the ledger, release holds, hand the log off and
compact it as the committer does. Target: engine+ledger at >= 0.5x the bare engine. The
whole core (parsing the decimal strings, validation, clientOids, order and fill records)
is printed beside them for information.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import random
import statistics
import time
from dataclasses import dataclass

from engine_bare import _cpu
from sealbook.engine import Engine, Force, NewOrder, Side
from sealbook.exchange.core import COMPACT_AFTER, ExchangeCore, PlaceRequest
from sealbook.exchange.settlement import Settlement
from sealbook.ledger import Ledger
from sealbook.markets import default_catalog
from sealbook.money import from_units

SYMBOL = "BTCUSDT"
USERS = 100


@dataclass(frozen=True, slots=True)
class Command:
    cancel_draw: float | None  # a cancel of a random live order, else an order below
    engine_order: NewOrder | None
    request: PlaceRequest | None
    passive: bool


def commands(n: int, seed: int) -> list[Command]:
    catalog = default_catalog()
    sym = catalog.symbol(SYMBOL)
    mid = sym.ref_ticks
    # The smallest order worth at least 2 USDT (the symbol's minimum value is 1 USDT).
    lot = max(sym.min_lots, -(-2 * 10**sym.size_places * 10**sym.price_places // mid))
    rng = random.Random(seed)
    out: list[Command] = []
    for order_id in range(1, n + 1):
        roll = rng.random()
        user = 1 + rng.randrange(USERS)
        if roll < 0.50:
            side = Side.BUY if rng.random() < 0.5 else Side.SELL
            offset = rng.randint(1, 20)
            price = mid - offset if side is Side.BUY else mid + offset
            lots = lot * rng.randint(1, 100)
            out.append(
                Command(
                    None,
                    NewOrder.limit(order_id, user, SYMBOL, side, price, lots),
                    PlaceRequest(
                        SYMBOL, side.value, "limit", sym.size_str(lots), sym.price_str(price)
                    ),
                    True,
                )
            )
        elif roll < 0.85:
            out.append(Command(rng.random(), None, None, False))
        else:
            side = Side.BUY if rng.random() < 0.5 else Side.SELL
            through = rng.randint(0, 5)
            price = mid + through if side is Side.BUY else mid - through
            lots = lot * rng.randint(1, 100)
            out.append(
                Command(
                    None,
                    NewOrder.limit(order_id, user, SYMBOL, side, price, lots, force=Force.IOC),
                    PlaceRequest(
                        SYMBOL, side.value, "limit", sym.size_str(lots), sym.price_str(price), "ioc"
                    ),
                    False,
                )
            )
    return out


def _as_served() -> None:
    """What ``ExchangeService.start`` does once start-up state is built: collect, then
    freeze it out of later collections. Done for both sides, so each is timed as it runs
    in the server."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def run_bare(cmds: list[Command]) -> float:
    engine = Engine()
    engine.add_symbol(SYMBOL)
    live: list[int] = []
    ts = 1_800_000_000_000
    _as_served()
    start = time.perf_counter()
    for cmd in cmds:
        ts += 1
        if cmd.engine_order is None:
            if live:
                index = int((cmd.cancel_draw or 0.0) * len(live))
                live[index], live[-1] = live[-1], live[index]
                engine.cancel(SYMBOL, live.pop())
        else:
            result = engine.place(cmd.engine_order, ts)
            if cmd.passive and result.resting_lots:
                live.append(cmd.engine_order.order_id)
    elapsed = time.perf_counter() - start
    engine.check_invariants()
    return len(cmds) / elapsed


def run_settlement(cmds: list[Command]) -> float:
    """The engine with holds, fills settled in the ledger, fees and releases: the same
    ``NewOrder`` objects as the bare side, through the :class:`Settlement` every order of the
    server goes through, with the ledger's log handed off and compacted as the core does."""
    catalog = default_catalog()
    sym = catalog.symbol(SYMBOL)
    engine = Engine()
    engine.add_symbol(SYMBOL)
    ledger = Ledger()
    settlement = Settlement(catalog, engine, ledger)
    for user in range(1, USERS + 1):
        ledger.deposit(f"u{user}usdt", user, "USDT", from_units(10**9))
        ledger.deposit(f"u{user}btc", user, "BTC", from_units(10**5))
    posted = ledger.last_seq
    live: list[int] = []
    ts = 1_800_000_000_000
    _as_served()
    start = time.perf_counter()
    for cmd in cmds:
        ts += 1
        order = cmd.engine_order
        if order is None:
            if live:
                index = int((cmd.cancel_draw or 0.0) * len(live))
                live[index], live[-1] = live[-1], live[index]
                settlement.cancel(SYMBOL, live.pop())
        else:
            result, _ = settlement.place(sym, order, ts)
            if cmd.passive and result.resting_lots:
                live.append(order.order_id)
        if ts % 2048 == 0:  # what drain() and committed() do with the log
            records = ledger.records(posted)
            posted = ledger.last_seq
            if records and ledger.kept >= COMPACT_AFTER:
                ledger.compact(posted)
    elapsed = time.perf_counter() - start
    problems = ledger.check_invariants() + settlement.check_invariants()
    if problems:
        raise SystemExit(f"settlement invariants broken: {problems[:3]}")
    return len(cmds) / elapsed


def run_core(cmds: list[Command]) -> float:
    core = ExchangeCore(default_catalog())
    for user in range(1, USERS + 1):
        core.deposit(user, "USDT", None, from_units(10**9), "bench", 0)
        core.deposit(user, "BTC", None, from_units(10**5), "bench", 0)
    core.drain()
    live: list[tuple[int, int]] = []
    ts = 1_800_000_000_000
    _as_served()
    start = time.perf_counter()
    for cmd in cmds:
        ts += 1
        if cmd.request is None:
            if live:
                index = int((cmd.cancel_draw or 0.0) * len(live))
                live[index], live[-1] = live[-1], live[index]
                user, order_id = live.pop()
                found = core.find(user, order_id=order_id)  # closed ones leave memory
                if found is not None and found.is_open:
                    core.cancel(user, SYMBOL, ts, order_id=order_id)
        else:
            assert cmd.engine_order is not None
            order = core.place(cmd.engine_order.user_id, cmd.request, ts)
            if cmd.passive and order.is_open:
                live.append((order.user_id, order.order_id))
        if ts % 2048 == 0:
            core.committed(core.drain())  # what the committer does; keeps memory flat
    elapsed = time.perf_counter() - start
    problems = core.check_invariants()
    if problems:
        raise SystemExit(f"core invariants broken: {problems[:3]}")
    return len(cmds) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    cmds = commands(args.commands, args.seed)
    bare: list[float] = []
    money: list[float] = []
    core: list[float] = []
    for _ in range(args.rounds):
        bare.append(run_bare(cmds))
        money.append(run_settlement(cmds))
        core.append(run_core(cmds))
    b, m, c = statistics.median(bare), statistics.median(money), statistics.median(core)
    ratio = m / b
    report = {
        "commands": args.commands,
        "seed": args.seed,
        "mix": "50% passive limit / 35% cancel / 15% IOC crossing, 100 users, BTCUSDT",
        "bare_commands_per_s": round(b),
        "settlement_commands_per_s": round(m),
        "ratio": round(ratio, 3),
        "target": ">= 0.5",
        "verdict": "PASS" if ratio >= 0.5 else "MISS",
        "money_us_per_command": round(1e6 / m - 1e6 / b, 2),
        "matching_us_per_command": round(1e6 / b, 2),
        "core_commands_per_s": round(c),
        "core_ratio": round(c / b, 3),
        "host": f"CPython {platform.python_version()} on {_cpu()}",
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"engine benchmark: {report['mix']}, {args.commands:,} commands, seed {args.seed}")
    print(f"host: {report['host']}; median of {args.rounds} alternating rounds")
    print(f"bare engine        {b:>10,.0f} commands/s")
    print(
        f"engine+ledger      {m:>10,.0f} commands/s   ratio {ratio:.2f}x  "
        f"target >= 0.5x  {report['verdict']}"
    )
    print(
        f"(info) money on top of matching: {report['money_us_per_command']} us per command "
        f"(0.5x allows {report['matching_us_per_command']} us, the bare engine's own time)"
    )
    print(
        f"(info) whole core  {c:>10,.0f} commands/s   ratio {c / b:.2f}x  "
        "(+ wire parsing, validation, clientOids, order and fill records)"
    )

if __name__ == "__main__":
    main()
