"""The ranking formula, ``sql/search_score.sql``: installed after every migrate.

The function is replaced, not migrated, so that whoever edits the formula runs
``migrate`` and nothing else; ``tests/test_score.py`` checks that the database
holds the file's version.
"""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from catalog.search.index import SQL_DIR

SCORE_SQL = (SQL_DIR / "search_score.sql").read_text()
# Every version of the function: one with other arguments would stay beside the new one.
INSTALLED_SQL = "SELECT oid::regprocedure::text FROM pg_proc WHERE proname = 'catalog_search_score'"


def install_score_function(*, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """A post_migrate receiver: replace the function by the file's, in one transaction."""
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(INSTALLED_SQL)
        for (signature,) in cursor.fetchall():
            cursor.execute(f"DROP FUNCTION {signature}")
        cursor.execute(SCORE_SQL)
