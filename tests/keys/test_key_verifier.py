"""The verifier: every outcome of a signed request, with its Bitget code (BITGET_WIRE §1).

Requests are signed here the way clients sign them (hmac + base64, as ccxt does; RSA and
Ed25519 with `cryptography`; one test lets ccxt itself sign). The key directory and the
observer are small real implementations of the verifier's protocols, not mocks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from sealbook.clock import ManualClock
from sealbook.errors import (
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
from sealbook.keys.format import new_api_key, new_hmac_secret
from sealbook.keys.model import DAY_MS, ApiKeyRecord, LiveKey, secret_context
from sealbook.keys.permissions import NEED_TEXT, Permission, parse_permissions
from sealbook.keys.schemes import HmacScheme, KeyType
from sealbook.keys.sealing import MasterKey, Sealer
from sealbook.keys.verifier import Principal, Verifier

T0 = 1_800_000_000_000
IP = "203.0.113.7"
ASSETS = "/api/v2/spot/account/assets"
FILLS = "/api/v2/spot/trade/fills"
PLACE = "/api/v2/spot/trade/place-order"
PASSPHRASE = "Passphrase123"
ORDER = {"symbol": "BTCUSDT", "orderType": "limit", "price": "30000", "side": "buy"}
COMPACT = json.dumps(ORDER, separators=(",", ":"))
SPACED = json.dumps(ORDER)


# --- real, in-memory implementations of the verifier's collaborators ------------------


class MemoryDirectory:
    """A KeyDirectory over a dict."""

    def __init__(self, sealer: Sealer) -> None:
        self._sealer = sealer
        self._keys: dict[str, LiveKey] = {}

    @property
    def sealer(self) -> Sealer:
        return self._sealer

    def get(self, api_key: str) -> LiveKey | None:
        return self._keys.get(api_key)

    def add(self, record: ApiKeyRecord) -> LiveKey:
        live = LiveKey.open(record, self._sealer)
        self._keys[record.api_key] = live
        return live


@dataclass
class Rejection:
    error: SealbookError
    key_prefix: str
    ip: str
    now_ms: int
    user_id: int | None


@dataclass
class RecordingObserver:
    """An AuthObserver that keeps what it is told."""

    rejections: list[Rejection] = field(default_factory=list)
    uses: list[tuple[int, str, int]] = field(default_factory=list)

    def rejected(
        self, error: SealbookError, key_prefix: str, ip: str, now_ms: int, user_id: int | None
    ) -> None:
        self.rejections.append(Rejection(error, key_prefix, ip, now_ms, user_id))

    def used(self, key_id: int, ip: str, now_ms: int) -> None:
        self.uses.append((key_id, ip, now_ms))


class CountingSealer(Sealer):
    """A real Sealer that counts passphrase digests."""

    def __init__(self, master: MasterKey) -> None:
        super().__init__(master)
        self.digests = 0

    def passphrase_digest(self, api_key: str, passphrase: str) -> bytes:
        self.digests += 1
        return super().passphrase_digest(api_key, passphrase)


# --- what a client holds, and how it signs --------------------------------------------


@dataclass
class Holder:
    api_key: str
    passphrase: str
    signer: Callable[[bytes], bytes]
    key_id: int
    user_id: int


def hmac_signer(secret: str) -> Callable[[bytes], bytes]:
    return lambda message: hmac.new(secret.encode(), message, hashlib.sha256).digest()


@cache
def rsa_key(bits: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def rsa_signer(private: rsa.RSAPrivateKey) -> Callable[[bytes], bytes]:
    """RSASSA-PKCS1-v1_5 with SHA-256, as Bitget's official SDK signs."""
    return lambda message: private.sign(message, padding.PKCS1v15(), hashes.SHA256())


def prehash(ts: str, method: str, path: str, query: str, body: str) -> bytes:
    return (ts + method + path + ("?" + query if query else "") + body).encode()


class Env:
    """Clock, directory, observer and verifier, plus helpers to issue keys and sign."""

    def __init__(self, sealer: Sealer | None = None, **verifier_options: Any) -> None:
        self.clock = ManualClock(T0)
        self.sealer = sealer or Sealer(MasterKey(b"k" * 32))
        self.directory = MemoryDirectory(self.sealer)
        self.observer = RecordingObserver()
        self.verifier = Verifier(self.directory, self.clock, self.observer, **verifier_options)
        self._next_id = 100

    def restart(self, **verifier_options: Any) -> None:
        """A new process: a new verifier over the same keys."""
        self.verifier = Verifier(self.directory, self.clock, self.observer, **verifier_options)

    def issue(
        self,
        *,
        perms: str = "read",
        ips: tuple[str, ...] = (),
        key_type: KeyType = KeyType.HMAC,
        rsa_bits: int = 2048,
        user_id: int = 7,
        secret: str | None = None,
        **extra: Any,
    ) -> Holder:
        self._next_id += 1
        api_key = new_api_key()
        sealed_secret = public_key = None
        signer: Callable[[bytes], bytes]
        if key_type is KeyType.HMAC:
            secret = secret or new_hmac_secret()
            sealed_secret = self.sealer.seal(secret.encode(), secret_context(api_key))
            signer = hmac_signer(secret)
        elif key_type is KeyType.RSA:
            private = rsa_key(rsa_bits)
            public_key = _pem(private.public_key())
            signer = rsa_signer(private)
        else:
            ed = ed25519.Ed25519PrivateKey.generate()
            public_key = _pem(ed.public_key())
            signer = ed.sign
        record = ApiKeyRecord(
            id=self._next_id,
            user_id=user_id,
            api_key=api_key,
            label="test",
            key_type=key_type,
            permissions=parse_permissions([perms]),
            ips=ips,
            created_ms=extra.pop("created_ms", T0),
            unbound_since_ms=extra.pop("unbound_since_ms", T0),
            passphrase_digest=self.sealer.passphrase_digest(api_key, PASSPHRASE),
            sealed_secret=sealed_secret,
            public_key=public_key,
            **extra,
        )
        self.directory.add(record)
        return Holder(api_key, PASSPHRASE, signer, self._next_id, user_id)

    def request(
        self,
        holder: Holder,
        *,
        method: str = "GET",
        path: str = ASSETS,
        query: str = "",
        body: str = "",
        signed_query: str | None = None,
        signed_body: str | None = None,
        ts: int | None = None,
        ip: str = IP,
        need: Permission = Permission.READ,
        **override: Any,
    ) -> dict[str, Any]:
        """The verifier's arguments for a request signed by ``holder``."""
        ts_text = str(self.clock.now_ms() if ts is None else ts)
        message = prehash(
            ts_text,
            method,
            path,
            query if signed_query is None else signed_query,
            body if signed_body is None else signed_body,
        )
        kwargs: dict[str, Any] = {
            "key": holder.api_key.encode(),
            "sign": base64.b64encode(holder.signer(message)),
            "timestamp": ts_text.encode(),
            "passphrase": holder.passphrase.encode(),
            "method": method.encode(),
            "path": path.encode(),
            "query": query.encode(),
            "body": body.encode(),
            "ip": ip,
            "need": need,
        }
        kwargs.update(override)
        return kwargs

    def order(self, holder: Holder, body: str = COMPACT, **options: Any) -> dict[str, Any]:
        """A signed spot order: a state-changing POST that needs spot_trade."""
        return self.request(
            holder, method="POST", path=PLACE, body=body, need=Permission.SPOT_TRADE, **options
        )

    def accept(self, **kwargs: Any) -> Principal:
        uses = len(self.observer.uses)
        principal = self.verifier.verify(**kwargs)
        assert len(self.observer.uses) == uses + 1
        return principal

    def reject(self, expected: type[SealbookError], code: str, **kwargs: Any) -> Rejection:
        """Verify, expect ``expected`` with ``code``; return what the observer was told."""
        before = len(self.observer.rejections)
        uses = len(self.observer.uses)
        with pytest.raises(SealbookError) as caught:
            self.verifier.verify(**kwargs)
        error = caught.value
        assert type(error) is expected, repr(error)
        assert error.code == code
        assert len(self.observer.rejections) == before + 1
        assert len(self.observer.uses) == uses
        seen = self.observer.rejections[-1]
        assert seen.error is error
        assert seen.now_ms == self.clock.now_ms()
        return seen


def _pem(public: rsa.RSAPublicKey | ed25519.Ed25519PublicKey) -> str:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


@pytest.fixture
def env() -> Env:
    return Env()


# --- success -------------------------------------------------------------------------


def test_a_correctly_signed_get_returns_the_principal(env: Env) -> None:
    holder = env.issue(perms="spot_trade", user_id=9)
    principal = env.accept(**env.request(holder, path=FILLS, query="limit=5&symbol=BTCUSDT"))
    assert principal == Principal(
        user_id=9,
        key_id=holder.key_id,
        api_key=holder.api_key,
        permissions=frozenset({Permission.READ, Permission.SPOT_TRADE}),
        ip=IP,
    )
    assert env.observer.uses == [(holder.key_id, IP, T0)]
    assert env.observer.rejections == []


def test_a_correctly_signed_post_with_a_body_is_accepted(env: Env) -> None:
    holder = env.issue(perms="spot_trade")
    kwargs = env.order(holder)
    assert env.accept(**kwargs).key_id == holder.key_id


# --- missing headers -----------------------------------------------------------------


@pytest.mark.parametrize("value", [None, b""])
def test_missing_key_is_40001(env: Env, value: bytes | None) -> None:
    holder = env.issue()
    seen = env.reject(MissingApiKey, "40001", **env.request(holder, key=value))
    assert seen.key_prefix == ""
    assert seen.user_id is None


@pytest.mark.parametrize("value", [None, b""])
def test_missing_signature_is_40002(env: Env, value: bytes | None) -> None:
    env.reject(MissingSignature, "40002", **env.request(env.issue(), sign=value))


@pytest.mark.parametrize("value", [None, b""])
def test_missing_passphrase_is_40011(env: Env, value: bytes | None) -> None:
    env.reject(MissingPassphrase, "40011", **env.request(env.issue(), passphrase=value))


# --- timestamp -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        None,
        b"",
        b"abc",
        b"-1800000000000",
        b"+1800000000000",
        b"1.8e12",
        b"1800000000000.0",
        b" 1800000000000",
        b"1800000000000\n",
        b"0x1A3185C5000",
        "１８００".encode(),
        b"18000000000000000",  # 17 digits
    ],
)
def test_unparsable_timestamp_is_40005(env: Env, value: bytes | None) -> None:
    env.reject(InvalidTimestamp, "40005", **env.request(env.issue(), timestamp=value))


def test_timestamp_within_the_window_is_accepted_at_both_edges(env: Env) -> None:
    holder = env.issue()
    env.accept(**env.request(holder, ts=T0 - 30_000))
    env.accept(**env.request(holder, ts=T0 + 30_000))


def test_timestamp_too_old_is_40008(env: Env) -> None:
    holder = env.issue()
    seen = env.reject(TimestampExpired, "40008", **env.request(holder, ts=T0 - 30_001))
    assert seen.user_id == 7  # the owner is named even before the signature is checked
    env.reject(TimestampExpired, "40008", **env.request(holder, ts=0))


def test_timestamp_too_far_in_the_future_is_40008(env: Env) -> None:
    holder = env.issue()
    env.reject(TimestampExpired, "40008", **env.request(holder, ts=T0 + 30_001))


def test_timestamp_in_seconds_is_40008(env: Env) -> None:
    env.reject(TimestampExpired, "40008", **env.request(env.issue(), ts=T0 // 1000))


def test_the_verifier_window_is_configurable() -> None:
    env = Env(window_ms=10_000)
    holder = env.issue()
    env.accept(**env.request(holder, ts=T0 - 10_000))
    env.reject(TimestampExpired, "40008", **env.request(holder, ts=T0 - 10_001))


def test_a_per_key_window_is_stricter_than_the_default(env: Env) -> None:
    strict = env.issue(window_ms=5_000)
    lenient = env.issue()
    env.accept(**env.request(strict, ts=T0 - 5_000))
    env.reject(TimestampExpired, "40008", **env.request(strict, ts=T0 - 5_001))
    env.reject(TimestampExpired, "40008", **env.request(strict, ts=T0 + 5_001))
    env.accept(**env.request(lenient, ts=T0 - 5_001))


def test_a_timestamp_from_a_moving_clock_is_judged_at_verification_time(env: Env) -> None:
    holder = env.issue()
    kwargs = env.request(holder)
    env.clock.advance(31)
    env.reject(TimestampExpired, "40008", **kwargs)


# --- the key -------------------------------------------------------------------------


def _malformed_variants(key: str) -> list[bytes]:
    flipped = key[:20] + ("A" if key[20] != "A" else "B") + key[21:]
    return [
        b"bg_0123456789abcdef0123456789abcdef",  # sealbook-scan: ignore
        flipped.encode(),
        key[:-1].encode(),
        (key + "0").encode(),
        ("sbx_" + key[4:]).encode(),
        key.upper().encode(),
        b"sbk_" + b"0" * 34,
        key.encode()[:-1] + b"\xff",
    ]


def test_malformed_key_is_40006(env: Env) -> None:
    holder = env.issue()
    for bad in _malformed_variants(holder.api_key):
        seen = env.reject(MalformedApiKey, "40006", **env.request(holder, key=bad))
        assert seen.user_id is None
        assert seen.key_prefix == "(malformed)"  # a malformed key may be a pasted secret


def test_malformed_key_wins_over_every_other_failure(env: Env) -> None:
    holder = env.issue()
    kwargs = env.request(holder, key=b"bg_nope", passphrase=b"wrong", sign=b"AAAA")
    env.reject(MalformedApiKey, "40006", **kwargs)


def test_unknown_well_formed_key_is_40037(env: Env) -> None:
    stranger = Holder(new_api_key(), PASSPHRASE, hmac_signer(new_hmac_secret()), 0, 0)
    seen = env.reject(UnknownApiKey, "40037", **env.request(stranger))
    assert seen.user_id is None
    assert seen.key_prefix == stranger.api_key[:10]
    assert seen.error.msg == "Apikey does not exist"


def test_unknown_key_wins_over_wrong_passphrase_and_signature(env: Env) -> None:
    stranger = Holder(new_api_key(), "whatever", hmac_signer("x"), 0, 0)
    env.reject(UnknownApiKey, "40037", **env.request(stranger, sign=b"AAAA"))


def test_revoked_key_is_40037_and_says_why(env: Env) -> None:
    holder = env.issue(revoked_ms=T0 - 1, revoke_reason="leaked")
    seen = env.reject(UnknownApiKey, "40037", **env.request(holder))
    assert "revoked" in seen.error.msg
    assert seen.user_id == 7


def test_expired_key_is_40037(env: Env) -> None:
    holder = env.issue(expires_ms=T0)
    seen = env.reject(UnknownApiKey, "40037", **env.request(holder))
    assert "expired" in seen.error.msg


def test_rotated_key_works_during_its_grace_period_and_is_40037_after(env: Env) -> None:
    holder = env.issue(dies_ms=T0 + 60_000, rotated_to=new_api_key())
    env.accept(**env.request(holder))
    env.clock.advance(60)
    env.reject(UnknownApiKey, "40037", **env.request(holder))


def test_revoked_key_with_a_bad_signature_does_not_learn_the_reason(env: Env) -> None:
    holder = env.issue(revoked_ms=T0 - 1, revoke_reason="leaked")
    seen = env.reject(BadSignature, "40009", **env.request(holder, signed_body="x"))
    assert "leaked" not in seen.error.msg


# --- passphrase and signature --------------------------------------------------------


@pytest.mark.parametrize(
    "passphrase",
    [b"Passphrase124", b"passphrase123", b"Passphrase123 ", b"P\xe4ssphrase123", b"\x00"],
)
def test_wrong_passphrase_is_40012(env: Env, passphrase: bytes) -> None:
    holder = env.issue()
    seen = env.reject(WrongPassphrase, "40012", **env.request(holder, passphrase=passphrase))
    assert seen.user_id == 7


def test_wrong_passphrase_is_refused_after_the_right_one_was_remembered(env: Env) -> None:
    holder = env.issue()
    env.accept(**env.request(holder))
    env.reject(WrongPassphrase, "40012", **env.request(holder, passphrase=b"Passphrase124"))
    env.accept(**env.request(holder))


def test_wrong_passphrase_wins_over_a_bad_signature(env: Env) -> None:
    holder = env.issue()
    kwargs = env.request(holder, passphrase=b"nope", signed_body="x")
    env.reject(WrongPassphrase, "40012", **kwargs)


def test_signature_with_the_wrong_secret_is_40009(env: Env) -> None:
    holder = env.issue()
    impostor = Holder(holder.api_key, PASSPHRASE, hmac_signer(new_hmac_secret()), 0, 0)
    seen = env.reject(BadSignature, "40009", **env.request(impostor))
    assert seen.user_id == 7


def test_signature_over_another_body_is_40009(env: Env) -> None:
    holder = env.issue(perms="spot_trade")
    kwargs = env.order(holder, signed_body=COMPACT.replace("30000", "3000"))
    env.reject(BadSignature, "40009", **kwargs)


def test_signature_over_another_method_or_path_is_40009(env: Env) -> None:
    holder = env.issue()
    kwargs = env.request(holder, path=FILLS)
    env.reject(BadSignature, "40009", **{**kwargs, "path": ASSETS.encode()})
    env.reject(BadSignature, "40009", **{**kwargs, "method": b"DELETE"})


def test_changed_query_order_is_40009(env: Env) -> None:
    holder = env.issue()
    kwargs = env.request(
        holder, path=FILLS, query="symbol=BTCUSDT&limit=5", signed_query="limit=5&symbol=BTCUSDT"
    )
    env.reject(BadSignature, "40009", **kwargs)


def test_signature_over_a_bare_question_mark_is_40009(env: Env) -> None:
    holder = env.issue()
    ts = str(T0)
    sign = base64.b64encode(holder.signer(f"{ts}GET{ASSETS}?".encode()))
    env.reject(BadSignature, "40009", **env.request(holder, sign=sign))


@pytest.mark.parametrize("sign", [b"not base64!", b"abc", b"\xff\xfe", b"QUJD\n"])
def test_undecodable_signature_is_40009(env: Env, sign: bytes) -> None:
    env.reject(BadSignature, "40009", **env.request(env.issue(), sign=sign))


def test_timestamp_header_must_match_the_signed_one(env: Env) -> None:
    holder = env.issue()
    kwargs = env.request(holder)
    env.reject(BadSignature, "40009", **{**kwargs, "timestamp": str(T0 + 1).encode()})


# --- how clients build the prehash ---------------------------------------------------


def test_ccxt_style_encoded_query_signed_decoded_is_accepted(env: Env) -> None:
    holder = env.issue()
    # ccxt: sorted keys, %20 for a space, %24 turned back into "$" in the URL; decoded signed.
    kwargs = env.request(
        holder,
        path=FILLS,
        query="note=a%20b%2Fc&symbol=$AIUSDT",
        signed_query="note=a b/c&symbol=$AIUSDT",
    )
    env.accept(**kwargs)


def test_query_signed_exactly_as_sent_is_accepted(env: Env) -> None:
    holder = env.issue()
    env.accept(**env.request(holder, path=FILLS, query="symbol=BTC%2FUSDT&limit=5"))
    env.accept(**env.request(holder, path=FILLS, query="symbol=BTCUSDT&limit=5"))
    env.accept(**env.request(holder, path=FILLS, query="coin=%E5%B8%81", signed_query="coin=币"))


def test_requests_signed_by_ccxt_itself_are_accepted(env: Env) -> None:
    ccxt = pytest.importorskip("ccxt")
    secret = new_hmac_secret()
    holder = env.issue(perms="spot_trade", secret=secret)
    exchange = ccxt.bitget({"apiKey": holder.api_key, "secret": secret, "password": PASSPHRASE})
    exchange.nonce = lambda: T0
    cases = [
        ("v2/spot/trade/fills", "GET", {"symbol": "$AIUSDT", "limit": 5, "note": "a b/c"}),
        ("v2/spot/account/assets", "GET", {}),
        ("v2/spot/trade/place-order", "POST", {**ORDER, "size": "0.001"}),
    ]
    for path, method, params in cases:
        signed = exchange.sign(path, ["private", "spot"], method, params)
        url = urlsplit(signed["url"])
        headers = signed["headers"]
        principal = env.verifier.verify(
            key=headers["ACCESS-KEY"].encode(),
            sign=headers["ACCESS-SIGN"].encode(),
            timestamp=headers["ACCESS-TIMESTAMP"].encode(),
            passphrase=headers["ACCESS-PASSPHRASE"].encode(),
            method=method.encode(),
            path=url.path.encode(),
            query=url.query.encode(),
            body=(signed["body"] or "").encode(),
            ip=IP,
            need=Permission.SPOT_TRADE if method == "POST" else Permission.READ,
        )
        assert principal.key_id == holder.key_id, path
    assert env.observer.rejections == []


def test_compact_and_spaced_json_bodies_both_verify(env: Env) -> None:
    holder = env.issue(perms="spot_trade")
    for body in (COMPACT, SPACED):
        env.accept(**env.order(holder, body))


def test_body_is_not_reserialised(env: Env) -> None:
    holder = env.issue(perms="spot_trade")
    kwargs = env.order(holder, SPACED, signed_body=COMPACT)
    env.reject(BadSignature, "40009", **kwargs)


# --- key types -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key_type", "bits"), [(KeyType.RSA, 2048), (KeyType.RSA, 4096), (KeyType.ED25519, 0)]
)
def test_rsa_and_ed25519_keys_verify(env: Env, key_type: KeyType, bits: int) -> None:
    holder = env.issue(key_type=key_type, rsa_bits=bits, perms="spot_trade")
    env.accept(**env.request(holder, path=FILLS, query="limit=5&symbol=BTCUSDT"))
    env.accept(**env.order(holder))
    kwargs = env.order(holder, SPACED, signed_body=COMPACT)
    env.reject(BadSignature, "40009", **kwargs)
    env.reject(WrongPassphrase, "40012", **env.request(holder, passphrase=b"nope"))


def test_an_hmac_signature_does_not_pass_for_an_rsa_key(env: Env) -> None:
    holder = env.issue(key_type=KeyType.RSA)
    forged = Holder(holder.api_key, PASSPHRASE, hmac_signer("guess"), 0, 0)
    env.reject(BadSignature, "40009", **env.request(forged))


# --- IP allowlist --------------------------------------------------------------------


def test_request_from_an_address_outside_the_allowlist_is_40018_naming_the_ip(env: Env) -> None:
    holder = env.issue(ips=("198.51.100.0/24", "2001:db8::1"))
    seen = env.reject(IpNotAllowed, "40018", **env.request(holder, ip=IP))
    assert IP in seen.error.msg
    assert seen.ip == IP
    assert seen.user_id == 7


def test_request_from_an_allowed_address_is_accepted(env: Env) -> None:
    holder = env.issue(ips=("198.51.100.0/24", "2001:db8::1"))
    for ip in ("198.51.100.1", "198.51.100.255", "::ffff:198.51.100.9", "2001:db8::1"):
        assert env.accept(**env.request(holder, ip=ip)).ip == ip


def test_ip_is_checked_only_after_the_signature(env: Env) -> None:
    holder = env.issue(ips=("198.51.100.1",))
    env.reject(BadSignature, "40009", **env.request(holder, signed_body="x"))


# --- permissions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "need", [p for p in Permission if p is not Permission.READ], ids=lambda p: p.value
)
def test_missing_permission_is_40014_naming_it(env: Env, need: Permission) -> None:
    holder = env.issue(perms="read", ips=("203.0.113.0/24",))
    seen = env.reject(MissingPermission, "40014", **env.request(holder, need=need))
    assert seen.error.msg == f"Incorrect permissions, need {NEED_TEXT[need]} permissions"
    assert seen.user_id == 7


def test_spot_order_without_spot_trade_says_need_spot_order_write(env: Env) -> None:
    holder = env.issue(perms="futures_trade", ips=(IP,))
    kwargs = env.order(holder)
    seen = env.reject(MissingPermission, "40014", **kwargs)
    assert seen.error.msg == "Incorrect permissions, need spot order write permissions"


def test_a_granted_permission_passes(env: Env) -> None:
    holder = env.issue(perms="withdraw", ips=(IP,))
    principal = env.accept(**env.request(holder, need=Permission.WITHDRAW))
    assert Permission.WITHDRAW in principal.permissions


def test_lapsed_key_can_read_but_not_trade() -> None:
    env = Env(lapse_days=90)
    holder = env.issue(perms="spot_trade", unbound_since_ms=T0 - 90 * DAY_MS)
    principal = env.accept(**env.request(holder))
    assert principal.permissions == {Permission.READ}
    kwargs = env.order(holder)
    seen = env.reject(MissingPermission, "40014", **kwargs)
    assert "spot order write" in seen.error.msg


def test_a_key_one_day_short_of_lapsing_can_still_trade() -> None:
    env = Env(lapse_days=90)
    holder = env.issue(perms="spot_trade", unbound_since_ms=T0 - 89 * DAY_MS)
    env.accept(**env.order(holder))


# --- replay --------------------------------------------------------------------------


def test_replayed_post_is_40008_while_a_repeated_get_succeeds(env: Env) -> None:
    holder = env.issue(perms="spot_trade")
    post = env.order(holder)
    env.accept(**post)
    env.clock.advance(1)
    env.reject(ReplayedRequest, "40008", **post)

    get = env.request(holder, path=FILLS, query="limit=5&symbol=BTCUSDT")
    env.accept(**get)
    env.accept(**get)


def test_replay_with_the_signature_spelled_differently_is_still_40008(env: Env) -> None:
    holder = env.issue(perms="spot_trade")
    post = env.order(holder)
    env.accept(**post)
    sign: bytes = post["sign"]
    assert sign.endswith(b"=") and not sign.endswith(b"==")  # 32 bytes: 2 spare bits
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet.index(sign[-2:-1])
    respelled = sign[:-2] + alphabet[last ^ 1 : (last ^ 1) + 1] + b"="
    assert respelled != sign
    assert base64.b64decode(respelled) == base64.b64decode(sign)
    env.reject(ReplayedRequest, "40008", **{**post, "sign": respelled})


def test_two_distinct_posts_in_the_same_millisecond_both_pass(env: Env) -> None:
    holder = env.issue(perms="spot_trade")
    for body in (COMPACT, SPACED):
        env.accept(**env.order(holder, body))


def test_post_signed_before_the_verifier_was_created_is_40008(env: Env) -> None:
    holder = env.issue(perms="spot_trade")
    post = env.order(holder, ts=T0 - 1)
    env.reject(ReplayedRequest, "40008", **post)
    env.accept(**env.request(holder, ts=T0 - 1))  # a GET from then is fine


def test_post_accepted_before_a_restart_cannot_be_replayed_after_it(env: Env) -> None:
    holder = env.issue(perms="spot_trade")
    post = env.order(holder)
    env.accept(**post)
    env.clock.advance(2)
    env.restart()
    env.reject(ReplayedRequest, "40008", **post)


def test_other_state_changing_methods_are_replay_protected(env: Env) -> None:
    holder = env.issue(perms="spot_trade")
    delete = env.request(holder, method="DELETE", path=PLACE, need=Permission.SPOT_TRADE)
    env.accept(**delete)
    env.reject(ReplayedRequest, "40008", **delete)


# --- what the observer hears ---------------------------------------------------------


def test_observer_hears_rejections_with_prefix_ip_and_owner(env: Env) -> None:
    holder = env.issue(user_id=31, ips=("198.51.100.1",))
    env.reject(WrongPassphrase, "40012", **env.request(holder, passphrase=b"x", ip="192.0.2.9"))
    env.reject(IpNotAllowed, "40018", **env.request(holder, ip="192.0.2.10"))
    prefixes = {r.key_prefix for r in env.observer.rejections}
    assert prefixes == {holder.api_key[:10]}
    assert [r.ip for r in env.observer.rejections] == ["192.0.2.9", "192.0.2.10"]
    assert [r.user_id for r in env.observer.rejections] == [31, 31]


def test_observer_never_hears_more_than_the_key_prefix(env: Env) -> None:
    holder = env.issue()
    env.reject(WrongPassphrase, "40012", **env.request(holder, passphrase=b"x"))
    stranger = new_api_key()
    env.reject(UnknownApiKey, "40037", **env.request(holder, key=stranger.encode()))
    for seen in env.observer.rejections:
        assert len(seen.key_prefix) == 10
        assert holder.api_key not in seen.error.msg
        assert stranger not in seen.error.msg
        assert PASSPHRASE not in seen.error.msg


def test_observer_hears_use_on_success_only(env: Env) -> None:
    holder = env.issue()
    env.clock.advance(3)
    env.accept(**env.request(holder, ip="198.51.100.77"))
    assert env.observer.uses == [(holder.key_id, "198.51.100.77", T0 + 3_000)]
    assert env.observer.rejections == []


# --- equal work for known, unknown and malformed keys --------------------------------


@pytest.fixture
def counted_hmac(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Count HmacScheme.verify calls (the real method still runs)."""
    calls = [0]
    real = HmacScheme.verify

    def counting(self: HmacScheme, message: bytes, signature: bytes) -> bool:
        calls[0] += 1
        return real(self, message, signature)

    monkeypatch.setattr(HmacScheme, "verify", counting)
    yield calls


@pytest.mark.parametrize(
    ("query", "sign", "verifications"),
    [
        ("", None, 1),
        ("note=a%20b&symbol=BTCUSDT", None, 2),  # two prehash candidates
        ("", b"not base64!", 1),
    ],
    ids=["plain", "two-candidates", "undecodable-sign"],
)
def test_unknown_and_malformed_keys_cost_the_same_work_as_a_wrong_passphrase(
    counted_hmac: list[int], query: str, sign: bytes | None, verifications: int
) -> None:
    sealer = CountingSealer(MasterKey(b"q" * 32))
    env = Env(sealer=sealer)
    holder = env.issue()
    env.accept(**env.request(holder))  # the right passphrase is now remembered in memory
    # What a prober without the secret sends: a signature that matches nothing.
    prober = Holder(holder.api_key, PASSPHRASE, hmac_signer(new_hmac_secret()), 0, 0)
    wrong_sign = {"sign": sign} if sign is not None else {}
    scenarios: list[tuple[type[SealbookError], str, dict[str, Any]]] = [
        (WrongPassphrase, "40012", {"passphrase": b"Passphrase124"}),
        (UnknownApiKey, "40037", {"key": new_api_key().encode()}),
        (MalformedApiKey, "40006", {"key": b"sbk_" + b"x" * 34}),
        (MalformedApiKey, "40006", {"key": b"\xff" * 7}),
    ]
    for error, code, override in scenarios:
        sealer.digests = 0
        counted_hmac[0] = 0
        env.reject(error, code, **env.request(prober, query=query, **override, **wrong_sign))
        assert sealer.digests == 1, error
        assert counted_hmac[0] == verifications, error
