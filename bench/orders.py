"""Orders over HTTP with durability on: place + cancel pairs beside the signed GET.

One ``sealbook serve`` process (SQLite in WAL mode with ``synchronous=FULL``, the default:
a place or cancel is answered only after the transaction carrying it was fsynced), loaded
from separate client processes (asyncio on raw sockets, every request signed afresh), in
one run on one machine:

1. Maximum throughput, closed loop: each connection places a resting limit order and
   cancels it, again and again. The figure is orders per second (placements; requests per
   second are twice that). Baseline: the signed ``GET /api/v2/spot/account/assets`` of
   bench/auth.py on the same server, same client, same connections, in requests per
   second. Target: at least 1,500 orders per second.
2. Latency at half that rate, open loop: placements are sent on a fixed schedule at half
   the median maximum, each followed by its cancel on the same connection; latency counts
   from the scheduled send time, so a stall is not hidden by the client waiting for it.
   Baseline: the signed GET paced at the same request rate. Target: place-order p99 at
   most 50 ms.

Every run also reports the server's CPU per request, split between its event loop and
its other threads (the committer's writes), and the server's garbage-collection pauses
(the server runs with a ``gc.callbacks`` logger unless ``--no-gc-log``). ``--py-spy N``
profiles the server afterwards during two more maximum runs of N seconds.

Run ``.venv/bin/python bench/orders.py [--quick] [--json] [--py-spy 5]``. It prints a
report and exits 0 whatever the verdicts; it exits 1 when something broke (a server that
does not start, a refused request, a lost connection). See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import hmac
import json
import multiprocessing as mp
import os
import platform
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from auth import (
    HOST,
    PRIVATE_PATH,
    PUBLIC_PATH,
    BenchError,
    Server,
    _cpu_model,
    _version,
    cpu_seconds,
    free_port,
    log,
    settings_for,
    verdict,
)
from sealbook.exchange.accounts import AccountService
from sealbook.exchange.apikeys import KeyService, KeySpec
from sealbook.exchange.context import Context, open_context
from sealbook.exchange.inbox import submit_command
from sealbook.keys import totp
from sealbook.keys.permissions import Permission
from sealbook.keys.schemes import KeyType
from sealbook.markets import default_catalog
from sealbook.store.db import make_engine

PLACE_PATH = "/api/v2/spot/trade/place-order"
CANCEL_PATH = "/api/v2/spot/trade/cancel-order"
SYMBOL = "BTCUSDT"
MID = 104_000  # BTCUSDT's reference price, in whole-USDT ticks
USERS = 8
PASSWORD = "bench-password-1"  # throwaway users in a temporary home
FUNDS = (("USDT", "10000000"), ("BTC", "100"))
RATE_LIMIT_FACTOR = "100000"  # the limiter runs on every request but never refuses
TARGET_ORDERS_PER_S = 1_500.0
TARGET_P99_MS = 50.0
MAX_RUN_S = 10  # a run's requests are signed as they go, so this only bounds the time
REQUEST_TIMEOUT_S = 10.0


# --- the accounts ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Creds:
    api_key: str
    secret: str
    passphrase: str


def make_traders(ctx: Context, home: Path, n: int) -> list[Creds]:
    """``n`` users, each with confirmed TOTP, one HMAC key (read + spot trade, bound to
    loopback) and funds, through the real services, before the server starts."""
    accounts = AccountService(ctx)
    keys = KeyService(ctx, accounts)
    catalog = default_catalog()
    found: list[Creds] = []
    for i in range(n):
        name = f"trader{i}"
        user_id = accounts.create_user(name, PASSWORD)
        seed = accounts.totp_enroll(name).secret
        step = totp.step_of(ctx.clock.now_ms())
        accounts.totp_confirm(name, totp.code_at(seed, step))
        passphrase = f"BenchPass{i}x"
        created = keys.create(
            name,
            KeySpec(
                label="bench",
                key_type=KeyType.HMAC,
                permissions=frozenset({Permission.READ, Permission.SPOT_TRADE}),
                ips=(HOST,),
            ),
            passphrase,
            totp.code_at(seed, step + 1),  # a code is good once; the next step's is valid
        )
        if created.secret is None:
            raise BenchError("an HMAC key came back without a secret")
        for coin, amount in FUNDS:  # no server runs yet: applied directly, committed
            submit_command(
                ctx.engine,
                home,
                catalog,
                "deposit",
                {"user_id": user_id, "coin": coin, "amount": amount},
                ctx.clock.now_ms(),
            )
        found.append(Creds(created.record.api_key, created.secret, passphrase))
    return found


# --- the load generator (runs in the client processes) --------------------------------


class Refused(Exception):
    pass


class Client:
    """One keep-alive HTTP/1.1 connection that signs every request (BITGET_WIRE §1.2)."""

    def __init__(self, port: int, creds: Creds) -> None:
        self.port = port
        self.key = creds.api_key.encode()
        self.secret = creds.secret.encode()
        self.passphrase = creds.passphrase.encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

    async def call(self, method: bytes, path: bytes, body: bytes = b"") -> dict[str, Any]:
        assert self.reader is not None and self.writer is not None
        ts = str(time.time_ns() // 1_000_000).encode()
        sign = base64.b64encode(hmac.digest(self.secret, ts + method + path + body, "sha256"))
        head = b"".join(
            (
                method,
                b" ",
                path,
                b" HTTP/1.1\r\nHost: 127.0.0.1\r\nACCESS-KEY: ",
                self.key,
                b"\r\nACCESS-SIGN: ",
                sign,
                b"\r\nACCESS-TIMESTAMP: ",
                ts,
                b"\r\nACCESS-PASSPHRASE: ",
                self.passphrase,
                b"\r\nContent-Type: application/json\r\nlocale: en-US\r\nContent-Length: ",
                str(len(body)).encode(),
                b"\r\n\r\n",
            )
        )
        self.writer.write(head + body)
        reply_head = await self.reader.readuntil(b"\r\n\r\n")
        at = reply_head.lower().find(b"content-length:")
        if at < 0:
            raise BenchError(f"a reply without Content-Length: {reply_head[:200]!r}")
        length = int(reply_head[at + 15 : reply_head.index(b"\r\n", at)])
        reply = await self.reader.readexactly(length)
        envelope: dict[str, Any] = json.loads(reply)
        if reply_head[9:12] != b"200" or envelope.get("code") != "00000":
            raise Refused(
                f"{method.decode()} {path.decode()}: {reply_head[9:12]!r} {reply[:200]!r}"
            )
        return envelope


class OrderMaker:
    """Resting limit orders that never cross: buys below the middle, sells above."""

    def __init__(self, tag: str, seed: int) -> None:
        self.tag = tag
        self.rng = random.Random(seed)
        self.n = 0

    def place_body(self) -> bytes:
        self.n += 1
        rng = self.rng
        if rng.random() < 0.5:
            side, price = "buy", MID - rng.randint(1, 100)
        else:
            side, price = "sell", MID + rng.randint(1, 100)
        size = f"0.000{rng.randint(1, 5)}"
        return (
            f'{{"symbol":"{SYMBOL}","side":"{side}","orderType":"limit","force":"gtc",'
            f'"price":"{price}","size":"{size}","clientOid":"{self.tag}x{self.n}"}}'
        ).encode()


def cancel_body(order_id: str) -> bytes:
    return f'{{"symbol":"{SYMBOL}","orderId":"{order_id}"}}'.encode()


async def place_and_cancel(client: Client, maker: OrderMaker, lat: list[float]) -> None:
    """One pair; appends both latencies (ms) to ``lat``: the place's, then the cancel's."""
    start = time.perf_counter()
    placed = await client.call(b"POST", PLACE_PATH.encode(), maker.place_body())
    mid = time.perf_counter()
    await client.call(b"POST", CANCEL_PATH.encode(), cancel_body(placed["data"]["orderId"]))
    end = time.perf_counter()
    lat.append((mid - start) * 1000)
    lat.append((end - mid) * 1000)


async def _run_max(job: dict[str, Any], clients: list[Client]) -> dict[str, Any]:
    deadline = time.perf_counter() + job["duration_s"]
    place_ms: list[float] = []
    cancel_ms: list[float] = []
    get_ms: list[float] = []
    path = PRIVATE_PATH.encode()

    async def orders(i: int, client: Client) -> None:
        maker = OrderMaker(f"{job['tag']}w{job['worker']}c{i}", job["seed"] * 1000 + i)
        pair: list[float] = []
        while time.perf_counter() < deadline:
            await place_and_cancel(client, maker, pair)
        place_ms.extend(pair[0::2])
        cancel_ms.extend(pair[1::2])

    async def gets(client: Client) -> None:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            await client.call(b"GET", path)
            get_ms.append((time.perf_counter() - start) * 1000)

    started = time.perf_counter()
    if job["kind"] == "orders":
        await asyncio.gather(*(orders(i, c) for i, c in enumerate(clients)))
    else:
        await asyncio.gather(*(gets(c) for c in clients))
    return {
        "elapsed_s": time.perf_counter() - started,
        "place_ms": place_ms,
        "cancel_ms": cancel_ms,
        "get_ms": get_ms,
    }


async def _run_paced(job: dict[str, Any], clients: list[Client]) -> dict[str, Any]:
    """Open loop: operation k is due at start + k / rate; it waits for a free connection,
    and its latency counts from when it was due."""
    rate, duration = job["rate"], job["duration_s"]
    total = int(rate * duration)
    pool: asyncio.Queue[tuple[int, Client]] = asyncio.Queue()
    for i, client in enumerate(clients):
        pool.put_nowait((i, client))
    makers = [
        OrderMaker(f"{job['tag']}w{job['worker']}c{i}", job["seed"] * 1000 + i)
        for i in range(len(clients))
    ]
    place_ms: list[float] = []
    cancel_ms: list[float] = []
    get_ms: list[float] = []
    path = PRIVATE_PATH.encode()
    failures: list[Exception] = []

    async def one(due: float) -> None:
        i, client = await pool.get()
        try:
            if job["kind"] == "orders":
                placed = await client.call(b"POST", PLACE_PATH.encode(), makers[i].place_body())
                mid = time.perf_counter()
                place_ms.append((mid - due) * 1000)
                order_id = placed["data"]["orderId"]
                await client.call(b"POST", CANCEL_PATH.encode(), cancel_body(order_id))
                cancel_ms.append((time.perf_counter() - mid) * 1000)
            else:
                await client.call(b"GET", path)
                get_ms.append((time.perf_counter() - due) * 1000)
        except Exception as exc:  # reported by the parent as a broken run
            failures.append(exc)
        finally:
            pool.put_nowait((i, client))

    tasks: list[asyncio.Task[None]] = []
    start = time.perf_counter() + 0.05
    for k in range(total):
        due = start + k / rate
        delay = due - time.perf_counter()
        if delay > 0.0005:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due)))
    sent_s = time.perf_counter() - start
    await asyncio.wait_for(asyncio.gather(*tasks), REQUEST_TIMEOUT_S + duration)
    if failures:
        raise failures[0]
    return {
        "elapsed_s": time.perf_counter() - start,
        "sent_s": sent_s,
        "place_ms": place_ms,
        "cancel_ms": cancel_ms,
        "get_ms": get_ms,
    }


async def _run_job(job: dict[str, Any]) -> dict[str, Any]:
    creds = [Creds(**c) for c in job["creds"]]
    clients = [
        Client(job["port"], creds[(job["worker"] + i * job["workers"]) % len(creds)])
        for i in range(job["connections"])
    ]
    try:
        await asyncio.gather(*(c.open() for c in clients))
        runner = _run_max if job["mode"] == "max" else _run_paced
        return await asyncio.wait_for(runner(job, clients), job["duration_s"] * 3 + 30)
    finally:
        for c in clients:
            c.close()


def worker_main(conn: Connection) -> None:
    """A client process: runs jobs sent by the parent until it gets None."""
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    while True:
        job = conn.recv()
        if job is None:
            return
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        try:
            result = asyncio.run(_run_job(job))
        except (Refused, BenchError, OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
            conn.send({"error": f"{type(exc).__name__}: {exc}"})
            continue
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        result["client_cpu_s"] = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        conn.send(result)


# --- the parent: servers, runs, figures ------------------------------------------------

# ``python -c GC_LOGGER serve ...`` is ``sealbook serve`` with a gc callback that appends
# every collection of 1 ms or more to $BENCH_GC_LOG: "unix_time generation ms". Nothing
# else changes; --no-gc-log runs ``python -m sealbook.cli.main serve`` instead.
GC_LOGGER = """
import gc, os, sys, time
_out = open(os.environ["BENCH_GC_LOG"], "a", buffering=1)
_started = [0.0]
def _on_gc(phase, info):
    if phase == "start":
        _started[0] = time.perf_counter()
        return
    ms = (time.perf_counter() - _started[0]) * 1000
    if ms >= 1.0:
        _out.write(f"{time.time():.6f} {info['generation']} {ms:.3f}\\n")
gc.callbacks.append(_on_gc)
from sealbook.cli.main import main
sys.argv[0] = "sealbook"
main()
"""


@dataclass(slots=True)
class Sealbook:
    """The server under test, and what it has been through."""

    server: Server
    gc_log: Path | None
    orders_before: int = 0  # placed (and cancelled) in earlier runs: all kept in memory

    def gc_offset(self) -> int:
        return self.gc_log.stat().st_size if self.gc_log and self.gc_log.exists() else 0

    def gc_pauses(self, offset: int) -> dict[str, Any] | None:
        """Collections of 1 ms or more since ``offset``: count, total and longest."""
        if self.gc_log is None:
            return None
        with self.gc_log.open("rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
        pauses: list[tuple[int, float]] = []
        for line in text.splitlines():  # a line the server is still writing is skipped
            fields = line.split()
            with contextlib.suppress(ValueError):
                if len(fields) == 3:
                    pauses.append((int(fields[1]), float(fields[2])))
        full = [ms for g, ms in pauses if g == 2]
        return {
            "count": len(pauses),
            "total_ms": sum(ms for _, ms in pauses),
            "max_ms": max((ms for _, ms in pauses), default=0.0),
            "gen2_count": len(full),
            "gen2_max_ms": max(full, default=0.0),
        }


@dataclass(slots=True)
class Pool:
    pipes: list[Connection]
    procs: list[mp.process.BaseProcess]

    def run(self, job: dict[str, Any]) -> list[dict[str, Any]]:
        for i, pipe in enumerate(self.pipes):
            pipe.send({**job, "worker": i, "workers": len(self.pipes)})
        results = [pipe.recv() for pipe in self.pipes]
        for r in results:
            if "error" in r:
                raise BenchError(f"{job['kind']} {job['mode']}: {r['error']}")
        return results


@contextlib.contextmanager
def client_pool(n: int) -> Iterator[Pool]:
    ctx = mp.get_context("spawn")
    pipes: list[Connection] = []
    procs: list[mp.process.BaseProcess] = []
    try:
        for _ in range(n):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=worker_main, args=(child,), daemon=True)
            proc.start()
            pipes.append(parent)
            procs.append(proc)
        yield Pool(pipes, procs)
    finally:
        for pipe in pipes:
            with contextlib.suppress(OSError):
                pipe.send(None)
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()


def pct(data: list[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank)."""
    if not data:
        return float("nan")
    ordered = sorted(data)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def thread_cpu(pid: int) -> dict[int, float]:
    """User + system CPU seconds of each of a process's threads (the main one has tid pid)."""
    found: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = (task / "stat").read_text().rpartition(")")[2].split()
            found[int(task.name)] = (int(fields[11]) + int(fields[12])) / tick
    return found


def measure(pool: Pool, sb: Sealbook, job: dict[str, Any], label: str) -> dict[str, Any]:
    assert sb.server.proc is not None
    pid = sb.server.proc.pid
    gc_at = sb.gc_offset()
    threads_before = thread_cpu(pid)
    cpu_before = cpu_seconds(pid)
    wall = time.perf_counter()
    results = pool.run(job)
    wall = time.perf_counter() - wall
    server_cpu = cpu_seconds(pid) - cpu_before
    threads = {t: c - threads_before.get(t, 0.0) for t, c in thread_cpu(pid).items()}
    loop_cpu = threads.pop(pid, 0.0)
    place = [x for r in results for x in r["place_ms"]]
    cancel = [x for r in results for x in r["cancel_ms"]]
    get = [x for r in results for x in r["get_ms"]]
    elapsed = max(r["elapsed_s"] for r in results)
    requests = len(place) + len(cancel) + len(get)
    out: dict[str, Any] = {
        "label": label,
        "kind": job["kind"],
        "mode": job["mode"],
        "duration_s": job["duration_s"],
        "elapsed_s": elapsed,
        "requests": requests,
        "rps": requests / elapsed,
        "server_cpu_us_per_req": server_cpu / max(requests, 1) * 1e6,
        "server_cpu_share": server_cpu / wall,
        "loop_cpu_share": loop_cpu / wall,  # the main thread: the event loop
        "threads_cpu_share": sum(threads.values()) / wall,  # committer and other workers
        "client_cpu_share": sum(r["client_cpu_s"] for r in results) / wall,
        "orders_before": sb.orders_before,
        "gc": sb.gc_pauses(gc_at),
    }
    sb.orders_before += len(place)
    if job["kind"] == "orders":
        out["orders"] = len(place)
        out["orders_per_s"] = len(place) / elapsed
        out["place_p50_ms"], out["place_p99_ms"] = pct(place, 50), pct(place, 99)
        out["cancel_p50_ms"], out["cancel_p99_ms"] = pct(cancel, 50), pct(cancel, 99)
        out["place_max_ms"] = max(place) if place else float("nan")
    else:
        out["get_p50_ms"], out["get_p99_ms"] = pct(get, 50), pct(get, 99)
        out["get_max_ms"] = max(get) if get else float("nan")
    if job["mode"] == "paced":
        out["target_rate"] = job["rate"] * len(pool.pipes)
        out["sent_s"] = max(r["sent_s"] for r in results)
    return out


PROFILE_RATE = 250  # samples per second


def profile_server(pool: Pool, sb: Sealbook, job: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """py-spy on the server during two more max runs of orders: once sampling the thread
    that holds the GIL (where the Python CPU time goes), once every active thread (what
    the committer thread waits on, GIL released: SQLite and fsync)."""
    venv_spy = Path(sys.executable).with_name("py-spy")
    spy = str(venv_spy) if venv_spy.exists() else shutil.which("py-spy") or ""
    if not spy:
        raise BenchError("--py-spy needs py-spy: .venv/bin/pip install py-spy (not a dependency)")
    server = sb.server
    assert server.proc is not None
    found: dict[str, Any] = {"rate": PROFILE_RATE, "duration_s": job["duration_s"]}
    for view, extra in (("gil", ["--gil"]), ("active", [])):
        out = workdir / f"py-spy-{view}.txt"
        argv = [spy, "record", "--pid", str(server.proc.pid), "-d", str(job["duration_s"])]
        argv += ["-r", str(PROFILE_RATE), "-f", "raw", "--threads", "--nonblocking", "-o"]
        spying = subprocess.Popen(
            [*argv, str(out), *extra], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        time.sleep(0.5)  # py-spy attaches
        run = measure(pool, sb, {**job, "tag": job["tag"] + view}, f"orders, py-spy {view}")
        _, err = spying.communicate(timeout=60)
        if spying.returncode != 0 or not out.exists():
            raise BenchError(f"py-spy failed ({spying.returncode}): {err.decode(errors='replace')}")
        found[view] = {"run": run, **collapse(out.read_text())}
    return found


# Where a sample's time goes: the first frame from the leaf up that matches, by file.
_PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("sqlite3 C calls (via SQLAlchemy)", ("do_commit", "do_execute", "do_executemany")),
    ("SQLAlchemy", ("sqlalchemy/",)),
    ("JSON", ("json/", "orjson")),
    ("ledger", ("sealbook/ledger/",)),
    ("matching engine", ("sealbook/engine/",)),
    ("store: rows", ("sealbook/store/",)),
    ("exchange core", ("sealbook/exchange/core.py", "sealbook/money.py", "sealbook/markets/")),
    ("exchange service", ("sealbook/exchange/service.py",)),
    (
        "key layer",
        ("sealbook/keys/", "sealbook/exchange/keyring.py", "sealbook/exchange/authlog.py"),
    ),
    ("rate limiter", ("sealbook/ratelimit/",)),
    ("API gate, routes, render", ("sealbook/api/",)),
    ("other sealbook", ("sealbook/",)),
    ("FastAPI/Starlette/pydantic", ("fastapi/", "starlette/", "pydantic")),
    ("uvicorn/httptools", ("uvicorn/", "httptools")),
    ("anyio/threading/queue", ("anyio/", "threading.py", "queue.py")),
    ("asyncio/uvloop", ("asyncio/", "uvloop")),
)


def _part(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, needles in _PARTS:
            if any(n in frame for n in needles):
                return name
    return "other"


def _thread(name: str, frames: list[str]) -> str:
    if name == "MainThread":
        return "event loop"
    if any("ExchangeService._write" in f for f in frames):
        return "committer (write)"
    return f"other: {name}"


def collapse(text: str) -> dict[str, Any]:
    """py-spy's raw output (``thread (tid): name;frame;...;frame count`` per line) as
    samples per thread and per part."""
    threads: Counter[str] = Counter()
    parts: dict[str, Counter[str]] = defaultdict(Counter)
    total = 0
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        head, *frames = stack.split(";")
        thread = _thread(head.partition(": ")[2], frames)
        threads[thread] += int(count)
        parts[thread][_part(frames)] += int(count)
        total += int(count)
    return {
        "samples": total,
        "threads": dict(threads.most_common()),
        "parts": {t: dict(c.most_common()) for t, c in parts.items()},
    }


def fsync_probe(directory: Path, n: int = 50) -> dict[str, float]:
    """What one 4 KiB write + fsync costs where the database lives (ms)."""
    path = directory / "fsync.probe"
    times: list[float] = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for i in range(n):
            os.pwrite(fd, os.urandom(4096), (i % 16) * 4096)
            start = time.perf_counter()
            os.fsync(fd)
            times.append((time.perf_counter() - start) * 1000)
    finally:
        os.close(fd)
        path.unlink()
    return {"median_ms": statistics.median(times), "p90_ms": pct(times, 90)}


def durability_settings(db_url: str) -> dict[str, Any]:
    """The pragmas the server's engine sets on its connections (make_engine)."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert isinstance(raw, sqlite3.Connection)
            sync = raw.execute("PRAGMA synchronous").fetchone()[0]
            mode = raw.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        engine.dispose()
    names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
    return {"journal_mode": mode, "synchronous": names.get(sync, str(sync))}


def _fs_type(path: Path) -> str:
    best, kind = "", "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            inside = len(parts) >= 3 and str(path.resolve()).startswith(parts[1])
            if inside and len(parts[1]) > len(best):
                best, kind = parts[1], parts[2]
    return kind


def measure_all(
    workdir: Path,
    clients: int,
    connections: int,
    rounds: int,
    duration: int,
    paced_duration: int,
    warmup: int,
    seed: int,
    profile_s: int = 0,
    log_gc: bool = True,
) -> dict[str, Any]:
    home = workdir / "home"
    ctx = open_context(settings_for(home), create_master_key=True)
    try:
        log(f"setting up {USERS} funded traders")
        creds = make_traders(ctx, home, USERS)
        db_url = ctx.settings.resolved_database_url
    finally:
        ctx.engine.dispose()
    storage = {
        **durability_settings(db_url),
        "filesystem": _fs_type(workdir),
        "fsync": fsync_probe(workdir),
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEALBOOK_")}
    env["SEALBOOK_RATE_LIMIT_FACTOR"] = RATE_LIMIT_FACTOR
    port = free_port()
    gc_log = workdir / "gc.log" if log_gc else None
    if gc_log is not None:
        env["BENCH_GC_LOG"] = str(gc_log)
        start = [sys.executable, "-c", GC_LOGGER]
    else:
        start = [sys.executable, "-m", "sealbook.cli.main"]
    server = Server(
        "sealbook serve",
        [*start, "serve", "--home", str(home), "--host", HOST, "--port", str(port)],
        env,
        port,
        PUBLIC_PATH,
        workdir / "sealbook.log",
    )
    sb = Sealbook(server, gc_log)
    rng = random.Random(seed)
    base = {
        "port": port,
        "connections": connections,
        "creds": [
            {"api_key": c.api_key, "secret": c.secret, "passphrase": c.passphrase} for c in creds
        ],
        "seed": seed,
    }
    tags = iter(range(1, 10_000))
    runs: list[dict[str, Any]] = []
    try:
        server.start()
        with client_pool(clients) as pool:

            def job(kind: str, mode: str, seconds: int, rate: float = 0.0) -> dict[str, Any]:
                return {
                    **base,
                    "kind": kind,
                    "mode": mode,
                    "duration_s": seconds,
                    "rate": rate / clients,
                    "tag": f"r{next(tags)}",
                }

            for kind in ("orders", "get"):
                log(f"  warm-up {warmup} s: {kind}")
                measure(pool, sb, job(kind, "max", warmup), "warm-up")
            if profile_s:
                # Before the measured runs, while the server holds few orders: a full GC
                # pause is charged to whatever frame triggered it, and they grow with that.
                log(f"  py-spy, 2 x {profile_s} s: orders at max")
                profile = profile_server(pool, sb, job("orders", "max", profile_s), workdir)
            for round_no in range(1, rounds + 1):
                order = ["orders", "get"]
                rng.shuffle(order)
                for kind in order:
                    log(f"  round {round_no}/{rounds}, max {duration} s: {kind}")
                    run = measure(pool, sb, job(kind, "max", duration), kind)
                    runs.append({**run, "round": round_no})
            max_orders = statistics.median(r["orders_per_s"] for r in runs if r["kind"] == "orders")
            half = max_orders / 2
            for round_no in range(1, rounds + 1):
                order = ["orders", "get"]
                rng.shuffle(order)
                for kind in order:
                    # the GET goes at the same request rate: two requests per order
                    rate = half if kind == "orders" else 2 * half
                    log(f"  round {round_no}/{rounds}, paced {paced_duration} s: {kind}")
                    run = measure(pool, sb, job(kind, "paced", paced_duration, rate), kind)
                    runs.append({**run, "round": round_no})
    finally:
        server.stop()
    summary = summarize(runs, storage, clients, connections, rounds, duration, paced_duration)
    if profile_s:
        summary["profile"] = profile
    return summary


def summarize(
    runs: list[dict[str, Any]],
    storage: dict[str, Any],
    clients: int,
    connections: int,
    rounds: int,
    duration: int,
    paced_duration: int,
) -> dict[str, Any]:
    def med(kind: str, mode: str, key: str) -> float:
        return statistics.median(r[key] for r in runs if r["kind"] == kind and r["mode"] == mode)

    paced_gc = [r["gc"] for r in runs if r["kind"] == "orders" and r["mode"] == "paced"]

    return {
        "storage": storage,
        "clients": clients,
        "connections_per_client": connections,
        "rounds": rounds,
        "duration_s": duration,
        "paced_duration_s": paced_duration,
        "max": {
            "orders_per_s": med("orders", "max", "orders_per_s"),
            "order_rps": med("orders", "max", "rps"),
            "get_rps": med("get", "max", "rps"),
            "order_server_cpu_us_per_req": med("orders", "max", "server_cpu_us_per_req"),
            "get_server_cpu_us_per_req": med("get", "max", "server_cpu_us_per_req"),
        },
        "paced": {
            "orders_per_s_target": med("orders", "paced", "target_rate"),
            "orders_per_s": med("orders", "paced", "orders_per_s"),
            "place_p50_ms": med("orders", "paced", "place_p50_ms"),
            "place_p99_ms": med("orders", "paced", "place_p99_ms"),
            "cancel_p50_ms": med("orders", "paced", "cancel_p50_ms"),
            "cancel_p99_ms": med("orders", "paced", "cancel_p99_ms"),
            "get_rps_target": med("get", "paced", "target_rate"),
            "get_rps": med("get", "paced", "rps"),
            "get_p50_ms": med("get", "paced", "get_p50_ms"),
            "get_p99_ms": med("get", "paced", "get_p99_ms"),
            "gc_max_ms": max(g["max_ms"] for g in paced_gc) if None not in paced_gc else None,
        },
        "runs": runs,
    }


# --- the report -----------------------------------------------------------------------


def environment(seed: int) -> dict[str, Any]:
    loop = "uvloop" if _version("uvloop") != "absent" else "asyncio"
    parser = "httptools" if _version("httptools") != "absent" else "h11"
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "load_avg_start": [round(x, 2) for x in os.getloadavg()],
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "sqlite": sqlite3.sqlite_version,
        "versions": {
            d: _version(d)
            for d in ("sealbook", "uvicorn", "starlette", "fastapi", "sqlalchemy", "uvloop")
        },
        "uvicorn_loop_http": f"auto -> {loop}, {parser}",
        "seed": seed,
    }


def build_rows(web: dict[str, Any]) -> list[dict[str, Any]]:
    mx, paced = web["max"], web["paced"]
    return [
        {
            "metric": "place+cancel, max (orders/s)",
            "value": f"{mx['orders_per_s']:,.0f} orders/s",
            "baseline": f"{mx['get_rps']:,.0f} req/s (signed GET, max)",
            "ratio": mx["orders_per_s"] / mx["get_rps"],
            "target": f">= {TARGET_ORDERS_PER_S:,.0f} orders/s",
            "verdict": verdict(mx["orders_per_s"], TARGET_ORDERS_PER_S, at_least=True),
        },
        {
            "metric": "(info) place+cancel, max (req/s)",
            "value": f"{mx['order_rps']:,.0f} req/s",
            "baseline": f"{mx['get_rps']:,.0f} req/s (signed GET, max)",
            "ratio": mx["order_rps"] / mx["get_rps"],
            "target": "-",
            "verdict": "info",
        },
        {
            "metric": f"place p99 at half rate ({paced['orders_per_s_target']:,.0f}/s)",
            "value": f"{paced['place_p99_ms']:.1f} ms",
            "baseline": f"{paced['get_p99_ms']:.1f} ms (signed GET p99, same req/s)",
            "ratio": paced["place_p99_ms"] / paced["get_p99_ms"],
            "target": f"<= {TARGET_P99_MS:.0f} ms",
            "verdict": verdict(paced["place_p99_ms"], TARGET_P99_MS, at_least=False),
        },
        {
            "metric": "(info) place p50 at half rate",
            "value": f"{paced['place_p50_ms']:.1f} ms",
            "baseline": f"{paced['get_p50_ms']:.1f} ms (signed GET p50, same req/s)",
            "ratio": paced["place_p50_ms"] / paced["get_p50_ms"],
            "target": "-",
            "verdict": "info",
        },
    ]


def render(report: dict[str, Any]) -> str:
    env = report["environment"]
    web = report["http"]
    st = web["storage"]
    out = [
        f"sealbook orders benchmark  {env['date']}",
        f"host     {env['cpu']}, {env['cores']} cores ({env['cores_usable']} usable), {env['os']}",
        f"load     {' '.join(map(str, env['load_avg_start']))} at start, "
        f"{' '.join(map(str, env['load_avg_end']))} at end (1/5/15 min)",
        f"python   {env['python']}; sqlite {env['sqlite']}; "
        + ", ".join(f"{k} {v}" for k, v in env["versions"].items())
        + f"; uvicorn loop/http {env['uvicorn_loop_http']}",
        f"storage  SQLite journal_mode={st['journal_mode']} synchronous={st['synchronous']} on "
        f"{st['filesystem']}; one 4 KiB write+fsync: median {st['fsync']['median_ms']:.2f} ms, "
        f"p90 {st['fsync']['p90_ms']:.2f} ms",
        f"seed     {env['seed']} (prices, sizes, sides; the order of the runs in each round)",
        f"mix      orders: POST {PLACE_PATH} (limit GTC {SYMBOL}, buy 1-100 below / sell 1-100 "
        f"above {MID}, 0.0001-0.0005 BTC, unique clientOid), then POST {CANCEL_PATH} of it; "
        f"baseline: GET {PRIVATE_PATH}; every request HMAC-signed afresh; {USERS} users",
        f"load     {web['clients']} client process(es) x {web['connections_per_client']} "
        f"keep-alive connections; max: closed loop {web['duration_s']} s x {web['rounds']} "
        f"round(s), figure = median; half rate: open loop {web['paced_duration_s']} s x "
        f"{web['rounds']} round(s), latency from the scheduled send, figure = median p99; "
        f"SEALBOOK_RATE_LIMIT_FACTOR={RATE_LIMIT_FACTOR}",
    ]
    busy = max(env["load_avg_start"][0], env["load_avg_end"][0])
    if busy > 0.5 * (env["cores"] or 1):
        out.append(
            f"note     1-min load average reached {busy} on {env['cores']} cores: other "
            "processes competed for the CPU; the absolute figures suffer most"
        )
    if st["filesystem"] in ("tmpfs", "ramfs"):
        out.append("note     the database is on a RAM file system: fsync costs nothing there")
    out.append("")
    header = ("metric", "value", "baseline", "ratio", "target", "verdict")
    lines = [header]
    for row in report["rows"]:
        lines.append(
            (
                row["metric"],
                row["value"],
                row["baseline"],
                f"{row['ratio']:.2f}x",
                row["target"],
                row["verdict"],
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        out.append("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
    paced = web["paced"]
    out += [
        "",
        f"half rate: orders {paced['orders_per_s']:,.0f}/s achieved of "
        f"{paced['orders_per_s_target']:,.0f}/s; cancel p50/p99 {paced['cancel_p50_ms']:.1f}/"
        f"{paced['cancel_p99_ms']:.1f} ms; signed GET {paced['get_rps']:,.0f} of "
        f"{paced['get_rps_target']:,.0f} req/s"
        + (
            f"; longest server GC pause during them: {paced['gc_max_ms']:.0f} ms"
            if paced["gc_max_ms"] is not None
            else ""
        ),
        "runs (round, kind, mode: throughput; latency p50/p99 ms; server CPU us/request; "
        "server CPU in cores (event loop thread, other threads) and client CPU in cores; "
        "orders the server kept in memory before the run; its GC pauses):",
    ]
    for r in web["runs"]:
        if r["kind"] == "orders":
            what = (
                f"{r['orders_per_s']:,.0f} orders/s ({r['rps']:,.0f} req/s); place "
                f"{r['place_p50_ms']:.1f}/{r['place_p99_ms']:.1f}, cancel "
                f"{r['cancel_p50_ms']:.1f}/{r['cancel_p99_ms']:.1f}"
            )
        else:
            what = f"{r['rps']:,.0f} req/s; GET {r['get_p50_ms']:.1f}/{r['get_p99_ms']:.1f}"
        gc = r["gc"]
        pauses = (
            f"; gc pauses >= 1 ms: {gc['count']}, longest {gc['max_ms']:.0f} ms"
            if gc is not None
            else ""
        )
        out.append(
            f"  {r['round']} {r['kind']:<6} {r['mode']:<5}: {what}; "
            f"{r['server_cpu_us_per_req']:.0f} us/req; cpu server {r['server_cpu_share']:.2f}"
            f" (loop {r['loop_cpu_share']:.2f}, threads {r['threads_cpu_share']:.2f}) client "
            f"{r['client_cpu_share']:.2f}; {r['orders_before']:,} orders before" + pauses
        )
    mx = web["max"]
    out.append(
        "server CPU per request at max, median: place/cancel "
        f"{mx['order_server_cpu_us_per_req']:.0f} us, signed GET "
        f"{mx['get_server_cpu_us_per_req']:.0f} us"
    )
    if "profile" in web:
        out += render_profile(web["profile"])
    return "\n".join(out)


def render_profile(prof: dict[str, Any]) -> list[str]:
    wall = prof["rate"] * prof["duration_s"]  # samples of one thread busy all the time

    def share(n: int) -> str:
        return f"{100 * n / wall:.0f}%"

    out = [
        "",
        f"py-spy on the server, {prof['rate']} Hz, {prof['duration_s']} s per view, during "
        "max runs of orders right after the warm-up (GC time is charged to the frame that "
        "triggered it); shares of wall time, 100% = one thread busy throughout:",
    ]
    for view, title in (
        ("gil", "holding the GIL (Python CPU)"),
        ("active", "active, GIL or not (incl. SQLite C code and fsync)"),
    ):
        data = prof[view]
        run = data["run"]
        out.append(
            f"  {title}; {run['orders_per_s']:,.0f} orders/s under py-spy, place p50/p99 "
            f"{run['place_p50_ms']:.1f}/{run['place_p99_ms']:.1f} ms:"
        )
        if view == "gil":
            held = sum(data["threads"].values())
            out.append(f"    nobody holds the GIL: {100 - 100 * held / wall:.0f}% of wall")
        for thread, n in data["threads"].items():
            top = list(data["parts"][thread].items())[:8]
            out.append(
                f"    {thread} {share(n)}: " + ", ".join(f"{part} {share(k)}" for part, k in top)
            )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--quick", action="store_true", help="a shorter, noisier run")
    parser.add_argument("--seed", type=int, default=1, help="prices, sizes and run order")
    parser.add_argument("--rounds", type=int, help="rounds (default 3, quick 1)")
    parser.add_argument(
        "--duration", type=int, help=f"seconds per max run, 1..{MAX_RUN_S} (default 5)"
    )
    parser.add_argument(
        "--paced-duration", type=int, help=f"seconds per paced run, 1..{MAX_RUN_S} (default 6)"
    )
    parser.add_argument("--clients", type=int, default=1, help="client processes")
    parser.add_argument(
        "--connections", type=int, default=64, help="connections per client process"
    )
    parser.add_argument("--workdir", type=Path, help="where the temporary home goes")
    parser.add_argument(
        "--py-spy",
        type=int,
        default=0,
        metavar="SECONDS",
        help="afterwards, profile the server with py-spy during a max orders run",
    )
    parser.add_argument(
        "--no-gc-log",
        action="store_true",
        help="run the server without the callback that logs its garbage-collection pauses",
    )
    args = parser.parse_args(argv)
    rounds = args.rounds or (1 if args.quick else 3)
    duration = args.duration or (3 if args.quick else 5)
    paced = args.paced_duration or (3 if args.quick else 6)
    warmup = 1 if args.quick else 2
    if not (1 <= duration <= MAX_RUN_S and 1 <= paced <= MAX_RUN_S):
        parser.error(f"--duration and --paced-duration must be 1..{MAX_RUN_S}")
    if rounds < 1 or args.clients < 1 or args.connections < 1:
        parser.error("--rounds, --clients and --connections must be positive")

    env = environment(args.seed)
    try:
        with tempfile.TemporaryDirectory(prefix="sealbook-bench-", dir=args.workdir) as tmp:
            web = measure_all(
                Path(tmp),
                args.clients,
                args.connections,
                rounds,
                duration,
                paced,
                warmup,
                args.seed,
                args.py_spy,
                not args.no_gc_log,
            )
    except (BenchError, subprocess.TimeoutExpired) as error:
        log(f"error: {error}")
        return 1
    env["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    report: dict[str, Any] = {"environment": env, "http": web, "rows": build_rows(web)}
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
