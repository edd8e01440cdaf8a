"""Text in, ranked results out: the one query every page and the API run."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db.models import BooleanField, ExpressionWrapper, F, Q, QuerySet
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from catalog.search import TEXT_SEARCH_CONFIG
from catalog.search.overlay import SearchOverlay

PAGE_SIZE = 20
# ts_headline marks matches with these; private-use characters never appear in
# item text, so after HTML-escaping they can be turned into our own <mark> tags.
MARK_START = "\ue000"
MARK_STOP = "\ue001"


@dataclass(frozen=True)
class Hit:
    id: int
    name: str
    summary: str
    category: str
    tags: list[str]
    snippet: SafeString


@dataclass(frozen=True)
class SearchResult:
    query: str
    total: int
    page: int
    took_ms: float
    hits: list[Hit]

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


def document_search(*, text: str, page: int = 1) -> SearchResult:
    """Rank the documents matching ``text`` (web-search syntax) and return one page.

    ``websearch_to_tsquery`` accepts any input, so no query is an error. An
    exact name match outranks everything; snippets are computed for the shown
    page only, since ``ts_headline`` costs tens of microseconds a document.
    """
    started = time.perf_counter()
    if not text.strip():
        return SearchResult(query=text, total=0, page=page, took_ms=0.0, hits=[])
    query = SearchQuery(text, search_type="websearch", config=TEXT_SEARCH_CONFIG)
    matches = SearchOverlay.objects.filter(document=query)
    total = matches.count()
    offset = (page - 1) * PAGE_SIZE
    page_ids = list(_ranked(matches, query, text).values_list("id", flat=True)[offset : offset + PAGE_SIZE])
    hits = _hits(page_ids, query)
    took_ms = (time.perf_counter() - started) * 1000
    return SearchResult(query=text, total=total, page=page, took_ms=round(took_ms, 2), hits=hits)


def _ranked(matches: QuerySet[SearchOverlay], query: SearchQuery, text: str) -> QuerySet[SearchOverlay]:
    exact_name = ExpressionWrapper(Q(name=text.strip().lower()), output_field=BooleanField())
    return matches.annotate(exact_name=exact_name, rank=SearchRank(F("document"), query)).order_by(
        "-exact_name", "-rank", "name"
    )


def _hits(ids: list[int], query: SearchQuery) -> list[Hit]:
    headline = SearchHeadline(
        "description",
        query,
        config=TEXT_SEARCH_CONFIG,
        start_sel=MARK_START,
        stop_sel=MARK_STOP,
        fragment_delimiter=" … ",
        max_fragments=2,
        max_words=24,
        min_words=12,
    )
    rows = {row.id: row for row in SearchOverlay.objects.filter(id__in=ids).annotate(snippet=headline)}
    return [
        Hit(
            id=row.id,
            name=row.name,
            summary=row.summary,
            category=row.category,
            tags=row.tags,
            snippet=highlight(row.snippet),
        )
        for row in (rows[id] for id in ids if id in rows)
    ]


def highlight(headline: str) -> SafeString:
    """Escape the item's text; only the marks ts_headline placed become HTML."""
    return mark_safe(escape(headline).replace(MARK_START, "<mark>").replace(MARK_STOP, "</mark>"))
