"""The API key string: ``sbk_`` + 28 base62 characters + a 6-character base62 CRC32."""

from __future__ import annotations

import math
import random
import string
import zlib

from hypothesis import given, settings
from hypothesis import strategies as st

from sealbook.keys.format import (
    ALPHABET,
    KEY_PATTERN,
    KEY_PREFIX,
    display_prefix,
    elide,
    is_well_formed,
    new_api_key,
    new_hmac_secret,
)

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
BODY_LEN = 28
CHECK_LEN = 6


def oracle_checksum(body: str) -> str:
    """The checksum computed independently: CRC32 of prefix + body, 6 base62 digits."""
    value = zlib.crc32(("sbk_" + body).encode("ascii"))
    digits = []
    for _ in range(CHECK_LEN):
        value, rem = divmod(value, 62)
        digits.append(BASE62[rem])
    assert value == 0  # 62**6 > 2**32: the checksum never wraps
    return "".join(reversed(digits))


base62_text = st.text(alphabet=BASE62, min_size=BODY_LEN, max_size=BODY_LEN)
base62_check = st.text(alphabet=BASE62, min_size=CHECK_LEN, max_size=CHECK_LEN)


def test_alphabet_is_base62_in_ascii_order() -> None:
    assert ALPHABET == BASE62
    assert KEY_PREFIX == "sbk_"


def test_new_key_has_prefix_body_and_checksum() -> None:
    for _ in range(200):
        key = new_api_key()
        assert len(key) == 4 + BODY_LEN + CHECK_LEN == 38
        assert key.startswith("sbk_")
        body, check = key[4:32], key[32:]
        assert set(body) <= set(BASE62)
        assert check == oracle_checksum(body)
        assert is_well_formed(key)


def test_new_key_body_carries_at_least_160_bits() -> None:
    assert BODY_LEN * math.log2(len(ALPHABET)) >= 160


def test_new_keys_are_distinct_and_use_the_whole_alphabet() -> None:
    keys = {new_api_key() for _ in range(500)}
    assert len(keys) == 500
    seen = set("".join(k[4:32] for k in keys))
    assert seen == set(BASE62)  # 14,000 draws: every character appears


def test_any_single_character_change_is_not_well_formed() -> None:
    key = new_api_key()
    for i, original in enumerate(key):
        for replacement in BASE62 + "_-sbk":
            if replacement == original:
                continue
            changed = key[:i] + replacement + key[i + 1 :]
            assert not is_well_formed(changed), (i, replacement)


def test_non_base62_character_anywhere_is_not_well_formed() -> None:
    key = new_api_key()
    for i in range(4, len(key)):
        for bad in ("-", "_", " ", "+", "/", "=", "é", "\x00", "０"):
            assert not is_well_formed(key[:i] + bad + key[i + 1 :])


def test_truncated_or_extended_key_is_not_well_formed() -> None:
    key = new_api_key()
    for n in range(len(key)):
        assert not is_well_formed(key[:n])  # tail cut off
        assert not is_well_formed(key[n + 1 :])  # head cut off
    assert not is_well_formed(key + "0")
    assert not is_well_formed(key + " ")
    assert not is_well_formed(" " + key)


def test_wrong_prefix_is_not_well_formed_even_with_a_matching_checksum() -> None:
    body = new_api_key()[4:32]
    for prefix in ("sbx_", "SBK_", "bg__", "sbk-", "xbk_"):
        crc = zlib.crc32((prefix + body).encode())
        check = ""
        for _ in range(CHECK_LEN):
            crc, rem = divmod(crc, 62)
            check = BASE62[rem] + check
        assert not is_well_formed(prefix + body + check)
        assert not is_well_formed(prefix + body + oracle_checksum(body))


def test_empty_and_unrelated_strings_are_not_well_formed() -> None:
    for text in ("", "sbk_", "bg_0123456789abcdef", "sbk_" + "0" * 34, new_hmac_secret()):
        assert not is_well_formed(text)


@given(body=base62_text, check=base62_check)
@settings(max_examples=500)
def test_right_shape_is_well_formed_exactly_when_the_checksum_matches(
    body: str, check: str
) -> None:
    assert is_well_formed("sbk_" + body + check) == (check == oracle_checksum(body))


@given(body=base62_text)
def test_right_shape_with_the_correct_checksum_is_well_formed(body: str) -> None:
    assert is_well_formed("sbk_" + body + oracle_checksum(body))


def test_random_bodies_with_random_checksums_are_rejected() -> None:
    rng = random.Random(20_240_611)
    false_positives = 0
    for _ in range(2_000):
        candidate = "sbk_" + "".join(rng.choice(BASE62) for _ in range(BODY_LEN + CHECK_LEN))
        false_positives += is_well_formed(candidate)
    assert false_positives <= 1


def test_key_pattern_finds_keys_in_text() -> None:
    a, b = new_api_key(), new_api_key()
    text = f'config:\n  apiKey: {a}\n  other="{b}";\nnot a key: sbk_short and sbk_{"x" * 40}'
    assert KEY_PATTERN.findall(text) == [a, b]
    assert KEY_PATTERN.findall(f"ACCESS-KEY:{a}\r\n") == [a]
    assert KEY_PATTERN.search(f"https://host/?key={a}&x=1") is not None


def test_key_pattern_ignores_keys_glued_to_longer_words() -> None:
    key = new_api_key()
    assert KEY_PATTERN.search(key + "Z") is None
    assert KEY_PATTERN.search("x" + key) is None


def test_display_prefix_shows_the_prefix_and_six_body_characters_only() -> None:
    key = new_api_key()
    shown = display_prefix(key)
    assert shown == key[:10]
    assert key[10:32] not in shown
    assert len(shown) - len("sbk_") == 6


def test_elide_shows_six_body_characters_and_the_checksum_only() -> None:
    for _ in range(50):
        key = new_api_key()
        short = elide(key)
        assert short == key[:10] + "…" + key[-6:]
        visible = short.replace("…", "")
        # At most 6 of the 28 random body characters are shown; the checksum adds no secret.
        assert len(visible) == 16
        assert key[10:32] not in short
        assert not is_well_formed(short)


def test_elide_of_a_short_string_shows_four_characters() -> None:
    for text in ("", "abc", "sbk_0123", "0123456789abcdef"):
        short = elide(text)
        assert short == text[:4] + "…"


def test_new_hmac_secret_is_256_bits_of_hex() -> None:
    secrets_ = {new_hmac_secret() for _ in range(100)}
    assert len(secrets_) == 100
    for secret in secrets_:
        assert len(secret) == 64
        assert int(secret, 16) >= 0
        assert not KEY_PATTERN.search(secret)
