"""Suite-wide test plumbing: the throwaway PostgreSQL cluster that `make test` starts.

`scripts/pgtest.sh` runs pytest with ``SEALBOOK_TEST_DATABASE_URL_PG`` pointing at a fresh
PostgreSQL 15 cluster and ``SEALBOOK_REQUIRE_POSTGRES=1``. Without the URL, tests that need
PostgreSQL are skipped, unless PostgreSQL is required: then they fail.

Topic fixtures live in ``tests/fixtures/*.py`` and are registered here when present.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

PG_URL_ENV = "SEALBOOK_TEST_DATABASE_URL_PG"
REQUIRE_PG_ENV = "SEALBOOK_REQUIRE_POSTGRES"

# This module is `conftest` or `tests.conftest`, depending on whether tests/ is a package.
_FIXTURES_PACKAGE = ".".join(filter(None, [__name__.rpartition(".")[0], "fixtures"]))
pytest_plugins = [
    f"{_FIXTURES_PACKAGE}.{path.stem}"
    for path in sorted((Path(__file__).parent / "fixtures").glob("*.py"))
    if not path.stem.startswith("_")
]


def _libpq_url(url: str, database: str | None = None) -> str:
    """The SQLAlchemy URL ``url`` as a libpq URL that psycopg accepts."""
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def fresh_pg_database(url: str) -> str:
    """Create a uniquely named database on the cluster behind ``url``; return its URL.

    The database lives as long as the cluster, so a test can use it without cleaning up.
    """
    name = f"sealbook_t_{uuid.uuid4().hex}"
    with psycopg.connect(_libpq_url(url), autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_url() -> str:
    """URL of the throwaway cluster's ``sealbook_test`` database (SQLAlchemy + psycopg)."""
    url = os.environ.get(PG_URL_ENV, "").strip()
    if not url:
        if os.environ.get(REQUIRE_PG_ENV) == "1":
            pytest.fail(
                f"{REQUIRE_PG_ENV}=1 but {PG_URL_ENV} is not set: run the suite with "
                "`make test`, or wrap pytest in scripts/pgtest.sh",
                pytrace=False,
            )
        pytest.skip(f"PostgreSQL not available: {PG_URL_ENV} is not set (use `make test`)")
    try:
        psycopg.connect(_libpq_url(url), connect_timeout=10).close()
    except psycopg.Error as exc:
        pytest.fail(f"cannot connect to {PG_URL_ENV}={url}: {exc}", pytrace=False)
    return url


@pytest.fixture
def fresh_pg_url(pg_url: str) -> str:
    """URL of a new, empty database on the throwaway cluster, for one test."""
    return fresh_pg_database(pg_url)
