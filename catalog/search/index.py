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
from django.db.models import F, Q
from django_pgviews import view as pgviews
from pgvector.django import HnswIndex, VectorField

SQL_DIR = Path(__file__).resolve().parent / "sql"
# The item vectors' size: wordllama's 256-dimension embeddings (embedding.py).
DIMENSIONS = 256

# The static prior's range (search_document.sql) and the bands of it that
# search.sql reads one by one, best first, each through GIN indexes of its own:
# a common word's best matches are found among the few items of the top band,
# and the lower bands are read only when one of their items could still rank.
# search.sql writes these predicates out as here (the planner uses a partial
# index only for a query that implies its predicate); tests check both agree.
PRIOR_MAX = 3.0
TOP_BAND = Q(prior__gte=2.0)
MIDDLE_BAND = Q(prior__gte=1.6, prior__lt=2.0)
LOW_BAND = Q(prior__lt=1.6)
PRIOR_BANDS = {"top": TOP_BAND, "mid": MIDDLE_BAND, "low": LOW_BAND}


def document_column_names() -> list[str]:
    """The document's columns after ``id``, in order: the overlay's SQL lists them."""
    return [field.column for field in DocumentColumns._meta.local_fields if not field.primary_key and field.column]


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
    popularity = models.IntegerField(null=True)
    kind = models.FloatField(null=True)
    document = SearchVectorField(null=True)
    name_words = SearchVectorField(null=True)
    summary_words = SearchVectorField(null=True)
    tag_words = SearchVectorField(null=True)
    short_words = SearchVectorField(null=True)
    prior = models.FloatField(null=True)
    words = SearchVectorField(null=True)
    vector = VectorField(dimensions=DIMENSIONS, null=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name or str(self.id)


class SearchKind(pgviews.ReadOnlyMaterializedView):
    """Per category, how likely its items are to be programs: the kind of the items without a role tag."""

    sql = (SQL_DIR / "search_kind.sql").read_text()
    concurrent_index = "category_id"

    category_id = models.BigIntegerField(primary_key=True)
    program_share = models.FloatField()

    class Meta:
        managed = False
        db_table = "catalog_searchkind"

    def __str__(self) -> str:
        return f"{self.category_id}: {self.program_share:.2f}"


class SearchDocument(pgviews.ReadOnlyView, DocumentColumns):
    """The search document computed live from the source tables: always current, slow to search."""

    sql = (SQL_DIR / "search_document.sql").read_text()
    dependencies = ["catalog.SearchKind"]

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
        # fastupdate off: a concurrent refresh rewrites changed rows, and a
        # pending list would then be scanned by every search until vacuum.
        indexes = [
            # The first tier: the items named as the query.
            models.Index(fields=["name"], name="searchindex_name"),
            # The GIN indexes take the category (btree_gin) and the tags as keys
            # too: a filter narrows the postings before the rows are read,
            # instead of discarding rows read (at 1M, `python` in its category:
            # 233 to 89 ms) or intersecting them with every item under a common
            # tag (`editor` under `role::program`: 20 ms a tier to under 1); a
            # search with no filter reads the words' key alone.
            *(
                GinIndex(
                    fields=["category", "tags", field],
                    name=f"searchindex_{key}_{band}_gin",
                    fastupdate=False,
                    condition=q,
                )
                for key, field in (("name", "name_words"), ("short", "short_words"), ("doc", "document"))
                for band, q in PRIOR_BANDS.items()
            ),
            # A filter without a word's index: a search's nearest neighbours in
            # a small category or under a rare tag read the filter's items here
            # and compare them exactly, where a sequential scan read every item
            # (at 1M, 2 s for a category of 212: docs/benchmarks.md). Browsing
            # (browse.sql) reads a category's first page in this order.
            models.Index(
                F("category"),
                F("popularity").desc(nulls_last=True),
                F("name"),
                name="searchindex_category_popular",
            ),
            GinIndex(fields=["tags"], name="searchindex_tags_gin", fastupdate=False),
            # Semantic ranking's nearest neighbours (search.sql), by cosine distance.
            # pgvector's defaults (m 16, ef_construction 64): docs/benchmarks.md.
            HnswIndex(fields=["vector"], name="searchindex_vector_hnsw", opclasses=["vector_cosine_ops"]),
        ]
