"""The audit chain: any alteration, removal, reordering or unrecorded append is found."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from sealbook.keys.audit import (
    GENESIS,
    AuditEntry,
    ChainReport,
    canonical_detail,
    entry_hash,
    verify_chain,
)

N = 6


def make_chain(n: int = N, start_prev: bytes = GENESIS) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    prev = start_prev
    for seq in range(1, n + 1):
        fields: dict[str, Any] = {
            "seq": seq,
            "ts_ms": 1_800_000_000_000 + seq * 1_000,
            "kind": "key.create" if seq % 2 else "auth.rejected",
            "user_id": 7 if seq != 3 else None,
            "key_prefix": "sbk_AbCdEf" if seq != 4 else None,
            "ip": "203.0.113.7" if seq != 5 else None,
            "detail": canonical_detail({"seq": seq, "perms": ["read", "spot_trade"]}),
        }
        digest = entry_hash(prev, **fields)
        entries.append(AuditEntry(**fields, prev_hash=prev, hash=digest))
        prev = digest
    return entries


def head_of(entries: list[AuditEntry]) -> tuple[int, bytes]:
    return entries[-1].seq, entries[-1].hash


def rehash(entry: AuditEntry) -> AuditEntry:
    return dataclasses.replace(entry, hash=entry.expected_hash())


def flip(b: bytes) -> bytes:
    return bytes([b[0] ^ 1]) + b[1:]


ALTERATIONS: dict[str, Callable[[Any], Any]] = {
    "seq": lambda v: v + 100,
    "ts_ms": lambda v: v + 1,
    "kind": lambda v: v + "x",
    "user_id": lambda v: 8 if v is None else v + 1,
    "key_prefix": lambda v: "sbk_zzzzzz" if v is None else v[:-1] + "z",
    "ip": lambda v: "198.51.100.1" if v is None else None,
    "detail": lambda v: v.replace("spot_trade", "withdraw"),
    "prev_hash": flip,
    "hash": flip,
}


def test_an_intact_chain_verifies() -> None:
    entries = make_chain()
    report = verify_chain(entries, head_of(entries))
    assert report == ChainReport(ok=True, checked=N, head_hash=entries[-1].hash.hex())
    assert report.as_dict() == {
        "ok": True,
        "checked": N,
        "firstBadSeq": None,
        "reason": "",
        "sealed": 0,
        "sealsChecked": False,
        "headHash": entries[-1].hash.hex(),
    }


def test_an_empty_chain_without_a_head_verifies() -> None:
    assert verify_chain([], None) == ChainReport(ok=True, checked=0)
    assert verify_chain([], (0, GENESIS)).ok


def test_entry_hash_is_sha256_of_prev_hash_and_the_json_content() -> None:
    entry = make_chain(1)[0]
    content = json.dumps(
        [1, entry.ts_ms, entry.kind, entry.user_id, entry.key_prefix, entry.ip, entry.detail],
        separators=(",", ":"),
    )
    assert entry.hash == hashlib.sha256(GENESIS + content.encode()).digest()


def test_canonical_detail_is_sorted_compact_ascii() -> None:
    assert canonical_detail({"b": 1, "a": "é"}) == '{"a":"\\u00e9","b":1}'


@pytest.mark.parametrize("field", sorted(ALTERATIONS))
@pytest.mark.parametrize("position", range(1, N + 1))
def test_altering_any_field_of_any_entry_is_reported_at_that_entry(
    field: str, position: int
) -> None:
    entries = make_chain()
    head = head_of(entries)
    victim = entries[position - 1]
    entries[position - 1] = dataclasses.replace(
        victim, **{field: ALTERATIONS[field](getattr(victim, field))}
    )
    report = verify_chain(entries, head)
    assert not report.ok
    assert report.first_bad_seq == position
    assert report.checked == position - 1
    assert report.reason


@pytest.mark.parametrize("position", range(1, N + 1))
def test_altering_an_entry_and_its_own_hash_is_reported_at_the_next_link(position: int) -> None:
    entries = make_chain()
    head = head_of(entries)
    entries[position - 1] = rehash(dataclasses.replace(entries[position - 1], kind="forged"))
    report = verify_chain(entries, head)
    assert not report.ok
    if position < N:
        assert report.first_bad_seq == position + 1
        assert "link" in report.reason
    else:  # the last entry: only the head can tell
        assert report.first_bad_seq == N
        assert "head" in report.reason


def test_rewriting_the_whole_tail_is_caught_by_the_head() -> None:
    entries = make_chain()
    head = head_of(entries)
    forged = entries[:2]
    for entry in entries[2:]:
        changed = rehash(dataclasses.replace(entry, prev_hash=forged[-1].hash, ip="6.6.6.6"))
        forged.append(changed)
    report = verify_chain(forged, head)
    assert not report.ok
    assert report.first_bad_seq == N
    assert report.checked == N


@pytest.mark.parametrize("position", range(2, N))
def test_removing_an_entry_in_the_middle_is_reported_at_the_gap(position: int) -> None:
    entries = make_chain()
    head = head_of(entries)
    del entries[position - 1]
    report = verify_chain(entries, head)
    assert not report.ok
    assert report.first_bad_seq == position
    assert "missing or out of order" in report.reason


def test_removing_the_first_entry_is_reported_at_one() -> None:
    entries = make_chain()
    report = verify_chain(entries[1:], head_of(entries))
    assert report.first_bad_seq == 1


@pytest.mark.parametrize("first", range(1, N))
def test_swapping_two_entries_is_reported_at_the_first_of_them(first: int) -> None:
    entries = make_chain()
    head = head_of(entries)
    entries[first - 1], entries[first] = entries[first], entries[first - 1]
    report = verify_chain(entries, head)
    assert not report.ok
    assert report.first_bad_seq == first


def test_swapping_two_entries_and_renumbering_them_is_still_caught() -> None:
    entries = make_chain()
    head = head_of(entries)
    a, b = entries[1], entries[2]
    entries[1] = dataclasses.replace(b, seq=2)
    entries[2] = dataclasses.replace(a, seq=3)
    report = verify_chain(entries, head)
    assert not report.ok
    assert report.first_bad_seq == 2


def test_removing_the_last_entry_is_a_head_mismatch() -> None:
    entries = make_chain()
    report = verify_chain(entries[:-1], head_of(entries))
    assert not report.ok
    assert report.first_bad_seq == N
    assert report.checked == N - 1
    assert "removed from the end" in report.reason


def test_removing_every_entry_is_a_head_mismatch() -> None:
    entries = make_chain()
    report = verify_chain([], head_of(entries))
    assert not report.ok
    assert report.first_bad_seq == 1


def test_appending_without_updating_the_head_is_reported_at_the_new_entry() -> None:
    entries = make_chain(N + 1)
    report = verify_chain(entries, head_of(entries[:N]))
    assert not report.ok
    assert report.first_bad_seq == N + 1
    assert "appended" in report.reason


def test_a_head_with_the_right_seq_but_another_hash_is_reported_at_the_last_entry() -> None:
    entries = make_chain()
    report = verify_chain(entries, (N, flip(entries[-1].hash)))
    assert not report.ok
    assert report.first_bad_seq == N


def test_a_missing_head_is_reported_when_there_are_entries() -> None:
    entries = make_chain()
    report = verify_chain(entries, None)
    assert not report.ok
    assert report.first_bad_seq == N
    assert "head is missing" in report.reason


def test_a_chain_not_starting_at_genesis_is_reported_at_one() -> None:
    entries = make_chain(start_prev=b"\x01" * 32)
    report = verify_chain(entries, head_of(entries))
    assert report.first_bad_seq == 1
