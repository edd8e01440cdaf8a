"""Every table the search document reads carries the triggers that queue its edits."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

# The tables a view reads, found through its rewrite rule's dependencies,
# recursively through any view it reads in turn.
SOURCE_TABLES_SQL = """
WITH RECURSIVE reads (oid) AS (
    SELECT 'catalog_searchdocument'::regclass::oid
    UNION
    SELECT dep.refobjid
    FROM reads
    JOIN pg_rewrite AS rule ON rule.ev_class = reads.oid
    JOIN pg_depend AS dep ON dep.classid = 'pg_rewrite'::regclass AND dep.objid = rule.oid
    WHERE dep.refclassid = 'pg_class'::regclass AND dep.refobjid <> reads.oid
)
SELECT relname FROM reads JOIN pg_class ON pg_class.oid = reads.oid WHERE relkind IN ('r', 'p')
ORDER BY relname
"""

# For each table, the events (bits of pg_trigger.tgtype) covered by statement-level
# AFTER triggers whose function queues search changes.
QUEUED_EVENTS_SQL = """
SELECT
    bool_or(tgtype & 4 > 0) AS on_insert,
    bool_or(tgtype & 16 > 0) AS on_update,
    bool_or(tgtype & 8 > 0) AS on_delete,
    bool_or(tgtype & 32 > 0) AS on_truncate
FROM pg_trigger
JOIN pg_proc ON pg_proc.oid = pg_trigger.tgfoid
WHERE tgrelid = %s::regclass
  AND tgenabled <> 'D'
  AND tgtype & 1 = 0           -- statement level
  AND tgtype & 2 = 0           -- AFTER
  AND pg_proc.prosrc LIKE '%%catalog_search_mark%%'
"""


def source_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(SOURCE_TABLES_SQL)
        return [name for (name,) in cursor.fetchall()]


def queued_events(table: str) -> tuple[bool | None, ...]:
    with connection.cursor() as cursor:
        cursor.execute(QUEUED_EVENTS_SQL, [table])
        return cursor.fetchone()


def test_the_search_document_reads_the_four_source_tables() -> None:
    assert source_tables() == ["catalog_category", "catalog_item", "catalog_itemtag", "catalog_tag"]


def test_every_source_table_queues_every_kind_of_change() -> None:
    missing = {table: events for table in source_tables() if not all(events := queued_events(table))}

    assert missing == {}, f"tables without search triggers (insert, update, delete, truncate): {missing}"


def test_a_forgotten_trigger_is_caught() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'catalog_tag'::regclass AND tgname LIKE %s",
            ["%search_pending_update%"],
        )
        [(name,)] = cursor.fetchall()
        cursor.execute(f'ALTER TABLE catalog_tag DISABLE TRIGGER "{name}"')  # rolled back with the test

    assert queued_events("catalog_tag") == (True, False, True, True)
