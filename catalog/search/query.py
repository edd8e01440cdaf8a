"""Text in, ranked results out: the one search every page and the API run.

A query matches a document in either of two ways:
- all its words, stemmed (``searchsite_english``), in the weighted document,
  each word also matching its synonyms; or
- all its words, unstemmed (``searchsite_simple``), in the item's name,
  summary and tags, the last one as a prefix: that is what a person types.
Web-search syntax (quotes, ``-word``, ``or``) switches to
``websearch_to_tsquery`` alone, which accepts any input.

Ranking: exact names first, then names that start with the query (shortest
first, so ``firefox`` finds ``firefox-esr`` before its translations), then
``ts_rank_cd`` over both vectors. When nothing matches, each unknown word is
corrected to the nearest word of the index's vocabulary and the search runs
again.

Ranking reads every candidate's vectors, so ranking every match of a common
word (half a million at a million items) costs hundreds of milliseconds, and
so do exact counts and facet counts. A search therefore ranks, counts and
facets at most ``RANK_CAP`` candidates, taken best field first: the item
named exactly as the query, then items whose name, summary or tags hold the
words (the ``words`` vector), then items that mention them elsewhere (the
description). When the cap is reached, the total is the planner's estimate,
facet counts are scaled to it, and the result says so (``total_is_estimate``).
See docs/benchmarks.md for the measurements.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from itertools import pairwise

from django.contrib.postgres.search import Lexeme, SearchHeadline, SearchQuery
from django.db import connections, router, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models.functions import Left
from django.db.models.sql import Query
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from catalog.search import TEXT_SEARCH_CONFIG, WORDS_CONFIG
from catalog.search.index import SAMPLE_MODULI
from catalog.search.overlay import SearchOverlay
from catalog.search.vocabulary import SearchWord, Synonym

PAGE_SIZE = 20
FACET_SIZE = {"category": 12, "tag": 15}
# ts_headline reads the whole text it is given: long descriptions are cut first.
SNIPPET_SOURCE_CHARS = 2000
# ts_headline marks matches with these; private-use characters never appear in
# item text, so after HTML-escaping they can be turned into our own <mark> tags.
MARK_START = "\ue000"
MARK_STOP = "\ue001"
SORTS = ("relevance", "name")
# Words beyond these are ignored, as Meilisearch does: no one types more.
MAX_TERMS = 10
# Quotes, a leading minus or the word "or": the user writes web-search syntax.
_SYNTAX = re.compile(r'"|(?:^|\s)-\S|\s+or\s+', re.IGNORECASE)
_TERM = re.compile(r"[\w][\w+.-]*")
# A query finding fewer than this, when its spelling correction finds this many
# times more, shows the correction's results instead.
FEW_RESULTS = 5
MANY_MORE = 5
# At most this many candidates are ranked, counted and faceted per search
# (see the module docstring); measured in docs/benchmarks.md.
RANK_CAP = 1000


@dataclass(frozen=True)
class Hit:
    id: int
    name: str
    summary: str
    category: str
    tags: list[str]
    snippet: SafeString


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int


@dataclass(frozen=True)
class SearchResult:
    query: str
    total: int
    page: int
    took_ms: float
    hits: list[Hit]
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    # A better spelling of the query, if there is one.
    suggestion: str | None = None
    # The query the results are for, when it is the suggestion because the query found nothing.
    corrected: str | None = None
    # True when more than RANK_CAP items match: total and facet counts are then estimates.
    total_is_estimate: bool = False

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))

    @property
    def first_number(self) -> int:
        return (self.page - 1) * PAGE_SIZE + 1

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.num_pages


def document_search(
    *,
    text: str,
    page: int = 1,
    categories: Sequence[str] = (),
    tags: Sequence[str] = (),
    sort: str = "relevance",
) -> SearchResult:
    """Search the overlay (index plus pending edits); see the module docstring."""
    started = time.perf_counter()
    terms = query_terms(text)
    if not terms:
        return SearchResult(query=text, total=0, page=page, took_ms=0.0, hits=[], facets=_no_facets())
    # Read once per search: the query is built several times (tiers, rank, snippets).
    token = _current_synonyms.set(_load_synonyms())
    try:
        return _search(text, terms, page=page, categories=categories, tags=tags, sort=sort, started=started)
    finally:
        _current_synonyms.reset(token)


def _search(
    text: str,
    terms: list[str],
    *,
    page: int,
    categories: Sequence[str],
    tags: Sequence[str],
    sort: str,
    started: float,
) -> SearchResult:
    spelled = spelling(terms)
    suggestion = " ".join(spelled) if spelled != terms else None
    searched_text, corrected = text, None
    summary = _summarize(text, terms, page=page, categories=categories, tags=tags, sort=sort)
    if suggestion and summary.total < FEW_RESULTS:
        corrected_summary = _summarize(suggestion, spelled, page=page, categories=categories, tags=tags, sort=sort)
        if corrected_summary.total > summary.total * MANY_MORE:
            searched_text, terms, corrected = suggestion, spelled, suggestion
            summary = corrected_summary
    hits = _hits(summary.page_ids, _document_query(searched_text, terms))
    return SearchResult(
        query=text,
        total=summary.total,
        page=page,
        took_ms=round((time.perf_counter() - started) * 1000, 2),
        hits=hits,
        facets=summary.facets,
        suggestion=suggestion,
        corrected=corrected,
        total_is_estimate=summary.total_is_estimate,
    )


def query_terms(text: str) -> list[str]:
    """The words of a query, lowercased, as the tokens people type (``python3-django``, ``c++``)."""
    return _TERM.findall(text.lower())[:MAX_TERMS]


def uses_syntax(text: str) -> bool:
    return bool(_SYNTAX.search(text))


# The synonyms of the search running in this context (thread or task), if any.
_current_synonyms: ContextVar[dict[str, list[str]] | None] = ContextVar("current_synonyms", default=None)


def _synonyms() -> dict[str, list[str]]:
    """The synonyms as the running search read them; editors' changes apply from the next search."""
    current = _current_synonyms.get()
    return current if current is not None else _load_synonyms()


def _load_synonyms() -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for synonym in Synonym.objects.all():
        words = synonym.word_list()
        for word in words:
            groups.setdefault(word, []).extend(other for other in words if other != word)
    return groups


def _document_query(text: str, terms: list[str]) -> SearchQuery:
    """The stemmed query: every term, or one of its synonyms."""
    if uses_syntax(text):
        return SearchQuery(text, search_type="websearch", config=TEXT_SEARCH_CONFIG)
    synonyms = _synonyms()
    query: SearchQuery | None = None
    for term in terms:
        term_query = SearchQuery(term, search_type="plain", config=TEXT_SEARCH_CONFIG)
        for synonym in synonyms.get(term, []):
            term_query |= SearchQuery(synonym, search_type="plain", config=TEXT_SEARCH_CONFIG)
        query = term_query if query is None else query & term_query
    assert query is not None
    return query


def _words_query(terms: list[str], *, prefix: bool) -> SearchQuery:
    """The unstemmed query: every term as typed, the last one a prefix if ``prefix``."""
    lexemes = [Lexeme(term) for term in terms[:-1]] + [Lexeme(terms[-1], prefix=prefix)]
    combined = lexemes[0]
    for lexeme in lexemes[1:]:
        combined &= lexeme
    return SearchQuery(combined, search_type="raw", config=WORDS_CONFIG)


def _hits(ids: list[int], query: SearchQuery) -> list[Hit]:
    headline = SearchHeadline(
        Left("description", SNIPPET_SOURCE_CHARS),
        query,
        config=TEXT_SEARCH_CONFIG,
        start_sel=MARK_START,
        stop_sel=MARK_STOP,
        fragment_delimiter=" … ",
        max_fragments=2,
        max_words=24,
        min_words=12,
    )
    # Not the vectors: they are the widest columns and nothing here reads them.
    shown = SearchOverlay.objects.filter(id__in=ids).only("id", "name", "summary", "category", "tags")
    rows = {row.id: row for row in shown.annotate(snippet=headline)}
    return [
        Hit(
            id=row.id,
            name=row.name or "",
            summary=row.summary or "",
            category=row.category or "",
            tags=row.tags or [],
            snippet=highlight(row.snippet),
        )
        for row in (rows[id] for id in ids if id in rows)
    ]


@dataclass(frozen=True)
class _Summary:
    """What one statement over the capped candidates gives: the count, the page, the facets."""

    total: int
    total_is_estimate: bool
    page_ids: list[int]
    facets: dict[str, list[FacetValue]]


# The tsqueries of one search, built once with Django's expressions (synonyms,
# prefixes, web-search syntax) and passed as text to the statements below:
# the stemmed query, the words query, and the words query without its prefix.
TSQUERY_SQL = "SELECT ({document})::text, ({words})::text, ({whole_words})::text"

# The matches, best field first: the item named exactly as the query, then
# items whose name, summary or tags hold the words, then the rest. Each tier
# excludes the ones before it, so that no item is a candidate twice; the LIMIT
# over all of them stops at the first tiers when they hold enough candidates.
# A GIN index finds every match of a tier before the LIMIT sees one (about
# half a microsecond each), so the cheap tiers come first: whole words before
# a prefix (``tool:*`` reads the postings of thousands of words), name,
# summary and tags before descriptions.
CANDIDATE_COLUMNS = "id, name, category, tags, {keys}"
# "id = (subquery)", not "id IN (subquery)": a scalar reaches into both parts of
# the overlay as an index condition, where a join would scan every match. The
# match is checked on that one row ("IS TRUE" keeps the vectors' indexes out:
# the planner, not knowing the id yet, may otherwise intersect their bitmaps).
EXACT_TIER_SQL = """
    SELECT {columns} FROM catalog_searchoverlay
    WHERE id = (SELECT id FROM catalog_item WHERE name = %(name)s) AND ({match}) IS TRUE{filters}
"""
# The words tiers read by sample (see SAMPLE_MODULI in index.py): one item in
# 100 first, through its own small index, then the rest of one in 10, then the
# rest. A common word fills the cap from a sample and never reads its full
# postings; each part reads at most about ten times the cap's postings before
# the cap stops the next. Together the parts are every match: below the cap
# nothing changes, and past it the candidates were any thousand matches anyway.
WHOLE_WORDS_TIER_SQL = """
    SELECT {columns} FROM catalog_searchoverlay
    WHERE words @@ %(whole_words)s::tsquery AND {sample} AND name IS DISTINCT FROM %(name)s{filters}
"""
PREFIX_TIER_SQL = """
    SELECT {columns} FROM catalog_searchoverlay
    WHERE words @@ %(words)s::tsquery AND NOT words @@ %(whole_words)s::tsquery
      AND {sample} AND name IS DISTINCT FROM %(name)s{filters}
"""


def _by_sample(tier: str) -> list[str]:
    """The tier once per part of the index: its nested samples, smallest first, then the rest."""
    samples = [f"mod(id, {modulus}) = 0" for modulus in SAMPLE_MODULI]
    # Each sample holds the smaller ones: a part is its sample less the one before.
    parts = [samples[0], *(f"{sample} AND NOT {smaller}" for smaller, sample in pairwise(samples))]
    return [tier.replace("{sample}", part) for part in [*parts, f"NOT {samples[-1]}"]]


ELSEWHERE_TIER_SQL = """
    SELECT {columns} FROM catalog_searchoverlay
    WHERE document @@ %(document)s::tsquery AND NOT coalesce(words @@ %(words)s::tsquery, false)
      AND name IS DISTINCT FROM %(name)s{filters}
"""
# Web-search syntax matches the stemmed query; its words query (the same
# syntax over unstemmed words) only puts matches in names, summaries and tags
# first: a phrase is checked on the whole document of every item holding its
# words, and short fields are far cheaper to check. "IS TRUE" keeps the
# document's index out of this tier: intersecting both indexes would read
# every posting of both words.
SYNTAX_WORDS_TIER_SQL = """
    SELECT {columns} FROM catalog_searchoverlay
    WHERE words @@ %(words)s::tsquery AND (document @@ %(document)s::tsquery) IS TRUE
      AND name IS DISTINCT FROM %(name)s{filters}
"""
TIERS_SQL = {
    False: [
        EXACT_TIER_SQL,
        *_by_sample(WHOLE_WORDS_TIER_SQL),
        *_by_sample(PREFIX_TIER_SQL),
        ELSEWHERE_TIER_SQL,
    ],
    True: [EXACT_TIER_SQL, SYNTAX_WORDS_TIER_SQL, ELSEWHERE_TIER_SQL],
}
MATCH_SQL = {
    True: "document @@ %(document)s::tsquery",
    False: "(document @@ %(document)s::tsquery OR words @@ %(words)s::tsquery)",
}
CATEGORY_FILTER_SQL = " AND category = ANY (%(categories)s::text[])"
TAG_FILTER_SQL = " AND tags @> %(tags)s::text[]"

# What relevance orders by, computed in each tier for the candidates only (a
# LIMIT stops the tiers, so no other match is ranked): the exact name first,
# then names that start with the query, shortest first, then cover density
# over both vectors (see the module docstring).
CANDIDATE_KEYS_SQL = """
    CASE WHEN name = %(name)s THEN 2 WHEN name LIKE %(prefix)s THEN 1 ELSE 0 END AS name_match,
    CASE WHEN name LIKE %(prefix)s THEN length(name) ELSE 0 END AS name_length,
    ts_rank_cd(document, %(document)s::tsquery) + {words_rank} AS rank
"""
WORDS_RANK_SQL = {True: "0", False: "ts_rank_cd(words, %(words)s::tsquery)"}
ORDER_SQL = {"relevance": "name_match DESC, name_length, rank DESC, name", "name": "name"}
# Parallel workers cost more to start and to feed than these small, capped
# scans save, and a search on two cores must not take three.
NO_PARALLEL_SQL = "SET LOCAL max_parallel_workers_per_gather = 0"

# One statement: the candidates are read once (at most RANK_CAP of them), then
# counted, ranked for the page and counted by facet.
SUMMARY_SQL = """
    WITH capped AS MATERIALIZED (
        SELECT * FROM ({tiers}) AS tiers LIMIT %(cap)s
    )
    SELECT
        (SELECT count(*) FROM capped),
        ARRAY(SELECT id FROM capped ORDER BY {order} OFFSET %(offset)s LIMIT %(limit)s),
        ARRAY(SELECT json_build_array(category, n) FROM (
            SELECT category, count(*) AS n FROM capped GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %(categories_shown)s
        ) AS c),
        ARRAY(SELECT json_build_array(tag, n) FROM (
            SELECT tag, count(*) AS n FROM capped CROSS JOIN unnest(capped.tags) AS tag
            GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %(tags_shown)s
        ) AS t)
"""
ESTIMATE_SQL = "EXPLAIN (FORMAT JSON) SELECT id FROM catalog_searchoverlay WHERE {match}{filters}"
BY_NAME_SQL = (
    "SELECT id FROM catalog_searchoverlay WHERE {match}{filters} ORDER BY name OFFSET %(offset)s LIMIT %(limit)s"
)


def _summarize(
    text: str, terms: list[str], *, page: int, categories: Sequence[str], tags: Sequence[str], sort: str
) -> _Summary:
    """Count, rank a page and count facets over the capped candidates, in one statement."""
    syntax = uses_syntax(text)
    as_name = "-".join(terms)
    filters = (CATEGORY_FILTER_SQL if categories else "") + (TAG_FILTER_SQL if tags else "")
    keys = CANDIDATE_KEYS_SQL.format(words_rank=WORDS_RANK_SQL[syntax])
    parts = {"columns": CANDIDATE_COLUMNS.format(keys=keys), "match": MATCH_SQL[syntax], "filters": filters}
    tiers = " UNION ALL ".join(f"({tier.format(**parts)})" for tier in TIERS_SQL[syntax])
    order = ORDER_SQL["name" if sort == "name" else "relevance"]
    sql = SUMMARY_SQL.format(tiers=tiers, order=order)
    offset = (page - 1) * PAGE_SIZE
    # A read of the search models: where the router sends them (a replica, if there is one).
    using = router.db_for_read(SearchOverlay)
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(NO_PARALLEL_SQL)
        document, words, whole_words = _tsqueries(cursor, text, terms)
        params = {
            "document": document,
            "words": words,
            "whole_words": whole_words,
            "name": as_name,
            "prefix": _like_prefix(as_name),
            "categories": list(categories),
            "tags": list(tags),
            "cap": RANK_CAP,
            "offset": offset,
            "limit": PAGE_SIZE,
            "categories_shown": FACET_SIZE["category"],
            "tags_shown": FACET_SIZE["tag"],
        }
        cursor.execute(sql, params)
        count, page_ids, category_counts, tag_counts = cursor.fetchone()
        if count < RANK_CAP:
            facets = {
                "category": [FacetValue(value, n) for value, n in map(_json, category_counts)],
                "tag": [FacetValue(value, n) for value, n in map(_json, tag_counts)],
            }
            return _Summary(count, False, page_ids, facets)
        # Capped: the planner's estimate of all matches (statistics of the vectors, no rows
        # read), and facet counts scaled to it.
        cursor.execute(ESTIMATE_SQL.format(**parts), params)
        plan = cursor.fetchone()[0]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        total = max(count, int(plan[0]["Plan"]["Plan Rows"]))
        if sort == "name":
            # Names are not ordered by field: the first names come from all matches.
            cursor.execute(BY_NAME_SQL.format(**parts), params)
            page_ids = [row[0] for row in cursor.fetchall()]
    scale = total / count
    facets = {
        facet: [FacetValue(value, round(n * scale)) for value, n in map(_json, counts)]
        for facet, counts in (("category", category_counts), ("tag", tag_counts))
    }
    return _Summary(total, True, page_ids, facets)


def _tsqueries(cursor: CursorWrapper, text: str, terms: list[str]) -> tuple[str, str, str]:
    """The stemmed, the words and the whole-words tsquery of a search, as text."""
    query = Query(SearchOverlay)
    compiler = query.get_compiler(connection=cursor.db)
    if uses_syntax(text):
        words = whole_words = SearchQuery(text, search_type="websearch", config=WORDS_CONFIG)
    else:
        words, whole_words = _words_query(terms, prefix=True), _words_query(terms, prefix=False)
    expressions = {"document": _document_query(text, terms), "words": words, "whole_words": whole_words}
    compiled = {name: compiler.compile(expr.resolve_expression(query)) for name, expr in expressions.items()}
    cursor.execute(
        TSQUERY_SQL.format(**{name: sql for name, (sql, _) in compiled.items()}),
        [param for _, params in compiled.values() for param in params],
    )
    return cursor.fetchone()


def _json(value: object) -> tuple[str, int]:
    """psycopg returns json elements of a SQL array as text or as parsed values, by version."""
    loaded = json.loads(value) if isinstance(value, str) else value
    return loaded[0], int(loaded[1])  # type: ignore[index]


def _no_facets() -> dict[str, list[FacetValue]]:
    return {facet: [] for facet in FACET_SIZE}


# A correction keeps the first letter (people rarely mistype it, and keeping it
# avoids far-fetched fixes), is at most two edits away, or one in three
# letters (more is another word), and shares trigrams with the term (a low
# bar: transpositions like "veiwer" share few). Within two edits the length
# differs by two at most, so the candidates are a range of the vocabulary's
# (first letter, length) index, and the edit distance, cheap and exact, is
# computed before the similarity. The closest wins, then the most common.
SPELLING_SQL = """
    SELECT term, (
        SELECT word FROM catalog_searchword
        WHERE left(word, 1) = left(term, 1)
          AND length(word) BETWEEN length(term) - edits AND length(term) + edits
          AND levenshtein_less_equal(word, term, edits) <= edits
          AND similarity(word, term) >= %(similarity)s
        ORDER BY levenshtein(word, term), documents DESC, similarity(word, term) DESC, word
        LIMIT 1
    )
    FROM (
        SELECT term, least(2, length(term) / 3) AS edits FROM unnest(%(terms)s::text[]) AS term
        WHERE length(term) >= 3 AND NOT EXISTS (SELECT FROM catalog_searchword WHERE word = term)
          -- The last term may be a prefix still being typed: no typo if a word starts with it.
          AND NOT (term = %(last)s AND EXISTS (SELECT FROM catalog_searchword WHERE word LIKE %(last_prefix)s))
        -- A fence: known words (nearly all) must never reach the check below, which
        -- builds a bitmap of every description holding the word (a quarter of a
        -- second for a common word at a million items), LIMIT or not.
        OFFSET 0
    ) AS unknown
    -- A word only descriptions use is no typo unless it is rare there too.
    WHERE (SELECT count(*) FROM (
              SELECT FROM catalog_searchoverlay
              WHERE document @@ plainto_tsquery('searchsite_english', term) LIMIT %(rare)s
          ) AS seen) < %(rare)s
"""
# A word in fewer descriptions than this may be a typo (descriptions hold some).
RARE_DOCUMENTS = 3
SIMILARITY = 0.2


def spelling(terms: list[str]) -> list[str]:
    """The terms, each unknown one replaced by the nearest word of the index's vocabulary.

    The last term may be a prefix still being typed: it is kept if a word starts with it.
    """
    using = router.db_for_read(SearchWord)
    with connections[using].cursor() as cursor:
        cursor.execute(
            SPELLING_SQL,
            {
                "terms": terms,
                "last": terms[-1],
                "last_prefix": _like_prefix(terms[-1]),
                "similarity": SIMILARITY,
                "rare": RARE_DOCUMENTS,
            },
        )
        corrections: dict[str, str | None] = dict(cursor.fetchall())
    return [corrections.get(term) or term for term in terms]


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def highlight(headline: str) -> SafeString:
    """Escape the item's text; only the marks ts_headline placed become HTML."""
    return mark_safe(escape(headline).replace(MARK_START, "<mark>").replace(MARK_STOP, "</mark>"))
