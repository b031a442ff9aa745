"""ccxt, unchanged, against the real server: authentication, keys and limits end to end.

Every test talks HTTP to ``sealbook serve`` running in another process. Requests that
ccxt cannot make (RSA and Ed25519 keys, clients that sign differently) are signed here
with httpx, following BITGET_WIRE.md §1.2.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import ccxt
import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from fixtures.server import IssuedKey, SealbookServer, ccxt_client
from sealbook.keys.format import new_api_key
from sealbook.keys.schemes import KeyType
from sealbook.markets import default_catalog

pytestmark = pytest.mark.e2e

Signer = Callable[[bytes], bytes]

LOCALHOST = "127.0.0.1"
INFO = "/api/v2/spot/account/info"
ASSETS = "/api/v2/spot/account/assets"
AUDIT_WAIT_S = 10.0


@pytest.fixture(scope="module")
def sealbook_server_env() -> dict[str, str]:
    return {"SEALBOOK_RATE_LIMIT_FACTOR": "1"}


# --- signing by hand --------------------------------------------------------------------


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def hmac_signer(secret: str) -> Signer:
    return lambda message: hmac.digest(secret.encode(), message, hashlib.sha256)


def signed(
    server: SealbookServer,
    api_key: str,
    passphrase: str,
    sign: Signer,
    path: str,
    *,
    method: str = "GET",
    query: str = "",
    body: str = "",
    headers: Mapping[str, str] | None = None,
    timestamp: int | None = None,
) -> httpx.Response:
    """Send one request signed over exactly what is sent: ts + METHOD + path [?query] + body."""
    ts = str(now_ms() if timestamp is None else timestamp)
    target = path + (f"?{query}" if query else "")
    signature = base64.b64encode(sign((ts + method + target + body).encode())).decode()
    auth = {
        "ACCESS-KEY": api_key,
        "ACCESS-SIGN": signature,
        "ACCESS-TIMESTAMP": ts,
        "ACCESS-PASSPHRASE": passphrase,
    }
    return httpx.request(
        method,
        server.base_url + target,
        headers={**auth, **(headers or {})},
        content=body.encode() or None,
        timeout=10,
    )


def signed_hmac(server: SealbookServer, key: IssuedKey, path: str, **kw: Any) -> httpx.Response:
    assert key.secret is not None
    return signed(server, key.api_key, key.passphrase, hmac_signer(key.secret), path, **kw)


def code_of(reply: httpx.Response) -> str:
    return str(reply.json()["code"])


# --- public calls and the classic-account probe -----------------------------------------


def test_fetch_time_is_the_server_clock(sealbook_server: SealbookServer) -> None:
    exchange = ccxt_client(sealbook_server.base_url, "", "", "")

    assert abs(exchange.fetch_time() - now_ms()) < 5_000


def test_load_markets_stays_on_classic_v2(sealbook_server: SealbookServer) -> None:
    key = sealbook_server.issue_key()
    exchange = sealbook_server.client(key)

    assert len(exchange.load_markets()) == len(default_catalog().symbols)
    assert exchange.options["uta"] is False  # the signed v3 probe failed, as it must

    probe = signed_hmac(sealbook_server, key, "/api/v3/account/settings")
    assert probe.status_code == 400
    assert probe.json()["code"] == "40084"
    assert probe.json()["data"] is None


def test_signed_fetch_balance_passes(sealbook_server: SealbookServer) -> None:
    exchange = sealbook_server.client(sealbook_server.issue_key())

    balance = exchange.fetch_balance()

    assert balance["info"] == []
    assert balance["free"] == balance["used"] == balance["total"] == {}


# --- authentication failures, as ccxt classifies them -----------------------------------


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        pytest.param(lambda k: {"secret": "f" * 64}, "40009", id="wrong-secret"),
        pytest.param(
            lambda k: {"password": "Wrong1234pass"},  # sealbook-scan: ignore
            "40012",
            id="wrong-passphrase",
        ),
        pytest.param(lambda k: {"apiKey": new_api_key()}, "40037", id="unknown-key"),
        pytest.param(lambda k: {"apiKey": "bg_" + k.api_key[4:]}, "40006", id="malformed-key"),
    ],
)
def test_bad_credentials_are_authentication_errors(
    sealbook_server: SealbookServer,
    tamper: Callable[[IssuedKey], dict[str, str]],
    code: str,
) -> None:
    key = sealbook_server.issue_key()
    exchange = sealbook_server.client(key)
    for name, value in tamper(key).items():
        setattr(exchange, name, value)

    with pytest.raises(ccxt.AuthenticationError) as caught:
        exchange.fetch_balance()

    assert f'"code":"{code}"' in str(caught.value)


def test_stale_timestamp_is_invalid_nonce(sealbook_server: SealbookServer) -> None:
    exchange = sealbook_server.client(sealbook_server.issue_key())
    exchange.options["timeDifference"] = 60_000  # ccxt signs with now - 60 s

    with pytest.raises(ccxt.InvalidNonce) as caught:
        exchange.fetch_balance()

    assert '"code":"40008"' in str(caught.value)


def test_ip_allowlist_names_the_request_ip(sealbook_server: SealbookServer) -> None:
    exchange = sealbook_server.client(sealbook_server.issue_key(ips=["10.1.2.3"]))

    with pytest.raises(ccxt.PermissionDenied) as caught:
        exchange.fetch_balance()

    assert '"code":"40018"' in str(caught.value)
    assert f"current request ip {LOCALHOST}" in str(caught.value)

    # Headers naming an allowed address prove nothing from a peer that is not a
    # configured proxy (SEALBOOK_TRUSTED_PROXIES), loopback included.
    for header in ("X-Forwarded-For", "X-Real-IP"):
        exchange.headers = {header: "10.1.2.3"}
        with pytest.raises(ccxt.PermissionDenied) as caught:
            exchange.fetch_balance()
        assert f"current request ip {LOCALHOST}" in str(caught.value)
    exchange.headers = {"Forwarded": "for=10.1.2.3"}
    with pytest.raises(ccxt.PermissionDenied):
        exchange.fetch_balance()


# --- key life cycle across processes ----------------------------------------------------


def test_revocation_by_cli_in_another_process_stops_the_next_call(
    sealbook_server: SealbookServer,
) -> None:
    key = sealbook_server.issue_key()
    exchange = sealbook_server.client(key)
    assert exchange.fetch_balance()["total"] == {}

    done = sealbook_server.cli("key", "revoke", key.api_key, "--reason", "leaked in a test")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"revoked {key.api_key}"

    with pytest.raises(ccxt.AuthenticationError) as caught:
        exchange.fetch_balance()
    assert '"code":"40037"' in str(caught.value)


def test_rotation_keeps_both_keys_working_during_the_grace_period(
    sealbook_server: SealbookServer,
) -> None:
    old = sealbook_server.issue_key(perms=["spot_trade"], ips=[LOCALHOST])
    new = sealbook_server.rotate(old)

    assert new.api_key != old.api_key
    assert new.secret != old.secret
    for key in (old, new):
        assert sealbook_server.client(key).fetch_balance()["info"] == []

    shown = sealbook_server.cli("key", "show", old.api_key, "--json")
    assert shown.returncode == 0, shown.stderr
    view = json.loads(shown.stdout)
    assert view["status"] == "rotating"
    assert view["rotatedTo"] == new.api_key


# --- keys ccxt cannot sign for -----------------------------------------------------------


def _rsa_pair() -> tuple[Signer, str, Signer]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def signer(key: rsa.RSAPrivateKey) -> Signer:
        return lambda message: key.sign(message, padding.PKCS1v15(), hashes.SHA256())

    return signer(private), _public_pem(private.public_key()), signer(other)


def _ed25519_pair() -> tuple[Signer, str, Signer]:
    private = ed25519.Ed25519PrivateKey.generate()
    other = ed25519.Ed25519PrivateKey.generate()
    return private.sign, _public_pem(private.public_key()), other.sign


def _public_pem(key: rsa.RSAPublicKey | ed25519.Ed25519PublicKey) -> str:
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode()


@pytest.mark.parametrize(
    ("key_type", "make_pair"),
    [(KeyType.RSA, _rsa_pair), (KeyType.ED25519, _ed25519_pair)],
    ids=["rsa-2048", "ed25519"],
)
def test_public_key_signatures(
    sealbook_server: SealbookServer,
    key_type: KeyType,
    make_pair: Callable[[], tuple[Signer, str, Signer]],
) -> None:
    sign, public_pem, wrong_sign = make_pair()
    key = sealbook_server.issue_key(key_type=key_type, public_key=public_pem)
    assert key.secret is None  # nothing secret is held by the server

    good = signed(sealbook_server, key.api_key, key.passphrase, sign, INFO)
    bad = signed(sealbook_server, key.api_key, key.passphrase, wrong_sign, INFO)

    assert good.status_code == 200
    assert good.json()["code"] == "00000"
    assert good.json()["data"]["authorities"] == ["readonly"]
    assert bad.status_code == 400
    assert code_of(bad) == "40009"


# --- what a key can learn about itself ---------------------------------------------------


@pytest.mark.parametrize(
    ("perms", "authorities"),
    [
        ([], ["readonly"]),
        (["spot_trade"], ["readonly", "spot_trade"]),
        (["futures_trade"], ["readonly", "contract_order", "contract_position"]),
    ],
    ids=["read-only", "spot", "futures"],
)
def test_account_info_reports_user_authorities_and_ips(
    sealbook_server: SealbookServer, perms: list[str], authorities: list[str]
) -> None:
    key = sealbook_server.issue_key(perms=perms, ips=[LOCALHOST, "10.1.2.3"])

    reply = signed_hmac(sealbook_server, key, INFO)

    assert reply.status_code == 200
    data = reply.json()["data"]
    assert data["userId"] == str(key.person.user_id)
    assert data["authorities"] == authorities
    assert data["ips"] == f"{LOCALHOST},10.1.2.3"


# --- throttling --------------------------------------------------------------------------


def test_account_info_is_limited_to_one_call_per_second_per_user(
    sealbook_server: SealbookServer,
) -> None:
    key = sealbook_server.issue_key()
    replies = []
    for _ in range(5):
        replies.append(signed_hmac(sealbook_server, key, INFO))
        if replies[-1].status_code == 429:
            break

    assert replies[0].status_code == 200
    assert replies[0].headers["x-mbx-used-remain-limit"] == "0"
    throttled = replies[-1]
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "429"
    assert throttled.json()["msg"] == "Too many requests"
    assert int(throttled.headers["retry-after"]) >= 1
    assert throttled.headers["x-mbx-used-remain-limit"] == "0"

    # ccxt's own throttle would space the calls out; switched off, it sees the 429.
    exchange = sealbook_server.client(key, enableRateLimit=False)
    with pytest.raises(ccxt.DDoSProtection) as caught:
        for _ in range(5):
            exchange.privateSpotGetV2SpotAccountInfo()
    assert type(caught.value) is ccxt.DDoSProtection  # not its subclass RateLimitExceeded
    assert '"code":"429"' in str(caught.value)


# --- paths that do not exist -------------------------------------------------------------


def test_unknown_path_is_40404(sealbook_server: SealbookServer) -> None:
    for path in ("/api/v2/spot/no-such-endpoint", "/no-such-page"):
        reply = httpx.get(sealbook_server.base_url + path, timeout=10)
        assert reply.status_code == 404
        assert reply.json()["code"] == "40404"
        assert reply.json()["msg"] == "Request URL NOT FOUND"

    exchange = ccxt_client(sealbook_server.base_url, "", "", "")
    with pytest.raises(ccxt.BadRequest) as caught:
        exchange.request("v2/spot/no-such-endpoint", ["public", "spot"], "GET")
    assert '"code":"40404"' in str(caught.value)


# --- clients that sign differently from ccxt (BITGET_WIRE.md §1.2) -----------------------


@pytest.mark.parametrize(
    ("query", "body", "headers"),
    [
        pytest.param(
            "coin=USDT&assetType=all",
            "",
            {"Content-Type": "application/json", "locale": "zh-CN"},
            id="unsorted-query-official-sdk-headers",
        ),
        pytest.param(
            "limit=5&coin=USDT",
            json.dumps({"symbol": "BTCUSDT", "limit": "5"}),
            {"Content-Type": "application/json", "locale": "en-US"},
            id="spaced-json-body",
        ),
        pytest.param("symbol=%24ALTUSDT", "", {}, id="percent-encoded-query-signed-as-sent"),
    ],
)
def test_other_signing_styles_verify(
    sealbook_server: SealbookServer, query: str, body: str, headers: dict[str, str]
) -> None:
    key = sealbook_server.issue_key()

    reply = signed_hmac(sealbook_server, key, ASSETS, query=query, body=body, headers=headers)

    assert reply.status_code == 200
    assert reply.json() == {
        "code": "00000",
        "msg": "success",
        "requestTime": reply.json()["requestTime"],
        "data": [],
    }


# --- runs last: what all the traffic above left behind -----------------------------------


def _encodings(secret: str) -> dict[str, bytes]:
    raw = secret.encode()
    forms = {
        "raw": raw,
        "hex": raw.hex().encode(),
        "HEX": raw.hex().upper().encode(),
        "base64": base64.b64encode(raw).rstrip(b"="),
        "base64url": base64.urlsafe_b64encode(raw).rstrip(b"="),
    }
    try:
        decoded = bytes.fromhex(secret)  # HMAC secrets are hex: also look for their bytes
    except ValueError:
        return forms
    forms["bytes"] = decoded
    forms["bytes-base64"] = base64.b64encode(decoded).rstrip(b"=")
    return forms


def test_secrets_stay_secret_and_rejections_are_audited(
    sealbook_server: SealbookServer,
) -> None:
    server = sealbook_server
    victim = server.issue_key()
    fenced = server.issue_key(ips=["10.1.2.3"])
    unknown = new_api_key()
    malformed = "bg_" + victim.api_key[4:]
    assert victim.secret is not None and fenced.secret is not None
    wrong = hmac_signer("f" * 64)
    good = hmac_signer(victim.secret)
    attempts = {
        (victim.prefix, "40009"): signed(server, victim.api_key, victim.passphrase, wrong, ASSETS),
        (victim.prefix, "40012"): signed(server, victim.api_key, "Wrong1234pass", good, ASSETS),
        (victim.prefix, "40008"): signed(
            server, victim.api_key, victim.passphrase, good, ASSETS, timestamp=now_ms() - 60_000
        ),
        (unknown[:10], "40037"): signed(server, unknown, victim.passphrase, good, ASSETS),
        ("(malformed)", "40006"): signed(server, malformed, victim.passphrase, good, ASSETS),
        (fenced.prefix, "40018"): signed_hmac(server, fenced, ASSETS),
    }
    for (_prefix, code), reply in attempts.items():
        assert (reply.status_code, code_of(reply)) == (400, code)

    # The server writes rejections to the audit chain about once a second.
    deadline = time.monotonic() + AUDIT_WAIT_S
    while True:
        rows = [r for r in server.audit_rows("auth.rejected") if r.key_prefix is not None]
        seen = {(r.key_prefix, json.loads(r.detail)["code"]): r for r in rows}
        if set(attempts) <= set(seen) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert set(attempts) <= set(seen)
    for prefix, code in attempts:
        assert seen[prefix, code].ip == LOCALHOST
    assert seen[victim.prefix, "40009"].user_id == victim.person.user_id
    assert seen[unknown[:10], "40037"].user_id is None

    verified = server.cli("audit", "verify", "--json")
    assert verified.returncode == 0, verified.stdout
    assert json.loads(verified.stdout)["ok"] is True

    files = {path.name: path.read_bytes() for path in server.stored_files()}
    assert {"sealbook.db", "server.log"} <= set(files)
    handed_out = server.handed_out_secrets()  # of every key and person of this module
    assert len(handed_out) >= 8  # at least this test's two keys and two people
    leaks = [
        (index, form, name)
        for index, secret in enumerate(handed_out)
        for form, needle in _encodings(secret).items()
        for name, content in files.items()
        if needle in content
    ]
    assert leaks == []  # (secret number, encoding, file): never the secret itself
