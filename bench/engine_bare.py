"""The bare matching engine: commands per second with no ledger, store or API around it.

Run as ``python bench/engine_bare.py [--commands N] [--seed S]``. One symbol, mid price
10,000 ticks, 100 users, a fixed-seed, cancel-heavy mix:

* 50 % place a GTC limit order 1-20 ticks off the mid on its passive side (1-100 lots);
* 35 % cancel a random order the driver still believes live (it may have filled since:
  then the cancel finds nothing, which is a real cancel's cost too);
* 15 % take liquidity: a third each IOC limit buys and sells 0-5 ticks through the mid,
  market buys (budget 50 lots at the mid) and market sells (1-50 lots).

Every command is generated before the clock starts, so the figure is the engine's alone:
``place``/``cancel`` calls per second of wall time on one core. The full benchmark beside
the ledger-backed core comes later.
"""

from __future__ import annotations

import argparse
import platform
import random
import time
from pathlib import Path

from sealbook.engine import Engine, Force, NewOrder, Side

SYMBOL = "BTCUSDT"
MID = 10_000
USERS = 100

_PLACE = 0
_CANCEL = 1
_TAKE = 2


def _commands(n_commands: int, seed: int) -> list[tuple[int, NewOrder | None, float]]:
    """``(kind, order or None, uniform draw for picking a cancel victim)`` per command."""
    rng = random.Random(seed)
    out: list[tuple[int, NewOrder | None, float]] = []
    for order_id in range(1, n_commands + 1):
        roll = rng.random()
        user = rng.randrange(USERS)
        if roll < 0.50:
            side = Side.BUY if rng.random() < 0.5 else Side.SELL
            offset = rng.randint(1, 20)
            price = MID - offset if side is Side.BUY else MID + offset
            order = NewOrder.limit(order_id, user, SYMBOL, side, price, rng.randint(1, 100))
            out.append((_PLACE, order, 0.0))
        elif roll < 0.85:
            out.append((_CANCEL, None, rng.random()))
        else:
            pick = rng.random()
            through = rng.randint(0, 5)
            if pick < 1 / 3:
                side = Side.BUY if rng.random() < 0.5 else Side.SELL
                price = MID + through if side is Side.BUY else MID - through
                order = NewOrder.limit(
                    order_id, user, SYMBOL, side, price, rng.randint(1, 100), force=Force.IOC
                )
            elif pick < 2 / 3:
                order = NewOrder.market_buy(order_id, user, SYMBOL, 50 * MID)
            else:
                order = NewOrder.market_sell(order_id, user, SYMBOL, rng.randint(1, 50))
            out.append((_TAKE, order, 0.0))
    return out


def run_bare(n_commands: int, seed: int) -> float:
    """Drive a fresh engine with ``n_commands`` commands; return commands per second."""
    commands = _commands(n_commands, seed)
    engine = Engine()
    engine.add_symbol(SYMBOL)
    place = engine.place
    cancel = engine.cancel
    live: list[int] = []
    ts = 1_800_000_000_000
    start = time.perf_counter()
    for kind, order, draw in commands:
        ts += 1
        if kind == _CANCEL:
            if live:
                index = int(draw * len(live))
                live[index], live[-1] = live[-1], live[index]
                cancel(SYMBOL, live.pop())
        else:
            assert order is not None
            result = place(order, ts)
            if kind == _PLACE and result.resting_lots:
                live.append(order.order_id)
    elapsed = time.perf_counter() - start
    engine.check_invariants()
    return n_commands / elapsed


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rate = run_bare(args.commands, args.seed)
    print(
        f"engine_bare: {rate:,.0f} commands/s "
        f"({args.commands:,} commands, seed {args.seed}, mix 50% place / 35% cancel / "
        f"15% IOC+market; CPython {platform.python_version()} on {_cpu()})"
    )


if __name__ == "__main__":
    main()
