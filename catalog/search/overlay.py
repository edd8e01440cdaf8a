"""The live overlay: the index plus the documents of items edited since its refresh.

A concurrent refresh recomputes every row (minutes at a million items), so
edits cannot wait for it. The triggers (triggers.py) store each edited item's
new document in ``SearchPending``, indexed like the materialized view;
``SearchOverlay`` is what every search queries: index scans of both halves and
an index lookup of each candidate among the pending ids, whatever the backlog.
No document is computed at query time.
"""

from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django_pgviews import view as pgviews

from catalog.search.index import SQL_DIR, DocumentColumns, document_column_names


class SearchPending(DocumentColumns):
    """An item's document as one transaction left it, until the next compaction claims it.

    Keyed by version, not by item: a refresh holds its claimed rows locked until
    it commits, and an editor must never wait for that, so each transaction
    writes rows of its own (``xact``). Deleted items have ``deleted`` set and no
    document.
    """

    id = None  # type: ignore[assignment]  # the document's id is item_id here
    version = models.BigAutoField(primary_key=True)
    item_id = models.BigIntegerField()
    xact = models.BigIntegerField(help_text="pg_current_xact_id() of the writing transaction")
    changed_at = models.DateTimeField()
    deleted = models.BooleanField()
    # Set by the refresh that merged the row (refresh.py): its words are in the
    # vocabulary. Merged rows stay here, served by the overlay, until a
    # compaction folds them into the materialized view.
    merged = models.BooleanField(default=False, db_default=False)

    class Meta:
        db_table = "catalog_searchpending"
        indexes = [
            models.Index(fields=["item_id", "version"], name="searchpending_item_version"),
            # Each tier of search.sql reads pending documents by the field it
            # ranks (document, name, short fields): a backlog is read through
            # the same kind of index as the index's rows, not scanned per tier.
            GinIndex(fields=["document"], name="searchpending_document_gin", fastupdate=False),
            GinIndex(fields=["name_words"], name="searchpending_name_gin", fastupdate=False),
            GinIndex(fields=["short_words"], name="searchpending_short_gin", fastupdate=False),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} v{self.version}"


class SearchOverlay(pgviews.ReadOnlyView, DocumentColumns):
    """The documents every search reads: indexed ones, overlaid with pending ones."""

    sql = (SQL_DIR / "search_overlay.sql").read_text().format(columns=", ".join(document_column_names()))
    dependencies = ["catalog.SearchIndex"]

    class Meta:
        managed = False
        db_table = "catalog_searchoverlay"
