"""Sealing the audit entries written before seals existed: once per home, never again.

Databases from before seals hold entries without one. The first start with the master
key checks the plain chain, seals those entries and writes ``$home/audit-sealed`` (mode
0600) holding the sequence number sealed up to. From then on an entry without a seal
means its seal was deleted, so nothing is ever sealed after the fact again. The marker
lives beside the master key, outside the database: whoever can only write the database
cannot remove it to get a forged entry sealed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from pathlib import Path

from sqlalchemy import Engine

from sealbook.config import Settings
from sealbook.store.audit import AuditLog

__all__ = ["seal_existing_entries"]

log = logging.getLogger("sealbook.audit")


def seal_existing_entries(settings: Settings, engine: Engine, audit: AuditLog) -> None:
    """Seal the entries from before seals unless this home already did; see the module.

    Raises :class:`~sealbook.store.audit.AuditChainBroken` (sealing nothing) if the plain
    chain does not verify. A marker that cannot be written (a read-only home, with the
    master key from the environment) is logged and skipped: seals are still written on
    every append, and the next start runs this again, which seals only entries older than
    the first sealed one (see :meth:`AuditLog.seal_unsealed`).
    """
    marker = settings.audit_sealed_path
    if marker.exists():
        return
    sealed_to, sealed_now = audit.seal_unsealed(engine)
    if sealed_now:
        log.info("sealed %d audit entries that had no seal (up to entry %d)", sealed_now, sealed_to)
    try:
        _write_marker(marker, sealed_to)
    except OSError as exc:
        log.warning(
            "cannot write %s (%s): audit entries are sealed, but every start will look "
            "for entries from before seals again, and a database whose seals were all "
            "deleted would be sealed afresh; make the home writable",
            marker,
            exc.strerror or type(exc).__name__,
        )


def _write_marker(path: Path, sealed_to: int) -> None:
    """Create ``path`` (0600) atomically; never replace one another process just wrote."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".audit-sealed.")
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, f"{sealed_to}\n".encode())
        os.fsync(fd)
        os.close(fd)
        fd = -1
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        if fd >= 0:
            os.close(fd)
        os.unlink(tmp)
