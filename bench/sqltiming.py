"""The statement a search runs, replayed alone: the floor the HTTP path is compared with.

``document_search`` sends one statement (``sql/search.sql``), prepared on the
server, and a second one (the planner's estimate) only past ``COUNT_CAP``
matches. ``capture`` builds what it sends from the same functions, ``replay``
runs it the same way, rows fetched, with no ORM, template or HTTP work around it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from catalog.search.query import Statement

# A statement and its parameters, as document_search sends them.
Sent = tuple["Statement", dict[str, Any]]


def capture(**search: Any) -> list[Sent]:
    """The statements ``document_search(**search)`` sends, in order, with their parameters."""
    from django.db import connection

    from catalog.search.query import COUNT_CAP, ESTIMATE, SEARCH, SEARCH_SETTINGS, parse, search_params, settings_params

    options = {key: search[key] for key in ("categories", "tags") if key in search}
    params = search_params(parse(search["text"]), page=search.get("page", 1), sort="relevance", **options)
    statements: list[Sent] = [(SEARCH_SETTINGS, settings_params(params, timeout="0")), (SEARCH, params)]
    with connection.cursor() as cursor:
        cursor.execute(SEARCH.text, params)
        row = cursor.fetchone()
    if row is not None and row[0] >= COUNT_CAP:
        statements.append((ESTIMATE, {**params, "match": row[-1]}))
    return statements


def replay(statements: list[Sent]) -> float:
    """Run the statements as the search does, fetching every row; milliseconds taken."""
    import psycopg
    from django.db import connection, transaction

    from catalog.search.query import SEARCH_SETTINGS

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as django_cursor:
        cursor = psycopg.RawCursor(django_cursor.connection)
        for statement, params in statements:
            cursor.execute(statement.numbered, statement.args(params), prepare=statement is not SEARCH_SETTINGS)
            if cursor.description is not None:
                cursor.fetchall()
    return (time.perf_counter() - started) * 1000
