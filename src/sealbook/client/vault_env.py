"""Credentials from environment variables: the read-only source for CI.

``SEALBOOK_CREDS_<NAME>_KEY``, ``_SECRET``, ``_PASSPHRASE`` (optional), ``_EXCHANGE``
(default ``bitget``) and ``_URL`` (optional), with NAME upper-cased and every character
other than a letter or digit turned into ``_``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from sealbook.client.credentials import Credential
from sealbook.client.errors import VaultError

__all__ = ["ENV_PREFIX", "env_credential", "env_names", "env_prefix"]

ENV_PREFIX = "SEALBOOK_CREDS_"
DEFAULT_EXCHANGE = "bitget"
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")
_KEY_VAR = re.compile(r"^SEALBOOK_CREDS_([A-Z0-9_]+)_KEY$")


def env_prefix(name: str) -> str:
    """``alice-main`` → ``SEALBOOK_CREDS_ALICE_MAIN_``."""
    return f"{ENV_PREFIX}{_NOT_ALNUM.sub('_', name).upper()}_"


def env_credential(name: str, environ: Mapping[str, str] | None = None) -> Credential | None:
    """The credential ``name`` from the environment, or None when its ``_KEY`` is unset."""
    env = os.environ if environ is None else environ
    prefix = env_prefix(name)
    api_key = env.get(prefix + "KEY", "").strip()
    if not api_key:
        return None
    secret = env.get(prefix + "SECRET", "")
    if not secret:
        # Name the variable, never a value.
        raise VaultError(f"{prefix}KEY is set but {prefix}SECRET is not")
    exchange = env.get(prefix + "EXCHANGE", "").strip() or DEFAULT_EXCHANGE
    url = env.get(prefix + "URL", "").strip() or None
    passphrase = env.get(prefix + "PASSPHRASE", "")
    return Credential(name, exchange, api_key, secret.strip(), passphrase.strip(), url)


def env_names(environ: Mapping[str, str] | None = None) -> list[str]:
    """The names of every credential the environment carries (lower-cased), sorted."""
    env = os.environ if environ is None else environ
    names = {m.group(1).lower() for var in env if (m := _KEY_VAR.match(var)) and env[var].strip()}
    return sorted(names)
