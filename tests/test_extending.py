"""docs/extending.md, step by step: what `migrate` does to the search views when their SQL changes.

Each test changes the view SQL at runtime (never the repository's file) inside
the test's transaction, which rolls every view, index and column back.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.db import NotSupportedError, connection, transaction
from django_pgviews.db.migrations.operations import DeleteViewOperation

from catalog.models import Item, SearchPending
from catalog.search.drift import index_drift
from catalog.search.index import SearchDocument, SearchIndex
from catalog.search.query import document_search
from tests.conftest import refresh

pytestmark = pytest.mark.usefixtures("corpus")

# The unique index pgviews creates for REFRESH ... CONCURRENTLY (concurrent_index = "id").
CONCURRENT_INDEX = "catalog_searchindex_id_index"


@dataclass(frozen=True)
class IndexState:
    oid: int
    definition: str
    indexes: dict[str, str]


def index_state() -> IndexState:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'catalog_searchindex'::regclass::oid, definition FROM pg_matviews"
            " WHERE matviewname = 'catalog_searchindex'"
        )
        oid, definition = cursor.fetchone()
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'catalog_searchindex'")
        return IndexState(oid, definition, dict(cursor.fetchall()))


def scalar(sql: str) -> object:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def view_columns(view: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 ORDER BY attnum", [view]
        )
        return [name for (name,) in cursor.fetchall()]


def names(text: str) -> list[str]:
    return sorted(hit.name for hit in document_search(text=text).hits)


def with_extra_column(sql: str) -> str:
    """The document's SQL with one more column at the end, as a developer adds a field."""
    return f"SELECT doc.*, upper(doc.name) AS name_upper\nFROM (\n{sql.strip()}\n) AS doc"


def with_weight(sql: str, weight: str) -> str:
    """The document's SQL with every lexeme of the document at one weight: the same columns."""
    columns = [
        f"setweight(doc.document, '{weight}') AS document" if column == "document" else f"doc.{column}"
        for column in view_columns("catalog_searchdocument")
    ]
    return f"SELECT {', '.join(columns)}\nFROM (\n{sql.strip()}\n) AS doc"


def test_migrate_rebuilds_the_index_with_its_indexes_and_data_when_a_column_is_added(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = index_state()
    monkeypatch.setattr(SearchDocument, "sql", with_extra_column(SearchDocument.sql))
    with connection.cursor() as cursor:
        # What makemigrations writes once the field is added to DocumentColumns.
        cursor.execute("ALTER TABLE catalog_searchpending ADD COLUMN name_upper text")

    call_command("migrate", verbosity=0)

    after = index_state()
    assert after.oid != before.oid, "the materialized view was not rebuilt"
    assert "name_upper" in after.definition and "name_upper" not in before.definition
    assert after.indexes == before.indexes
    assert {index.name for index in SearchIndex._meta.indexes} | {CONCURRENT_INDEX} <= after.indexes.keys()
    items = Item.objects.count()
    assert scalar("SELECT count(*) FROM catalog_searchindex WHERE name_upper = upper(name)") == items
    assert scalar("SELECT count(*) FROM pg_views WHERE viewname = 'catalog_searchoverlay'") == 1
    assert names("web browser") == ["chromium", "firefox-esr"]
    assert index_drift().total == 0

    # The triggers store the new column too, and the edit is searchable at once.
    Item.objects.filter(name="vlc").update(summary="zorblax player")
    assert names("zorblax") == ["vlc"]
    assert scalar("SELECT name_upper FROM catalog_searchpending") == "VLC"
    assert SearchPending.objects.count() == 1


def test_a_weight_change_keeps_the_index_until_a_refresh_applies_it(monkeypatch: pytest.MonkeyPatch) -> None:
    before = index_state()
    all_d = "SELECT bool_and(document = setweight(document, 'D')) FROM catalog_searchindex"
    monkeypatch.setattr(SearchDocument, "sql", with_weight(SearchDocument.sql, "D"))

    call_command("migrate", verbosity=0)

    # The index's SQL (SELECT * FROM the plain view) is unchanged: pgviews keeps it.
    assert index_state() == before
    assert scalar(all_d) is False
    drift = index_drift()
    assert (drift.changed, drift.unexplained) == (Item.objects.count(), Item.objects.count())
    assert names("web browser") == ["chromium", "firefox-esr"]

    refresh(compact=True)  # what refresh_search does: the worker's merge leaves the view alone

    assert scalar(all_d) is True
    assert index_drift().total == 0
    assert names("web browser") == ["chromium", "firefox-esr"]


def test_changing_the_type_of_a_column_the_view_reads_needs_the_views_dropped_first() -> None:
    alter = "ALTER TABLE catalog_item ALTER COLUMN summary TYPE text"
    with connection.cursor() as cursor:
        # The corpus's foreign-key checks wait for the commit; ALTER TABLE wants them done.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(NotSupportedError, match="used by a view"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(alter)

    # The migration's operations: drop the plain view (CASCADE takes the index and
    # the overlay with it), then change the column; migrate's sync recreates all three.
    drop = DeleteViewOperation(name="SearchDocument", materialized=False, db_name="catalog_searchdocument")
    with connection.schema_editor() as editor:
        drop.database_forwards("catalog", editor, None, None)
        editor.execute(alter)
    assert scalar("SELECT to_regclass('catalog_searchoverlay')") is None

    call_command("migrate", verbosity=0)

    assert (
        scalar(
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'catalog_searchdocument'"
            " AND column_name = 'summary'"
        )
        == "text"
    )
    assert {index.name for index in SearchIndex._meta.indexes} | {CONCURRENT_INDEX} <= index_state().indexes.keys()
    assert scalar("SELECT count(*) FROM catalog_searchindex") == Item.objects.count()
    assert names("web browser") == ["chromium", "firefox-esr"]
