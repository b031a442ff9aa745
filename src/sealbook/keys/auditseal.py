"""Seals on the audit chain: an HMAC per entry under a key derived from the master key.

The SHA-256 chain (:mod:`sealbook.keys.audit`) needs no key, so anyone who can write the
database can change an entry and recompute every later hash and the head. A seal is
HMAC-SHA256 over the entry's sequence number and its hash, under
``master.derive("audit-seal")``: recomputing the chain does not recompute the seals, so a
rewritten entry no longer matches its seal unless the forger also holds the master key.

Seals cannot catch the whole database being put back to an earlier copy (every old
entry and its old seal are genuine), nor anyone who holds the master key.

Pure: computing and checking seals, and folding the checks into a walk of the chain.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Iterable, Iterator

from sealbook.keys.audit import AuditEntry, ChainReport, verify_chain
from sealbook.keys.sealing import MasterKey

__all__ = [
    "BAD_SEAL",
    "NO_ENTRY",
    "NO_SEAL",
    "SEAL_PURPOSE",
    "SealKey",
    "verify_sealed_chain",
]

SEAL_PURPOSE = "audit-seal"
_DOMAIN = b"sealbook-audit-seal-v1"

BAD_SEAL = "its seal does not match (rewritten without the key?)"
NO_SEAL = "it has no seal"
NO_ENTRY = "it has a seal but no entry"


class SealKey:
    """The audit seal key (32 bytes, derived from the master key). Its repr shows nothing."""

    __slots__ = ("_key",)

    def __init__(self, master: MasterKey) -> None:
        self._key = master.derive(SEAL_PURPOSE)

    def seal(self, seq: int, entry_hash: bytes) -> bytes:
        """HMAC-SHA256 over a domain tag, ``seq`` (8 bytes big-endian) and the entry hash."""
        msg = _DOMAIN + seq.to_bytes(8, "big", signed=False) + entry_hash
        return hmac.digest(self._key, msg, hashlib.sha256)

    def check(self, seq: int, entry_hash: bytes, mac: bytes) -> bool:
        return hmac.compare_digest(self.seal(seq, entry_hash), mac)

    def __repr__(self) -> str:
        return "SealKey(<redacted>)"

    __str__ = __repr__


def verify_sealed_chain(
    rows: Iterable[tuple[AuditEntry, bytes | None]],
    head: tuple[int, bytes] | None,
    key: SealKey,
    orphan_seals: Iterable[int] = (),
    *,
    unsealed_ok: bool = False,
) -> ChainReport:
    """Walk the chain as :func:`verify_chain` does, checking each entry's seal as well.

    ``rows`` are entries in sequence order with their stored seal (None: no seal row);
    ``orphan_seals`` are sequence numbers of seal rows whose entry does not exist. The
    report names the first bad entry, whichever check found it; on a tie the chain's own
    reason wins, being the more specific. ``unsealed_ok``: an entry without a seal is
    not a break (a home whose entries from before seals were never sealed); the seals
    that exist are still checked.
    """
    sealed = 0
    seal_break: tuple[int, str] | None = None

    def checked_entries() -> Iterator[AuditEntry]:
        nonlocal sealed, seal_break
        for entry, mac in rows:
            if seal_break is None:
                if mac is None:
                    if not unsealed_ok:
                        seal_break = (entry.seq, NO_SEAL)
                elif not key.check(entry.seq, entry.hash, mac):
                    seal_break = (entry.seq, BAD_SEAL)
                else:
                    sealed += 1
            yield entry

    plain = verify_chain(checked_entries(), head)
    breaks = [seal_break] if seal_break is not None else []
    breaks += [(seq, NO_ENTRY) for seq in orphan_seals]
    first = min(breaks, default=None)
    if first is not None and (plain.ok or first[0] < (plain.first_bad_seq or 0)):
        seq, reason = first
        # The entries before the first bad one all passed both checks.
        return ChainReport(False, min(plain.checked, seq - 1), seq, reason, sealed, True)
    return dataclasses.replace(plain, sealed=sealed, seals_checked=True)
