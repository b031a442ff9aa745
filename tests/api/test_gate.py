"""The key gate in front of your own ASGI app.

Stamp each route with the permission it needs by adding it to a ``BitgetRouter``; build
the gate's table from the app's routes; wrap the app. Every ``/api/`` request is then
authenticated (Bitget signing), authorised and rate-limited before the app sees it, and
the endpoint receives the verified key as ``CurrentKey``. Everything else passes through.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Body, FastAPI

from sealbook.api.deps import CurrentKey
from sealbook.api.gate import Gate, route_table
from sealbook.api.routing import PUBLIC, BitgetRouter
from sealbook.clock import ManualClock
from sealbook.config import Settings
from sealbook.exchange.accounts import AccountService
from sealbook.exchange.apikeys import KeyService, KeySpec
from sealbook.exchange.authlog import AuthLog
from sealbook.exchange.context import Context, open_context
from sealbook.exchange.keyring import DbKeyDirectory
from sealbook.keys.allowlist import ProxyPolicy
from sealbook.keys.permissions import Permission
from sealbook.keys.schemes import KeyType
from sealbook.keys.totp import code_at, step_of
from sealbook.keys.verifier import Verifier
from sealbook.ratelimit import MemoryRateLimiter

PLACE_ORDER = "/api/v2/spot/trade/place-order"
ORDER = {"symbol": "BTCUSDT", "side": "buy", "orderType": "limit", "size": "0.001"}
PASSPHRASE = "Passphrase2024"

# --- your application ---------------------------------------------------------------------

trading = BitgetRouter(access=Permission.SPOT_TRADE)
public = BitgetRouter(access=PUBLIC)


@trading.post(PLACE_ORDER)
def place_order(key: CurrentKey, order: Annotated[dict[str, str], Body()]) -> dict[str, Any]:
    return {"userId": key.user_id, "ip": key.ip, "symbol": order["symbol"]}


@public.get("/api/v2/public/time")
def server_time() -> dict[str, str]:
    return {"serverTime": "1800000000000"}


def make_app() -> FastAPI:
    app = FastAPI()
    app.include_router(trading)
    app.include_router(public)

    @app.get("/health")  # not under /api/: the gate does not look at it
    def health() -> dict[str, bool]:
        return {"ok": True}

    return app


# --- the gate in front of it ----------------------------------------------------------------


@dataclass
class Keys:
    """Users and keys in a SQLite database, on a clock that moves only when told."""

    ctx: Context
    clock: ManualClock
    accounts: AccountService
    service: KeyService

    def issue(
        self, name: str, perms: frozenset[Permission], ips: tuple[str, ...] = ()
    ) -> tuple[str, str]:
        """A new user and an HMAC key for them: ``(api_key, secret)``."""
        self.accounts.create_user(name, "correct horse battery")
        seed = self.accounts.totp_enroll(name).secret
        self.accounts.totp_confirm(name, code_at(seed, step_of(self.clock.now_ms())))
        code = code_at(seed, step_of(self.clock.now_ms()) + 1)  # each code works once
        spec = KeySpec("bot", KeyType.HMAC, perms, ips)
        created = self.service.create(name, spec, PASSPHRASE, code)
        assert created.secret is not None
        return created.record.api_key, created.secret

    def gate(self, app: FastAPI, trusted_proxies: tuple[str, ...] = ()) -> Gate:
        return Gate(
            app,
            table=route_table(app.routes),
            verifier=Verifier(DbKeyDirectory(self.ctx), self.clock, AuthLog(self.ctx)),
            limiter=MemoryRateLimiter(),
            proxies=ProxyPolicy(trusted_proxies),
            clock=self.clock,
        )


@pytest.fixture
def keys(tmp_path: Path) -> Iterator[Keys]:
    clock = ManualClock()
    settings = Settings(home=tmp_path, database_url=None, master_key=None)
    ctx = open_context(settings, create_master_key=True, clock=clock)
    accounts = AccountService(ctx)
    yield Keys(ctx, clock, accounts, KeyService(ctx, accounts))
    ctx.engine.dispose()


def signed(api_key: str, secret: str, ts: int, method: str, path: str, body: str) -> dict[str, str]:
    prehash = f"{ts}{method}{path}{body}".encode()
    sign = base64.b64encode(hmac.digest(secret.encode(), prehash, hashlib.sha256)).decode()
    return {
        "ACCESS-KEY": api_key,
        "ACCESS-SIGN": sign,
        "ACCESS-TIMESTAMP": str(ts),
        "ACCESS-PASSPHRASE": PASSPHRASE,
        "Content-Type": "application/json",
    }


def send(
    gate: Gate,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: str = "",
    peer: str = "127.0.0.1",
) -> httpx.Response:
    """One request through the gate, arriving from ``peer``."""

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=gate, client=(peer, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://exchange.test") as c:
            return await c.request(method, path, headers=headers, content=body.encode())

    return asyncio.run(go())


def place(keys: Keys, gate: Gate, api_key: str, secret: str, **kw: Any) -> httpx.Response:
    keys.clock.advance(0.001)  # a fresh timestamp, hence a fresh signature: POSTs work once
    body = json.dumps(ORDER)  # spaced JSON: the signature covers the raw bytes as sent
    headers = signed(api_key, secret, keys.clock.now_ms(), "POST", PLACE_ORDER, body)
    return send(gate, "POST", PLACE_ORDER, headers=headers | kw.pop("headers", {}), body=body, **kw)


# --- what it does -----------------------------------------------------------------------------


def test_a_read_only_key_may_not_trade(keys: Keys) -> None:
    gate = keys.gate(make_app())
    api_key, secret = keys.issue("reader", frozenset())

    reply = place(keys, gate, api_key, secret)

    assert reply.status_code == 400
    assert reply.json()["code"] == "40014"
    assert reply.json()["msg"] == "Incorrect permissions, need spot order write permissions"


def test_a_trade_key_reaches_the_endpoint_as_its_user(keys: Keys) -> None:
    gate = keys.gate(make_app())
    api_key, secret = keys.issue("trader", frozenset({Permission.SPOT_TRADE}))
    user_id = keys.accounts.get("trader").id

    reply = place(keys, gate, api_key, secret)

    assert reply.status_code == 200
    assert reply.json() == {"userId": user_id, "ip": "127.0.0.1", "symbol": "BTCUSDT"}
    assert reply.headers["x-mbx-used-remain-limit"] == "9"  # place-order: 10 per second


def test_a_replayed_post_is_refused(keys: Keys) -> None:
    gate = keys.gate(make_app())
    api_key, secret = keys.issue("trader", frozenset({Permission.SPOT_TRADE}))
    body = json.dumps(ORDER)
    headers = signed(api_key, secret, keys.clock.now_ms(), "POST", PLACE_ORDER, body)

    first = send(gate, "POST", PLACE_ORDER, headers=headers, body=body)
    again = send(gate, "POST", PLACE_ORDER, headers=headers, body=body)

    assert first.status_code == 200
    assert again.status_code == 400
    assert again.json()["code"] == "40008"


def test_public_routes_need_no_key(keys: Keys) -> None:
    reply = send(keys.gate(make_app()), "GET", "/api/v2/public/time")

    assert reply.status_code == 200
    assert reply.json() == {"serverTime": "1800000000000"}
    assert reply.headers["x-mbx-used-remain-limit"] == "19"  # public/time: 20 per second


def test_an_api_route_without_a_stamp_is_refused_at_startup() -> None:
    app = make_app()

    @app.get("/api/v2/spot/account/secret-report")
    def unstamped() -> dict[str, str]:
        return {}

    with pytest.raises(RuntimeError, match="/api/v2/spot/account/secret-report has no permission"):
        route_table(app.routes)


def test_other_paths_pass_through_untouched(keys: Keys) -> None:
    gate = keys.gate(make_app())

    health = send(gate, "GET", "/health", headers={"ACCESS-KEY": "not even a key"})
    unknown = send(gate, "GET", "/api/v2/spot/no-such-endpoint")

    assert health.status_code == 200
    assert health.json() == {"ok": True}
    assert "x-mbx-used-remain-limit" not in health.headers
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "40404"


def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(keys: Keys) -> None:
    app = make_app()
    api_key, secret = keys.issue("desk", frozenset({Permission.SPOT_TRADE}), ("203.0.113.7",))
    from_client = {"X-Forwarded-For": "203.0.113.7"}

    # Anyone can write the header: from an untrusted peer it is ignored.
    direct = place(keys, keys.gate(app), api_key, secret, peer="10.0.0.5", headers=from_client)
    # Behind our proxy (10.0.0.0/8), the rightmost address it did not add is the client.
    proxied = keys.gate(app, trusted_proxies=("10.0.0.0/8",))
    via_proxy = place(keys, proxied, api_key, secret, peer="10.0.0.5", headers=from_client)
    spoofed = place(
        keys,
        proxied,
        api_key,
        secret,
        peer="10.0.0.5",
        headers={"X-Forwarded-For": "203.0.113.7, 198.51.100.9"},
    )

    assert direct.status_code == 400
    assert direct.json()["code"] == "40018"
    assert direct.json()["msg"] == "Invalid IP, current request ip 10.0.0.5"
    assert via_proxy.status_code == 200
    assert via_proxy.json()["ip"] == "203.0.113.7"
    assert spoofed.json()["msg"] == "Invalid IP, current request ip 198.51.100.9"
