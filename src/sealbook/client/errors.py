"""The client toolkit's failures. Every one is a ``ClientError``; none carries a secret.

ClientError                  a tool cannot go on (bad input, unreachable account, …)
 ├── VaultError              the vault cannot be opened or written (wrong password, …)
 │    └── CredentialNotFound no credential of that name
 └── KeyTooPowerful          a key can do more than the tool should be trusted with
"""

from __future__ import annotations

__all__ = ["ClientError", "CredentialNotFound", "KeyTooPowerful", "VaultError"]


class ClientError(Exception):
    """A client tool cannot go on; the message says why and what to do."""


class VaultError(ClientError):
    pass


class CredentialNotFound(VaultError):
    pass


class KeyTooPowerful(ClientError):
    pass
