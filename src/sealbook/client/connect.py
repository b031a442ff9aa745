"""A ccxt exchange object for a credential, pointed at its server.

A Sealbook server (or any host speaking the same wire format) is reached by overwriting
*every* entry of ``exchange.urls["api"]``: an entry left alone would keep pointing at the
real exchange (BITGET_WIRE.md §4.1).
"""

from __future__ import annotations

from typing import Any

import ccxt
import ccxt.async_support as ccxt_async

from sealbook.client.credentials import Credential
from sealbook.client.errors import ClientError

__all__ = ["DEFAULT_TIMEOUT_MS", "connect", "connect_async", "point_at"]

DEFAULT_TIMEOUT_MS = 10_000


def _config(cred: Credential, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiKey": cred.api_key,
        "secret": cred.secret,
        "password": cred.passphrase,
        "timeout": DEFAULT_TIMEOUT_MS,
        "enableRateLimit": True,
        **extra,
    }


def point_at(exchange: Any, url: str) -> None:
    """Send every REST call of ``exchange`` to ``url`` (no trailing slash)."""
    urls = exchange.urls.get("api")
    base = url.rstrip("/")
    if isinstance(urls, dict):
        exchange.urls["api"] = dict.fromkeys(urls, base)
    else:
        exchange.urls["api"] = base


def _klass(module: Any, cred: Credential) -> Any:
    klass = getattr(module, cred.exchange, None)
    if klass is None:
        raise ClientError(f"ccxt has no exchange named {cred.exchange!r}")
    return klass


def connect(cred: Credential, **extra: Any) -> Any:
    """A synchronous ccxt exchange for ``cred``."""
    exchange = _klass(ccxt, cred)(_config(cred, extra))
    if cred.url:
        point_at(exchange, cred.url)
    return exchange


def connect_async(cred: Credential, **extra: Any) -> Any:
    """An asyncio ccxt exchange for ``cred``; the caller closes it (``await ex.close()``)."""
    exchange = _klass(ccxt_async, cred)(_config(cred, extra))
    if cred.url:
        point_at(exchange, cred.url)
    return exchange
