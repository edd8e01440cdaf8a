"""The two ways people usually add full-text search to Django, on the same data, for comparison.

- ``on the fly``: Django's ``SearchVector`` over name, summary and description,
  computed per query (no stored vector, no index): the documentation's first
  example.
- ``generated column``: a stored generated ``tsvector`` column on the items
  table with a GIN index. A generated column cannot read other tables, so it
  holds name and summary only (no description, tags or category). It is added
  in the benchmark database only.

Each does what a search page needs, like ``document_search``: the count, a
ranked page of 20 (``ts_rank``) with a ``ts_headline`` snippet per hit, and
category facet counts. Neither has prefixes, typo corrections or synonyms:
they search the words as given (``websearch_to_tsquery``), so the prefix and
typo classes find less with them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bench.queries import Case
from catalog.search import TEXT_SEARCH_CONFIG

GENERATED_COLUMN = "bench_search_vector"
GENERATED_COLUMN_SQL = [
    f"ALTER TABLE catalog_item ADD COLUMN IF NOT EXISTS {GENERATED_COLUMN} tsvector GENERATED ALWAYS AS ("
    f" setweight(to_tsvector('{TEXT_SEARCH_CONFIG}', name), 'A')"
    f" || setweight(to_tsvector('{TEXT_SEARCH_CONFIG}', summary), 'B')) STORED",
    f"CREATE INDEX IF NOT EXISTS bench_item_vector_gin ON catalog_item USING gin ({GENERATED_COLUMN})",
    "ANALYZE catalog_item",
]
PAGE_SIZE = 20


def add_generated_column() -> float:
    """Add the column and its index (rewrites the items table); seconds taken."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        for statement in GENERATED_COLUMN_SQL:
            cursor.execute(statement)
    return time.perf_counter() - started


def drop_generated_column() -> None:
    """The site's own import must not pay for a column only the benchmark reads."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE catalog_item DROP COLUMN IF EXISTS {GENERATED_COLUMN}")


def search_on_the_fly(case: Case) -> None:
    from django.contrib.postgres.search import SearchVector

    vector = (
        SearchVector("name", weight="A", config=TEXT_SEARCH_CONFIG)
        + SearchVector("summary", weight="B", config=TEXT_SEARCH_CONFIG)
        + SearchVector("description", weight="C", config=TEXT_SEARCH_CONFIG)
    )
    _search(case, vector)


def search_generated_column(case: Case) -> None:
    from django.contrib.postgres.search import SearchVectorField
    from django.db.models.expressions import RawSQL

    # Not a model field: the column exists in the benchmark database only.
    _search(case, RawSQL(f'"catalog_item"."{GENERATED_COLUMN}"', [], output_field=SearchVectorField()))


def _search(case: Case, vector: object) -> None:
    from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
    from django.db.models import Count, F
    from django.db.models.functions import Left

    from catalog.models import Item

    query = SearchQuery(case.text, search_type="websearch", config=TEXT_SEARCH_CONFIG)
    matches = Item.objects.annotate(search=vector).filter(search=query)
    if case.categories:
        matches = matches.filter(category__name__in=case.categories)
    for tag in case.tags:
        matches = matches.filter(tags__name=tag)
    matches.count()
    offset = (case.page - 1) * PAGE_SIZE
    page = (
        matches.annotate(rank=SearchRank(F("search"), query))
        .order_by("-rank", "name")
        .values_list("id", flat=True)[offset : offset + PAGE_SIZE]
    )
    headline = SearchHeadline(Left("description", 2000), query, config=TEXT_SEARCH_CONFIG)
    list(Item.objects.filter(id__in=list(page)).annotate(snippet=headline).values_list("name", "snippet"))
    list(matches.values("category__name").annotate(n=Count("id")).order_by("-n")[:12])


ALTERNATIVES: dict[str, Callable[[Case], None]] = {
    "on the fly": search_on_the_fly,
    "generated column": search_generated_column,
}
