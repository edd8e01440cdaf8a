"""The SQL a search runs, captured once and replayed alone: the floor the HTTP path is compared with.

``document_search`` issues several statements (synonyms, spelling, count,
ranked page, snippets, facets). They are recorded with Django's
``execute_wrapper`` and replayed on the same connection in one transaction
(the spelling statement relies on a ``SET LOCAL`` made inside one), rows
fetched, with no ORM, template or HTTP work around them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

Statement = tuple[str, Any]


def capture(run: Callable[[], object]) -> list[Statement]:
    """The statements ``run`` sends to the default database, in order, with their parameters."""
    from django.db import connection

    statements: list[Statement] = []

    def record(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        run()
    return statements


def replay(statements: list[Statement]) -> float:
    """Run the statements as the search did, fetching every row; milliseconds taken."""
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        for sql, params in statements:
            raw.execute(sql, params)
            if raw.description is not None:
                raw.fetchall()
    return (time.perf_counter() - started) * 1000
