"""``python -m sealbook.store.migrations "what changed"``: write the next revision from
the difference between the revisions so far and :mod:`sealbook.store.tables`.

It builds a scratch SQLite database at the newest revision and compares; review what it
wrote (alembic cannot see renames, and data may need moving by hand) before committing.
"""

from __future__ import annotations

import sys
import tempfile

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from sealbook.store import migrations


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].strip():
        print('usage: python -m sealbook.store.migrations "what changed"', file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{tmp}/schema.db")
        try:
            with engine.begin() as conn:
                cfg = migrations.config(conn)
                command.upgrade(cfg, "head")
                count = len(list(ScriptDirectory.from_config(cfg).walk_revisions()))
                command.revision(
                    cfg, message=argv[0].strip(), autogenerate=True, rev_id=f"{count + 1:04d}"
                )
        finally:
            engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
