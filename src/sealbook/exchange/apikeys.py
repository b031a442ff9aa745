"""Issuing, changing, rotating and revoking API keys. One transaction per event, audited."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from sqlalchemy.engine import Connection

from sealbook.errors import (
    InvalidPassphraseFormat,
    KeyLimitReached,
    NotFound,
    ParamInvalid,
    StepUpError,
)
from sealbook.exchange.accounts import AccountService
from sealbook.exchange.context import Context
from sealbook.keys.allowlist import parse_allowlist
from sealbook.keys.format import display_prefix, is_well_formed, new_api_key, new_hmac_secret
from sealbook.keys.model import ApiKeyRecord, secret_context
from sealbook.keys.permissions import Permission, describe
from sealbook.keys.schemes import KeyType, canonical_public_pem, load_public_key
from sealbook.store import keys as key_store
from sealbook.store import users as user_store
from sealbook.store.users import UserRecord

__all__ = ["CreatedKey", "KeyService", "KeySpec"]

_PASSPHRASE = re.compile(r"^[A-Za-z0-9]{8,32}$")
MIN_WINDOW_MS = 5_000


@dataclass(frozen=True, slots=True)
class KeySpec:
    """What a person asks for when creating a key."""

    label: str
    key_type: KeyType
    permissions: frozenset[Permission]
    ips: tuple[str, ...] = ()
    public_key: str | None = None
    expires_in_ms: int | None = None
    window_ms: int | None = None


@dataclass(frozen=True, slots=True)
class CreatedKey:
    record: ApiKeyRecord
    secret: str | None = field(repr=False)  # HMAC only; shown once, never stored in clear


class KeyService:
    def __init__(self, ctx: Context, accounts: AccountService) -> None:
        self._ctx = ctx
        self._accounts = accounts

    # --- reads -------------------------------------------------------------------------

    def list(self, user_name: str) -> list[ApiKeyRecord]:
        with self._ctx.engine.connect() as conn:
            user = self._user(conn, user_name)
            return key_store.list_for_user(conn, user.id)

    def show(self, api_key: str) -> ApiKeyRecord:
        with self._ctx.engine.connect() as conn:
            return self._key(conn, api_key)

    # --- changes -----------------------------------------------------------------------

    def create(
        self,
        user_name: str,
        spec: KeySpec,
        passphrase: str,
        totp_code: str,
        *,
        ip: str | None = None,
    ) -> CreatedKey:
        spec = replace(spec, label=_check_label(spec.label), ips=parse_allowlist(spec.ips))
        self._check_spec(spec)
        _check_passphrase(passphrase)
        scheme_pem = None
        if spec.key_type is not KeyType.HMAC:
            scheme_pem = canonical_public_pem(load_public_key(spec.key_type, spec.public_key or ""))
        elif spec.public_key:
            raise ParamInvalid("publicKey", "HMAC keys get a server-generated secret")
        now = self._ctx.clock.now_ms()
        error: StepUpError | None = None
        created: CreatedKey | None = None
        with self._ctx.engine.begin() as conn:
            user = self._user(conn, user_name, for_update=True)
            error = self._accounts.step_up(conn, user, totp_code, ip)
            if error is None:
                self._check_room(conn, user, now)
                created = self._insert(conn, user, spec, passphrase, scheme_pem, now)
                self._ctx.audit.append(
                    conn,
                    now,
                    "key.created",
                    user_id=user.id,
                    key_prefix=display_prefix(created.record.api_key),
                    ip=ip,
                    detail=_summary(created.record),
                )
                key_store.bump_revision(conn)
        if error is not None:
            raise error
        assert created is not None
        self._ctx.keys_changed()
        return created

    def update(
        self,
        api_key: str,
        totp_code: str,
        *,
        permissions: frozenset[Permission] | None = None,
        ips: tuple[str, ...] | None = None,
        label: str | None = None,
        ip: str | None = None,
        user_id: int | None = None,
    ) -> ApiKeyRecord:
        now = self._ctx.clock.now_ms()
        error: StepUpError | None = None
        with self._ctx.engine.begin() as conn:
            record = self._key(conn, api_key, user_id)
            if not record.is_live(now):
                raise NotFound(f"live API key {display_prefix(api_key)}…")
            new_perms = (
                record.permissions if permissions is None else permissions | {Permission.READ}
            )
            new_ips = record.ips if ips is None else parse_allowlist(ips)
            if Permission.WITHDRAW in new_perms and not new_ips:
                raise ParamInvalid("ip", "a key that can withdraw needs an IP allowlist")
            user = user_store.get_by_id(conn, record.user_id)
            assert user is not None
            error = self._accounts.step_up(conn, user, totp_code, ip)
            if error is None:
                unbound_since = record.unbound_since_ms
                if record.ips and not new_ips:
                    unbound_since = now
                elif new_ips:
                    unbound_since = now  # the lapse clock restarts whenever an allowlist is set
                new_label = record.label if label is None else _check_label(label)
                key_store.update_key(
                    conn,
                    record.id,
                    permissions=new_perms,
                    ips=new_ips,
                    unbound_since_ms=unbound_since,
                    label=new_label,
                )
                updated = replace(
                    record,
                    permissions=new_perms,
                    ips=new_ips,
                    unbound_since_ms=unbound_since,
                    label=new_label,
                )
                self._ctx.audit.append(
                    conn,
                    now,
                    "key.updated",
                    user_id=record.user_id,
                    key_prefix=display_prefix(api_key),
                    ip=ip,
                    detail={"before": _summary(record), "after": _summary(updated)},
                )
                key_store.bump_revision(conn)
        if error is not None:
            raise error
        self._ctx.keys_changed()
        return updated

    def rotate(
        self,
        api_key: str,
        passphrase: str,
        totp_code: str,
        *,
        public_key: str | None = None,
        ip: str | None = None,
        user_id: int | None = None,
    ) -> CreatedKey:
        """A new key with the same rights; the old one works until the grace period ends."""
        _check_passphrase(passphrase)
        now = self._ctx.clock.now_ms()
        error: StepUpError | None = None
        created: CreatedKey | None = None
        with self._ctx.engine.begin() as conn:
            old = self._key(conn, api_key, user_id)
            if not old.is_live(now) or old.dies_ms is not None:
                raise NotFound(f"live, unrotated API key {display_prefix(api_key)}…")
            scheme_pem = None
            if old.key_type is not KeyType.HMAC:
                if not public_key:
                    raise ParamInvalid(
                        "publicKey", f"rotating a {old.key_type} key needs the new public key"
                    )
                scheme_pem = canonical_public_pem(load_public_key(old.key_type, public_key))
            user = user_store.get_by_id(conn, old.user_id)
            assert user is not None
            error = self._accounts.step_up(conn, user, totp_code, ip)
            if error is None:
                spec = KeySpec(
                    label=old.label,
                    key_type=old.key_type,
                    permissions=old.permissions,
                    ips=old.ips,
                    expires_in_ms=None if old.expires_ms is None else max(0, old.expires_ms - now),
                    window_ms=old.window_ms,
                )
                self._check_room(conn, user, now, allowance=1)
                created = self._insert(conn, user, spec, passphrase, scheme_pem, now)
                dies = now + self._ctx.settings.rotation_grace_s * 1000
                key_store.update_key(conn, old.id, dies_ms=dies, rotated_to=created.record.api_key)
                self._ctx.audit.append(
                    conn,
                    now,
                    "key.rotated",
                    user_id=user.id,
                    key_prefix=display_prefix(api_key),
                    ip=ip,
                    detail={"newKey": display_prefix(created.record.api_key), "oldKeyDiesMs": dies},
                )
                key_store.bump_revision(conn)
        if error is not None:
            raise error
        assert created is not None
        self._ctx.keys_changed()
        return created

    def revoke(
        self,
        api_key: str,
        reason: str = "revoked by the operator",
        *,
        ip: str | None = None,
        user_id: int | None = None,
    ) -> ApiKeyRecord:
        now = self._ctx.clock.now_ms()
        with self._ctx.engine.begin() as conn:
            record = self._key(conn, api_key, user_id)
            if record.revoked_ms is None:
                key_store.update_key(conn, record.id, revoked_ms=now, revoke_reason=reason[:200])
                self._ctx.audit.append(
                    conn,
                    now,
                    "key.revoked",
                    user_id=record.user_id,
                    key_prefix=display_prefix(api_key),
                    ip=ip,
                    detail={"reason": reason[:200]},
                )
                key_store.bump_revision(conn)
                record = replace(record, revoked_ms=now, revoke_reason=reason[:200])
        self._ctx.keys_changed()
        return record

    # --- helpers -----------------------------------------------------------------------

    def _insert(
        self,
        conn: Connection,
        user: UserRecord,
        spec: KeySpec,
        passphrase: str,
        public_pem: str | None,
        now: int,
    ) -> CreatedKey:
        api_key = new_api_key()
        secret = new_hmac_secret() if spec.key_type is KeyType.HMAC else None
        sealed = self._ctx.sealer.seal(secret.encode(), secret_context(api_key)) if secret else None
        record = ApiKeyRecord(
            id=0,
            user_id=user.id,
            api_key=api_key,
            label=spec.label,
            key_type=spec.key_type,
            permissions=spec.permissions | {Permission.READ},
            ips=spec.ips,
            created_ms=now,
            unbound_since_ms=now,
            passphrase_digest=self._ctx.sealer.passphrase_digest(api_key, passphrase),
            sealed_secret=sealed,
            public_key=public_pem,
            window_ms=spec.window_ms,
            expires_ms=None if spec.expires_in_ms is None else now + spec.expires_in_ms,
        )
        key_id = key_store.insert_key(conn, record)
        return CreatedKey(replace(record, id=key_id), secret)

    def _check_spec(self, spec: KeySpec) -> None:
        if Permission.WITHDRAW in spec.permissions and not spec.ips:
            raise ParamInvalid("ip", "a key that can withdraw needs an IP allowlist")
        if (
            spec.window_ms is not None
            and not MIN_WINDOW_MS <= spec.window_ms <= self._ctx.settings.timestamp_window_ms
        ):
            raise ParamInvalid(
                "window", f"between {MIN_WINDOW_MS} and {self._ctx.settings.timestamp_window_ms} ms"
            )
        if spec.expires_in_ms is not None and spec.expires_in_ms <= 0:
            raise ParamInvalid("expires", "must be in the future")

    def _check_room(self, conn: Connection, user: UserRecord, now: int, allowance: int = 0) -> None:
        """``allowance``: rotation may go one over while the old key lives out its grace."""
        live = [k for k in key_store.list_for_user(conn, user.id) if k.is_live(now)]
        if len(live) >= self._ctx.settings.max_keys_per_user + allowance:
            raise KeyLimitReached(self._ctx.settings.max_keys_per_user)

    def _user(self, conn: Connection, name: str, *, for_update: bool = False) -> UserRecord:
        user = user_store.get_by_name(conn, name, for_update=for_update)
        if user is None:
            raise NotFound(f"user {name!r}")
        return user

    def _key(self, conn: Connection, api_key: str, user_id: int | None = None) -> ApiKeyRecord:
        """``user_id`` restricts the lookup to one owner (the console passes it)."""
        record = key_store.get_by_api_key(conn, api_key) if is_well_formed(api_key) else None
        if record is None or (user_id is not None and record.user_id != user_id):
            raise NotFound(f"API key {display_prefix(api_key)}…")
        return record


def _check_passphrase(passphrase: str) -> None:
    if not _PASSPHRASE.fullmatch(passphrase):
        raise InvalidPassphraseFormat()


def _check_label(label: str) -> str:
    label = label.strip()
    if not 1 <= len(label) <= 64 or not label.isprintable():
        raise ParamInvalid("label", "1-64 printable characters")
    return label


def _summary(record: ApiKeyRecord) -> dict[str, object]:
    return {
        "label": record.label,
        "type": record.key_type.value,
        "permissions": describe(record.permissions),
        "ips": list(record.ips),
    }
