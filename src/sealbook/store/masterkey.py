"""Where the master key comes from: ``SEALBOOK_MASTER_KEY`` or ``$home/master.key``."""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import secrets
import stat
import tempfile
from pathlib import Path

from sealbook.config import Settings
from sealbook.keys.sealing import MasterKey

__all__ = ["MasterKeyMissing", "load_master_key"]


class MasterKeyMissing(RuntimeError):
    """No usable master key: the server must not start."""


def _decode(text: str, where: str) -> MasterKey:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise MasterKeyMissing(f"the master key in {where} is not valid base64") from None
    if len(raw) != 32:
        raise MasterKeyMissing(f"the master key in {where} must decode to 32 bytes")
    return MasterKey(raw)


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".master.")
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, base64.b64encode(secrets.token_bytes(32)) + b"\n")
        os.fsync(fd)
        os.close(fd)
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)  # never replaces a key another process just created
    finally:
        os.unlink(tmp)


def load_master_key(settings: Settings, *, create: bool = False) -> MasterKey:
    if settings.master_key is not None:
        return _decode(settings.master_key.get_secret_value(), "SEALBOOK_MASTER_KEY")
    path = settings.master_key_path
    if not path.exists():
        if not create:
            raise MasterKeyMissing(
                f"no master key: set SEALBOOK_MASTER_KEY (base64 of 32 bytes) or create {path} "
                "(mode 0600); `sealbook serve --demo` creates one for you"
            )
        _create(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise MasterKeyMissing(f"{path} is readable by others (mode {mode:o}); chmod 600 it")
    return _decode(path.read_text(), str(path))
