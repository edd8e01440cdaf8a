"""A system check that the database can hold the search: PostgreSQL with the contrib modules it uses.

Tagged "database", so it runs before ``migrate`` (and with ``check --database
default``) rather than on every command: pointing DATABASE_URL at the wrong
server fails with a reason before any migration runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error
from django.db import connections

MINIMUM_VERSION = 15
# unaccent: the text-search configurations; fuzzystrmatch: levenshtein() for
# typo corrections; pg_trgm: migration 0001 creates it (the search no longer
# reads trigrams). All three are in PostgreSQL's contrib.
REQUIRED_EXTENSIONS = ("pg_trgm", "unaccent", "fuzzystrmatch")


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
                hint="Install PostgreSQL's contrib modules on the server (package postgresql-contrib).",
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
