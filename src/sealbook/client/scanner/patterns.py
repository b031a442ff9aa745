"""What a leaked credential looks like, line by line.

Four detectors:

* a Sealbook key: ``sbk_`` + 28 base62 characters + a 6-character base62 CRC32 of
  ``"sbk_" + body`` (docs: README "The key layer"). The checksum is verified here from the
  documented format, without importing the server's ``sealbook.keys``, so a random string
  of the right shape is not reported (one in 62**6 ≈ 5.7e10 would pass by chance).
* a Bitget key: ``bg_`` + 32 hex characters (the shape Bitget issues; BITGET_WIRE §5.1).
* a ccxt constructor literal: ``'apiKey': '…'`` anywhere; ``secret`` / ``password`` /
  ``privateKey`` literals in a file that mentions ccxt or holds an ``apiKey`` literal.
* an environment assignment (``.env``, shell, CI files): ``BINANCE_API_SECRET=…`` — a name
  naming an exchange (any ccxt id, or Sealbook) and ending like a credential; in a file
  called ``.env*`` or ``*.env`` any ``*_API_KEY`` / ``*_SECRET`` / ``*_PASSPHRASE`` too.

Values that are clearly placeholders (``…``, ``xxx``, ``<your key>``, ``${VAR}``, ``{var}``)
are skipped, and so is a line marked ``# sealbook-scan: ignore`` or ``pragma: allowlist secret``.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache

__all__ = [
    "Match",
    "is_placeholder",
    "is_sealbook_key",
    "mask",
    "scan_line",
    "wants_ccxt_context",
]

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SBK = re.compile(r"(?<![0-9A-Za-z])sbk_[0-9A-Za-z]{34}(?![0-9A-Za-z])")
_BG = re.compile(r"(?<![0-9A-Za-z_])bg_[0-9a-fA-F]{32}(?![0-9A-Za-z])")
_LITERAL = re.compile(
    r"""(?P<q>['"]?)(?P<field>apiKey|secret|password|privateKey)(?P=q)\s*[:=]\s*"""
    r"""(?P<vq>['"])(?P<value>[^'"\s]{6,})(?P=vq)"""
)
_ASSIGN = re.compile(
    r"^\s*(?:export\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>\S.*?)\s*$"
)
_CREDENTIAL_ENDINGS = ("KEY", "SECRET", "PASSPHRASE", "PASSWORD", "TOKEN", "PASSWD")
_DOTENV_ENDINGS = ("API_KEY", "APIKEY", "API_SECRET", "SECRET_KEY", "SECRET", "PASSPHRASE")
_PLACEHOLDER_WORDS = (
    "xxx", "...", "…", "***", "<", ">", "${", "{{", "your", "example", "changeme",
    "placeholder", "redacted", "replace", "dummy", "todo", "os.environ", "getenv",
    "{", "}", "%s",  # templates: f-strings, format strings
)
_FALLBACK_EXCHANGES = (
    "binance", "bitget", "bybit", "coinbase", "kraken", "kucoin", "okx", "gate", "htx",
    "mexc", "bitfinex", "bitstamp", "gemini", "bitmex", "deribit", "cryptocom", "bingx",
)
# A line carrying one of these is not reported (detect-secrets' pragma is honoured too).
IGNORE_MARKERS = ("sealbook-scan: ignore", "pragma: allowlist secret")


@dataclass(frozen=True, slots=True)
class Match:
    """One credential in a line. ``value`` is the raw secret: never print it, use ``masked``."""

    kind: str
    value: str = field(repr=False)
    column: int = 0

    @property
    def masked(self) -> str:
        return mask(self.value)


def _checksum(body: str) -> str:
    value = zlib.crc32(b"sbk_" + body.encode("ascii"))
    digits = []
    for _ in range(6):
        value, digit = divmod(value, 62)
        digits.append(BASE62[digit])
    return "".join(reversed(digits))


def is_sealbook_key(text: str) -> bool:
    """Prefix, length, alphabet and checksum of a Sealbook API key."""
    if _SBK.fullmatch(text) is None:
        return False
    return text[-6:] == _checksum(text[4:32])


def mask(value: str) -> str:
    """A known prefix and two more characters, then the length: enough to find the key in
    a key list, far too little to use it."""
    keep = 2
    for prefix in ("sbk_", "bg_"):
        if value.startswith(prefix):
            keep = len(prefix) + 2
    return f"{value[:keep]}…({len(value)} chars)"


def is_placeholder(value: str) -> bool:
    lowered = value.lower()
    if any(word in lowered for word in _PLACEHOLDER_WORDS) or value.startswith("$"):
        return True
    return len(set(value)) <= 2  # "0000000000", "aaaaaaa"


@cache
def _exchange_words() -> frozenset[str]:
    try:
        import ccxt  # the list of exchange ids; imported only when a scan runs

        names: list[str] = list(ccxt.exchanges)
    except ImportError:  # the scanner still works where ccxt is not installed
        names = list(_FALLBACK_EXCHANGES)
    return frozenset({*(name.lower() for name in names), "sealbook", "sbk"})


def _names_exchange(name: str) -> bool:
    words = _exchange_words()
    return any(token in words for token in name.lower().split("_"))


def wants_ccxt_context(text: str) -> bool:
    """Whether ``secret`` / ``password`` literals in ``text`` are worth reporting."""
    return "ccxt" in text or any(m.group("field") == "apiKey" for m in _LITERAL.finditer(text))


def _literal_value(value: str) -> str | None:
    """The assigned text when it is a literal; None for code (``get_key()``, ``a + b``)."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    value = value.split(" #", 1)[0].strip()  # an unquoted value ends at an inline comment
    return None if any(ch in value for ch in "()[]{}, '\"") else value


def scan_line(line: str, *, ccxt_context: bool = False, dotenv: bool = False) -> Iterator[Match]:
    """Every credential in one line (at most one report per value)."""
    if any(marker in line for marker in IGNORE_MARKERS):
        return
    seen: set[str] = set()

    def fresh(value: str) -> bool:
        if value in seen:
            return False
        seen.add(value)
        return True

    for m in _SBK.finditer(line):
        if is_sealbook_key(m.group()) and fresh(m.group()):
            yield Match("sealbook-api-key", m.group(), m.start())
    for m in _BG.finditer(line):
        if fresh(m.group()):
            yield Match("bitget-api-key", m.group(), m.start())
    for m in _LITERAL.finditer(line):
        value, name = m.group("value"), m.group("field")
        if name != "apiKey" and not ccxt_context:
            continue
        if not is_placeholder(value) and len(value) >= 8 and fresh(value):
            yield Match(f"ccxt-{name}", value, m.start("value"))
    assign = _ASSIGN.match(line)
    if assign is not None:
        name, value = assign.group("name"), _literal_value(assign.group("value")) or ""
        upper = name.upper()
        looks_secret = upper.endswith(_CREDENTIAL_ENDINGS) and _names_exchange(name)
        looks_secret = looks_secret or (dotenv and upper.endswith(_DOTENV_ENDINGS))
        if looks_secret and len(value) >= 6 and not is_placeholder(value) and fresh(value):
            yield Match(f"env-{upper}", value, assign.start("value"))
