"""People: sign-up, passwords, and the second factor that guards every key change."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from sealbook.errors import (
    Conflict,
    NotFound,
    ParamInvalid,
    SecondFactorRequired,
    StepUpError,
    StepUpLocked,
)
from sealbook.exchange.context import Context
from sealbook.keys import passwords, totp
from sealbook.keys.format import display_prefix
from sealbook.keys.model import ApiKeyRecord
from sealbook.keys.permissions import FUND_MOVING
from sealbook.store import keys as key_store
from sealbook.store import users as user_store
from sealbook.store.users import UserRecord

__all__ = ["AccountService", "TotpEnrolment"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
MIN_PASSWORD = 8


def _totp_context(user_id: int) -> str:
    return f"totp-seed:{user_id}"


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    secret: str
    uri: str

    def __repr__(self) -> str:
        return "TotpEnrolment(<redacted>)"


class AccountService:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._policy = totp.StepUpPolicy(
            max_failures=ctx.settings.totp_max_failures,
            lockout_ms=ctx.settings.totp_lockout_s * 1000,
        )

    def create_user(self, name: str, password: str, *, ip: str | None = None) -> int:
        if not _NAME.fullmatch(name):
            raise ParamInvalid(
                "name", "1-64 letters, digits and _.@- starting with a letter or digit"
            )
        if len(password) < MIN_PASSWORD:
            raise ParamInvalid("password", f"at least {MIN_PASSWORD} characters")
        digest = passwords.hash_password(password)
        now = self._ctx.clock.now_ms()
        try:
            with self._ctx.engine.begin() as conn:
                if user_store.get_by_name(conn, name) is not None:
                    raise Conflict(f"user {name!r}")
                user_id = user_store.insert_user(conn, name, digest, now)
                self._ctx.audit.append(
                    conn, now, "user.created", user_id=user_id, ip=ip, detail={"name": name}
                )
        except IntegrityError:
            raise Conflict(f"user {name!r}") from None
        return user_id

    def get(self, name: str) -> UserRecord:
        with self._ctx.engine.connect() as conn:
            user = user_store.get_by_name(conn, name)
        if user is None:
            raise NotFound(f"user {name!r}")
        return user

    def authenticate(self, name: str, password: str, *, ip: str | None = None) -> UserRecord | None:
        """Password check that costs the same whether or not the user exists."""
        with self._ctx.engine.connect() as conn:
            user = user_store.get_by_name(conn, name)
        ok = passwords.verify_password(user.password_hash if user else None, password)
        now = self._ctx.clock.now_ms()
        with self._ctx.engine.begin() as conn:
            self._ctx.audit.append(
                conn,
                now,
                "signin.ok" if ok else "signin.failed",
                user_id=user.id if user else None,
                ip=ip,
                detail={"name": name},
            )
        return user if ok and user is not None else None

    def totp_enroll(self, name: str, *, ip: str | None = None) -> TotpEnrolment:
        """A new seed, shown once. Refused while a confirmed one exists."""
        secret = totp.new_secret()
        now = self._ctx.clock.now_ms()
        with self._ctx.engine.begin() as conn:
            user = self._user(conn, name)
            if user.totp_confirmed:
                raise Conflict("a confirmed two-factor seed")
            sealed = self._ctx.sealer.seal(secret.encode(), _totp_context(user.id))
            user_store.update_user(
                conn,
                user.id,
                totp_sealed=sealed,
                totp_confirmed=False,
                totp_last_step=-1,
                totp_failures=0,
                totp_locked_until_ms=0,
            )
            self._ctx.audit.append(conn, now, "totp.enrolled", user_id=user.id, ip=ip)
        return TotpEnrolment(secret, totp.provisioning_uri(secret, name))

    def totp_confirm(self, name: str, code: str, *, ip: str | None = None) -> None:
        error: StepUpError | None = None
        with self._ctx.engine.begin() as conn:
            user = self._user(conn, name, for_update=True)
            if user.totp_sealed is None:
                raise NotFound("a pending two-factor enrolment")
            error = self._check(conn, user, code, ip)
            if error is None:
                user_store.update_user(conn, user.id, totp_confirmed=True)
                self._ctx.audit.append(
                    conn, self._ctx.clock.now_ms(), "totp.confirmed", user_id=user.id, ip=ip
                )
        if error is not None:
            raise error

    def verify_code(self, name: str, code: str, *, ip: str | None = None) -> None:
        """Step-up on its own, for an action whose service takes no code (the console's
        revoke). Failures and lockouts are committed before the error is raised."""
        error: StepUpError | None = None
        with self._ctx.engine.begin() as conn:
            user = self._user(conn, name, for_update=True)
            error = self.step_up(conn, user, code, ip)
        if error is not None:
            raise error

    def totp_disable(self, name: str, code: str, *, ip: str | None = None) -> list[str]:
        """Turn the second factor off (needs a code). Every key that can still trade,
        transfer or withdraw is revoked in the same transaction: those rights were granted
        on the strength of the second factor, and without it nobody could step up to
        change them. Returns the revoked keys' display prefixes."""
        error: StepUpError | None = None
        revoked: list[str] = []
        now = self._ctx.clock.now_ms()
        with self._ctx.engine.begin() as conn:
            user = self._user(conn, name, for_update=True)
            error = self.step_up(conn, user, code, ip)
            if error is None:
                reason = "two-factor authentication was turned off"
                for record in _lost_without_totp(key_store.list_for_user(conn, user.id), now):
                    key_store.update_key(conn, record.id, revoked_ms=now, revoke_reason=reason)
                    prefix = display_prefix(record.api_key)
                    self._ctx.audit.append(
                        conn,
                        now,
                        "key.revoked",
                        user_id=user.id,
                        key_prefix=prefix,
                        ip=ip,
                        detail={"reason": reason},
                    )
                    revoked.append(prefix)
                user_store.update_user(
                    conn,
                    user.id,
                    totp_sealed=None,
                    totp_confirmed=False,
                    totp_failures=0,
                    totp_locked_until_ms=0,
                )
                self._ctx.audit.append(
                    conn, now, "totp.disabled", user_id=user.id, ip=ip, detail={"revoked": revoked}
                )
                if revoked:
                    key_store.bump_revision(conn)
        if error is not None:
            raise error
        if revoked:
            self._ctx.keys_changed()
        return revoked

    def keys_lost_without_totp(self, name: str) -> list[ApiKeyRecord]:
        """The keys :meth:`totp_disable` would revoke now, to warn the person first."""
        with self._ctx.engine.connect() as conn:
            user = self._user(conn, name)
            records = key_store.list_for_user(conn, user.id)
        return _lost_without_totp(records, self._ctx.clock.now_ms())

    def signin_throttled(self, name: str, *, ip: str | None = None) -> None:
        """Audit a sign-in refused before the password was checked (too many failures)."""
        with self._ctx.engine.begin() as conn:
            user = user_store.get_by_name(conn, name)
            self._ctx.audit.append(
                conn,
                self._ctx.clock.now_ms(),
                "signin.throttled",
                user_id=user.id if user else None,
                ip=ip,
                detail={"name": name},
            )

    def step_up(
        self, conn: Connection, user: UserRecord, code: str, ip: str | None
    ) -> StepUpError | None:
        """Check a code inside the caller's transaction. The caller must commit and then
        raise the returned error, so failures and lockouts persist."""
        if not user.totp_confirmed or user.totp_sealed is None:
            raise SecondFactorRequired()
        return self._check(conn, user, code, ip)

    def _check(
        self, conn: Connection, user: UserRecord, code: str, ip: str | None
    ) -> StepUpError | None:
        assert user.totp_sealed is not None
        secret = self._ctx.sealer.open(user.totp_sealed, _totp_context(user.id)).decode()
        now = self._ctx.clock.now_ms()
        state, error = totp.verify_step_up(secret, code, user.totp_state, now, self._policy)
        if state != user.totp_state:
            user_store.save_totp_state(conn, user.id, state)
        if error is not None:
            kind = (
                "stepup.locked"
                if isinstance(error, StepUpLocked) or state.locked_until_ms > now
                else "stepup.failed"
            )
            self._ctx.audit.append(
                conn,
                now,
                kind,
                user_id=user.id,
                ip=ip,
                detail={"code": error.code, "msg": error.msg},
            )
        return error

    def _user(self, conn: Connection, name: str, *, for_update: bool = False) -> UserRecord:
        user = user_store.get_by_name(conn, name, for_update=for_update)
        if user is None:
            raise NotFound(f"user {name!r}")
        return user


def _lost_without_totp(records: list[ApiKeyRecord], now_ms: int) -> list[ApiKeyRecord]:
    """Live keys that can trade, transfer or withdraw: turning 2FA off revokes them."""
    return [
        r
        for r in records
        if r.revoked_ms is None and r.is_live(now_ms) and r.permissions & FUND_MOVING
    ]
