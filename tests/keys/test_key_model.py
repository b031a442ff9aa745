"""API keys as stored: status transitions, lapse of fund-moving rights, no secrets in reprs."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from sealbook.keys.format import new_api_key, new_hmac_secret
from sealbook.keys.model import DAY_MS, ApiKeyRecord, KeyStatus, LiveKey, secret_context
from sealbook.keys.permissions import FUND_MOVING, Permission, parse_permissions
from sealbook.keys.schemes import HmacScheme, KeyType
from sealbook.keys.sealing import MasterKey, Sealer, SealError

T0 = 1_800_000_000_000
LAPSE_DAYS = 90
PASSPHRASE = "Passphrase123"
SEALER = Sealer(MasterKey(b"m" * 32))


def make_record(
    *, perms: str = "read", ips: tuple[str, ...] = (), secret: str | None = None, **extra: Any
) -> ApiKeyRecord:
    api_key = extra.pop("api_key", new_api_key())
    secret = secret or new_hmac_secret()
    fields: dict[str, Any] = {
        "id": 1,
        "user_id": 42,
        "api_key": api_key,
        "label": "bot",
        "key_type": KeyType.HMAC,
        "permissions": parse_permissions([perms]),
        "ips": ips,
        "created_ms": T0,
        "unbound_since_ms": T0,
        "passphrase_digest": SEALER.passphrase_digest(api_key, PASSPHRASE),
        "sealed_secret": SEALER.seal(secret.encode(), secret_context(api_key)),
    }
    fields.update(extra)
    return ApiKeyRecord(**fields)


# --- status --------------------------------------------------------------------------


def test_a_new_key_is_active() -> None:
    record = make_record(perms="spot_trade", ips=("203.0.113.7",))
    assert record.status(T0, LAPSE_DAYS) is KeyStatus.ACTIVE
    assert record.why(T0, LAPSE_DAYS) == ""
    assert record.is_live(T0)


def test_a_rotated_key_is_rotating_until_its_grace_period_ends() -> None:
    successor = new_api_key()
    record = make_record(dies_ms=T0 + DAY_MS, rotated_to=successor)
    now = T0 + DAY_MS - 1
    assert record.status(now, LAPSE_DAYS) is KeyStatus.ROTATING
    assert "grace period" in record.why(now, LAPSE_DAYS)
    assert record.is_live(now)


def test_a_rotated_key_is_revoked_once_its_grace_period_ended() -> None:
    successor = new_api_key()
    record = make_record(dies_ms=T0 + DAY_MS, rotated_to=successor)
    for now in (T0 + DAY_MS, T0 + 10 * DAY_MS):
        assert record.status(now, LAPSE_DAYS) is KeyStatus.REVOKED
        assert not record.is_live(now)
    why = record.why(T0 + DAY_MS, LAPSE_DAYS)
    assert why.startswith(f"replaced by {successor[:10]}…")
    assert successor not in why  # only the display prefix


def test_a_key_is_expired_from_its_expiry_on() -> None:
    record = make_record(expires_ms=T0 + DAY_MS)
    assert record.status(T0 + DAY_MS - 1, LAPSE_DAYS) is KeyStatus.ACTIVE
    assert record.status(T0 + DAY_MS, LAPSE_DAYS) is KeyStatus.EXPIRED
    assert record.why(T0 + DAY_MS, LAPSE_DAYS) == "its expiry date passed"
    assert not record.is_live(T0 + DAY_MS)


def test_a_revoked_key_is_revoked_with_its_reason() -> None:
    record = make_record(revoked_ms=T0 + 5, revoke_reason="leaked in a screenshot")
    assert record.status(T0 + 4, LAPSE_DAYS) is KeyStatus.ACTIVE
    assert record.status(T0 + 5, LAPSE_DAYS) is KeyStatus.REVOKED
    assert record.why(T0 + 5, LAPSE_DAYS) == "revoked: leaked in a screenshot"
    assert not record.is_live(T0 + 5)
    bare = make_record(revoked_ms=T0)
    assert bare.why(T0, LAPSE_DAYS) == "revoked: by the owner"


def test_revocation_wins_over_expiry_and_rotation() -> None:
    record = make_record(
        revoked_ms=T0, expires_ms=T0, dies_ms=T0 + DAY_MS, rotated_to=new_api_key()
    )
    assert record.status(T0, LAPSE_DAYS) is KeyStatus.REVOKED
    assert record.why(T0, LAPSE_DAYS) == "revoked: by the owner"


def test_expiry_wins_over_rotation_grace() -> None:
    record = make_record(expires_ms=T0, dies_ms=T0 + DAY_MS)
    assert record.status(T0, LAPSE_DAYS) is KeyStatus.EXPIRED


# --- lapse of fund-moving rights -----------------------------------------------------


def test_a_trading_key_without_ips_lapses_after_lapse_days() -> None:
    record = make_record(perms="spot_trade,withdraw")
    lapse_at = T0 + LAPSE_DAYS * DAY_MS
    assert record.lapse_ms(LAPSE_DAYS) == lapse_at

    assert record.status(lapse_at - 1, LAPSE_DAYS) is KeyStatus.ACTIVE
    assert record.effective_permissions(lapse_at - 1, LAPSE_DAYS) == record.permissions

    assert record.status(lapse_at, LAPSE_DAYS) is KeyStatus.LAPSED
    assert record.effective_permissions(lapse_at, LAPSE_DAYS) == {Permission.READ}
    why = record.why(lapse_at, LAPSE_DAYS)
    assert f"after {LAPSE_DAYS} days" in why
    assert "add an allowlist to restore them" in why


def test_a_lapsed_key_still_authenticates() -> None:
    record = make_record(perms="spot_trade")
    assert record.is_live(T0 + 10 * 365 * DAY_MS)


def test_lapse_counts_from_when_the_allowlist_was_cleared() -> None:
    cleared = T0 + 30 * DAY_MS
    record = make_record(perms="futures_trade", unbound_since_ms=cleared)
    assert record.status(T0 + LAPSE_DAYS * DAY_MS, LAPSE_DAYS) is KeyStatus.ACTIVE
    assert record.status(cleared + LAPSE_DAYS * DAY_MS, LAPSE_DAYS) is KeyStatus.LAPSED


def test_lapse_follows_the_configured_days() -> None:
    record = make_record(perms="transfer")
    assert record.status(T0 + 7 * DAY_MS, lapse_days=7) is KeyStatus.LAPSED
    assert record.status(T0 + 7 * DAY_MS, lapse_days=8) is KeyStatus.ACTIVE


@pytest.mark.parametrize("perm", sorted(p.value for p in FUND_MOVING))
def test_every_fund_moving_right_lapses(perm: str) -> None:
    record = make_record(perms=perm)
    later = T0 + LAPSE_DAYS * DAY_MS
    assert Permission(perm) not in record.effective_permissions(later, LAPSE_DAYS)


def test_a_key_with_ips_never_lapses() -> None:
    record = make_record(perms="spot_trade,futures_trade,transfer,withdraw", ips=("10.0.0.0/8",))
    forever = T0 + 100 * 365 * DAY_MS
    assert record.lapse_ms(LAPSE_DAYS) is None
    assert record.status(forever, LAPSE_DAYS) is KeyStatus.ACTIVE
    assert record.effective_permissions(forever, LAPSE_DAYS) == record.permissions


def test_a_read_only_key_never_lapses() -> None:
    record = make_record(perms="read")
    forever = T0 + 100 * 365 * DAY_MS
    assert record.lapse_ms(LAPSE_DAYS) is None
    assert record.status(forever, LAPSE_DAYS) is KeyStatus.ACTIVE
    assert record.effective_permissions(forever, LAPSE_DAYS) == {Permission.READ}


# --- the live form -------------------------------------------------------------------


def test_live_key_opens_the_sealed_secret_and_parses_the_allowlist() -> None:
    secret = new_hmac_secret()
    record = make_record(secret=secret, ips=("203.0.113.7",))
    live = LiveKey.open(record, SEALER)
    assert isinstance(live.scheme, HmacScheme)
    assert live.scheme.sign(b"m") == HmacScheme(secret.encode()).sign(b"m")
    assert live.allowlist.allows("203.0.113.7")
    assert not live.allowlist.allows("203.0.113.8")
    assert live.good_passphrase is None


def test_live_key_does_not_open_with_another_master_key() -> None:
    with pytest.raises(SealError):
        LiveKey.open(make_record(), Sealer(MasterKey(b"o" * 32)))


def test_live_key_does_not_open_a_secret_sealed_for_another_key() -> None:
    stolen = make_record().sealed_secret
    with pytest.raises(SealError):
        LiveKey.open(make_record(sealed_secret=stolen), SEALER)


def test_an_hmac_key_without_a_sealed_secret_does_not_open() -> None:
    with pytest.raises(ValueError, match="without a sealed secret"):
        LiveKey.open(make_record(sealed_secret=None), SEALER)


def test_reprs_contain_no_secret_material() -> None:
    secret = new_hmac_secret()
    record = make_record(secret=secret, perms="spot_trade", ips=("203.0.113.7",))
    assert record.sealed_secret is not None
    live = LiveKey.open(record, SEALER)
    live.good_passphrase = PASSPHRASE.encode()
    forbidden = [
        secret,
        secret.upper(),
        PASSPHRASE,
        record.sealed_secret.hex(),
        repr(record.sealed_secret),
        record.passphrase_digest.hex(),
        repr(record.passphrase_digest),
    ]
    texts = [repr(record), str(record), repr(live), str(live), repr(live.scheme)]
    for text in texts:
        for material in forbidden:
            assert material not in text
    assert record.api_key not in repr(live)
    assert record.api_key[:10] in repr(live)


def test_record_repr_leaves_out_the_public_key_and_sealed_fields() -> None:
    record = make_record(public_key="-----BEGIN PUBLIC KEY-----\nUNIQUEMARKER\n")
    text = repr(record)
    for name in ("passphrase_digest", "sealed_secret", "public_key"):
        assert name not in text
    assert "UNIQUEMARKER" not in text
    assert {f.name for f in dataclasses.fields(record) if not f.repr} == {
        "passphrase_digest",
        "sealed_secret",
        "public_key",
        "api_key",
        "rotated_to",
    }
    assert record.api_key not in text


def test_secret_context_binds_to_the_key() -> None:
    a, b = new_api_key(), new_api_key()
    assert secret_context(a) != secret_context(b)
    assert a in secret_context(a)
