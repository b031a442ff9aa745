"""Verify one signed request and say who made it, within which rights.

Checks, in order: the four headers are present (40001/40002/40011), the timestamp parses
(40005) and is inside the window (40008), then — always doing the same work, so timing
does not reveal which keys exist — the key is looked up (a malformed or unknown key is
replaced by a dummy), the passphrase digest and the signature are computed and compared.
Only then are the failures reported (40006/40037/40012/40009), followed by the key's own
state (revoked, expired: 40037), its stricter window (40008), its IP allowlist (40018),
replay of a state-changing request (40008) and the route's permission (40014).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Protocol

from sealbook.clock import Clock
from sealbook.errors import (
    AccessDenied,
    AuthError,
    BadSignature,
    InvalidTimestamp,
    IpNotAllowed,
    MalformedApiKey,
    MissingApiKey,
    MissingPassphrase,
    MissingPermission,
    MissingSignature,
    ReplayedRequest,
    SealbookError,
    TimestampExpired,
    UnknownApiKey,
    WrongPassphrase,
)
from sealbook.keys.format import display_prefix, is_well_formed
from sealbook.keys.model import ApiKeyRecord, KeyStatus, LiveKey
from sealbook.keys.permissions import NEED_TEXT, Permission
from sealbook.keys.replay import ReplayGuard
from sealbook.keys.schemes import HmacScheme, KeyType, decode_signature, prehash_candidates
from sealbook.keys.sealing import Sealer

__all__ = ["AuthObserver", "KeyDirectory", "Principal", "Verifier"]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a verified request comes from."""

    user_id: int
    key_id: int
    api_key: str
    permissions: frozenset[Permission]
    ip: str


class KeyDirectory(Protocol):
    def get(self, api_key: str) -> LiveKey | None:
        """The live form of a key, or None when no such key exists."""

    @property
    def sealer(self) -> Sealer: ...


class AuthObserver(Protocol):
    def rejected(
        self, error: SealbookError, key_prefix: str, ip: str, now_ms: int, user_id: int | None
    ) -> None: ...

    def used(self, key_id: int, ip: str, now_ms: int) -> None: ...


def _dummy_key(sealer: Sealer) -> LiveKey:
    api_key = "sbk_" + "0" * 34
    record = ApiKeyRecord(
        id=-1,
        user_id=-1,
        api_key=api_key,
        label="dummy",
        key_type=KeyType.HMAC,
        permissions=frozenset(),
        ips=(),
        created_ms=0,
        unbound_since_ms=0,
        passphrase_digest=sealer.passphrase_digest(api_key, secrets.token_hex(16)),
    )
    live = LiveKey(record, HmacScheme(secrets.token_bytes(32)))
    live.good_passphrase = secrets.token_bytes(16)
    return live


class Verifier:
    __slots__ = (
        "_clock",
        "_directory",
        "_dummy",
        "_lapse_days",
        "_not_before_ms",
        "_observer",
        "_replay",
        "_window_ms",
    )

    def __init__(
        self,
        directory: KeyDirectory,
        clock: Clock,
        observer: AuthObserver,
        *,
        window_ms: int = 30_000,
        lapse_days: int = 90,
    ) -> None:
        self._directory = directory
        self._clock = clock
        self._observer = observer
        self._window_ms = window_ms
        self._lapse_days = lapse_days
        self._replay = ReplayGuard(window_ms)
        self._dummy = _dummy_key(directory.sealer)
        # The replay memory starts empty: a state-changing request signed before this
        # process started could be a replay of one the previous process accepted.
        self._not_before_ms = clock.now_ms()

    def verify(
        self,
        *,
        key: bytes | None,
        sign: bytes | None,
        timestamp: bytes | None,
        passphrase: bytes | None,
        method: bytes,
        path: bytes,
        query: bytes,
        body: bytes,
        ip: str,
        need: Permission,
    ) -> Principal:
        now = self._clock.now_ms()
        try:
            return self._verify(
                key, sign, timestamp, passphrase, method, path, query, body, ip, need, now
            )
        except (AuthError, AccessDenied) as error:
            # Only a well-formed key is named: a malformed one may be a pasted secret.
            owner, prefix = None, "(malformed)" if key else ""
            if key and is_well_formed(key_text := key.decode("latin-1")):
                prefix = display_prefix(key_text)
                live = self._directory.get(key_text)
                owner = live.record.user_id if live is not None else None
            self._observer.rejected(error, prefix, ip, now, owner)
            raise

    def _verify(
        self,
        key: bytes | None,
        sign: bytes | None,
        timestamp: bytes | None,
        passphrase: bytes | None,
        method: bytes,
        path: bytes,
        query: bytes,
        body: bytes,
        ip: str,
        need: Permission,
        now: int,
    ) -> Principal:
        if not key:
            raise MissingApiKey()
        if not sign:
            raise MissingSignature()
        if not passphrase:
            raise MissingPassphrase()
        if not timestamp or len(timestamp) > 16 or not timestamp.isdigit():
            raise InvalidTimestamp()
        skew = now - int(timestamp)
        if skew > self._window_ms or -skew > self._window_ms:
            raise TimestampExpired()

        key_text = key.decode("latin-1")
        well_formed = is_well_formed(key_text)
        live = self._directory.get(key_text) if well_formed else None
        target = live if live is not None else self._dummy

        passphrase_ok = self._passphrase_matches(target, key_text, passphrase)
        signature = decode_signature(sign)
        signature_ok = False
        if signature is not None:
            for message in prehash_candidates(timestamp, method, path, query, body):
                if target.scheme.verify(message, signature):
                    signature_ok = True
                    break
        else:
            target.scheme.verify(timestamp, b"\0" * 32)  # same work as a real check

        if not well_formed:
            raise MalformedApiKey()
        if live is None:
            raise UnknownApiKey()
        if not passphrase_ok:
            raise WrongPassphrase()
        if not signature_ok:
            raise BadSignature()

        record = live.record
        if now >= live.stable_until_ms:
            status = record.status(now, self._lapse_days)
            if status is KeyStatus.REVOKED or status is KeyStatus.EXPIRED:
                # The caller proved they hold the key, so the reason can be told.
                raise UnknownApiKey(f"Apikey does not exist: it was {status.value}")
            live.permissions = record.effective_permissions(now, self._lapse_days)
            live.principals = {}
            live.stable_until_ms = record.next_change_ms(now, self._lapse_days)
        if record.window_ms is not None and (skew > record.window_ms or -skew > record.window_ms):
            raise TimestampExpired()
        if not live.allowlist.allows(ip):
            raise IpNotAllowed(ip)
        if method != b"GET" and (
            int(timestamp) < self._not_before_ms
            or not self._replay.first_use(signature or b"", now)
        ):
            raise ReplayedRequest()
        if need not in live.permissions:
            raise MissingPermission(NEED_TEXT[need])
        self._observer.used(record.id, ip, now)
        principal = live.principals.get(ip)
        if principal is None:
            principal = Principal(record.user_id, record.id, record.api_key, live.permissions, ip)
            if len(live.principals) < 64:
                live.principals[ip] = principal
        return principal

    def _passphrase_matches(self, live: LiveKey, key_text: str, passphrase: bytes) -> bool:
        good = live.good_passphrase
        if good is not None and hmac.compare_digest(good, passphrase):
            return True
        try:
            text = passphrase.decode("ascii")
        except UnicodeDecodeError:
            text = "\0"
        digest = self._directory.sealer.passphrase_digest(key_text, text)
        if hmac.compare_digest(digest, live.record.passphrase_digest):
            live.good_passphrase = passphrase
            return True
        return False
