"""Shared by the bot tests: spot-only ccxt clients, raw fills, vault credentials by env."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from fixtures.server import IssuedKey, SealbookServer, ccxt_client
from sealbook.client.bots.pnl import pair_profit
from sealbook.client.bots.venue import Fill, MarketInfo

SPOT_ONLY = {"fetchMarkets": {"types": ["spot"]}}


def spot_client(server: SealbookServer, key: IssuedKey, **config: Any) -> Any:
    assert key.secret is not None
    return ccxt_client(server.base_url, key.api_key, key.secret, key.passphrase,
                       options=dict(SPOT_ONLY), **config)


def trader(server: SealbookServer, funds: dict[str, str], perms: tuple[str, ...] = ("spot_trade",)
           ) -> IssuedKey:
    key = server.issue_key(perms=list(perms))
    for coin, amount in funds.items():
        server.deposit(key.person, coin, amount)
    return key


def raw_fills(client: Any, order_id: str, base: str) -> list[Fill]:
    """The server's own fills of one order, from the decimal strings on the wire."""
    reply = client.privateSpotGetV2SpotTradeFills({"orderId": order_id, "limit": "100"})
    assert reply["code"] == "00000"
    out = []
    for row in reply["data"]:
        fee = row["feeDetail"]
        out.append(Fill(row["tradeId"], row["orderId"], row["side"], Decimal(row["priceAvg"]),
                        Decimal(row["size"]), -Decimal(fee["totalFee"]), fee["feeCoin"],
                        int(row["cTime"])))
        assert Decimal(row["amount"]) == Decimal(row["priceAvg"]) * Decimal(row["size"])
    del base
    return out


def profit_from_server(client: Any, market: MarketInfo, buy_id: str, sell_id: str) -> Decimal:
    return pair_profit(raw_fills(client, buy_id, market.base),
                       raw_fills(client, sell_id, market.base), market)


def creds_env(name: str, server: SealbookServer, key: IssuedKey) -> dict[str, str]:
    prefix = f"SEALBOOK_CREDS_{name.upper()}_"
    assert key.secret is not None
    return {prefix + "KEY": key.api_key, prefix + "SECRET": key.secret,
            prefix + "PASSPHRASE": key.passphrase, prefix + "EXCHANGE": "bitget",
            prefix + "URL": server.base_url}


def bot_env(home: Path, *creds: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SEALBOOK_CREDS_", "SEALBOOK_HOME"))}
    env["SEALBOOK_CLIENT_HOME"] = str(home)
    env["PYTHONUNBUFFERED"] = "1"
    for c in creds:
        env.update(c)
    return env


def bot_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "sealbook.cli.main", "bot", *args]


def run_bot(
    env: dict[str, str], *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """The bot command in its own process (for signals and crashes)."""
    return subprocess.run(bot_command(*args), env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def invoke_bot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The bot command in this process (no interpreter start-up): same result shape."""
    from typer.testing import CliRunner

    from sealbook.cli.main import app

    overrides: dict[str, str | None] = {k: None for k in os.environ
                                        if k.startswith("SEALBOOK_CREDS_")}
    overrides.update({k: v for k, v in env.items()
                      if k.startswith("SEALBOOK_") and k != "SEALBOOK_HOME"})
    result = CliRunner().invoke(app, ["bot", *args], env=overrides, catch_exceptions=False)
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)
