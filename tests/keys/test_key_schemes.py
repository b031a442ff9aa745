"""The prehash, and HMAC / RSA / Ed25519 verification over it (BITGET_WIRE.md §1.2, §1.3)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import cache

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from sealbook.errors import ParamInvalid
from sealbook.keys.schemes import (
    Ed25519Scheme,
    HmacScheme,
    KeyType,
    RsaScheme,
    canonical_public_pem,
    decode_signature,
    load_public_key,
    prehash_candidates,
)

SECRET = b"b3b9f0f7c5c1a6e4d2f0e8c6a4b2d0f8e6c4a2b0d8f6e4c2a0b8d6f4e2c0a8b6"
MESSAGE = b"1795311833194GET/api/v2/spot/trade/fills?limit=5&symbol=BTCUSDT"


@cache
def rsa_private(bits: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@cache
def ed25519_private() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def public_pem(
    private: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey,
    fmt: serialization.PublicFormat = serialization.PublicFormat.SubjectPublicKeyInfo,
) -> str:
    return private.public_key().public_bytes(serialization.Encoding.PEM, fmt).decode()


def rsa_sign(private: rsa.RSAPrivateKey, message: bytes) -> bytes:
    return private.sign(message, padding.PKCS1v15(), hashes.SHA256())


# --- the prehash ---------------------------------------------------------------------


def test_prehash_without_query_has_no_question_mark() -> None:
    assert prehash_candidates(b"1", b"GET", b"/api/v2/spot/account/assets", b"", b"") == [
        b"1GET/api/v2/spot/account/assets"
    ]


def test_prehash_appends_the_body_after_path() -> None:
    body = b'{"symbol":"BTCUSDT","side":"buy"}'
    assert prehash_candidates(b"1", b"POST", b"/api/v2/spot/trade/place-order", b"", body) == [
        b"1POST/api/v2/spot/trade/place-order" + body
    ]


def test_prehash_appends_the_body_after_the_query() -> None:
    assert prehash_candidates(b"7", b"POST", b"/p", b"a=1", b"{}") == [b"7POST/p?a=1{}"]


def test_prehash_of_a_plain_query_is_a_single_candidate() -> None:
    assert prehash_candidates(
        b"1795311833194", b"GET", b"/api/v2/spot/trade/fills", b"limit=5&symbol=BTCUSDT", b""
    ) == [MESSAGE]


def test_prehash_tries_the_decoded_query_first_and_the_raw_query_second() -> None:
    candidates = prehash_candidates(
        b"1", b"GET", b"/api/v2/spot/market/tickers", b"note=a%20b&symbol=%24AIUSDT", b""
    )
    assert candidates == [
        b"1GET/api/v2/spot/market/tickers?note=a b&symbol=$AIUSDT",
        b"1GET/api/v2/spot/market/tickers?note=a%20b&symbol=%24AIUSDT",
    ]


def test_prehash_keeps_the_query_order_as_received() -> None:
    [message] = prehash_candidates(b"1", b"GET", b"/p", b"symbol=BTCUSDT&limit=5", b"")
    assert message == b"1GET/p?symbol=BTCUSDT&limit=5"


def test_prehash_decodes_non_ascii_percent_escapes_to_utf8_bytes() -> None:
    first, raw = prehash_candidates(b"1", b"GET", b"/p", b"coin=%E5%B8%81", b"")
    assert first == "1GET/p?coin=币".encode()
    assert raw == b"1GET/p?coin=%E5%B8%81"


# --- HMAC ----------------------------------------------------------------------------


def test_hmac_verifies_the_worked_example_from_the_wire_doc() -> None:
    for message in (
        MESSAGE,
        b'1795311832751POST/api/v2/spot/trade/place-order{"symbol":"BTCUSDT","orderType":'
        b'"limit","price":"30000","force":"GTC","side":"buy","size":"0.001"}',
    ):
        sign_header = base64.b64encode(hmac.new(SECRET, message, hashlib.sha256).digest())
        scheme = HmacScheme(SECRET)
        signature = decode_signature(sign_header)
        assert signature is not None
        assert scheme.verify(message, signature)
        assert scheme.sign(message) == signature


def test_hmac_refuses_a_changed_message_or_another_secret() -> None:
    signature = hmac.digest(SECRET, MESSAGE, hashlib.sha256)
    assert not HmacScheme(SECRET).verify(MESSAGE + b" ", signature)
    assert not HmacScheme(SECRET).verify(MESSAGE.replace(b"limit=5", b"limit=6"), signature)
    assert not HmacScheme(SECRET[:-1] + b"0").verify(MESSAGE, signature)


def test_hmac_refuses_a_truncated_or_empty_signature() -> None:
    signature = hmac.digest(SECRET, MESSAGE, hashlib.sha256)
    assert not HmacScheme(SECRET).verify(MESSAGE, signature[:-1])
    assert not HmacScheme(SECRET).verify(MESSAGE, b"")


def test_hmac_scheme_repr_hides_the_secret() -> None:
    text = repr(HmacScheme(SECRET))
    assert SECRET.decode() not in text
    assert SECRET.hex() not in text


# --- RSA and Ed25519 -----------------------------------------------------------------


@pytest.mark.parametrize("bits", [2048, 4096])
def test_rsa_pkcs1v15_sha256_verifies_the_right_message_only(bits: int) -> None:
    private = rsa_private(bits)
    scheme = load_public_key(KeyType.RSA, public_pem(private))
    assert isinstance(scheme, RsaScheme)
    signature = rsa_sign(private, MESSAGE)
    assert scheme.verify(MESSAGE, signature)
    assert not scheme.verify(MESSAGE + b"x", signature)
    assert not scheme.verify(MESSAGE, signature[:-1] + bytes([signature[-1] ^ 1]))


def test_rsa_refuses_a_pss_signature() -> None:
    private = rsa_private(2048)
    pss = private.sign(
        MESSAGE, padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.MAX_LENGTH), hashes.SHA256()
    )
    assert not load_public_key(KeyType.RSA, public_pem(private)).verify(MESSAGE, pss)


def test_rsa_refuses_a_signature_from_another_key() -> None:
    scheme = load_public_key(KeyType.RSA, public_pem(rsa_private(2048)))
    assert not scheme.verify(MESSAGE, rsa_sign(rsa_private(4096), MESSAGE))


def test_rsa_accepts_pkcs1_pem_and_surrounding_whitespace() -> None:
    private = rsa_private(2048)
    pkcs1 = public_pem(private, serialization.PublicFormat.PKCS1)
    assert pkcs1.startswith("-----BEGIN RSA PUBLIC KEY-----")
    scheme = load_public_key(KeyType.RSA, "\n  " + pkcs1 + "\n\n")
    assert scheme.verify(MESSAGE, rsa_sign(private, MESSAGE))
    assert canonical_public_pem(scheme) == public_pem(private)


def test_ed25519_verifies_the_right_message_only() -> None:
    private = ed25519_private()
    scheme = load_public_key(KeyType.ED25519, public_pem(private))
    assert isinstance(scheme, Ed25519Scheme)
    signature = private.sign(MESSAGE)
    assert scheme.verify(MESSAGE, signature)
    assert not scheme.verify(MESSAGE[:-1], signature)
    assert not scheme.verify(MESSAGE, ed25519.Ed25519PrivateKey.generate().sign(MESSAGE))
    assert not scheme.verify(MESSAGE, signature[:-1])


def test_ed25519_accepts_the_raw_base64_form() -> None:
    private = ed25519_private()
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    scheme = load_public_key(KeyType.ED25519, " " + base64.b64encode(raw).decode() + "\n")
    assert scheme.verify(MESSAGE, private.sign(MESSAGE))
    assert canonical_public_pem(scheme) == public_pem(private)


@pytest.mark.parametrize("bits", [1024, 3072])
def test_load_public_key_rejects_rsa_sizes_other_than_2048_and_4096(bits: int) -> None:
    with pytest.raises(ParamInvalid, match="2048 or 4096") as caught:
        load_public_key(KeyType.RSA, public_pem(rsa_private(bits)))
    assert caught.value.code == "40020"


@pytest.mark.parametrize("key_type", [KeyType.RSA, KeyType.ED25519])
@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n",
        base64.b64encode(b"\x01" * 31).decode(),
        base64.b64encode(b"\x01" * 33).decode(),
        "!!!!",
    ],
)
def test_load_public_key_rejects_garbage(key_type: KeyType, text: str) -> None:
    with pytest.raises(ParamInvalid) as caught:
        load_public_key(key_type, text)
    assert caught.value.code == "40020"


def test_load_public_key_rejects_an_ed25519_key_given_as_rsa() -> None:
    with pytest.raises(ParamInvalid, match="not an RSA public key"):
        load_public_key(KeyType.RSA, public_pem(ed25519_private()))


def test_load_public_key_rejects_an_rsa_key_given_as_ed25519() -> None:
    with pytest.raises(ParamInvalid, match="not an Ed25519 public key"):
        load_public_key(KeyType.ED25519, public_pem(rsa_private(2048)))


def test_load_public_key_rejects_an_ec_key_for_either_type() -> None:
    pem = public_pem(ec.generate_private_key(ec.SECP256R1()))
    for key_type in (KeyType.RSA, KeyType.ED25519):
        with pytest.raises(ParamInvalid):
            load_public_key(key_type, pem)


def test_load_public_key_rejects_hmac_type() -> None:
    with pytest.raises(ParamInvalid, match="HMAC keys have no public key"):
        load_public_key(KeyType.HMAC, public_pem(rsa_private(2048)))


def test_load_public_key_refuses_a_pasted_private_key_without_echoing_it() -> None:
    private_pem = (
        rsa_private(2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    with pytest.raises(ParamInvalid) as caught:
        load_public_key(KeyType.RSA, private_pem)
    body_line = private_pem.splitlines()[1]
    assert body_line not in str(caught.value)
    assert body_line not in repr(caught.value)


# --- the ACCESS-SIGN header ----------------------------------------------------------


def test_decode_signature_returns_the_bytes_of_valid_base64() -> None:
    digest = hmac.digest(SECRET, MESSAGE, hashlib.sha256)
    assert decode_signature(base64.b64encode(digest)) == digest
    assert decode_signature(b"") == b""


@pytest.mark.parametrize(
    "sign",
    [b"not base64!", b"abc", b"QUJD\n", b"QU JD", b"QUJD-_==", "é".encode()],
)
def test_decode_signature_rejects_non_base64(sign: bytes) -> None:
    assert decode_signature(sign) is None
