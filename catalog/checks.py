"""System checks of the database: it can hold the search, and holds the trigger functions of the code.

Tagged "database", so they run before ``migrate`` (and with ``check --database
default``) rather than on every command: pointing DATABASE_URL at the wrong
server fails with a reason before any migration runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, Warning
from django.db import connections

MINIMUM_VERSION = 15
# unaccent: the text-search configurations; fuzzystrmatch: levenshtein() for
# typo corrections; pg_trgm: migration 0001 creates it (the search no longer
# reads trigrams): all three are in PostgreSQL's contrib. vector (pgvector, not
# contrib): the item vectors and their HNSW index (semantic ranking). btree_gin
# (contrib): the category as a key of the search index's GIN indexes (index.py).
REQUIRED_EXTENSIONS = ("pg_trgm", "unaccent", "fuzzystrmatch", "vector", "btree_gin")


def database_errors(*, alias: str, vendor: str, version: int, available: Iterable[str]) -> list[CheckMessage]:
    """What is wrong with one database, given what it reported (``version`` as in ``server_version_num``).

    Django 6.1 itself refuses a server older than 15 as it connects; the
    version is checked here too so that the requirement reads in one place.
    """
    if vendor != "postgresql" or version < MINIMUM_VERSION * 10000:
        found = f"PostgreSQL {version // 10000}" if vendor == "postgresql" else vendor
        return [
            Error(
                f"database {alias!r} is {found}; searchsite needs PostgreSQL {MINIMUM_VERSION} or later",
                hint="Point DATABASE_URL at a PostgreSQL server, or unset it to use the embedded one.",
                id="catalog.E001",
            )
        ]
    missing = [name for name in REQUIRED_EXTENSIONS if name not in set(available)]
    if missing:
        return [
            Error(
                f"database {alias!r} lacks the extension(s) {', '.join(missing)}",
                hint="Install PostgreSQL's contrib modules and pgvector on the server "
                "(packages postgresql-contrib and postgresql-18-pgvector; image pgvector/pgvector).",
                id="catalog.E002",
            )
        ]
    return []


def check_database(
    app_configs: Sequence[AppConfig] | None, databases: Sequence[str] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for alias in databases or ():
        connection = connections[alias]
        if connection.vendor != "postgresql":
            errors += database_errors(alias=alias, vendor=connection.vendor, version=0, available=())
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name FROM pg_available_extensions WHERE name = ANY (%s)", [list(REQUIRED_EXTENSIONS)]
            )
            available = [name for (name,) in cursor.fetchall()]
        errors += database_errors(
            alias=alias,
            vendor=connection.vendor,
            version=connection.pg_version,  # type: ignore[attr-defined]
            available=available,
        )
    return errors


def check_trigger_functions(
    app_configs: Sequence[AppConfig] | None, databases: Sequence[str] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """The edit path's functions in each database are ``sql/mark_pending.sql``'s (none yet: not migrated).

    A warning, not an error, so that ``migrate`` still runs the migration that installs them.
    """
    from catalog.search.triggers import mark_pending_functions  # a models module: not before apps load

    expected = mark_pending_functions()
    warnings: list[CheckMessage] = []
    for alias in databases or ():
        if connections[alias].vendor != "postgresql":
            continue
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT proname, prosrc FROM pg_proc WHERE proname = ANY (%s)", [list(expected)])
            installed = dict(cursor.fetchall())
        differing = sorted(name for name, body in installed.items() if body != expected[name])
        if differing:
            warnings.append(
                Warning(
                    f"database {alias!r}: {', '.join(differing)} differ(s) from catalog/search/sql/mark_pending.sql",
                    hint="Run migrate; if no migration installs the file's version, add one that runs "
                    "RunSQL(catalog.search.triggers.MARK_PENDING_SQL).",
                    id="catalog.W001",
                )
            )
    return warnings
