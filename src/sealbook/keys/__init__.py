"""The API-key domain: format, sealing, signing schemes, permissions, allowlists,
replay guard, TOTP step-up, the verifier and the audit chain. No HTTP, no I/O."""

from sealbook.keys.allowlist import Allowlist, ProxyPolicy, parse_allowlist
from sealbook.keys.format import is_well_formed, new_api_key
from sealbook.keys.model import ApiKeyRecord, KeyStatus, LiveKey
from sealbook.keys.permissions import Permission, parse_permissions
from sealbook.keys.schemes import KeyType
from sealbook.keys.sealing import MasterKey, Sealer
from sealbook.keys.verifier import Principal, Verifier

__all__ = [
    "Allowlist",
    "ApiKeyRecord",
    "KeyStatus",
    "KeyType",
    "LiveKey",
    "MasterKey",
    "Permission",
    "Principal",
    "ProxyPolicy",
    "Sealer",
    "Verifier",
    "is_well_formed",
    "new_api_key",
    "parse_allowlist",
    "parse_permissions",
]
