"""Acknowledged means durable: SIGKILL the server in the middle of a load of orders.

Three funded users place resting limits, crossing limits (GTC and IOC) and market orders
on BTCUSDT from several concurrent clients, and cancel their own orders, all over signed
HTTP (httpx, each place with a unique clientOid). Every answer with HTTP 200 and code
00000 is written down: the server sends it only after the transaction carrying the
change committed. After a seeded random delay (and at least ``MIN_ACKED`` acknowledged
orders) the server gets SIGKILL while requests are in flight, then it is restarted on the
same home and database. Then:

* every acknowledged order is there (``orderInfo`` by orderId), with its terms, and a
  status consistent with what it filled; every acknowledged cancel is cancelled;
* in the database, no order filled beyond its size (or budget), each order's fills add up
  to what it filled, and every trade has both its sides;
* ``sealbook ledger check`` passes;
* the open orders are back on the book: each level of ``orderbook`` is the sum of what
  the open orders at that price have left, the server lists exactly the open orders the
  database holds, and every one of them can be cancelled, which empties the book and
  every user's frozen balance.

Requests in flight at the kill may or may not have happened: nothing here assumes either.
The same test runs on SQLite (the default) and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hmac
import json
import random
import time
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from fixtures.server import IssuedKey, SealbookServer, running_server
from sealbook.exchange.core import ExchangeCore, PlaceRequest
from sealbook.markets import default_catalog
from sealbook.money import parse_atoms
from sealbook.store.tables import fills, orders

pytestmark = pytest.mark.e2e

D = Decimal
SYMBOL = "BTCUSDT"
SYM = default_catalog().symbol(SYMBOL)
MID = 104_000  # BTCUSDT's reference price; whole USDT ticks
LOT = D("0.0001")  # BTC, about 10 USDT
USERS = 3
TASKS_PER_USER = 2
MAX_REQUESTS_PER_TASK = 2_000  # far more than the load gets through before the kill
MIN_ACKED = 60  # the kill waits for at least this many acknowledged orders...
KILL_AFTER_S = (0.3, 1.2)  # ...and a seeded random delay after the first one
LOAD_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 10.0
FUNDS = {"USDT": "2000000", "BTC": "20"}
PLACE = "/api/v2/spot/trade/place-order"
CANCEL = "/api/v2/spot/trade/cancel-order"
OPEN = ("live", "partially_filled")
STATUSES = ("live", "partially_filled", "filled", "cancelled")


@dataclass(frozen=True, slots=True)
class Placed:
    """An acknowledged place-order, as it was sent."""

    order_id: int
    client_oid: str
    user: int  # index into the traders
    side: str
    order_type: str
    force: str
    price: str | None
    size: str


@dataclass(slots=True)
class LoadLog:
    placed: dict[int, Placed] = field(default_factory=dict)
    cancelled: set[int] = field(default_factory=set)
    refused: Counter[str] = field(default_factory=Counter)
    sent: int = 0
    cut_off: int = 0  # requests that got no answer: the kill came first
    killed_at_acked: int = -1


# --- signed requests -------------------------------------------------------------------------


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def auth_headers(key: IssuedKey, method: str, target: str, body: str) -> dict[str, str]:
    """BITGET_WIRE.md §1.2: HMAC-SHA256 over ts + METHOD + path[?query] + body."""
    assert key.secret is not None
    ts = str(now_ms())
    digest = hmac.digest(key.secret.encode(), (ts + method + target + body).encode(), "sha256")
    return {
        "ACCESS-KEY": key.api_key,
        "ACCESS-SIGN": base64.b64encode(digest).decode(),
        "ACCESS-TIMESTAMP": ts,
        "ACCESS-PASSPHRASE": key.passphrase,
        "Content-Type": "application/json",
        "locale": "en-US",
    }


def get_signed(
    http: httpx.Client, server: SealbookServer, key: IssuedKey, path: str, **query: str
) -> Any:
    """The ``data`` of a signed GET that must succeed."""
    target = path + ("?" + urllib.parse.urlencode(query) if query else "")
    reply = http.get(server.base_url + target, headers=auth_headers(key, "GET", target, ""))
    envelope = reply.json()
    assert (reply.status_code, envelope["code"]) == (200, "00000"), envelope
    return envelope["data"]


def post_signed(
    http: httpx.Client, server: SealbookServer, key: IssuedKey, path: str, payload: dict[str, str]
) -> dict[str, Any]:
    body = json.dumps(payload, separators=(",", ":"))
    reply = http.post(
        server.base_url + path, content=body, headers=auth_headers(key, "POST", path, body)
    )
    envelope: dict[str, Any] = reply.json()
    return envelope


# --- the load --------------------------------------------------------------------------------


def next_request(
    rng: random.Random, user: int, n: int, mine: list[int], tag: str
) -> tuple[str, dict[str, str], Placed | None]:
    """One request of the mix: (path, body, the order it places if it is a place)."""
    roll = rng.random()
    if roll < 0.25 and mine:
        order_id = mine.pop(rng.randrange(len(mine)))
        return CANCEL, {"symbol": SYMBOL, "orderId": str(order_id)}, None
    side = rng.choice(("buy", "sell"))
    size = str(LOT * rng.randint(1, 5))
    client_oid = f"{tag}-{user}-{n}"
    order_type, force, price = "limit", "gtc", None
    if roll < 0.65:  # rests a little off the middle
        offset = rng.randint(1, 40)
        price = str(MID - offset if side == "buy" else MID + offset)
    elif roll < 0.92:  # crosses the whole resting range; GTC rests what is left
        force = rng.choice(("gtc", "ioc"))
        price = str(MID + 60 if side == "buy" else MID - 60)
    else:
        order_type = "market"
        if side == "buy":
            size = str(rng.randint(5, 60))  # a market buy's size is the USDT to spend
    body = {
        "symbol": SYMBOL,
        "side": side,
        "orderType": order_type,
        "force": force,
        "size": size,
        "clientOid": client_oid,
    }
    if price is not None:
        body["price"] = price
    placed = Placed(0, client_oid, user, side, order_type, force, price, size)
    return PLACE, body, placed


async def trader_task(
    server: SealbookServer,
    key: IssuedKey,
    user: int,
    task: int,
    seed: int,
    mine: list[int],
    log: LoadLog,
    first_ack: asyncio.Event,
    killed: asyncio.Event,
) -> None:
    rng = random.Random(f"{seed}-{user}-{task}")
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(
        base_url=server.base_url, timeout=REQUEST_TIMEOUT_S, limits=limits
    ) as http:
        for n in range(MAX_REQUESTS_PER_TASK):
            if killed.is_set():
                return
            path, payload, placed = next_request(rng, user, n * 10 + task, mine, f"s{seed}")
            body = json.dumps(payload, separators=(",", ":"))
            log.sent += 1
            try:
                reply = await http.post(
                    path, content=body, headers=auth_headers(key, "POST", path, body)
                )
                envelope = reply.json()
            except (httpx.TransportError, json.JSONDecodeError):
                log.cut_off += 1  # no (whole) answer: it may or may not have happened
                return
            if reply.status_code != 200 or envelope.get("code") != "00000":
                log.refused[str(envelope.get("code"))] += 1
                continue
            order_id = int(envelope["data"]["orderId"])
            if placed is None:
                log.cancelled.add(order_id)
                continue
            assert envelope["data"]["clientOid"] == placed.client_oid
            log.placed[order_id] = dataclasses.replace(placed, order_id=order_id)
            if placed.order_type == "limit" and placed.force == "gtc":
                mine.append(order_id)  # may rest: a candidate for a later cancel
            first_ack.set()


async def killer(
    server: SealbookServer,
    seed: int,
    log: LoadLog,
    first_ack: asyncio.Event,
    killed: asyncio.Event,
) -> None:
    await first_ack.wait()
    await asyncio.sleep(random.Random(seed).uniform(*KILL_AFTER_S))
    deadline = time.monotonic() + LOAD_TIMEOUT_S
    while len(log.placed) < MIN_ACKED and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    log.killed_at_acked = len(log.placed)
    await asyncio.to_thread(server.kill)  # SIGKILL, then wait for the process to go
    killed.set()


async def run_load(server: SealbookServer, keys: list[IssuedKey], seed: int) -> LoadLog:
    log = LoadLog()
    first_ack, killed = asyncio.Event(), asyncio.Event()
    resting: list[list[int]] = [[] for _ in keys]
    tasks = [
        trader_task(server, key, user, task, seed, resting[user], log, first_ack, killed)
        for user, key in enumerate(keys)
        for task in range(TASKS_PER_USER)
    ]
    await asyncio.wait_for(
        asyncio.gather(killer(server, seed, log, first_ack, killed), *tasks), LOAD_TIMEOUT_S
    )
    return log


# --- reading the state back ------------------------------------------------------------------


def open_orders_via_api(
    http: httpx.Client, server: SealbookServer, key: IssuedKey
) -> dict[int, dict[str, Any]]:
    """All of a user's open orders, through ``unfilled-orders`` page by page."""
    found: dict[int, dict[str, Any]] = {}
    before: str | None = None
    for _ in range(1_000):
        query = {"symbol": SYMBOL, "limit": "100"}
        if before is not None:
            query["idLessThan"] = before
        page = get_signed(http, server, key, "/api/v2/spot/trade/unfilled-orders", **query)
        for row in page:
            found[int(row["orderId"])] = row
        if len(page) < 100:
            return found
        before = page[-1]["orderId"]
    raise AssertionError("unfilled-orders did not end")


def book_levels(http: httpx.Client, server: SealbookServer) -> dict[str, dict[Decimal, Decimal]]:
    reply = http.get(
        server.base_url + "/api/v2/spot/market/orderbook",
        params={"symbol": SYMBOL, "limit": "150"},
    )
    data = reply.json()["data"]
    levels = {side: {D(p): D(q) for p, q in data[side]} for side in ("bids", "asks")}
    assert len(data["bids"]) < 150 and len(data["asks"]) < 150  # nothing cut off
    return levels


def check_ledger(server: SealbookServer) -> dict[str, Any]:
    done = server.cli("ledger", "check", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    assert report["ok"] is True and report["violations"] == []
    return report


def check_database(server: SealbookServer) -> list[Any]:
    """What must hold of every stored order and trade, acknowledged or not; the open
    orders (newest last)."""
    with server.ctx.engine.connect() as conn:
        rows = list(conn.execute(select(orders).order_by(orders.c.order_id)))
        per_order = select(fills.c.order_id, func.sum(fills.c.lots)).group_by(fills.c.order_id)
        filled = {int(order_id): int(lots) for order_id, lots in conn.execute(per_order)}
        sides = conn.execute(
            select(fills.c.trade_id, fills.c.side, func.count(), func.sum(fills.c.lots)).group_by(
                fills.c.trade_id, fills.c.side
            )
        ).all()
    for row in rows:
        assert row.status in STATUSES
        if row.size_lots is not None:
            assert 0 <= row.filled_lots <= row.size_lots, row
        if row.budget_atoms is not None:  # a market buy
            assert 0 <= row.filled_quote_atoms <= row.budget_atoms, row
        assert filled.get(row.order_id, 0) == row.filled_lots, row
        if row.status == "live":
            assert row.filled_lots == 0, row
        if row.status == "partially_filled":
            assert 0 < row.filled_lots < row.size_lots, row
        if row.status == "filled" and row.size_lots is not None:
            assert row.filled_lots == row.size_lots, row
    # every trade was stored with both its sides, one buy and one sell of the same size
    per_trade: defaultdict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
    for trade_id, side, count, lots in sides:
        per_trade[trade_id][side] = (int(count), int(lots))
    for trade_id, both in per_trade.items():
        assert set(both) == {"buy", "sell"}, trade_id
        assert both["buy"] == both["sell"] and both["buy"][0] == 1, (trade_id, both)
    return [row for row in rows if row.status in OPEN]


# --- the test --------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SealbookServer]:
    env = {"SEALBOOK_RATE_LIMIT_FACTOR": "1000"}
    if request.param == "postgresql":
        env["SEALBOOK_DATABASE_URL"] = str(request.getfixturevalue("fresh_pg_url"))
    with running_server(tmp_path / "home", env) as running:
        yield running


@pytest.mark.parametrize("seed", [20240611])
def test_every_acknowledged_order_survives_sigkill(server: SealbookServer, seed: int) -> None:
    keys = []
    for _ in range(USERS):
        person = server.person()
        for coin, amount in FUNDS.items():
            server.deposit(person, coin, amount)
        keys.append(server.issue_key(person, perms=("spot_trade",)))

    log = asyncio.run(run_load(server, keys, seed))

    # the load was cut off by the kill, not finished, and it did something worth checking
    assert server.process is None
    assert log.killed_at_acked >= MIN_ACKED
    assert log.cut_off >= 1
    assert len(log.placed) >= MIN_ACKED and log.sent < USERS * TASKS_PER_USER * (
        MAX_REQUESTS_PER_TASK
    )
    assert set(log.refused) <= {"43001"}, log.refused  # cancels of orders already done
    server.start()  # same home, same database

    stored_open = check_database(server)
    check_ledger(server)
    with httpx.Client(timeout=REQUEST_TIMEOUT_S) as http:
        # every acknowledged order is there, as it was placed, in a consistent state
        for order_id, placed in sorted(log.placed.items()):
            key = keys[placed.user]
            (row,) = get_signed(
                http, server, key, "/api/v2/spot/trade/orderInfo", orderId=str(order_id)
            )
            assert (row["orderId"], row["clientOid"], row["symbol"]) == (
                str(order_id),
                placed.client_oid,
                SYMBOL,
            )
            assert (row["side"], row["orderType"], row["force"]) == (
                placed.side,
                placed.order_type,
                placed.force,
            )
            assert D(row["size"]) == D(placed.size)
            if placed.price is not None:
                assert D(row["price"]) == D(placed.price)
            status, base_volume = row["status"], D(row["baseVolume"])
            assert status in STATUSES
            if order_id in log.cancelled:
                assert status == "cancelled", row
            if placed.order_type == "market" or placed.force == "ioc":
                assert status in ("filled", "cancelled"), row  # never rests
            if placed.order_type == "market" and placed.side == "buy":
                assert D(row["quoteVolume"]) <= D(placed.size), row
            else:
                size = D(placed.size)
                assert 0 <= base_volume <= size, row
                assert (status == "live") == (base_volume == 0 and status in OPEN), row
                assert (status == "partially_filled") == (0 < base_volume < size and status in OPEN)
                if status == "filled":
                    assert base_volume == size, row

        # the server lists exactly the open orders the database holds...
        listed: dict[int, dict[str, Any]] = {}
        for key in keys:
            listed.update(open_orders_via_api(http, server, key))
        assert set(listed) == {row.order_id for row in stored_open}
        # ...and they are back on the book, level by level
        want: dict[str, defaultdict[Decimal, Decimal]] = {
            "bids": defaultdict(D),
            "asks": defaultdict(D),
        }
        for row in stored_open:
            side = "bids" if row.side == "buy" else "asks"
            want[side][D(SYM.price_str(row.price_ticks))] += D(
                SYM.size_str(row.size_lots - row.filled_lots)
            )
        assert book_levels(http, server) == want
        if want["bids"] and want["asks"]:
            assert max(want["bids"]) < min(want["asks"])  # the rebuilt book is not crossed

        # every open order can be cancelled, which leaves nothing on the book or frozen
        user_of = {p.user_id: i for i, p in enumerate(k.person for k in keys)}
        for row in stored_open:
            key = keys[user_of[row.user_id]]
            answer = post_signed(
                http, server, key, CANCEL, {"symbol": SYMBOL, "orderId": str(row.order_id)}
            )
            assert answer["code"] == "00000", answer
        assert book_levels(http, server) == {"bids": {}, "asks": {}}
        for key in keys:
            assert open_orders_via_api(http, server, key) == {}
            assets = get_signed(http, server, key, "/api/v2/spot/account/assets")
            assert assets and all(D(a["frozen"]) == 0 for a in assets), assets
    assert check_database(server) == []
    check_ledger(server)


def test_a_drained_batch_is_not_changed_by_later_commands() -> None:
    """The service writes a drained batch in a thread while the event loop applies the
    next commands. If the batch held the live Order objects, a row could be written with
    a fill whose fill rows and postings belong to the next transaction, which a kill then
    loses: the order shows filled, its fills and ledger do not (found by the test above
    on PostgreSQL, where a write takes long enough)."""
    core = ExchangeCore(default_catalog())
    core.deposit(1, "BTC", None, parse_atoms("1"), "test", 1)
    core.deposit(2, "USDT", None, parse_atoms("1000"), "test", 1)
    ask = core.place(1, PlaceRequest(SYMBOL, "sell", "limit", "0.001", "100000"), 2)
    batch = core.drain()  # being written...

    core.place(2, PlaceRequest(SYMBOL, "buy", "limit", "0.001", "100000"), 3)  # ...meanwhile

    written = batch.orders[ask.order_id]
    assert (written.status.value, written.filled_lots, written.fees) == ("live", 0, {})
    assert batch.fills == [] and core.orders[ask.order_id].status.value == "filled"
