"""The scanner's detectors, cross-checked against the server's own key format."""

from __future__ import annotations

import random
import string

import pytest

from sealbook.client.scanner import is_sealbook_key, mask, scan_line, scan_text
from sealbook.keys.format import ALPHABET, is_well_formed, new_api_key


def test_every_key_the_server_makes_is_recognised() -> None:
    for _ in range(2000):
        key = new_api_key()
        assert is_sealbook_key(key)
        (match,) = scan_line(f'key = "{key}"  # leaked')
        assert (match.kind, match.value) == ("sealbook-api-key", key)


def test_random_strings_of_the_same_shape_are_not_reported() -> None:
    rng = random.Random(5)
    hits = 0
    for _ in range(50_000):
        candidate = "sbk_" + "".join(rng.choice(ALPHABET) for _ in range(34))
        assert is_sealbook_key(candidate) == is_well_formed(candidate)
        hits += is_sealbook_key(candidate)
    assert hits == 0  # a false positive has odds of 1 in 62**6 per string


def test_a_single_changed_character_breaks_the_checksum() -> None:
    key = new_api_key()
    for i in range(4, len(key)):
        swapped = "A" if key[i] != "A" else "B"
        assert not is_sealbook_key(key[:i] + swapped + key[i + 1 :])
    assert not list(scan_line(key[:-1]))  # too short
    assert not list(scan_line(key + "x"))  # glued to more text


@pytest.mark.parametrize(
    ("line", "kind", "value"),
    [
        ("ACCESS-KEY: bg_" + "0a1b2c3d" * 4, "bitget-api-key", "bg_" + "0a1b2c3d" * 4),
        (
            "    'apiKey': 'AbCdEf0123456789',",  # sealbook-scan: ignore
            "ccxt-apiKey",
            "AbCdEf0123456789",
        ),
        ('BINANCE_API_SECRET=Zx9Qw8Er7Ty6Ui5Op4', "env-BINANCE_API_SECRET", "Zx9Qw8Er7Ty6Ui5Op4"),
        ('export KRAKEN_PRIVATE_KEY="kq83HJd92kdLzQ"', "env-KRAKEN_PRIVATE_KEY", "kq83HJd92kdLzQ"),
        ("SEALBOOK_CREDS_MAIN_SECRET='f00dbabe1234cafe'", "env-SEALBOOK_CREDS_MAIN_SECRET",
         "f00dbabe1234cafe"),
    ],
)
def test_other_credentials(line: str, kind: str, value: str) -> None:
    (match,) = scan_line(line)
    assert (match.kind, match.value) == (kind, value)


@pytest.mark.parametrize(
    "line",
    [
        "'apiKey': 'YOUR_API_KEY',",
        "'apiKey': '...',",
        "BINANCE_API_SECRET=",
        "BINANCE_API_SECRET=${BINANCE_API_SECRET}",
        "BINANCE_API_SECRET = os.environ['BINANCE_API_SECRET']",
        "BINANCE_API_SECRET = load_secret()",
        "BINANCE_API_SECRET=xxxxxxxxxxxx",
        "DATABASE_PASSWORD=hunter2hunter2",  # names no exchange
        "MY_API_KEY=abcdef123456",  # generic names count in .env files only
        "bg_color = '#ffffff'",
        "sbk_" + "a" * 34,  # right shape, wrong checksum
        "secret = 'not-a-ccxt-file-123'",  # sealbook-scan: ignore
    ],
)
def test_no_false_positives(line: str) -> None:
    assert list(scan_line(line)) == []


def test_ccxt_secret_and_password_count_in_a_ccxt_file() -> None:
    source = (
        "import ccxt\n"
        "ex = ccxt.bitget({\n"
        "    'apiKey': 'bg_" + "12ab" * 8 + "',\n"
        "    'secret': 'S3cr3tValue9876543210',\n"  # sealbook-scan: ignore
        "    'password': 'Passphrase42',\n"  # sealbook-scan: ignore
        "})\n"
    )
    found = [(n, m.kind) for n, m in scan_text(source)]
    assert found == [(3, "bitget-api-key"), (4, "ccxt-secret"), (5, "ccxt-password")]


def test_templates_and_marked_lines_are_not_reported() -> None:
    assert list(scan_line("    'apiKey': '{created.api_key}',")) == []
    assert list(scan_line("'apiKey': 'AbCdEf0123456789',  # sealbook-scan: ignore")) == []
    assert list(scan_line(new_api_key() + "  # pragma: allowlist secret")) == []


def test_generic_names_count_in_dotenv_files() -> None:
    text = "MY_API_KEY=abcdef123456\nDEBUG=1\nSECRET=Qwerty1234567\n"
    assert [n for n, _ in scan_text(text, dotenv=True)] == [1, 3]
    assert list(scan_text(text)) == []


def test_mask_shows_a_prefix_and_the_length_only() -> None:
    key = new_api_key()
    assert mask(key) == f"{key[:6]}…(38 chars)"
    assert mask("bg_" + "0" * 32) == "bg_00…(35 chars)"
    secret = "".join(random.Random(1).choice(string.ascii_letters) for _ in range(40))
    assert mask(secret) == f"{secret[:2]}…(40 chars)"
