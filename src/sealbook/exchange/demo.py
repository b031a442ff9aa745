"""Demo mode (``sealbook serve --demo``).

On first start: a user with 2FA, a ready API key to try ccxt with, and demo funds. On every
start: a seeded market maker (:mod:`sealbook.exchange.maker`) keeps liquid, moving books on
the largest symbols, trading as two system users of its own.
"""

from __future__ import annotations

import asyncio
import secrets
import string
from dataclasses import dataclass, field

import anyio

from sealbook.errors import NotFound
from sealbook.exchange.accounts import AccountService
from sealbook.exchange.apikeys import KeyService, KeySpec
from sealbook.exchange.context import Context
from sealbook.exchange.maker import Maker, MakerBot, run_maker
from sealbook.exchange.service import ExchangeService
from sealbook.keys import totp
from sealbook.keys.permissions import Permission
from sealbook.keys.schemes import KeyType
from sealbook.markets import Catalog, default_catalog
from sealbook.money import parse_atoms
from sealbook.store.exchange import load_core, persist

__all__ = [
    "DEMO_FUNDS",
    "DEMO_USER",
    "MAKER_SEED",
    "MAKER_SYMBOLS",
    "MAKER_USER",
    "TAKER_USER",
    "DemoCredentials",
    "bootstrap_demo",
    "start_demo_market",
    "system_users",
]

DEMO_USER = "demo"
# What the demo user finds in their account on first start.
DEMO_FUNDS = (("USDT", "100000"), ("BTC", "1"), ("ETH", "10"), ("BGB", "1000"))
# The market maker's own users: they have no second factor and no key, and their random
# passwords are never shown, so nobody can sign in as them.
MAKER_USER = "demo-maker"
TAKER_USER = "demo-taker"
MAKER_SEED = 20_250_101
MAKER_SYMBOLS = 20


@dataclass(frozen=True, slots=True)
class DemoCredentials:
    """Shown once, on the terminal of the first demo start."""

    user: str
    password: str = field(repr=False)
    totp_seed: str = field(repr=False)
    api_key: str
    secret_key: str = field(repr=False)
    passphrase: str = field(repr=False)
    funds: tuple[tuple[str, str], ...] = ()  # (coin, amount) deposited to the demo user


def _random_text(length: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def bootstrap_demo(ctx: Context, catalog: Catalog | None = None) -> DemoCredentials | None:
    """Create the demo user, their key and funds, and the maker's system users, unless
    they exist; None when the demo user already does.

    The caller holds ``writer.lock`` (no server runs on this home): the funds are
    deposited straight into the database.
    """
    credentials = _create_demo_user(ctx, catalog or default_catalog())
    system_users(ctx)
    return credentials


def _create_demo_user(ctx: Context, catalog: Catalog) -> DemoCredentials | None:
    accounts = AccountService(ctx)
    try:
        accounts.get(DEMO_USER)
    except NotFound:
        pass
    else:
        return None
    password = _random_text(20)
    user_id = accounts.create_user(DEMO_USER, password)
    _deposit(ctx, catalog, user_id, DEMO_FUNDS)
    enrolment = accounts.totp_enroll(DEMO_USER)
    step = totp.step_of(ctx.clock.now_ms())
    accounts.totp_confirm(DEMO_USER, totp.code_at(enrolment.secret, step))
    passphrase = _random_text(16)
    spec = KeySpec(
        label="demo",
        key_type=KeyType.HMAC,
        permissions=frozenset({Permission.READ, Permission.SPOT_TRADE}),
        ips=("127.0.0.1", "::1"),
    )
    created = KeyService(ctx, accounts).create(
        DEMO_USER, spec, passphrase, totp.code_at(enrolment.secret, step + 1)
    )
    assert created.secret is not None
    return DemoCredentials(
        user=DEMO_USER,
        password=password,
        totp_seed=enrolment.secret,
        api_key=created.record.api_key,
        secret_key=created.secret,
        passphrase=passphrase,
        funds=DEMO_FUNDS,
    )


def system_users(ctx: Context) -> tuple[int, int]:
    """The ids of the maker's users (``demo-maker``, ``demo-taker``), created if missing."""
    accounts = AccountService(ctx)
    ids: list[int] = []
    for name in (MAKER_USER, TAKER_USER):
        try:
            ids.append(accounts.get(name).id)
        except NotFound:
            ids.append(accounts.create_user(name, secrets.token_urlsafe(32)))
    return ids[0], ids[1]


def _deposit(
    ctx: Context, catalog: Catalog, user_id: int, funds: tuple[tuple[str, str], ...]
) -> None:
    now = ctx.clock.now_ms()
    core = load_core(ctx.engine, catalog, now)
    for coin, amount in funds:
        core.deposit(user_id, coin, None, parse_atoms(amount), "demo", now)
    with ctx.engine.begin() as conn:
        persist(conn, core.drain())


async def start_demo_market(
    ctx: Context, exchange: ExchangeService, *, seed: int = MAKER_SEED, interval_s: float = 1.0
) -> asyncio.Task[None]:
    """Start the market maker on the running exchange; cancel the task to stop it.

    It quotes the ``MAKER_SYMBOLS`` largest USDT pairs; its users are funded by its first
    step and topped up whenever a coin runs low.
    """
    maker_id, taker_id = await anyio.to_thread.run_sync(system_users, ctx)
    maker = Maker(exchange.catalog.top_symbols(MAKER_SYMBOLS), seed)
    bot = MakerBot(maker, maker_id, taker_id)
    return asyncio.create_task(
        run_maker(exchange, bot, ctx.clock, interval_s=interval_s), name="sealbook-demo-maker"
    )
