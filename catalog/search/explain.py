"""The SQL a search runs, and how PostgreSQL runs it."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from catalog.search.query import document_search


@dataclass(frozen=True)
class ExplainedQuery:
    sql: str
    plan: str


def explain_search(*, text: str, page: int = 1) -> list[ExplainedQuery]:
    """Run the search as the site does, then EXPLAIN (ANALYZE, BUFFERS) each query it ran.

    Savepoints and settings are left out: only queries have plans worth reading.
    """
    with CaptureQueriesContext(connection) as captured:
        document_search(text=text, page=page)
    explained = []
    statements = [
        q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith(("SELECT", "WITH"))
    ]
    for sql in statements:
        # ANALYZE executes the statement: keep whatever it might do inside a rolled-back savepoint.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            plan = "\n".join(line for (line,) in cursor.fetchall())
            transaction.set_rollback(True)
        explained.append(ExplainedQuery(sql=sql, plan=plan))
    return explained
