"""`sealbook deposit`, `address`, `fees bgb` and `ledger check`, run for real in a subprocess.

Without a server the command applies a deposit itself (it can take ``writer.lock``); while
``sealbook serve`` runs, the server applies it from the inbox, once. ``ledger check`` reads
the database without the master key, and names what was done to a tampered SQLite file.
Amounts in the database are atoms (10^-18 of a coin), stored as decimal text.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from fixtures.server import SealbookServer
from fixtures.services import WallClockCodes, cli_env, run_cli
from sealbook.clock import SystemClock
from sealbook.config import Settings
from sealbook.exchange.accounts import AccountService
from sealbook.exchange.context import Context, open_context
from sealbook.exchange.core import Changes, ExchangeCore, PlaceRequest
from sealbook.exchange.inbox import submit_command, writer_lock
from sealbook.exchange.service import POLL_S, ExchangeService
from sealbook.keys.totp import STEP_S, code_at
from sealbook.markets import default_catalog
from sealbook.money import parse_atoms
from sealbook.store.exchange import load_core, persist
from sealbook.store.tables import deposits, inbox, postings, user_settings

PASSWORD = "Sturdy-Password-42"
USDT_1000 = str(parse_atoms("1000"))


class Cli:
    """``sealbook ... --home HOME`` with a fixed environment."""

    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.home = home
        self.env = env

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return run_cli([*args, "--home", str(self.home)], env=self.env, stdin=stdin)

    def ok(self, *args: str, stdin: str | None = None) -> str:
        result = self.run(*args, stdin=stdin)
        assert result.returncode == 0, f"{args}: {result.stderr}"
        assert "Traceback" not in result.stderr
        return result.stdout

    def json(self, *args: str, stdin: str | None = None) -> Any:
        return json.loads(self.ok(*args, "--json", stdin=stdin))

    def refused(self, *args: str) -> str:
        """Runs a command that must fail with exit 1; returns its error line."""
        result = self.run(*args)
        assert result.returncode == 1, (result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        return result.stderr.strip()

    def sql(self, query: str, *params: object) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(self.home / "sealbook.db")
        try:
            return conn.execute(query, params).fetchall()
        finally:
            conn.close()


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    home = tmp_path / "home"
    cli = Cli(home, cli_env(os.urandom(32)))
    cli.ok("user", "create", "alice", "--password-stdin", stdin=PASSWORD + "\n")
    return cli


# --- deposit, no server running ------------------------------------------------------------


def test_deposit_without_a_server_then_the_ledger_checks_out(cli: Cli) -> None:
    first = cli.json(
        "deposit", "--user", "alice", "--coin", "usdt", "--amount", "1000", "--chain", "TRC20"
    )
    human = cli.ok("deposit", "--user", "alice", "--coin", "BTC", "--amount", "0.5")

    assert first == {
        "user": "alice",
        "depositId": "1",
        "coin": "USDT",
        "chain": "TRC20",
        "amount": "1000",
        "txId": "sbtx000000000001",
    }
    assert human.strip() == "deposited 0.5 BTC (BTC) to alice: deposit 2, tx sbtx000000000002"
    assert cli.sql("SELECT deposit_id, user_id, coin, chain, amount FROM deposits") == [
        (1, 1, "USDT", "TRC20", USDT_1000),
        (2, 1, "BTC", "BTC", str(parse_atoms("0.5"))),
    ]
    assert cli.sql("SELECT seq, debit_owner, credit_owner, asset, amount FROM postings") == [
        (1, "WORLD", "1", "USDT", USDT_1000),
        (2, "WORLD", "1", "BTC", str(parse_atoms("0.5"))),
    ]
    assert cli.sql("SELECT count(*) FROM inbox") == [(0,)]  # applied directly

    assert cli.json("ledger", "check") == {"ok": True, "postings": 2, "violations": []}
    assert cli.ok("ledger", "check").strip() == "ledger sound: 2 postings"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--coin", "NOPE", "--amount", "1"], "error: 40034 Parameter NOPE does not exist"),
        (["--coin", "USDT", "--amount", "-5"], "error: cannot read amount '-5': '-5' must not"),
        (["--coin", "USDT", "--amount", "0"], "error: amount must be positive, not '0'"),
        (["--coin", "USDT", "--amount", "ten"], "error: cannot read amount 'ten'"),
        (["--coin", "USDT", "--amount", "1e3"], "error: cannot read amount '1e3'"),
        (["--coin", "USDT", "--amount", "0." + "0" * 18 + "1"], "more than 18 decimal places"),
        (["--coin", "USDT", "--amount", "1", "--chain", "BTC"], "USDT has no such chain"),
    ],
)
def test_a_bad_deposit_is_refused_and_changes_nothing(
    cli: Cli, args: list[str], error: str
) -> None:
    assert error in cli.refused("deposit", "--user", "alice", *args)
    assert cli.json("ledger", "check")["postings"] == 0
    assert cli.sql("SELECT count(*) FROM deposits") == [(0,)]


def test_a_deposit_to_an_unknown_user_is_refused(cli: Cli) -> None:
    error = cli.refused("deposit", "--user", "bob", "--coin", "USDT", "--amount", "1")
    assert error == "error: 40073 user 'bob' does not exist"
    assert cli.sql("SELECT count(*) FROM deposits") == [(0,)]


# --- fees bgb ------------------------------------------------------------------------------


def test_fees_bgb_on_and_off_is_persisted(cli: Cli) -> None:
    assert cli.json("fees", "bgb", "on", "--user", "alice") == {
        "user": "alice",
        "bgbDeduct": "on",
    }
    assert cli.sql("SELECT user_id, bgb_deduct FROM user_settings") == [(1, 1)]

    assert cli.ok("fees", "bgb", "off", "--user", "alice").strip() == (
        "paying fees in BGB is off for alice"
    )
    assert cli.sql("SELECT user_id, bgb_deduct FROM user_settings") == [(1, 0)]

    wrong = cli.run("fees", "bgb", "maybe", "--user", "alice")
    assert wrong.returncode == 2
    assert cli.sql("SELECT user_id, bgb_deduct FROM user_settings") == [(1, 0)]


# --- the address book ----------------------------------------------------------------------


def _wrong_code(seed: str) -> str:
    """Six digits valid for no step near now (the check accepts the steps beside it)."""
    step = int(time.time() // STEP_S)
    near = {code_at(seed, s) for s in range(step - 3, step + 4)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444") if c not in near)


def test_address_book_add_list_remove(cli: Cli) -> None:
    seed = cli.json("user", "totp-enroll", "alice")["secret"]
    codes = WallClockCodes(seed)
    cli.ok("user", "totp-confirm", "alice", "--code", codes.next())
    address = "TN3W4H6rK2ce4vX9YnFQHwKENnHjoxb3m9"

    booked = cli.json(
        "address", "add", "--user", "alice", "--coin", "usdt", "--chain", "TRC20",
        "--address", address, "--label", "cold wallet", "--totp", codes.next(),
    )  # fmt: skip

    assert booked["id"] == 1
    assert {k: v for k, v in booked.items() if k != "createdTime"} == {
        "id": 1,
        "coin": "USDT",
        "chain": "TRC20",
        "address": address,
        "tag": "",
        "label": "cold wallet",
    }

    wrong = cli.refused(
        "address", "add", "--user", "alice", "--coin", "USDT", "--chain", "ERC20",
        "--address", "0x" + "ab" * 20, "--totp", _wrong_code(seed),
    )  # fmt: skip
    assert wrong.startswith("error: 40049 ")
    no_tag = cli.refused(
        "address", "add", "--user", "alice", "--coin", "XRP", "--chain", "XRP",
        "--address", "rN7n7otQDd6FczFgLdSqtcsAUxDkw6fzRH", "--totp", _wrong_code(seed),
    )  # fmt: skip
    assert "XRP on XRP needs a tag (memo)" in no_tag  # refused before the code is looked at

    listed = cli.json("address", "list", "--user", "alice")
    assert listed == [booked]
    table = cli.ok("address", "list", "--user", "alice")
    assert address in table
    assert "cold wallet" in table

    assert cli.json("address", "remove", "1", "--user", "alice") == {"id": 1, "removed": True}
    assert cli.json("address", "list", "--user", "alice") == []
    assert cli.ok("address", "list", "--user", "alice").strip() == "no booked addresses"
    assert cli.refused("address", "remove", "1", "--user", "alice") == (
        "error: 40073 address 1 does not exist"
    )


# --- while a server runs -------------------------------------------------------------------


def _deposit_rows(server: SealbookServer, user_id: int) -> list[tuple[Any, ...]]:
    with server.ctx.engine.connect() as conn:
        found = conn.execute(
            select(deposits.c.coin, deposits.c.amount).where(deposits.c.user_id == user_id)
        )
        return [tuple(r) for r in found]


def _credit_postings(server: SealbookServer, user_id: int) -> list[tuple[Any, ...]]:
    with server.ctx.engine.connect() as conn:
        found = conn.execute(
            select(postings.c.kind, postings.c.asset, postings.c.amount).where(
                postings.c.credit_owner == str(user_id)
            )
        )
        return [tuple(r) for r in found]


@pytest.mark.e2e
def test_a_deposit_while_the_server_runs_is_applied_by_it_once(
    sealbook_server: SealbookServer,
) -> None:
    server = sealbook_server
    person = server.person()
    key = server.issue_key(person)

    result = server.cli(
        "deposit", "--user", person.name, "--coin", "USDT", "--amount", "250", "--json"
    )

    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["user"] == person.name
    assert printed["coin"] == "USDT"
    assert printed["chain"] == "TRC20"
    assert printed["amount"] == "250"
    with server.ctx.engine.connect() as conn:
        queued = conn.execute(select(inbox).where(inbox.c.kind == "deposit")).all()
    mine = [r for r in queued if json.loads(r.payload)["user_id"] == person.user_id]
    assert len(mine) == 1
    assert mine[0].done_ms is not None
    assert json.loads(mine[0].result) == {k: v for k, v in printed.items() if k != "user"}

    # The server answers from its core: the balance is there, once.
    assets = server.client(key).fetch_balance()["info"]
    usdt = [row for row in assets if row["coin"] == "USDT"]
    assert len(usdt) == 1
    assert Decimal(usdt[0]["available"]) == Decimal("250")
    assert _deposit_rows(server, person.user_id) == [("USDT", parse_atoms("250"))]
    assert _credit_postings(server, person.user_id) == [("deposit", "USDT", parse_atoms("250"))]

    again = server.cli("deposit", "--user", person.name, "--coin", "USDT", "--amount", "0.5")
    assert again.returncode == 0, again.stderr
    assets = server.client(key).fetch_balance()["info"]
    assert [Decimal(r["available"]) for r in assets if r["coin"] == "USDT"] == [Decimal("250.5")]
    assert len(_deposit_rows(server, person.user_id)) == 2

    check = server.cli("ledger", "check", "--json")
    assert check.returncode == 0, check.stdout
    assert json.loads(check.stdout)["ok"] is True


@pytest.mark.e2e
def test_a_refused_deposit_through_the_server_says_why(sealbook_server: SealbookServer) -> None:
    person = sealbook_server.person()
    result = sealbook_server.cli(
        "deposit", "--user", person.name, "--coin", "BTC", "--amount", "1", "--chain", "ERC20"
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "error: 40020 Parameter chain error: BTC has no such chain"
    assert _deposit_rows(sealbook_server, person.user_id) == []


@pytest.mark.e2e
def test_fees_bgb_while_the_server_runs(sealbook_server: SealbookServer) -> None:
    person = sealbook_server.person()

    on = sealbook_server.cli("fees", "bgb", "on", "--user", person.name, "--json")

    assert on.returncode == 0, on.stderr
    assert json.loads(on.stdout) == {"user": person.name, "bgbDeduct": "on"}
    with sealbook_server.ctx.engine.connect() as conn:
        row = conn.execute(
            select(user_settings.c.bgb_deduct).where(user_settings.c.user_id == person.user_id)
        ).scalar_one()
    assert row is True


def test_an_inbox_command_is_applied_once_while_its_commit_is_slow(ctx: Context) -> None:
    """Regression: the server read the inbox again while the commit marking a command
    done was still being written, and applied the command a second time."""
    service = ExchangeService(ctx, default_catalog())
    held, release = threading.Event(), threading.Event()
    write = service._write

    def slow_write(changes: Changes, done: list[tuple[int, str, int]]) -> None:
        if done:
            held.set()
            release.wait(30)
        write(changes, done)

    service._write = slow_write  # type: ignore[method-assign]
    home = ctx.settings.home
    payload = {"user_id": 7, "coin": "USDT", "chain": None, "amount": "100"}

    async def scenario() -> dict[str, Any]:
        await service.start()
        try:
            with writer_lock(home) as mine:  # as `serve` does: the CLI must use the inbox
                assert mine
                submitted = asyncio.create_task(
                    asyncio.to_thread(
                        submit_command, ctx.engine, home, service.catalog, "deposit", payload, 0
                    )
                )
                assert await asyncio.to_thread(held.wait, 30)
                await asyncio.sleep(6 * POLL_S)  # several inbox polls while the commit is held
                release.set()
                return await submitted
        finally:
            release.set()
            await service.stop()

    result = asyncio.run(scenario())

    assert result["amount"] == "100"
    assert service.core.ledger.available(7, "USDT") == parse_atoms("100")
    with ctx.engine.connect() as conn:
        assert conn.execute(select(deposits.c.user_id, deposits.c.amount)).all() == [
            (7, parse_atoms("100"))
        ]
        assert [r.done_ms is not None for r in conn.execute(select(inbox))] == [True]


# --- ledger check catches tampering --------------------------------------------------------

# The workload below gives these postings (user 1 alice, user 2 bob):
#  1 deposit 1000 USDT to alice     8 bob's fee 0.2 USDT       12 hold w2 0.01077 BTC
#  2 deposit 1 BTC to bob           9 hold o3 150 USDT         13 w2 0.01 BTC to WORLD
#  3 hold o1 500 USDT               10 release o3             14 w2's fee 0.00077 BTC
#  4 hold o2 0.004 BTC              11 hold w1 101.5 USDT
#  5-6 trade 0.004 BTC @ 50000; 7 alice's fee 0.000004 BTC
TAMPERING = {
    "changed-amount": (
        ["UPDATE postings SET amount = '2000000000000000000000' WHERE seq = 1"],
        "posting 1 moves 2000 USDT from WORLD/USDT/available to 1/USDT/available, "
        "but deposit 1 (1000 USDT to user 1) records otherwise",
    ),
    "changed-hold": (
        ["UPDATE postings SET amount = '400000000000000000000' WHERE seq = 3"],
        "hold 'o1' has 200000000000000000000 remaining but 300000000000000000000 is expected",
    ),
    "deleted": (["DELETE FROM postings WHERE seq = 7"], "posting log is missing seq 7"),
    "deleted-hold": (
        ["DELETE FROM postings WHERE seq = 3"],
        "posting log cannot be loaded: posting 6 draws on unknown hold 'o1'",
    ),
    "deleted-last": (
        ["DELETE FROM postings WHERE seq >= 11"],
        "pending withdrawal 1 has no hold 'w1' in the ledger",
    ),
    "money-from-nowhere": (
        [
            "INSERT INTO postings VALUES (15, 'x1', 'WORLD', 'available', '2', 'available', "
            "'USDT', '5000000000000000000000', 'trade', 't99', NULL)"
        ],
        "posting 15 takes 5000 USDT from WORLD as 'trade': only deposits bring money in",
    ),
    "overdraft": (
        [
            "INSERT INTO postings VALUES (15, 'x2', '1', 'available', 'FEES', 'available', "
            "'BTC', '5000000000000000000', 'fee', 't99', NULL)"
        ],
        "account 1/BTC/available is negative: -4996004000000000000",
    ),
    "stray-hold": (
        [
            "INSERT INTO postings VALUES (15, 'x3', '1', 'available', '1', 'frozen', "
            "'USDT', '10000000000000000000', 'order_hold', 'o99', 'o99')"
        ],
        "hold 'o99' has 10000000000000000000 remaining but 0 is expected",
    ),
    "order-row": (
        ["UPDATE orders SET filled_lots = '60000' WHERE order_id = 1"],
        "user 1 has 401.5 USDT frozen, but their open orders and pending withdrawals hold 301.5",
    ),
}


def _workload(core: ExchangeCore, now: int) -> None:
    core.place(1, PlaceRequest("BTCUSDT", "buy", "limit", "0.01", "50000"), now)
    core.place(2, PlaceRequest("BTCUSDT", "sell", "limit", "0.004", "50000"), now)
    core.place(1, PlaceRequest("ETHUSDT", "buy", "limit", "0.05", "3000"), now)
    core.cancel(1, "ETHUSDT", now, order_id=3)
    core.request_withdrawal(1, "USDT", "TRC20", "TAliceAddr", "", "100", "", now)
    core.request_withdrawal(2, "BTC", "BTC", "bc1qbob", "", "0.01", "", now)
    core.complete_withdrawal(2, now)


@pytest.fixture
def busy_home(tmp_path: Path) -> Path:
    """A home with deposits (through the CLI's own path), trades and withdrawals."""
    home = tmp_path / "busy"
    ctx = open_context(Settings(home=home), create_master_key=True, clock=SystemClock())
    catalog = default_catalog()
    try:
        accounts = AccountService(ctx)
        alice = accounts.create_user("alice", PASSWORD)
        bob = accounts.create_user("bob", PASSWORD)
        for user_id, coin, amount in ((alice, "USDT", "1000"), (bob, "BTC", "1")):
            payload = {"user_id": user_id, "coin": coin, "chain": None, "amount": amount}
            submit_command(ctx.engine, home, catalog, "deposit", payload, ctx.clock.now_ms())
        with writer_lock(home) as mine:
            assert mine
            core = load_core(ctx.engine, catalog, ctx.clock.now_ms())
            _workload(core, ctx.clock.now_ms())
            with ctx.engine.begin() as conn:
                persist(conn, core.drain())
    finally:
        ctx.engine.dispose()
    return home


def test_the_busy_home_is_sound(busy_home: Path) -> None:
    cli = Cli(busy_home, cli_env())  # no master key needed
    assert cli.json("ledger", "check") == {"ok": True, "postings": 14, "violations": []}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_ledger_check_names_the_tampering(busy_home: Path, case: str) -> None:
    statements, named = TAMPERING[case]
    cli = Cli(busy_home, cli_env())
    for statement in statements:
        conn = sqlite3.connect(busy_home / "sealbook.db")
        try:
            with conn:
                conn.execute(statement)
        finally:
            conn.close()

    as_json = cli.run("ledger", "check", "--json")
    human = cli.run("ledger", "check")

    assert as_json.returncode == human.returncode == 1
    report = json.loads(as_json.stdout)
    assert report["ok"] is False
    assert named in report["violations"]
    assert human.stdout.startswith(f"ledger check FAILED: {len(report['violations'])} violations")
    assert f"  {named}\n" in human.stdout
