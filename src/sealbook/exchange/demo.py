"""Demo mode: on first start, a user with 2FA and a ready API key to try ccxt with."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field

from sealbook.errors import NotFound
from sealbook.exchange.accounts import AccountService
from sealbook.exchange.apikeys import KeyService, KeySpec
from sealbook.exchange.context import Context
from sealbook.keys import totp
from sealbook.keys.permissions import Permission
from sealbook.keys.schemes import KeyType

__all__ = ["DEMO_USER", "DemoCredentials", "bootstrap_demo"]

DEMO_USER = "demo"


@dataclass(frozen=True, slots=True)
class DemoCredentials:
    """Shown once, on the terminal of the first demo start."""

    user: str
    password: str = field(repr=False)
    totp_seed: str = field(repr=False)
    api_key: str
    secret_key: str = field(repr=False)
    passphrase: str = field(repr=False)


def _random_text(length: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def bootstrap_demo(ctx: Context) -> DemoCredentials | None:
    """Create the demo user and key unless they exist; None when they already do."""
    accounts = AccountService(ctx)
    try:
        accounts.get(DEMO_USER)
    except NotFound:
        pass
    else:
        return None
    password = _random_text(20)
    accounts.create_user(DEMO_USER, password)
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
    )
