"""The schema's history, as alembic revisions in ``versions/``.

:func:`sealbook.store.db.migrate` runs them on every start. To change the schema: edit
:mod:`sealbook.store.tables`, then ``python -m sealbook.store.migrations "what changed"``
writes the next revision from the difference; review it, and ``make test`` checks that
the revisions build exactly the tables the code declares.
"""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from sqlalchemy.engine import Connection

__all__ = ["LOCATION", "config"]

LOCATION = Path(__file__).parent


def config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(LOCATION))
    cfg.set_main_option("file_template", "r%%(rev)s_%%(slug)s")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg
