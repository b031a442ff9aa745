"""Audit seals: an HMAC per entry that a database writer without the master key cannot
recompute, checked alongside the plain chain."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sealbook.keys.audit import GENESIS, AuditEntry, canonical_detail
from sealbook.keys.auditseal import (
    BAD_SEAL,
    NO_ENTRY,
    NO_SEAL,
    SealKey,
    verify_sealed_chain,
)
from sealbook.keys.sealing import MasterKey

N = 5
RAW = bytes(range(32))


def chain(n: int = N, *, ip: str = "203.0.113.7", start: int = 1) -> list[AuditEntry]:
    """Entries 1..n; from ``start`` on with ``ip``, hashed as a forger would (public hash)."""
    entries: list[AuditEntry] = []
    prev = GENESIS
    for seq in range(1, n + 1):
        entry = AuditEntry(
            seq=seq,
            ts_ms=1_800_000_000_000 + seq,
            kind="key.created",
            user_id=7,
            key_prefix="sbk_AbCdEf",
            ip=ip if seq >= start else "192.0.2.1",
            detail=canonical_detail({"seq": seq}),
            prev_hash=prev,
            hash=b"",
        )
        digest = entry.expected_hash()  # the public entry_hash, as anyone can compute it
        entries.append(dataclasses.replace(entry, hash=digest))
        prev = digest
    return entries


def sealed_rows(entries: list[AuditEntry], key: SealKey) -> list[tuple[AuditEntry, bytes | None]]:
    return [(e, key.seal(e.seq, e.hash)) for e in entries]


def head(entries: list[AuditEntry]) -> tuple[int, bytes]:
    return entries[-1].seq, entries[-1].hash


@pytest.fixture
def key() -> SealKey:
    return SealKey(MasterKey(RAW))


def test_a_seal_is_hmac_sha256_under_the_audit_seal_subkey(key: SealKey) -> None:
    subkey = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"sealbook/v1", info=b"audit-seal"
    ).derive(RAW)
    digest = hashlib.sha256(b"entry").digest()
    msg = b"sealbook-audit-seal-v1" + (258).to_bytes(8, "big") + digest
    assert key.seal(258, digest) == hmac.digest(subkey, msg, hashlib.sha256)
    assert key.check(258, digest, key.seal(258, digest))


def test_a_seal_binds_the_sequence_number_the_hash_and_the_key(key: SealKey) -> None:
    digest = hashlib.sha256(b"entry").digest()
    mac = key.seal(3, digest)
    assert not key.check(4, digest, mac)
    assert not key.check(3, hashlib.sha256(b"other").digest(), mac)
    assert not SealKey(MasterKey(os.urandom(32))).check(3, digest, mac)
    assert not key.check(3, digest, mac[:-1])


def test_the_key_never_shows(key: SealKey) -> None:
    subkey = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"sealbook/v1", info=b"audit-seal"
    ).derive(RAW)
    for text in (repr(key), str(key), f"{key}"):
        assert text == "SealKey(<redacted>)"
        assert subkey.hex() not in text and RAW.hex() not in text


def test_an_intact_sealed_chain_verifies(key: SealKey) -> None:
    entries = chain()
    report = verify_sealed_chain(sealed_rows(entries, key), head(entries), key)
    assert (report.ok, report.checked, report.sealed, report.seals_checked) == (True, N, N, True)
    assert report.as_dict() == {
        "ok": True,
        "checked": N,
        "firstBadSeq": None,
        "reason": "",
        "sealed": N,
        "sealsChecked": True,
        "headHash": entries[-1].hash.hex(),
    }


def test_an_empty_chain_verifies(key: SealKey) -> None:
    report = verify_sealed_chain([], (0, GENESIS), key)
    assert (report.ok, report.checked, report.sealed) == (True, 0, 0)


@pytest.mark.parametrize("position", range(1, N + 1))
def test_a_rewritten_and_rehashed_chain_passes_plain_but_not_sealed(
    key: SealKey, position: int
) -> None:
    """The forger changes entry ``position`` and recomputes every hash after it and the
    head: the plain chain is fine, the seals are not."""
    genuine = chain(start=N + 1)  # no entry changed
    seals = {e.seq: key.seal(e.seq, e.hash) for e in genuine}
    forged = chain(ip="6.6.6.6", start=position)
    rows = [(e, seals[e.seq]) for e in forged]
    report = verify_sealed_chain(rows, head(forged), key)
    assert not report.ok
    assert (report.first_bad_seq, report.reason) == (position, BAD_SEAL)
    assert (report.checked, report.sealed) == (position - 1, position - 1)


@pytest.mark.parametrize("position", range(1, N + 1))
def test_an_entry_without_a_seal_is_a_break(key: SealKey, position: int) -> None:
    entries = chain()
    rows = sealed_rows(entries, key)
    rows[position - 1] = (entries[position - 1], None)
    report = verify_sealed_chain(rows, head(entries), key)
    assert (report.ok, report.first_bad_seq, report.reason) == (False, position, NO_SEAL)


def test_a_home_never_sealed_tolerates_missing_seals_but_not_wrong_ones(key: SealKey) -> None:
    entries = chain()
    rows: list[tuple[AuditEntry, bytes | None]] = [(e, None) for e in entries]
    report = verify_sealed_chain(rows, head(entries), key, unsealed_ok=True)
    assert (report.ok, report.checked, report.sealed) == (True, N, 0)
    rows[1] = (entries[1], key.seal(2, entries[1].hash))
    rows[3] = (entries[3], key.seal(3, entries[3].hash))  # a seal that is there is checked
    report = verify_sealed_chain(rows, head(entries), key, unsealed_ok=True)
    assert (report.ok, report.first_bad_seq, report.reason) == (False, 4, BAD_SEAL)


def test_a_seal_moved_to_another_entry_is_a_break(key: SealKey) -> None:
    entries = chain()
    rows = sealed_rows(entries, key)
    rows[2] = (entries[2], rows[1][1])
    report = verify_sealed_chain(rows, head(entries), key)
    assert (report.first_bad_seq, report.reason) == (3, BAD_SEAL)


def test_a_seal_without_an_entry_is_a_break(key: SealKey) -> None:
    entries = chain()
    report = verify_sealed_chain(sealed_rows(entries, key), head(entries), key, [N + 3])
    assert (report.ok, report.first_bad_seq, report.reason) == (False, N + 3, NO_ENTRY)
    assert (report.checked, report.sealed) == (N, N)


def test_the_first_bad_entry_wins_whichever_check_found_it(key: SealKey) -> None:
    entries = chain()
    rows = sealed_rows(entries, key)
    # Entry 4's content changed without rehashing (a plain break), entry 2 lost its seal.
    rows[3] = (dataclasses.replace(entries[3], kind="forged"), rows[3][1])
    rows[1] = (entries[1], None)
    report = verify_sealed_chain(rows, head(entries), key)
    assert (report.first_bad_seq, report.reason) == (2, NO_SEAL)

    rows[1] = (entries[1], key.seal(2, entries[1].hash))
    report = verify_sealed_chain(rows, head(entries), key)
    assert (report.first_bad_seq, report.reason) == (4, "its content does not match its hash")
    assert report.seals_checked


def test_on_a_tie_the_plain_reason_is_reported(key: SealKey) -> None:
    entries = chain()
    rows = sealed_rows(entries[:2] + entries[3:], key)  # entry 3 deleted, its seal left
    report = verify_sealed_chain(rows, head(entries), key, [3])
    assert (report.first_bad_seq, report.reason) == (
        3,
        "entry 3 is missing or out of order (found 4)",
    )
