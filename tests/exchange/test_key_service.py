"""KeyService: issuing, changing, rotating and revoking keys, and the rules around them."""

from __future__ import annotations

import base64
import json
from functools import cache

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from fixtures.services import (
    PASSPHRASE,
    ContextFactory,
    audit_entries,
    audit_seq,
    hmac_spec,
    key_revision,
    make_user,
)
from sealbook.clock import ManualClock
from sealbook.errors import (
    InvalidPassphraseFormat,
    KeyLimitReached,
    NotFound,
    ParamInvalid,
)
from sealbook.exchange.accounts import AccountService
from sealbook.exchange.apikeys import KeyService, KeySpec
from sealbook.exchange.context import Context
from sealbook.keys.format import display_prefix, is_well_formed
from sealbook.keys.model import KeyStatus, secret_context
from sealbook.keys.permissions import Permission
from sealbook.keys.schemes import KeyType

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
TRADE = (Permission.READ, Permission.SPOT_TRADE)


@cache
def rsa_public_pem(bits: int) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def ed25519_public() -> ed25519.Ed25519PublicKey:
    return ed25519.Ed25519PrivateKey.generate().public_key()


def pem_of(public: ed25519.Ed25519PublicKey) -> str:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


# --- creation ----------------------------------------------------------------------------


def test_hmac_key_secret_is_shown_once_and_sealed(ctx: Context, key_service: KeyService) -> None:
    user = make_user(ctx)
    created = key_service.create(
        "alice", hmac_spec("bot", TRADE, ["203.0.113.7"]), PASSPHRASE, user.code()
    )
    record = created.record

    assert created.secret is not None
    assert len(created.secret) == 64
    int(created.secret, 16)  # hex
    assert is_well_formed(record.api_key)
    assert record.key_type is KeyType.HMAC
    assert record.permissions == frozenset(TRADE)
    assert record.ips == ("203.0.113.7",)
    assert record.user_id == user.id
    assert record.created_ms == ctx.clock.now_ms()

    stored = key_service.show(record.api_key)
    assert stored == record
    assert stored.sealed_secret is not None
    assert created.secret.encode() not in stored.sealed_secret
    assert ctx.sealer.open(stored.sealed_secret, secret_context(record.api_key)) == (
        created.secret.encode()
    )
    assert stored.passphrase_digest == ctx.sealer.passphrase_digest(record.api_key, PASSPHRASE)
    assert stored.public_key is None
    assert not hasattr(stored, "secret")
    assert key_service.list("alice") == [record]


def test_read_is_always_granted(ctx: Context, key_service: KeyService) -> None:
    user = make_user(ctx)
    spec = hmac_spec("trader", [Permission.SPOT_TRADE], ["198.51.100.0/24"])
    record = key_service.create("alice", spec, PASSPHRASE, user.code()).record
    assert record.permissions == {Permission.READ, Permission.SPOT_TRADE}


@pytest.mark.parametrize("bits", [2048, 4096])
def test_rsa_keys_store_the_public_key(ctx: Context, key_service: KeyService, bits: int) -> None:
    user = make_user(ctx)
    pem = rsa_public_pem(bits)
    spec = KeySpec("rsa", KeyType.RSA, frozenset(TRADE), ("203.0.113.7",), public_key=pem)
    created = key_service.create("alice", spec, PASSPHRASE, user.code())
    assert created.secret is None
    assert created.record.sealed_secret is None
    assert created.record.public_key == pem
    assert key_service.show(created.record.api_key).key_type is KeyType.RSA


@pytest.mark.parametrize("bits", [1024, 3072])
def test_rsa_keys_of_other_sizes_are_refused(
    ctx: Context, key_service: KeyService, bits: int
) -> None:
    user = make_user(ctx)
    spec = KeySpec("rsa", KeyType.RSA, frozenset(TRADE), public_key=rsa_public_pem(bits))
    with pytest.raises(ParamInvalid) as exc:
        key_service.create("alice", spec, PASSPHRASE, user.code())
    assert "2048 or 4096" in exc.value.msg
    assert key_service.list("alice") == []


def test_ed25519_keys_accept_pem_or_raw_base64(ctx: Context, key_service: KeyService) -> None:
    user = make_user(ctx)
    public = ed25519_public()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    from_pem = key_service.create(
        "alice",
        KeySpec("pem", KeyType.ED25519, frozenset(), public_key=pem_of(public)),
        PASSPHRASE,
        user.code(),
    )
    from_raw = key_service.create(
        "alice",
        KeySpec("raw", KeyType.ED25519, frozenset(), public_key=base64.b64encode(raw).decode()),
        PASSPHRASE,
        user.code(),
    )
    assert from_pem.secret is None
    assert from_pem.record.public_key == pem_of(public)
    assert from_raw.record.public_key == pem_of(public)  # stored in one canonical form


@pytest.mark.parametrize(
    ("key_type", "public_key"),
    [
        (KeyType.RSA, None),
        (KeyType.RSA, "not a key"),
        (KeyType.ED25519, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
        (KeyType.ED25519, "rsa"),  # an RSA key where an Ed25519 key belongs
        (KeyType.HMAC, "ed25519"),  # HMAC secrets are generated by the server
    ],
)
def test_bad_public_keys_are_refused(
    ctx: Context, key_service: KeyService, key_type: KeyType, public_key: str | None
) -> None:
    user = make_user(ctx)
    if public_key == "rsa":
        public_key = rsa_public_pem(2048)
    elif public_key == "ed25519":
        public_key = pem_of(ed25519_public())
    with pytest.raises(ParamInvalid):
        key_service.create(
            "alice",
            KeySpec("k", key_type, frozenset(), public_key=public_key),
            PASSPHRASE,
            user.code(),
        )
    assert key_service.list("alice") == []


@pytest.mark.parametrize(
    "passphrase",
    [
        "",
        "Short12",  # 7
        "A" * 33,
        "with space1",
        "dash-dash1",
        "underscore_1",
        "Pässword12",  # a letter, but not an ASCII one
        "Passphrase2024\n",
    ],
)
def test_passphrase_must_be_8_to_32_letters_and_digits(
    ctx: Context, key_service: KeyService, passphrase: str
) -> None:
    user = make_user(ctx)
    code = user.code()
    with pytest.raises(InvalidPassphraseFormat) as exc:
        key_service.create("alice", hmac_spec(), passphrase, code)
    assert exc.value.code == "40070"
    assert not passphrase or passphrase not in exc.value.msg
    assert key_service.list("alice") == []
    # Refused before the second factor: the code was not spent.
    key_service.create("alice", hmac_spec(), PASSPHRASE, code)


@pytest.mark.parametrize("passphrase", ["abcdefgh", "12345678", "Ab3" * 10 + "Zz"])
def test_passphrase_edges_are_accepted(
    ctx: Context, key_service: KeyService, passphrase: str
) -> None:
    user = make_user(ctx)
    record = key_service.create("alice", hmac_spec(), passphrase, user.code()).record
    assert record.passphrase_digest == ctx.sealer.passphrase_digest(record.api_key, passphrase)


@pytest.mark.parametrize(
    "spec",
    [
        hmac_spec(label=""),
        hmac_spec(label="x" * 65),
        hmac_spec(label="tab\there"),
        hmac_spec(ips=["not-an-ip"]),
        hmac_spec(ips=[f"10.0.0.{i}" for i in range(31)]),
        hmac_spec(expires_in_ms=0),
        hmac_spec(window_ms=4_999),
        hmac_spec(window_ms=30_001),
    ],
    ids=["empty-label", "long-label", "tab-label", "bad-ip", "31-ips", "expired", "w-low", "w-hi"],
)
def test_bad_specs_change_nothing(ctx: Context, key_service: KeyService, spec: KeySpec) -> None:
    user = make_user(ctx)
    revision, seq = key_revision(ctx), audit_seq(ctx)
    code = user.code()
    with pytest.raises(ParamInvalid):
        key_service.create("alice", spec, PASSPHRASE, code)
    assert key_service.list("alice") == []
    assert (key_revision(ctx), audit_seq(ctx)) == (revision, seq)
    key_service.create("alice", hmac_spec(), PASSPHRASE, code)  # the code is still unused


# --- withdraw needs an allowlist ---------------------------------------------------------


def test_withdraw_needs_an_ip_allowlist(ctx: Context, key_service: KeyService) -> None:
    user = make_user(ctx)
    withdraw = (Permission.READ, Permission.WITHDRAW)
    with pytest.raises(ParamInvalid) as exc:
        key_service.create("alice", hmac_spec("w", withdraw), PASSPHRASE, user.code())
    assert exc.value.code == "40020"
    with pytest.raises(ParamInvalid):  # entries that are only separators are no allowlist
        key_service.create("alice", hmac_spec("w", withdraw, [" , "]), PASSPHRASE, user.code())
    assert key_service.list("alice") == []

    ok = key_service.create(
        "alice", hmac_spec("w", withdraw, ["203.0.113.7"]), PASSPHRASE, user.code()
    ).record
    assert Permission.WITHDRAW in ok.permissions

    # Clearing the allowlist of a key that can withdraw is refused; so is adding withdraw
    # to a key without one.
    plain = key_service.create("alice", hmac_spec("plain", TRADE), PASSPHRASE, user.code()).record
    revision = key_revision(ctx)
    with pytest.raises(ParamInvalid):
        key_service.update(ok.api_key, user.code(), ips=())
    with pytest.raises(ParamInvalid):
        key_service.update(plain.api_key, user.code(), permissions=frozenset(withdraw))
    assert key_service.show(ok.api_key) == ok
    assert key_service.show(plain.api_key) == plain
    assert key_revision(ctx) == revision

    # Both in one change is fine.
    both = key_service.update(
        plain.api_key, user.code(), permissions=frozenset(withdraw), ips=("198.51.100.9",)
    )
    assert both.permissions == frozenset(withdraw)
    assert both.ips == ("198.51.100.9",)


# --- the per-user limit ------------------------------------------------------------------


def test_at_most_ten_live_keys_and_revoking_frees_a_slot(
    ctx: Context, key_service: KeyService
) -> None:
    user = make_user(ctx)
    make_user(ctx, "bob")
    created = [
        key_service.create("alice", hmac_spec(f"k{i}"), PASSPHRASE, user.code()).record
        for i in range(10)
    ]
    revision, seq = key_revision(ctx), audit_seq(ctx)
    with pytest.raises(KeyLimitReached) as exc:
        key_service.create("alice", hmac_spec("k10"), PASSPHRASE, user.code())
    assert exc.value.code == "40071"
    assert "10" in exc.value.msg
    # Refused in the same transaction as everything else: nothing at all was written.
    assert len(key_service.list("alice")) == 10
    assert (key_revision(ctx), audit_seq(ctx)) == (revision, seq)

    # Another user has their own ten.
    bob = make_user(ctx, "carol")
    key_service.create("carol", hmac_spec(), PASSPHRASE, bob.code())

    key_service.revoke(created[3].api_key)
    key_service.create("alice", hmac_spec("k10"), PASSPHRASE, user.code())
    with pytest.raises(KeyLimitReached):
        key_service.create("alice", hmac_spec("k11"), PASSPHRASE, user.code())
    assert len(key_service.list("alice")) == 11  # the revoked one is still listed


def test_the_limit_is_configurable_and_expired_keys_free_a_slot(
    make_ctx: ContextFactory, clock: ManualClock
) -> None:
    ctx = make_ctx(max_keys_per_user=2)
    keys = KeyService(ctx, AccountService(ctx))
    user = make_user(ctx)
    keys.create("alice", hmac_spec("short", expires_in_ms=HOUR_MS), PASSPHRASE, user.code())
    keys.create("alice", hmac_spec("long"), PASSPHRASE, user.code())
    with pytest.raises(KeyLimitReached):
        keys.create("alice", hmac_spec("third"), PASSPHRASE, user.code())
    clock.advance(HOUR_MS / 1000)
    keys.create("alice", hmac_spec("third"), PASSPHRASE, user.code())


# --- expiry ------------------------------------------------------------------------------


def test_expiry(ctx: Context, key_service: KeyService, clock: ManualClock) -> None:
    user = make_user(ctx)
    record = key_service.create(
        "alice", hmac_spec("temp", expires_in_ms=30 * DAY_MS), PASSPHRASE, user.code()
    ).record
    assert record.expires_ms == record.created_ms + 30 * DAY_MS
    lapse_days = ctx.settings.unbound_key_lapse_days

    clock.set_ms(record.expires_ms - 1)
    assert record.status(clock.now_ms(), lapse_days) is KeyStatus.ACTIVE
    assert record.is_live(clock.now_ms())
    clock.set_ms(record.expires_ms)
    assert record.status(clock.now_ms(), lapse_days) is KeyStatus.EXPIRED
    assert record.why(clock.now_ms(), lapse_days) == "its expiry date passed"
    assert not record.is_live(clock.now_ms())

    with pytest.raises(NotFound):
        key_service.update(record.api_key, user.code(), label="again")
    with pytest.raises(NotFound):
        key_service.rotate(record.api_key, PASSPHRASE, user.code())


# --- rotation ----------------------------------------------------------------------------


def test_rotation_keeps_the_old_key_for_the_grace_period(
    ctx: Context, key_service: KeyService, clock: ManualClock
) -> None:
    user = make_user(ctx)
    old = key_service.create(
        "alice", hmac_spec("bot", TRADE, ["203.0.113.7"], window_ms=10_000), PASSPHRASE, user.code()
    )
    revision, seq = key_revision(ctx), audit_seq(ctx)

    new = key_service.rotate(old.record.api_key, "NewPassphrase1", user.code())
    rotated_at = clock.now_ms()

    assert new.record.api_key != old.record.api_key
    assert new.secret is not None
    assert new.secret != old.secret
    assert new.record.label == "bot"
    assert new.record.permissions == old.record.permissions
    assert new.record.ips == old.record.ips
    assert new.record.window_ms == 10_000
    assert new.record.passphrase_digest == ctx.sealer.passphrase_digest(
        new.record.api_key, "NewPassphrase1"
    )

    before = key_service.show(old.record.api_key)
    assert before.dies_ms == rotated_at + 24 * HOUR_MS
    assert before.rotated_to == new.record.api_key
    lapse_days = ctx.settings.unbound_key_lapse_days
    assert before.status(clock.now_ms(), lapse_days) is KeyStatus.ROTATING
    assert before.is_live(clock.now_ms())

    assert key_revision(ctx) == revision + 1
    (entry,) = audit_entries(ctx, seq)
    assert entry.kind == "key.rotated"
    assert entry.key_prefix == display_prefix(old.record.api_key)
    assert json.loads(entry.detail) == {
        "newKey": display_prefix(new.record.api_key),
        "oldKeyDiesMs": rotated_at + 24 * HOUR_MS,
    }

    # A key can be rotated once; its successor can be rotated in turn.
    with pytest.raises(NotFound):
        key_service.rotate(old.record.api_key, PASSPHRASE, user.code())

    clock.set_ms(rotated_at + 24 * HOUR_MS - 1)
    assert before.status(clock.now_ms(), lapse_days) is KeyStatus.ROTATING
    clock.set_ms(rotated_at + 24 * HOUR_MS)
    assert before.status(clock.now_ms(), lapse_days) is KeyStatus.REVOKED
    assert before.why(clock.now_ms(), lapse_days).startswith(
        f"replaced by {new.record.api_key[:10]}"
    )
    assert not before.is_live(clock.now_ms())
    assert new.record.status(clock.now_ms(), lapse_days) is KeyStatus.ACTIVE


def test_rotation_grace_is_configurable(make_ctx: ContextFactory, clock: ManualClock) -> None:
    ctx = make_ctx(rotation_grace_s=0)
    keys = KeyService(ctx, AccountService(ctx))
    user = make_user(ctx)
    old = keys.create("alice", hmac_spec(), PASSPHRASE, user.code()).record
    keys.rotate(old.api_key, PASSPHRASE, user.code())
    assert not keys.show(old.api_key).is_live(clock.now_ms())


def test_rotating_an_expiring_key_keeps_the_expiry(
    ctx: Context, key_service: KeyService, clock: ManualClock
) -> None:
    user = make_user(ctx)
    old = key_service.create(
        "alice", hmac_spec(expires_in_ms=10 * DAY_MS), PASSPHRASE, user.code()
    ).record
    clock.advance(3 * DAY_MS / 1000)
    new = key_service.rotate(old.api_key, PASSPHRASE, user.code()).record
    assert new.expires_ms == old.expires_ms


def test_rotating_a_public_key_needs_the_new_public_key(
    ctx: Context, key_service: KeyService
) -> None:
    user = make_user(ctx)
    first, second = ed25519_public(), ed25519_public()
    old = key_service.create(
        "alice",
        KeySpec("ed", KeyType.ED25519, frozenset(), public_key=pem_of(first)),
        PASSPHRASE,
        user.code(),
    ).record
    with pytest.raises(ParamInvalid):
        key_service.rotate(old.api_key, PASSPHRASE, user.code())
    with pytest.raises(InvalidPassphraseFormat):
        key_service.rotate(old.api_key, "bad", user.code(), public_key=pem_of(second))
    new = key_service.rotate(old.api_key, PASSPHRASE, user.code(), public_key=pem_of(second))
    assert new.secret is None
    assert new.record.key_type is KeyType.ED25519
    assert new.record.public_key == pem_of(second)


# --- revocation --------------------------------------------------------------------------


def test_revoke_is_immediate_and_idempotent(
    ctx: Context, key_service: KeyService, clock: ManualClock
) -> None:
    user = make_user(ctx)
    record = key_service.create("alice", hmac_spec(), PASSPHRASE, user.code()).record
    revision, seq = key_revision(ctx), audit_seq(ctx)

    revoked = key_service.revoke(record.api_key, "leaked in a screenshot", ip="192.0.2.10")
    lapse_days = ctx.settings.unbound_key_lapse_days
    assert revoked.revoked_ms == clock.now_ms()
    assert revoked.status(clock.now_ms(), lapse_days) is KeyStatus.REVOKED
    assert revoked.why(clock.now_ms(), lapse_days) == "revoked: leaked in a screenshot"
    assert key_service.show(record.api_key) == revoked
    assert key_revision(ctx) == revision + 1
    (entry,) = audit_entries(ctx, seq)
    assert (entry.kind, entry.ip, entry.user_id) == ("key.revoked", "192.0.2.10", user.id)
    assert json.loads(entry.detail) == {"reason": "leaked in a screenshot"}

    clock.advance(60)
    assert key_service.revoke(record.api_key, "again") == revoked
    assert (key_revision(ctx), audit_seq(ctx)) == (revision + 1, seq + 1)

    with pytest.raises(NotFound):
        key_service.update(record.api_key, user.code(), label="zombie")
    with pytest.raises(NotFound):
        key_service.rotate(record.api_key, PASSPHRASE, user.code())


def test_unknown_keys_and_other_owners(ctx: Context, key_service: KeyService) -> None:
    user = make_user(ctx)
    record = key_service.create("alice", hmac_spec(), PASSPHRASE, user.code()).record
    for missing in ("sbk_nothing", "sbk_" + "A" * 34, ""):
        with pytest.raises(NotFound):
            key_service.show(missing)
        with pytest.raises(NotFound):
            key_service.revoke(missing)
    with pytest.raises(NotFound):
        key_service.list("nobody")
    with pytest.raises(NotFound):  # the console passes the owner: someone else's key is absent
        key_service.revoke(record.api_key, user_id=user.id + 1)
    assert key_service.show(record.api_key).revoked_ms is None


# --- unbound keys lose trade rights after 90 days ----------------------------------------


def test_trade_rights_lapse_without_an_allowlist(
    ctx: Context, key_service: KeyService, clock: ManualClock
) -> None:
    user = make_user(ctx)
    trader = key_service.create("alice", hmac_spec("t", TRADE), PASSPHRASE, user.code()).record
    reader = key_service.create("alice", hmac_spec("r"), PASSPHRASE, user.code()).record
    bound = key_service.create(
        "alice", hmac_spec("b", TRADE, ["203.0.113.7"]), PASSPHRASE, user.code()
    ).record
    lapse_days = ctx.settings.unbound_key_lapse_days
    assert lapse_days == 90
    assert trader.lapse_ms(lapse_days) == trader.created_ms + 90 * DAY_MS
    assert reader.lapse_ms(lapse_days) is None
    assert bound.lapse_ms(lapse_days) is None

    clock.set_ms(trader.created_ms + 90 * DAY_MS - 1)
    assert trader.status(clock.now_ms(), lapse_days) is KeyStatus.ACTIVE
    assert trader.effective_permissions(clock.now_ms(), lapse_days) == frozenset(TRADE)

    clock.set_ms(trader.created_ms + 90 * DAY_MS)
    now = clock.now_ms()
    assert trader.status(now, lapse_days) is KeyStatus.LAPSED
    assert trader.effective_permissions(now, lapse_days) == {Permission.READ}
    assert trader.permissions == frozenset(TRADE)  # granted, just not effective
    why = trader.why(now, lapse_days)
    assert "lapsed after 90 days without an IP allowlist" in why
    assert "add an allowlist" in why
    assert trader.is_live(now)  # it still reads
    assert reader.status(now, lapse_days) is KeyStatus.ACTIVE
    assert bound.status(now, lapse_days) is KeyStatus.ACTIVE

    # Adding an allowlist restores the rights.
    clock.advance(30)
    restored = key_service.update(trader.api_key, user.code_now(), ips=("203.0.113.8",))
    now = clock.now_ms()
    assert restored.status(now, lapse_days) is KeyStatus.ACTIVE
    assert restored.effective_permissions(now, lapse_days) == frozenset(TRADE)
    assert key_service.show(trader.api_key).status(now, lapse_days) is KeyStatus.ACTIVE

    # Clearing it again starts a fresh 90 days from that moment.
    cleared = key_service.update(trader.api_key, user.code(), ips=())
    cleared_at = clock.now_ms()
    assert cleared.unbound_since_ms == cleared_at
    assert key_service.show(trader.api_key).lapse_ms(lapse_days) == cleared_at + 90 * DAY_MS
    clock.set_ms(cleared_at + 90 * DAY_MS)
    assert key_service.show(trader.api_key).status(clock.now_ms(), lapse_days) is (KeyStatus.LAPSED)


def test_lapse_period_is_configurable(make_ctx: ContextFactory, clock: ManualClock) -> None:
    ctx = make_ctx(unbound_key_lapse_days=7)
    keys = KeyService(ctx, AccountService(ctx))
    user = make_user(ctx)
    record = keys.create("alice", hmac_spec("t", TRADE), PASSPHRASE, user.code()).record
    clock.set_ms(record.created_ms + 7 * DAY_MS)
    assert record.status(clock.now_ms(), ctx.settings.unbound_key_lapse_days) is KeyStatus.LAPSED


# --- updates -----------------------------------------------------------------------------


def test_update_changes_rights_allowlist_and_label(ctx: Context, key_service: KeyService) -> None:
    user = make_user(ctx)
    record = key_service.create("alice", hmac_spec("bot"), PASSPHRASE, user.code()).record
    revision, seq = key_revision(ctx), audit_seq(ctx)

    updated = key_service.update(
        record.api_key,
        user.code(),
        permissions=frozenset(TRADE),
        ips=("203.0.113.7, 198.51.100.0/24", "203.0.113.7"),
        label="  grid bot  ",
        ip="192.0.2.5",
    )
    assert updated.permissions == frozenset(TRADE)
    assert updated.ips == ("203.0.113.7", "198.51.100.0/24")
    assert updated.label == "grid bot"
    assert key_service.show(record.api_key) == updated
    assert key_revision(ctx) == revision + 1
    (entry,) = audit_entries(ctx, seq)
    assert (entry.kind, entry.ip) == ("key.updated", "192.0.2.5")
    assert json.loads(entry.detail) == {
        "before": {"label": "bot", "type": "hmac", "permissions": ["read"], "ips": []},
        "after": {
            "label": "grid bot",
            "type": "hmac",
            "permissions": ["read", "spot_trade"],
            "ips": ["203.0.113.7", "198.51.100.0/24"],
        },
    }

    # Leaving a field out keeps it.
    relabelled = key_service.update(record.api_key, user.code(), label="other")
    assert relabelled.permissions == frozenset(TRADE)
    assert relabelled.ips == updated.ips


def test_update_keeps_read(ctx: Context, key_service: KeyService) -> None:
    user = make_user(ctx)
    record = key_service.create(
        "alice", hmac_spec("bot", TRADE, ["203.0.113.7"]), PASSPHRASE, user.code()
    ).record
    updated = key_service.update(
        record.api_key, user.code(), permissions=frozenset({Permission.FUTURES_TRADE})
    )
    assert updated.permissions == {Permission.READ, Permission.FUTURES_TRADE}
    assert key_service.show(record.api_key).permissions == updated.permissions


# --- every change: one revision bump, one audit entry ------------------------------------


def test_every_change_bumps_the_revision_and_audits(ctx: Context, key_service: KeyService) -> None:
    user = make_user(ctx)
    revision, seq = key_revision(ctx), audit_seq(ctx)
    created = key_service.create("alice", hmac_spec("bot", TRADE), PASSPHRASE, user.code())
    api_key = created.record.api_key
    checks = [("key.created", api_key)]
    key_service.update(api_key, user.code(), ips=("203.0.113.7",))
    checks.append(("key.updated", api_key))
    new = key_service.rotate(api_key, PASSPHRASE, user.code()).record
    checks.append(("key.rotated", api_key))
    key_service.revoke(new.api_key)
    checks.append(("key.revoked", new.api_key))

    assert key_revision(ctx) == revision + len(checks)
    entries = audit_entries(ctx, seq)
    assert [(e.kind, e.key_prefix) for e in entries] == [
        (kind, display_prefix(key)) for kind, key in checks
    ]
    assert all(e.user_id == user.id for e in entries)
    created_detail = json.loads(entries[0].detail)
    assert created_detail == {
        "label": "bot",
        "type": "hmac",
        "permissions": ["read", "spot_trade"],
        "ips": [],
    }
    for entry in entries:  # the audit trail holds prefixes, never a whole key or secret
        assert api_key not in entry.detail
        assert created.secret is not None
        assert created.secret not in entry.detail


def test_listeners_hear_about_committed_changes(ctx: Context, key_service: KeyService) -> None:
    heard: list[int] = []
    ctx.key_listeners.append(lambda: heard.append(key_revision(ctx)))
    user = make_user(ctx)
    record = key_service.create("alice", hmac_spec(), PASSPHRASE, user.code()).record
    key_service.revoke(record.api_key)
    assert heard == [1, 2]  # after the commit: the new revision is visible
    assert (ctx.settings.signal_path).exists()
