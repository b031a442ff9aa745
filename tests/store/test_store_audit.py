"""store.audit: appends serialise on the chain head, even from two threads at once, and
each entry is sealed in the same transaction."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select

from sealbook.keys.audit import GENESIS
from sealbook.keys.sealing import MasterKey
from sealbook.store import audit
from sealbook.store.audit import AuditLog
from sealbook.store.db import make_engine, migrate
from sealbook.store.tables import audit_head, audit_log, audit_seal

PER_THREAD = 200


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def log() -> AuditLog:
    return AuditLog.from_master(MasterKey(os.urandom(32)))


def test_append_links_each_entry_to_the_last(engine: Engine, log: AuditLog) -> None:
    with engine.begin() as conn:
        first = log.append(conn, 1_000, "a.first", user_id=7, ip="192.0.2.1", detail={"x": 1})
        second = log.append(conn, 2_000, "a.second", key_prefix="sbk_ABCDEF")
    assert (first, second) == (1, 2)
    with engine.connect() as conn:
        rows = conn.execute(select(audit_log).order_by(audit_log.c.seq)).all()
        head = conn.execute(select(audit_head)).one()
    assert bytes(rows[0].prev_hash) == GENESIS
    assert bytes(rows[1].prev_hash) == bytes(rows[0].hash)
    assert (head.seq, bytes(head.hash)) == (2, bytes(rows[1].hash))
    assert rows[0].detail == '{"x":1}'
    assert rows[1].detail == "{}"
    assert audit.verify(engine).ok
    with engine.connect() as conn:
        seals = conn.execute(select(audit_seal).order_by(audit_seal.c.seq)).all()
    assert [s.seq for s in seals] == [1, 2]
    assert all(len(s.mac) == 32 for s in seals)


def test_an_append_rolls_back_with_its_transaction(engine: Engine, log: AuditLog) -> None:
    with engine.begin() as conn:
        log.append(conn, 1_000, "kept")

    class Boom(Exception):
        pass

    with pytest.raises(Boom), engine.begin() as conn:
        log.append(conn, 2_000, "lost")
        raise Boom
    with engine.begin() as conn:
        assert log.append(conn, 3_000, "next") == 2
    report = log.verify(engine)
    assert (report.ok, report.checked, report.sealed) == (True, 2, 2)


def test_two_threads_appending_at_once_keep_one_chain(engine: Engine, log: AuditLog) -> None:
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            start.wait()
            for i in range(PER_THREAD):
                with engine.begin() as conn:
                    log.append(
                        conn, 1_800_000_000_000 + i, "test.append", detail={"w": name, "i": i}
                    )
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not any(t.is_alive() for t in threads)
    assert errors == []

    with engine.connect() as conn:
        rows = conn.execute(select(audit_log).order_by(audit_log.c.seq)).all()
        head_seq = conn.execute(select(audit_head.c.seq)).scalar_one()
    assert [r.seq for r in rows] == list(range(1, 2 * PER_THREAD + 1))
    assert head_seq == 2 * PER_THREAD
    by_worker: dict[str, list[int]] = {"a": [], "b": []}
    for row in rows:
        detail = json.loads(row.detail)
        by_worker[detail["w"]].append(detail["i"])
    assert by_worker == {"a": list(range(PER_THREAD)), "b": list(range(PER_THREAD))}

    report = log.verify(engine)
    assert (report.ok, report.checked, report.sealed) == (True, 2 * PER_THREAD, 2 * PER_THREAD)
