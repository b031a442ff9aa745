"""Commands from other processes (the CLI) for the exchange's single writer.

While a server runs, it alone changes exchange state: the CLI writes a command to the
``inbox`` table and waits; the server applies it and marks it done in the same
transaction that records its effects, so each command takes effect exactly once. When no
server runs (the CLI can take ``writer.lock``), the CLI applies the command itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select

from sealbook.errors import ParamInvalid, SealbookError, ServiceUnavailable
from sealbook.exchange.core import ExchangeCore
from sealbook.markets import Catalog
from sealbook.money import MoneyError, atoms_to_str, parse_atoms
from sealbook.store.tables import inbox

__all__ = ["apply_command", "pending_commands", "submit_command", "writer_lock"]


@contextlib.contextmanager
def writer_lock(home: Path, *, wait: bool = False) -> Iterator[bool]:
    """Hold ``home/writer.lock``; yields False (holding nothing) if another process has it."""
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(home / "writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def apply_command(
    core: ExchangeCore, kind: str, payload: dict[str, Any], now_ms: int
) -> dict[str, Any]:
    """Run one inbox command against the core; returns what the CLI prints."""
    if kind == "deposit":
        try:
            amount = parse_atoms(str(payload["amount"]))
        except MoneyError as exc:
            raise ParamInvalid("amount", str(exc)) from None
        deposit = core.deposit(
            int(payload["user_id"]),
            str(payload["coin"]).upper(),
            payload.get("chain"),
            amount,
            str(payload.get("address") or "cli"),
            now_ms,
        )
        return {
            "depositId": str(deposit.deposit_id),
            "coin": deposit.coin,
            "chain": deposit.chain,
            "amount": atoms_to_str(deposit.amount_atoms),
            "txId": deposit.tx_id,
        }
    if kind == "bgb":
        core.set_bgb_deduct(int(payload["user_id"]), bool(payload["on"]))
        return {"deduct": "on" if payload["on"] else "off"}
    raise ParamInvalid("kind", f"unknown inbox command {kind!r}")


def pending_commands(engine: Engine) -> list[tuple[int, str, dict[str, Any]]]:
    with engine.connect() as conn:
        rows = conn.execute(select(inbox).where(inbox.c.done_ms.is_(None)).order_by(inbox.c.id))
        return [(r.id, r.kind, json.loads(r.payload)) for r in rows]


def submit_command(
    engine: Engine,
    home: Path,
    catalog: Catalog,
    kind: str,
    payload: dict[str, Any],
    now_ms: int,
    *,
    timeout_s: float = 15.0,
) -> dict[str, Any]:
    """Apply a command: directly when no server runs, else through the server's inbox."""
    from sealbook.store.exchange import load_core, persist  # the store imports this package

    with writer_lock(home) as mine:
        if mine:
            core = load_core(engine, catalog, now_ms)
            applied = apply_command(core, kind, payload, now_ms)
            with engine.begin() as conn:
                persist(conn, core.drain())
            return applied
    with engine.begin() as conn:
        inbox_id = conn.execute(
            insert(inbox)
            .values(kind=kind, payload=json.dumps(payload), created_ms=now_ms)
            .returning(inbox.c.id)
        ).scalar_one()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            row = conn.execute(select(inbox.c.result).where(inbox.c.id == inbox_id)).first()
        if row is not None and row.result is not None:
            result: dict[str, Any] = json.loads(row.result)
            error = result.get("error")
            if error:
                failure = SealbookError(error["msg"])
                failure.code = error["code"]
                raise failure
            return result
        time.sleep(0.1)
    raise ServiceUnavailable(
        f"the running server did not apply command {inbox_id} within {timeout_s:.0f} s; "
        "it stays queued and will be applied once"
    )
