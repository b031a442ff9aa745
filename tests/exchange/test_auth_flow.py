"""Keys in use: the server's key directory, the verifier, and AuthLog's deferred writes.

Requests are signed here exactly as a Bitget client signs them (HMAC-SHA256 over
timestamp + method + path + body, base64) and checked by the real Verifier over the real
DbKeyDirectory, so rotation, revocation and lapse are seen the way a server sees them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from sqlalchemy import select

from fixtures.services import (
    PASSPHRASE,
    TotpUser,
    audit_entries,
    audit_seq,
    hmac_spec,
    key_revision,
    make_user,
)
from sealbook.clock import ManualClock
from sealbook.errors import (
    BadSignature,
    IpNotAllowed,
    MissingPermission,
    SealbookError,
    UnknownApiKey,
    WrongPassphrase,
)
from sealbook.exchange.apikeys import CreatedKey, KeyService
from sealbook.exchange.authlog import AuthLog
from sealbook.exchange.context import Context
from sealbook.exchange.keyring import DbKeyDirectory
from sealbook.keys.format import display_prefix, new_api_key
from sealbook.keys.permissions import Permission
from sealbook.keys.verifier import Principal, Verifier
from sealbook.store import audit as audit_store
from sealbook.store.tables import api_keys

DAY_MS = 86_400_000
PATH = b"/api/v2/spot/account/assets"
HOME_IP = "203.0.113.7"


class Server:
    """What a running server holds for authentication, built from the test's context."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.directory = DbKeyDirectory(ctx)
        self.authlog = AuthLog(ctx)
        self.verifier = Verifier(
            self.directory,
            ctx.clock,
            self.authlog,
            window_ms=ctx.settings.timestamp_window_ms,
            lapse_days=ctx.settings.unbound_key_lapse_days,
        )

    def call(
        self,
        api_key: str,
        secret: str,
        *,
        passphrase: str = PASSPHRASE,
        ip: str = HOME_IP,
        need: Permission = Permission.READ,
        method: bytes = b"GET",
        body: bytes = b"",
    ) -> Principal:
        timestamp = str(self.ctx.clock.now_ms()).encode()
        mac = hmac.digest(secret.encode(), timestamp + method + PATH + body, hashlib.sha256)
        return self.verifier.verify(
            key=api_key.encode(),
            sign=base64.b64encode(mac),
            timestamp=timestamp,
            passphrase=passphrase.encode(),
            method=method,
            path=PATH,
            query=b"",
            body=body,
            ip=ip,
            need=need,
        )


def _hmac_key(
    key_service: KeyService, user: TotpUser, perms: tuple[Permission, ...], ips: tuple[str, ...]
) -> tuple[str, str]:
    created: CreatedKey = key_service.create(
        user.name, hmac_spec("bot", perms, ips), PASSPHRASE, user.code()
    )
    assert created.secret is not None
    return created.record.api_key, created.secret


def test_a_new_key_works_at_once_and_revocation_is_immediate(
    ctx: Context, key_service: KeyService
) -> None:
    server = Server(ctx)  # started before the key exists
    user = make_user(ctx)
    api_key, secret = _hmac_key(key_service, user, (Permission.READ,), ())

    principal = server.call(api_key, secret)
    assert principal.user_id == user.id
    assert principal.api_key == api_key
    assert principal.permissions == {Permission.READ}

    key_service.revoke(api_key, "compromised")
    with pytest.raises(UnknownApiKey) as exc:
        server.call(api_key, secret)
    assert exc.value.code == "40037"
    assert server.directory.get(api_key) is None


def test_a_change_made_by_another_process_is_seen(
    ctx: Context, key_service: KeyService, clock: ManualClock
) -> None:
    """A second server (another Context on the same database) learns of a revocation
    through the revision counter, at the latest after its one-second backstop."""
    user = make_user(ctx)
    api_key, secret = _hmac_key(key_service, user, (Permission.READ,), ())
    other = Server(
        Context(
            settings=ctx.settings.model_copy(update={"home": ctx.settings.home / "elsewhere"}),
            engine=ctx.engine,
            sealer=ctx.sealer,
            audit=ctx.audit,
            clock=clock,
        )
    )
    other.call(api_key, secret)
    key_service.revoke(api_key)
    clock.advance(1.0)
    with pytest.raises(UnknownApiKey):
        other.call(api_key, secret)


def test_old_key_works_until_the_rotation_grace_period_ends(
    ctx: Context, key_service: KeyService, clock: ManualClock
) -> None:
    server = Server(ctx)
    user = make_user(ctx)
    old_key, old_secret = _hmac_key(key_service, user, (Permission.READ,), (HOME_IP,))
    rotated = key_service.rotate(old_key, "NewPassphrase7", user.code())
    assert rotated.secret is not None
    dies = key_service.show(old_key).dies_ms
    assert dies == clock.now_ms() + DAY_MS

    server.call(old_key, old_secret)
    server.call(rotated.record.api_key, rotated.secret, passphrase="NewPassphrase7")
    with pytest.raises(WrongPassphrase):  # the new key has its own passphrase
        server.call(rotated.record.api_key, rotated.secret)
    with pytest.raises(BadSignature):  # and its own secret
        server.call(rotated.record.api_key, old_secret, passphrase="NewPassphrase7")

    clock.set_ms(dies - 1)
    server.call(old_key, old_secret)
    clock.set_ms(dies)
    with pytest.raises(UnknownApiKey) as exc:
        server.call(old_key, old_secret)
    assert "revoked" in exc.value.msg
    server.call(rotated.record.api_key, rotated.secret, passphrase="NewPassphrase7")


def test_lapsed_trade_rights_are_refused_and_an_allowlist_restores_them(
    ctx: Context, key_service: KeyService, clock: ManualClock
) -> None:
    server = Server(ctx)
    user = make_user(ctx)
    api_key, secret = _hmac_key(key_service, user, (Permission.READ, Permission.SPOT_TRADE), ())
    server.call(api_key, secret, need=Permission.SPOT_TRADE, ip="192.0.2.44")

    clock.advance(90 * DAY_MS / 1000)
    with pytest.raises(MissingPermission) as exc:
        server.call(api_key, secret, need=Permission.SPOT_TRADE, ip="192.0.2.44")
    assert exc.value.code == "40014"
    assert server.call(api_key, secret, ip="192.0.2.44").permissions == {Permission.READ}

    key_service.update(api_key, user.code(), ips=(HOME_IP,))
    principal = server.call(api_key, secret, need=Permission.SPOT_TRADE)
    assert Permission.SPOT_TRADE in principal.permissions
    with pytest.raises(IpNotAllowed):
        server.call(api_key, secret, ip="192.0.2.44")


def test_authlog_flush_writes_rejections_to_the_chain_and_last_use_to_the_key(
    ctx: Context, key_service: KeyService, clock: ManualClock
) -> None:
    server = Server(ctx)
    user = make_user(ctx)
    api_key, secret = _hmac_key(key_service, user, (Permission.READ,), ())
    revision, seq = key_revision(ctx), audit_seq(ctx)

    used_at = clock.now_ms()
    server.call(api_key, secret, ip="198.51.100.20")
    rejected_at = used_at + 1_000
    clock.set_ms(rejected_at)
    with pytest.raises(WrongPassphrase):
        server.call(api_key, secret, passphrase="WrongPassphrase1", ip="198.51.100.21")
    unknown = new_api_key()
    with pytest.raises(UnknownApiKey):
        server.call(unknown, secret, ip="198.51.100.22")

    # Nothing is written on the request path.
    assert audit_seq(ctx) == seq
    with ctx.engine.connect() as conn:
        row = conn.execute(select(api_keys).where(api_keys.c.api_key == api_key)).one()
    assert row.last_used_ms is None
    assert server.authlog.pending() == 3

    assert server.authlog.flush() == 3
    assert server.authlog.pending() == 0
    assert server.authlog.flush() == 0

    with ctx.engine.connect() as conn:
        row = conn.execute(select(api_keys).where(api_keys.c.api_key == api_key)).one()
    assert (row.last_used_ms, row.last_used_ip) == (used_at, "198.51.100.20")
    assert key_service.show(api_key).last_used_ip == "198.51.100.20"
    assert key_revision(ctx) == revision  # last use is not a change to the key

    wrong, missing = audit_entries(ctx, seq)
    assert (wrong.kind, wrong.ts_ms, wrong.ip) == ("auth.rejected", rejected_at, "198.51.100.21")
    assert (wrong.key_prefix, wrong.user_id) == (display_prefix(api_key), user.id)
    assert json.loads(wrong.detail) == {"code": "40012", "msg": "apikey/password is incorrect"}
    assert (missing.kind, missing.ip, missing.user_id) == ("auth.rejected", "198.51.100.22", None)
    assert missing.key_prefix == display_prefix(unknown)
    assert json.loads(missing.detail)["code"] == "40037"
    assert audit_store.verify(ctx.engine).ok

    # Last use never moves backwards, and only the latest use per key is kept.
    key_id = row.id
    server.authlog.used(key_id, "198.51.100.30", used_at - 5_000)
    server.authlog.flush()
    assert key_service.show(api_key).last_used_ms == used_at
    server.authlog.used(key_id, "198.51.100.31", used_at + 5_000)
    server.authlog.used(key_id, "198.51.100.32", used_at + 6_000)
    assert server.authlog.flush() == 1
    shown = key_service.show(api_key)
    assert (shown.last_used_ms, shown.last_used_ip) == (used_at + 6_000, "198.51.100.32")


def test_authlog_records_what_it_is_given(ctx: Context) -> None:
    log = AuthLog(ctx)
    error: SealbookError = IpNotAllowed("192.0.2.9")
    log.rejected(error, "", "192.0.2.9", 1_800_000_000_123, None)
    assert log.flush() == 1
    (entry,) = audit_entries(ctx)
    assert entry.key_prefix is None  # no key given: no prefix, not an empty string
    assert entry.ts_ms == 1_800_000_000_123
    assert json.loads(entry.detail) == {"code": "40018", "msg": error.msg}
