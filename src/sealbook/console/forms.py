"""Reading the key forms into what the services take. Only shapes are checked here; the
rules (allowlist syntax, withdraw needs an allowlist, passphrase format, public keys)
are the services' and are not repeated."""

from __future__ import annotations

import re

from starlette.datastructures import FormData

from sealbook.console.web import field_text
from sealbook.errors import ParamInvalid
from sealbook.exchange.apikeys import KeySpec
from sealbook.keys.permissions import RISK, Permission, parse_permissions
from sealbook.keys.schemes import KeyType

__all__ = [
    "EXPIRY_CHOICES",
    "PERMISSION_CHOICES",
    "TYPE_CHOICES",
    "read_ips",
    "read_key_form",
    "read_permissions",
]

DAY_MS = 86_400_000
EXPIRY_CHOICES = (
    ("", "Never"),
    ("7", "7 days"),
    ("30", "30 days"),
    ("90", "90 days"),
    ("365", "1 year"),
)
TYPE_CHOICES = (
    (KeyType.HMAC.value, "HMAC-SHA256 (the server generates a secret)"),
    (KeyType.RSA.value, "RSA (you keep the private key; paste the public key)"),
    (KeyType.ED25519.value, "Ed25519 (you keep the private key; paste the public key)"),
)
_LABELS = {
    Permission.READ: "Read",
    Permission.SPOT_TRADE: "Spot trade",
    Permission.FUTURES_TRADE: "Futures trade",
    Permission.TRANSFER: "Transfer",
    Permission.WITHDRAW: "Withdraw",
}
# (value, label, risk) for each checkbox, in the enum's order.
PERMISSION_CHOICES = tuple((p.value, _LABELS[p], RISK[p].capitalize()) for p in Permission)
_IP_SPLIT = re.compile(r"[\s,]+")
MAX_PUBLIC_KEY = 16_384


def read_permissions(form: FormData) -> frozenset[Permission]:
    chosen = [v for v in form.getlist("perm") if isinstance(v, str)]
    return parse_permissions(chosen)


def read_ips(form: FormData) -> tuple[str, ...]:
    text = field_text(form, "ips", limit=4096)
    return tuple(part for part in _IP_SPLIT.split(text) if part)


def read_key_form(form: FormData) -> KeySpec:
    """The create-key form as the service's :class:`KeySpec` (the service checks it)."""
    type_text = field_text(form, "type", limit=16) or KeyType.HMAC.value
    try:
        key_type = KeyType(type_text)
    except ValueError:
        raise ParamInvalid("type", "choose HMAC, RSA or Ed25519") from None
    expiry = field_text(form, "expires", limit=8)
    if expiry not in {value for value, _ in EXPIRY_CHOICES}:
        raise ParamInvalid("expires", "choose one of the listed periods")
    public_key = field_text(form, "public_key", limit=MAX_PUBLIC_KEY).strip() or None
    return KeySpec(
        label=field_text(form, "label", limit=256),
        key_type=key_type,
        permissions=read_permissions(form),
        ips=read_ips(form),
        public_key=public_key if key_type is not KeyType.HMAC else None,
        expires_in_ms=int(expiry) * DAY_MS if expiry else None,
    )
