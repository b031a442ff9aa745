"""``sealbook bot grid`` as a process: key checks, SIGKILL and restart without duplicate
orders, and running on through a restart of the server under it."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import pytest
from bot_support import bot_command, bot_env, creds_env, invoke_bot, run_bot, spot_client, trader

from fixtures.server import SealbookServer, running_server
from sealbook.client.bots.state import BotState

pytestmark = pytest.mark.e2e

SYMBOL = "ETH/USDT"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SealbookServer]:
    with running_server(tmp_path_factory.mktemp("grid-cli"), {}, demo=True) as server:
        yield server


def _grid_args(client: Any, state: Path, *extra: str) -> list[str]:
    book = client.fetch_order_book(SYMBOL, 5)
    mid = (Decimal(str(book["bids"][0][0])) + Decimal(str(book["asks"][0][0]))) / 2
    lower, upper = (mid * Decimal("0.97")).quantize(Decimal("0.1")), (
        mid * Decimal("1.03")).quantize(Decimal("0.1"))
    return ["grid", "--creds", "g", "--symbol", SYMBOL, "--lower", str(lower), "--upper",
            str(upper), "--grids", "6", "--mode", "arithmetic", "--investment", "600",
            "--state", str(state),
            "--interval", "0.2", *extra]


def _events(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def _wait_for(stream: IO[str], seen: list[dict[str, Any]], predicate: Any,
              timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            raise AssertionError(f"the bot ended early; events: {seen[-5:]}")
        if line.startswith("{"):
            seen.append(json.loads(line))
            if predicate(seen):
                return
    raise AssertionError(f"timed out; last events: {seen[-5:]}")


def _server_orders(client: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    open_rows = client.privateSpotGetV2SpotTradeUnfilledOrders({"symbol": "ETHUSDT"})["data"]
    done = client.privateSpotGetV2SpotTradeHistoryOrders({"symbol": "ETHUSDT"})["data"]
    return list(open_rows), list(done)


def test_a_key_that_can_withdraw_is_refused_unless_allowed(
    demo: SealbookServer, tmp_path: Path
) -> None:
    key = demo.issue_key(perms=["spot_trade", "withdraw"], ips=["127.0.0.1"])
    demo.deposit(key.person, "USDT", "1000")
    client = spot_client(demo, key)
    env = bot_env(tmp_path, creds_env("g", demo, key))
    args = _grid_args(client, tmp_path / "w.sqlite", "--json", "--ticks", "2")
    refused = invoke_bot(env, *args)
    assert refused.returncode == 1
    assert "key permissions: read, spot trade, withdraw" in refused.stderr
    assert "can withdraw" in refused.stderr and "--allow-withdraw-key" in refused.stderr
    assert key.secret is not None and key.secret not in refused.stderr + refused.stdout
    assert _server_orders(client) == ([], [])

    allowed = invoke_bot(env, *args, "--allow-withdraw-key")
    assert allowed.returncode == 0, allowed.stderr
    placed = [e for e in _events(allowed.stdout) if e["event"] == "placed"]
    assert len(placed) == 7  # the seed buy and six grid orders
    assert len(_server_orders(client)[0]) == 6


def test_a_read_only_key_trades_only_in_a_dry_run(demo: SealbookServer, tmp_path: Path) -> None:
    key = demo.issue_key(perms=[])
    client = spot_client(demo, key)
    env = bot_env(tmp_path, creds_env("g", demo, key))
    args = _grid_args(client, tmp_path / "r.sqlite", "--json", "--ticks", "1")
    refused = invoke_bot(env, *args)
    assert refused.returncode == 1 and "cannot trade" in refused.stderr
    with_state = invoke_bot(env, *args, "--dry-run")
    assert with_state.returncode == 1 and "drop --state" in with_state.stderr
    at = args.index("--state")
    dry = invoke_bot(env, *args[:at], *args[at + 2 :], "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "key permissions: read" in dry.stderr
    assert sum(e["event"] == "placed" for e in _events(dry.stdout)) == 7  # simulated
    assert _server_orders(client) == ([], [])
    assert not (tmp_path / "r.sqlite").exists()  # a dry run keeps its state in memory


def test_bad_input_is_refused_before_anything_is_sent(demo: SealbookServer, tmp_path: Path) -> None:
    key = trader(demo, {"USDT": "1000"})
    client = spot_client(demo, key)
    env = bot_env(tmp_path, creds_env("g", demo, key))
    for change, message in (
        (("--lower", "abc"), "not a number"),
        (("--grids", "1"), "--grids"),
        (("--investment", "-5"), "--investment"),
        (("--mode", "spiral"), "--mode"),
        (("--investment", "1"), "too small"),
    ):
        args = _grid_args(client, tmp_path / "bad.sqlite", "--json", "--ticks", "1")
        at = args.index(change[0])
        args[at + 1] = change[1]
        result = invoke_bot(env, *args)
        assert result.returncode == 1 and message in result.stderr, result.stderr
    missing = invoke_bot(bot_env(tmp_path), *_grid_args(client, tmp_path / "m.sqlite", "--json"))
    assert missing.returncode == 1 and "no credential named 'g'" in missing.stderr
    assert _server_orders(client) == ([], [])


def test_sigkill_mid_run_then_restart_places_no_duplicate(
    demo: SealbookServer, tmp_path: Path
) -> None:
    key = trader(demo, {"USDT": "2000"})
    client = spot_client(demo, key)
    env = bot_env(tmp_path, creds_env("g", demo, key))
    state_path = tmp_path / "k.sqlite"
    args = _grid_args(client, state_path, "--json")  # the same grid on both runs
    seen: list[dict[str, Any]] = []
    with subprocess.Popen(bot_command(*args), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True) as proc:
        assert proc.stdout is not None
        # killed while it is placing the grid: after the seed and two grid orders
        _wait_for(proc.stdout, seen, lambda s: sum(e["event"] == "placed" for e in s) >= 3)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    before = len(_server_orders(client)[0])
    assert 2 <= before < 6

    again = run_bot(env, *args, "--ticks", "4")
    assert again.returncode == 0, again.stderr
    assert any(e["event"] == "resumed" for e in _events(again.stdout))

    open_rows, done_rows = _server_orders(client)
    prices = [Decimal(r["priceAvg"]) for r in open_rows]
    assert len(prices) == 6 and len(set(prices)) == 6  # the whole grid, once
    state = BotState(state_path)
    try:
        mine = {o.client_oid: o for o in state.orders()}
        server_oids = [r["clientOid"] for r in [*open_rows, *done_rows]]
        assert len(server_oids) == len(set(server_oids))
        assert set(server_oids) == {o for o, s in mine.items() if s.status != "rejected"}
        for row in open_rows:  # state and exchange agree on every open order
            order = mine[row["clientOid"]]
            assert (order.status, order.order_id, order.price) == (
                "open", row["orderId"], Decimal(row["priceAvg"]))
        grid_orders = [o for o in mine.values() if o.role == "grid"]
        assert len(grid_orders) == 6 and len({o.cell for o in grid_orders}) == 6
        assert sum(o.role == "seed" for o in mine.values()) == 1
        assert state.orders("intent") == []  # nothing left in doubt
    finally:
        state.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("k.sqlite*"))
    assert key.secret is not None
    for secret in (key.secret, key.passphrase, key.api_key):
        assert secret.encode() not in stored + again.stdout.encode() + again.stderr.encode()


def test_the_bot_runs_on_through_a_server_restart(demo: SealbookServer, tmp_path: Path) -> None:
    key = trader(demo, {"USDT": "2000"})
    client = spot_client(demo, key)
    mover_key = trader(demo, {"ETH": "20", "USDT": "1000"})
    env = bot_env(tmp_path, creds_env("g", demo, key))
    args = _grid_args(client, tmp_path / "s.sqlite", "--json")
    levels: list[str] = []
    seen: list[dict[str, Any]] = []
    with subprocess.Popen(bot_command(*args), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True) as proc:
        try:
            assert proc.stdout is not None
            _wait_for(proc.stdout, seen, lambda s: sum(e["event"] == "placed" for e in s) >= 7)
            levels = next(e["levels"] for e in seen if e["event"] == "started")
            demo.kill()
            _wait_for(proc.stdout, seen, lambda s: s[-1]["event"] == "backoff")
            demo.start(same_port=True)
            mover = spot_client(demo, mover_key)
            mover.create_order(SYMBOL, "limit", "sell", "3", levels[2], {"timeInForce": "IOC"})
            _wait_for(proc.stdout, seen, lambda s: s[-1]["event"] == "placed"
                      and s[-1]["price"] == levels[3], timeout=40)
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0
    seen += _events(out)
    assert seen[-1]["event"] == "stopped"
    filled = [e for e in seen if e["event"] == "filled" and e["role"] == "grid"]
    assert any(e["price"] == levels[2] and e["side"] == "buy" for e in filled)
    prices = [r["priceAvg"] for r in _server_orders(spot_client(demo, key))[0]]
    # one order per cell, at most one per level (the counter sell may have filled at once,
    # its buy then still to be placed when the bot was stopped)
    assert len(prices) == len(set(prices)) and 5 <= len(prices) <= 6


def test_the_live_panel_shows_the_grid(demo: SealbookServer, tmp_path: Path) -> None:
    key = demo.issue_key(perms=[])
    client = spot_client(demo, key)
    env = bot_env(tmp_path, creds_env("g", demo, key))
    args = _grid_args(client, tmp_path / "p.sqlite", "--ticks", "2", "--dry-run")
    args[args.index("arithmetic")] = "geometric"
    at = args.index("--state")
    result = invoke_bot(env, *args[:at], *args[at + 2 :])
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "grid ETH/USDT" in out and "DRY RUN" in out and "realised" in out
    assert "◀ price" in out and out.count("buy") >= 3 and out.count("sell") >= 3


def test_a_key_revoked_under_a_running_bot_ends_it_with_a_plain_message(
    demo: SealbookServer, tmp_path: Path
) -> None:
    key = trader(demo, {"USDT": "2000"})
    client = spot_client(demo, key)
    env = bot_env(tmp_path, creds_env("g", demo, key))
    seen: list[dict[str, Any]] = []
    with subprocess.Popen(bot_command(*_grid_args(client, tmp_path / "v.sqlite", "--json")),
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as proc:
        try:
            assert proc.stdout is not None
            _wait_for(proc.stdout, seen, lambda s: sum(e["event"] == "placed" for e in s) >= 7)
            demo.keys.revoke(key.api_key, "test: key leaked")
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 1
    assert "error: the exchange refused: AuthenticationError" in err
    assert "Traceback" not in err
    assert key.secret is not None and key.secret not in err and key.passphrase not in err
