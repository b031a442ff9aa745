"""The audit chain: each entry stores the SHA-256 of the previous entry and of its own
content, so altering, removing or reordering any entry breaks every hash after it.

Pure: hashing and checking. The store appends entries inside the transaction of the
event they record, and keeps a head (last sequence number and hash) so truncating the
tail is caught too.

The chain needs no key, so anyone with the database can check it, and anyone who can
write the database can also rewrite an entry and recompute every hash after it. Each
entry is therefore also sealed with a keyed MAC (:mod:`sealbook.keys.auditseal`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ANCHOR_DIFFERS",
    "ANCHOR_MISSING",
    "GENESIS",
    "AuditEntry",
    "ChainReport",
    "canonical_detail",
    "check_anchor",
    "entry_hash",
    "parse_anchor",
    "verify_chain",
]

GENESIS = b"\x00" * 32


def canonical_detail(detail: Mapping[str, Any]) -> str:
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def entry_hash(
    prev_hash: bytes,
    seq: int,
    ts_ms: int,
    kind: str,
    user_id: int | None,
    key_prefix: str | None,
    ip: str | None,
    detail: str,
) -> bytes:
    content = json.dumps(
        [seq, ts_ms, kind, user_id, key_prefix, ip, detail],
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(prev_hash + content.encode()).digest()


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    ts_ms: int
    kind: str
    user_id: int | None
    key_prefix: str | None
    ip: str | None
    detail: str
    prev_hash: bytes = field(repr=False)
    hash: bytes = field(repr=False)

    def expected_hash(self) -> bytes:
        return entry_hash(
            self.prev_hash,
            self.seq,
            self.ts_ms,
            self.kind,
            self.user_id,
            self.key_prefix,
            self.ip,
            self.detail,
        )


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""
    # Entries whose seal was checked and found right; 0 when seals were not checked.
    sealed: int = 0
    seals_checked: bool = False
    # The last entry's hash (hex) when the chain is intact: with ``checked`` (its seq), an
    # anchor to keep elsewhere and check later (:func:`check_anchor`).
    head_hash: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "firstBadSeq": self.first_bad_seq,
            "reason": self.reason,
            "sealed": self.sealed,
            "sealsChecked": self.seals_checked,
            "headHash": self.head_hash,
        }


def verify_chain(entries: Iterable[AuditEntry], head: tuple[int, bytes] | None) -> ChainReport:
    """Walk entries in sequence order; ``head`` is the stored (last seq, last hash)."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    for entry in entries:
        if entry.seq != expected_seq:
            return ChainReport(
                False,
                checked,
                expected_seq,
                f"entry {expected_seq} is missing or out of order (found {entry.seq})",
            )
        if entry.prev_hash != prev:
            return ChainReport(
                False, checked, entry.seq, "its link to the previous entry is broken"
            )
        if entry.expected_hash() != entry.hash:
            return ChainReport(False, checked, entry.seq, "its content does not match its hash")
        prev = entry.hash
        expected_seq += 1
        checked += 1
    last_seq = expected_seq - 1
    if head is None:
        if checked:
            return ChainReport(False, checked, last_seq, "the chain head is missing")
        return ChainReport(True, 0)
    head_seq, head_hash = head
    if head_seq != last_seq:
        if head_seq > last_seq:
            return ChainReport(
                False,
                checked,
                last_seq + 1,
                f"entries {last_seq + 1}..{head_seq} were removed from the end",
            )
        return ChainReport(
            False, checked, head_seq + 1, "entries were appended without updating the head"
        )
    if head_hash != prev:
        return ChainReport(False, checked, last_seq, "the last entry does not match the chain head")
    return ChainReport(True, checked, head_hash=prev.hex() if checked else "")


ANCHOR_MISSING = "it is missing: the log is shorter than an anchor you kept (rolled back?)"
ANCHOR_DIFFERS = "it does not match an anchor you kept (the log was rolled back or rewritten)"


def parse_anchor(text: str) -> tuple[int, bytes]:
    """``"SEQ:HEX"`` (an entry's seq and hash, as ``verify --json`` reports the last one)."""
    seq_text, sep, hex_text = text.strip().partition(":")
    try:
        seq, digest = int(seq_text), bytes.fromhex(hex_text)
    except ValueError:
        seq, digest = 0, b""
    if not sep or seq < 1 or len(digest) != len(GENESIS):
        raise ValueError(f"an anchor is SEQ:HASH (64 hex digits), not {text!r}")
    return seq, digest


def check_anchor(
    report: ChainReport, seq: int, expected: bytes, found: bytes | None
) -> ChainReport:
    """An intact chain must still hold entry ``seq`` with the hash recorded earlier:
    otherwise it was put back to an older copy (and perhaps grew again since) or rewritten
    whole. ``found`` is that entry's stored hash (None: no such entry)."""
    if not report.ok:
        return report
    if found is None:
        return ChainReport(False, report.checked, seq, ANCHOR_MISSING, report.sealed,
                           report.seals_checked)
    if not hmac.compare_digest(found, expected):
        return ChainReport(False, report.checked, seq, ANCHOR_DIFFERS, report.sealed,
                           report.seals_checked)
    return report
