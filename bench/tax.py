"""The tax lot engine on one million synthetic trades, beside a plain list-based FIFO.

Run as ``python bench/tax.py [--trades N] [--seed S] [--methods fifo,hifo] [--json]``.

Each method runs in a subprocess of its own, so its peak memory (``ru_maxrss``) is its
own: the worker builds the same seeded events (not timed), then times one pass of
``sealbook.client.tax.lots.run`` — the code ``sealbook tax report`` runs — over them.
The baseline is what one would write first: a Python list of lots per asset, consumed
with ``pop(0)``. Both FIFO runs must give the same basis for every disposal (checked
with a digest), or the script exits 1. Target: every method <= 3 s and < 1 GiB.

The mix: 20 assets, 55 % buys / 45 % sells (a sell never exceeds what is held, so no
disposal lacks basis), amounts 0.01-1 coin in steps of 10^-8, prices a random walk
around 100 USD with 8 decimals; exact integers in 10^-18 units throughout.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import random
import resource
import subprocess
import sys
import time
from typing import Any

from engine_bare import _cpu
from sealbook.client.tax.lots import ACQUIRE, DISPOSE, Event, run

ASSETS = 20
BUY_SHARE = 0.55
TARGET_S = 3.0
TARGET_BYTES = 1 << 30
UNIT = 10**10  # 10^-8 of a coin, in 10^-18 atoms
MIX = (
    f"{ASSETS} assets, {BUY_SHARE:.0%} buys / {1 - BUY_SHARE:.0%} sells never beyond "
    "holdings, 0.01-1 coin each, prices a random walk around 100 USD"
)


def events(n: int, seed: int) -> list[Event]:
    rng = random.Random(seed)
    held = [0] * ASSETS
    price = [100 * 10**8] * ASSETS  # USD per coin in 10^-8
    names = [f"C{i:02d}" for i in range(ASSETS)]
    out: list[Event] = []
    ts = 1_700_000_000_000
    for ref in range(n):
        ts += rng.randint(1, 60_000)
        a = rng.randrange(ASSETS)
        price[a] = max(10**8, price[a] + rng.randint(-10**7, 10**7))
        qty = rng.randint(10**6, 10**8) * UNIT
        if rng.random() >= BUY_SHARE and held[a] >= qty:
            held[a] -= qty
            kind = DISPOSE
        else:
            held[a] += qty
            kind = ACQUIRE
        value = qty * price[a] // 10**8  # USD atoms: qty atoms x USD per coin
        out.append((ts, kind, "bench", names[a], qty, value, ref))
    return out


def list_fifo(evs: list[Event]) -> list[int]:
    """The straightforward version: a list of [qty, cost] per asset, pop(0) when used up.
    Returns the basis of every disposal."""
    lots: dict[str, list[list[int]]] = {}
    bases: list[int] = []
    for _ts, kind, _wallet, asset, size, value, _ref in evs:
        queue = lots.setdefault(asset, [])
        if kind == ACQUIRE:
            queue.append([size, value])
            continue
        basis, qty = 0, size
        while qty and queue:
            lot = queue[0]
            if lot[0] <= qty:
                qty -= lot[0]
                basis += lot[1]
                queue.pop(0)
            else:
                part = lot[1] * qty // lot[0]
                lot[0] -= qty
                lot[1] -= part
                basis += part
                qty = 0
        bases.append(basis)
    return bases


def _digest(bases: list[int]) -> str:
    return hashlib.sha256(",".join(map(str, bases)).encode()).hexdigest()[:16]


def worker(method: str, n: int, seed: int) -> dict[str, Any]:
    evs = events(n, seed)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    start = time.perf_counter()
    if method == "list-fifo":
        bases = list_fifo(evs)
        disposals = len(bases)
    else:
        book = run(evs, method)
        elapsed = time.perf_counter() - start
        trail = book.trail
        bases = [sum(p[2] for p in trail[d[6]:d[7]]) for d in book.disposals]
        disposals = len(book.disposals)
    if method == "list-fifo":
        elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "method": method,
        "seconds": round(elapsed, 3),
        "peak_rss_bytes": peak,
        "rss_with_inputs_bytes": before,
        "disposals": disposals,
        "basis_digest": _digest(bases),
        "basis_total": str(sum(bases)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--methods", default="fifo,hifo", help="of fifo, lifo, hifo, acb")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.trades, args.seed)))
        return
    results = []
    for method in [*args.methods.split(","), "list-fifo"]:
        command = [sys.executable, __file__, "--worker", method.strip(),
                   "--trades", str(args.trades), "--seed", str(args.seed)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"{method} failed:\n{done.stderr}")
        results.append(json.loads(done.stdout))
    by = {r["method"]: r for r in results}
    agree = "fifo" not in by or by["fifo"]["basis_digest"] == by["list-fifo"]["basis_digest"]
    for r in results:
        r["verdict"] = (
            "PASS" if r["seconds"] <= TARGET_S and r["peak_rss_bytes"] < TARGET_BYTES else "MISS"
        )
    report = {
        "trades": args.trades,
        "seed": args.seed,
        "mix": MIX,
        "units": "seconds of one pass (inputs built beforehand, not timed); peak RSS of the "
                 "worker process in bytes, inputs included",
        "target": f"<= {TARGET_S} s and < 1 GiB per method",
        "fifo_matches_list_fifo": agree,
        "host": f"CPython {platform.python_version()} on {_cpu()}",
        "results": results,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"tax lot engine: {args.trades:,} trades, seed {args.seed}; {MIX}")
        print(f"host: {report['host']}; one subprocess per method")
        print(f"{'method':<10}{'seconds':>9}{'peak MiB':>10}{'inputs MiB':>12}"
              f"{'disposals':>11}  verdict (target <= {TARGET_S:g} s, < 1 GiB)")
        for r in results:
            print(f"{r['method']:<10}{r['seconds']:>9.2f}{r['peak_rss_bytes'] / 2**20:>10.0f}"
                  f"{r['rss_with_inputs_bytes'] / 2**20:>12.0f}{r['disposals']:>11,}  "
                  f"{r['verdict'] if r['method'] != 'list-fifo' else 'baseline'}")
        if "fifo" in by:
            ratio = by["fifo"]["seconds"] / by["list-fifo"]["seconds"]
            print(f"fifo / list-fifo time: {ratio:.2f}x; "
                  f"same basis for every disposal: {'yes' if agree else 'NO'}")
    if not agree:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
