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
typo classes find less with them. Browsing (no words) is the same for both:
the filtered items ordered by popularity, with the items table's indexes.

Each class is timed until its budget is spent or a statement runs past the
timeout: at a million items the first alternative takes seconds a query.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bench.queries import CLASSES, Case
from bench.stats import Latency
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
# A statement running longer than this counts as a timeout.
TIMEOUT_MS = 10_000
# Wall time an alternative may spend on one class before the rest is skipped.
CLASS_BUDGET_SECONDS = 20.0


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

    matches = Item.objects.all()
    if case.categories:
        matches = matches.filter(category__name__in=case.categories)
    for tag in case.tags:
        matches = matches.filter(tags__name=tag)
    offset = (case.page - 1) * PAGE_SIZE
    if case.text:
        query = SearchQuery(case.text, search_type="websearch", config=TEXT_SEARCH_CONFIG)
        matches = matches.annotate(search=vector).filter(search=query)
        matches.count()
        page = (
            matches.annotate(rank=SearchRank(F("search"), query))
            .order_by("-rank", "name")
            .values_list("id", flat=True)[offset : offset + PAGE_SIZE]
        )
        headline = SearchHeadline(Left("description", 2000), query, config=TEXT_SEARCH_CONFIG)
        list(Item.objects.filter(id__in=list(page)).annotate(snippet=headline).values_list("name", "snippet"))
    else:  # browsing: the filter's items, most popular first, as the site lists them
        matches.count()
        list(matches.order_by("-popularity", "name").values_list("name", "summary")[offset : offset + PAGE_SIZE])
    list(matches.values("category__name").annotate(n=Count("id")).order_by("-n")[:12])


def measure(cases: list[Case], rounds: int) -> tuple[dict[str, dict[str, dict[str, Any]]], float]:
    """Both alternatives' timings per class, and what adding the generated column and its index cost (s).

    The first takes seconds a query at larger sizes, so it gets a third of the rounds.
    """
    drop_generated_column()  # left behind by a run that stopped half way
    timings = {"on the fly": time_alternative(search_on_the_fly, cases, max(1, rounds // 3))}
    seconds = add_generated_column()
    try:
        timings["generated column"] = time_alternative(search_generated_column, cases, rounds)
    finally:
        drop_generated_column()
    return timings, seconds


def time_alternative(search: Callable[[Case], None], cases: list[Case], rounds: int) -> dict[str, dict[str, Any]]:
    """p50/p95/p99 per class, or a timeout; a class stops early once it has used its budget."""
    from django.db import OperationalError, connection, transaction

    results: dict[str, dict[str, Any]] = {}
    for cls in CLASSES:
        samples: list[float] = []
        timed_out = False
        deadline = time.perf_counter() + CLASS_BUDGET_SECONDS
        runs = [case for _ in range(rounds) for case in cases if case.cls == cls]
        for case in runs:
            try:
                with transaction.atomic():
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(TIMEOUT_MS)])
                    started = time.perf_counter()
                    search(case)
                    samples.append((time.perf_counter() - started) * 1000)
            except OperationalError:  # QueryCanceled: the statement timeout
                timed_out = True
                break
            if time.perf_counter() > deadline:
                break
        if timed_out:
            results[cls] = {"timeout": True, "samples": len(samples)}
        elif samples:
            results[cls] = Latency.of(samples).as_json()
    return results
