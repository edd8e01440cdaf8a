"""The search index: a plain view of the search document, materialized.

The SQL lives in ``sql/search_document.sql``; the materialized view is
``SELECT *`` from the plain view, so the two can be compared row for row.
django-pgviews-redux creates both after ``migrate`` and rebuilds the
materialized one, with its indexes, whenever the SQL changes.
"""

from pathlib import Path

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Mod
from django.db.models.lookups import Exact
from django_pgviews import view as pgviews

SQL_DIR = Path(__file__).resolve().parent / "sql"

# Samples of the index by id, each with a words index of its own: one item in
# 10, and one in 100 (one in 10 of those). A word found in a third of a million
# items has 330,000 postings in the full index, which take about 100 ms to read
# before any cap applies; query.py reads the smallest sample first, and a
# common word fills the cap there. SQL that means to use a sample's index must
# say "mod(id, N) = 0" exactly so (PostgreSQL matches the predicate as written).
SAMPLE_MODULI = (100, 10)


def document_column_names() -> list[str]:
    """The document's columns after ``id``, in order: the overlay's SQL lists them."""
    return [field.column for field in DocumentColumns._meta.local_fields if not field.primary_key]


class DocumentColumns(models.Model):
    """The columns of the search document: the views, the overlay and the pending table share them.

    Add a column here when you add one to the SQL. They are nullable because a
    pending deletion (catalog_searchpending) holds none of them; the views are
    not managed by migrations, so this changes nothing there.
    """

    id = models.BigIntegerField(primary_key=True)
    name = models.CharField(max_length=200, null=True)
    summary = models.TextField(null=True)
    description = models.TextField(null=True)
    category = models.TextField(null=True)
    tags = ArrayField(models.TextField(), null=True)
    document = SearchVectorField(null=True)
    words = SearchVectorField(null=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name or str(self.id)


class SearchDocument(pgviews.ReadOnlyView, DocumentColumns):
    """The search document computed live from the source tables: always current, slow to search."""

    sql = (SQL_DIR / "search_document.sql").read_text()

    class Meta:
        managed = False
        db_table = "catalog_searchdocument"


class SearchIndex(pgviews.ReadOnlyMaterializedView, DocumentColumns):
    """The materialized search document: fast to search, as fresh as its last refresh."""

    sql = f"SELECT * FROM {SearchDocument._meta.db_table}"
    dependencies = ["catalog.SearchDocument"]
    # The unique index that REFRESH ... CONCURRENTLY needs.
    concurrent_index = "id"

    class Meta:
        managed = False
        db_table = "catalog_searchindex"
        indexes = [
            # fastupdate off: a concurrent refresh rewrites changed rows, and a
            # pending list would then be scanned by every search until vacuum.
            GinIndex(fields=["document"], name="searchindex_document_gin", fastupdate=False),
            GinIndex(fields=["words"], name="searchindex_words_gin", fastupdate=False),
            *(
                GinIndex(
                    fields=["words"],
                    name=f"searchindex_words_in{modulus}_gin",
                    fastupdate=False,
                    condition=Q(Exact(Mod("id", modulus), 0)),
                )
                for modulus in SAMPLE_MODULI
            ),
        ]
