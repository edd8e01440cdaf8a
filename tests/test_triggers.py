"""The tables the search document reads carry the triggers that queue edits; their functions are the file's."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from catalog.checks import check_trigger_functions
from catalog.importer import catalog_import
from catalog.models import Category, Item
from catalog.search.refresh import connect
from catalog.search.triggers import NOTIFY_CHANNEL, REFRESH_NOW, mark_pending_functions
from tests.conftest import make_record, write_catalog

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


def test_the_search_document_reads_the_five_source_tables() -> None:
    assert source_tables() == [
        "catalog_category",
        "catalog_item",
        "catalog_itemtag",
        "catalog_itemvector",
        "catalog_tag",
    ]


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


def test_migrate_installs_the_functions_of_mark_pending_sql() -> None:
    assert sorted(mark_pending_functions()) == ["catalog_search_mark_all_pending", "catalog_search_mark_pending"]
    assert check_trigger_functions(None, databases=["default"]) == []


def test_a_function_that_differs_from_the_file_is_reported() -> None:
    with connection.cursor() as cursor:  # rolled back with the test
        cursor.execute("CREATE OR REPLACE FUNCTION catalog_search_mark_all_pending() RETURNS void LANGUAGE sql AS ''")

    [warning] = check_trigger_functions(None, databases=["default"])

    assert (warning.id, warning.msg) == (
        "catalog.W001",
        "database 'default': catalog_search_mark_all_pending differ(s) from catalog/search/sql/mark_pending.sql",
    )


@pytest.mark.usefixtures("committed")
def test_an_edit_notifies_the_channel_the_worker_listens_to_and_an_import_asks_for_a_refresh_now(
    tmp_path: Path,
) -> None:
    with connect() as listener:
        listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
        Item.objects.create(name="frobnicator", summary="frobs", category=Category.objects.create(name="misc"))
        edited = [(n.channel, n.payload) for n in listener.notifies(timeout=5, stop_after=1)]
        catalog_import(path=write_catalog(tmp_path / "c.jsonl.gz", [make_record("quux")]))
        imported = {(n.channel, n.payload) for n in listener.notifies(timeout=1)}

    assert edited == [(NOTIFY_CHANNEL, "")]
    assert (NOTIFY_CHANNEL, REFRESH_NOW) in imported
