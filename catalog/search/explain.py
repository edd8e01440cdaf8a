"""The statement a search runs, with its parameters and its plan, and why each result ranks where it does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from django.db import connection, transaction

from catalog.search.query import (
    SEARCH_SETTINGS,
    Hit,
    document_search,
    parse,
    search_params,
    settings_params,
    statement_for,
)


@dataclass(frozen=True)
class ExplainedSearch:
    # The statement with its parameters in place: paste it into psql.
    sql: str
    plan: str
    hits: list[Hit]


def explain_search(
    *, text: str, page: int = 1, categories: Sequence[str] = (), tags: Sequence[str] = ()
) -> ExplainedSearch:
    """EXPLAIN (ANALYZE, BUFFERS) the search (or browse) statement as the site runs it, and the page it gives.

    As the site runs it: prepared, so that the plan is the one the connection
    caches (query.PLANNING), not one made for the values pasted in.
    """
    params = search_params(parse(text), page=page, categories=categories, tags=tags, sort="relevance")
    statement = statement_for(params)
    hits = document_search(text=text, page=page, categories=categories, tags=tags).hits
    # ANALYZE runs the statement: inside a transaction that is rolled back.
    with transaction.atomic(), connection.cursor() as django_cursor:
        cursor = psycopg.ClientCursor(django_cursor.connection)
        sql = cursor.mogrify(statement.text, params)
        cursor.execute(SEARCH_SETTINGS.text, settings_params(params, timeout="0"))
        cursor.execute(f"PREPARE explained AS {statement.numbered}")
        try:
            with transaction.atomic():  # a savepoint: if EXPLAIN fails, DEALLOCATE still runs
                arguments = cursor.mogrify(", ".join(["%s"] * len(statement.names)), statement.args(params))
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE explained({arguments})")
                plan = "\n".join(line for (line,) in cursor.fetchall())
        finally:
            cursor.execute("DEALLOCATE explained")  # PREPARE outlives the transaction
        transaction.set_rollback(True)
    return ExplainedSearch(sql=sql, plan=plan, hits=hits)
