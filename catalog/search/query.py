"""Text in, ranked results out: the one search every page and the API run.

A search is parse -> one statement -> hydrate. Parsing splits the text into
words and notices web-search syntax (quotes, ``-word``, ``or``); the statement
(``sql/search.sql``) expands the words (stems, synonyms, completions, typo
corrections, words joined or split), matches, ranks with ``catalog_search_score``
(``sql/search_score.sql``), blends in the items nearest the query's vector
(embedding.py; docs/ranking.md), marks the matches in the page's names, summaries
and snippets, counts and facets; hydrating turns its row into ``SearchResult``.
Only a count that reaches ``COUNT_CAP`` asks PostgreSQL once more, for its
estimate. With no words but a filter, ``sql/browse.sql`` lists the filtered
items instead, most popular first, with the same count and facets.

Pages go as deep as ``RANK_DEPTH`` results: past that, a person refines the
query rather than reads on, and the page says so.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.db import OperationalError, connections, router, transaction
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from catalog import conf
from catalog.search.embedding import query_vector
from catalog.search.index import SQL_DIR
from catalog.search.overlay import SearchOverlay

_PARAMETER = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class Statement:
    """A statement with named parameters (``%(name)s``), and the same numbered as PostgreSQL numbers them.

    Run numbered, through psycopg's RawCursor, its text goes to the server as
    it is: psycopg converts named parameters again on every execution of a
    statement longer than 4 KB, about a millisecond a search for search.sql.
    """

    text: str
    numbered: str
    names: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> Statement:
        names = tuple(dict.fromkeys(_PARAMETER.findall(text)))
        return cls(text, _PARAMETER.sub(lambda match: f"${names.index(match[1]) + 1}", text), names)

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        """The parameters in the numbered statement's order."""
        return [params[name] for name in self.names]


SEARCH = Statement.of((SQL_DIR / "search.sql").read_text())
BROWSE = Statement.of((SQL_DIR / "browse.sql").read_text())
ESTIMATE = Statement.of((SQL_DIR / "search_estimate.sql").read_text())

PAGE_SIZE = 20
# Results ranked and offered at most: 50 pages.
RANK_DEPTH = 1000
MAX_PAGE = RANK_DEPTH // PAGE_SIZE
# Matches counted and faceted exactly at most; past it both are estimates.
COUNT_CAP = 1000
# Values offered per facet (the page shows the first few, the rest behind "Show more").
FACET_SIZE = {"category": 30, "tag": 40}
# ts_headline marks matches with these (search.sql): private-use characters
# never appear in item text, so after HTML-escaping they become our <mark> tags.
MARK_START = "\ue000"
MARK_STOP = "\ue001"
_MARKS = re.compile(f"([{MARK_START}{MARK_STOP}])")
SORTS = ("relevance", "name")
# Per search, as settings of its transaction: no parallel workers (they cost
# more to start than these scans save, and a search on two cores must not take
# three; they also start for tiers the statement skips); how it is planned
# (PLANNING); and a bound on what one search may cost (conf.search_timeout_ms).
# The HNSW scan keeps as many candidates as the neighbours asked for (its
# default, 40, would cap them), and scans on past a filter's misses.
SEARCH_SETTINGS = Statement.of(
    "SELECT set_config('max_parallel_workers_per_gather', '0', true),"
    " set_config('plan_cache_mode', %(plan_cache_mode)s, true), set_config('enable_seqscan', %(enable_seqscan)s, true),"
    " set_config('statement_timeout', %(timeout)s, true),"
    " set_config('hnsw.ef_search', %(ef_search)s, true), set_config('hnsw.iterative_scan', 'relaxed_order', true)"
)
# Planning the statement takes longer (25-35 ms at a million items) than most
# searches take to run, so a search with no filter runs a plan cached for the
# connection. Seq scans off, that plan reads the pending documents by index
# whatever their number when it was made (the overlay's lookups,
# search_overlay.sql): one cached while none were pending stays fast with
# thousands. A filter is planned for its values, which the category and tag
# keys of the GIN indexes need (a cached plan cannot use an unknown array as a
# key), as is browsing (docs/benchmarks.md).
PLANNING = {"cached": ("force_generic_plan", "off"), "each": ("force_custom_plan", "on")}
# Semantic ranking (docs/ranking.md): the items nearest the query's vector that
# join the lexical candidates, with as many of the best of those the pool the
# blend reorders; and the weight of similarity in the blend, set on the judgement set.
NEIGHBOURS = 40
SEMANTIC_WEIGHT = 1.5
# Words beyond these are ignored, as Meilisearch does: no one types more.
MAX_TERMS = 10
# Quotes, a leading minus or the word "or": the user writes web-search syntax.
_SYNTAX = re.compile(r'"|(?:^|\s)-\S|\s+or\s+', re.IGNORECASE)
_OR = re.compile(r"\s+or\s+", re.IGNORECASE)
_NEGATED_OR_OPERATOR = re.compile(r"^(?:-.*|or)$")


class SearchTooExpensive(Exception):
    """The search ran past its time limit: the person should simplify it."""

    message = "This search takes too long to run. Use fewer or longer words, or add a filter."


@dataclass(frozen=True)
class ScoreParts:
    """Why a result ranks where it does: the terms of catalog_search_score() and the blend (search.sql)."""

    score: float
    words: float
    phrase: float
    name: float
    prior: float
    # score = lexical + SEMANTIC_WEIGHT * prior * semantic; lexical = prior * (words + phrase + name),
    # 0 for an item that does not match the words; semantic: cosine similarity to the query, 0 when off.
    lexical: float
    semantic: float


@dataclass(frozen=True)
class Hit:
    id: int
    name: str
    summary: str
    category: str
    tags: list[str]
    snippet: SafeString
    score: ScoreParts
    # The name and summary as HTML, the query's words marked.
    marked_name: SafeString
    marked_summary: SafeString


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
    # True when more than COUNT_CAP items match: the total is then an estimate.
    total_is_estimate: bool = False
    # The facets whose counts are estimates (more than COUNT_CAP items counted for them).
    estimated_facets: frozenset[str] = frozenset()
    # No words but a filter: the filtered items, most popular first (sql/browse.sql).
    browsing: bool = False

    @property
    def ranked(self) -> int:
        """How many results the pages offer: every match, up to RANK_DEPTH."""
        return min(self.total, RANK_DEPTH)

    @property
    def is_truncated(self) -> bool:
        return self.total > RANK_DEPTH

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.ranked // PAGE_SIZE))

    @property
    def first_number(self) -> int:
        return (self.page - 1) * PAGE_SIZE + 1

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.num_pages


@dataclass(frozen=True)
class ParsedQuery:
    """What the statement needs of a query's text."""

    words: list[str]
    # The last word may be unfinished: nothing was typed after it.
    prefix: bool
    # The text itself, when it uses web-search syntax.
    websearch: str | None
    # It says "or": not every word must match.
    any_of: bool


def parse(text: str) -> ParsedQuery:
    """Split the text into words as typed; the statement splits further as documents are split."""
    syntax = bool(_SYNTAX.search(text))
    words = [word.strip('"') for word in text.lower().split()]
    if syntax:
        words = [word for word in words if not _NEGATED_OR_OPERATOR.match(word)]
    return ParsedQuery(
        words=[word for word in words if word][:MAX_TERMS],
        prefix=not syntax and not text[-1:].isspace(),
        websearch=text if syntax else None,
        any_of=bool(_OR.search(text)),
    )


def search_params(
    query: ParsedQuery,
    *,
    page: int,
    categories: Sequence[str],
    tags: Sequence[str],
    sort: str,
    exhaustive: bool = False,
) -> dict[str, Any]:
    """The parameters of sql/search.sql (search_explain prints them).

    Semantic ranking applies to plain queries ranked by relevance: web-search
    syntax (quotes, ``-word``, ``or``) says exactly what must match, and a sort
    by name has no ranking to blend.
    """
    semantic = conf.search_semantic() and query.websearch is None and sort != "name" and bool(query.words)
    return {
        "words": query.words,
        "prefix": query.prefix,
        "websearch": query.websearch,
        "categories": list(categories),
        "tags": list(tags),
        "any_of": query.any_of,
        "by_name": sort == "name",
        "exhaustive": exhaustive,
        "offset": (page - 1) * PAGE_SIZE,
        "page_size": PAGE_SIZE,
        # With semantic ranking, at least the blend's pool of lexical candidates.
        "depth": max(page * PAGE_SIZE, NEIGHBOURS if semantic else 0),
        "count_cap": COUNT_CAP,
        "categories_shown": FACET_SIZE["category"],
        "tags_shown": FACET_SIZE["tag"],
        "vector": query_vector(" ".join(query.words)) if semantic else None,
        "neighbours": NEIGHBOURS,
        "semantic_weight": SEMANTIC_WEIGHT,
    }


def statement_for(params: dict[str, Any]) -> Statement:
    """search.sql; with no words but a filter, browse.sql (document_search answers neither set)."""
    return SEARCH if params["words"] else BROWSE


def settings_params(params: dict[str, Any], *, timeout: str) -> dict[str, str]:
    """The parameters of SEARCH_SETTINGS: PLANNING by filter (browsing has one), the time limit ("0": none)."""
    plan_cache_mode, enable_seqscan = PLANNING["each" if params["categories"] or params["tags"] else "cached"]
    return {
        "plan_cache_mode": plan_cache_mode,
        "enable_seqscan": enable_seqscan,
        "timeout": timeout,
        "ef_search": str(NEIGHBOURS),
    }


def document_search(
    *,
    text: str,
    page: int = 1,
    categories: Sequence[str] = (),
    tags: Sequence[str] = (),
    sort: str = "relevance",
    exhaustive: bool = False,
) -> SearchResult:
    """Search the overlay (index plus pending edits); see the module docstring.

    ``exhaustive`` ranks every match instead of skipping the tiers that cannot
    reach the page: the same results, slower, and with no time limit; tests and
    benchmarks compare the two. Raises SearchTooExpensive past the time limit.
    """
    started = time.perf_counter()
    query = parse(text)
    page = min(max(page, 1), MAX_PAGE)
    if not query.words and not (categories or tags):
        return SearchResult(query=text, total=0, page=page, took_ms=0.0, hits=[], facets=_no_facets())
    params = search_params(query, page=page, categories=categories, tags=tags, sort=sort, exhaustive=exhaustive)
    # A read of the search models: where the router sends them (a replica, if there is one).
    using = router.db_for_read(SearchOverlay)
    timeout = "0" if exhaustive else str(conf.search_timeout_ms())
    try:
        with (
            transaction.atomic(using=using),
            connections[using].cursor() as django_cursor,
            django_cursor.db.wrap_database_errors,  # psycopg's errors as Django's, as for any query
        ):
            # Bound and prepared on the server: parsed once per connection, and
            # planned once too unless it filters (PLANNING).
            cursor = psycopg.RawCursor(django_cursor.connection)
            cursor.execute(SEARCH_SETTINGS.numbered, SEARCH_SETTINGS.args(settings_params(params, timeout=timeout)))
            statement = statement_for(params)
            cursor.execute(statement.numbered, statement.args(params), prepare=True)
            row = cursor.fetchone()
            if row is None:  # Every word was punctuation: nothing to match.
                return SearchResult(query=text, total=0, page=page, took_ms=0.0, hits=[], facets=_no_facets())
            counted, hits, related, category_counted, category_facets, tag_counted, tag_facets, corrections, match = row
            params["match"] = match
            # The nearest items that do not match the words are results too (not in the facets).
            total = _size(cursor, counted, params) + related
            # A facet with values chosen was counted without its own filter.
            category_total = _size(cursor, category_counted, {**params, "categories": []}) if categories else total
            tag_total = _size(cursor, tag_counted, {**params, "tags": []}) if tags else total
    except OperationalError as exc:
        if isinstance(exc.__cause__, psycopg.errors.QueryCanceled):
            raise SearchTooExpensive(SearchTooExpensive.message) from exc
        raise
    return SearchResult(
        query=text,
        total=total,
        page=page,
        took_ms=round((time.perf_counter() - started) * 1000, 2),
        hits=[_hit(_json(value), query) for value in hits],
        facets={
            "category": _facet_values(category_facets, category_total / max(category_counted, 1)),
            "tag": _facet_values(tag_facets, tag_total / max(tag_counted, 1)),
        },
        suggestion=_corrected(text, map(_json, corrections)),
        total_is_estimate=counted >= COUNT_CAP,
        estimated_facets=frozenset(
            facet for facet, n in (("category", category_counted), ("tag", tag_counted)) if n >= COUNT_CAP
        ),
        browsing=statement is BROWSE,
    )


def _size(cursor: psycopg.RawCursor[Any], counted: int, params: dict[str, Any]) -> int:
    """How many items the filters in ``params`` leave: as counted, or the planner's estimate past the cap."""
    if counted < COUNT_CAP:
        return counted
    cursor.execute(ESTIMATE.numbered, ESTIMATE.args(params))
    return max(counted, _planned_rows(cursor.fetchone()[0]))  # type: ignore[index]


def _hit(value: list[Any], query: ParsedQuery) -> Hit:
    id, name, summary, category, tags, score, words, phrase, name_bonus, prior, *blend, snippet, marked = value
    lexical, semantic = blend
    # Name and summary, each marked stemmed and as typed (search.sql).
    names, summaries = (marked[:2], marked[2:]) if marked else ([name], [summary])
    typed = _typed_prefix(query)
    return Hit(
        id=id,
        name=name or "",
        summary=summary or "",
        category=category or "",
        tags=tags or [],
        snippet=highlight(snippet or "", typed=typed),
        score=ScoreParts(
            score=score, words=words, phrase=phrase, name=name_bonus, prior=prior, lexical=lexical, semantic=semantic
        ),
        marked_name=highlight(*(text or "" for text in names), typed=typed),
        marked_summary=highlight(*(text or "" for text in summaries), typed=typed),
    )


@dataclass(frozen=True)
class TypedPrefix:
    """The unfinished last word, and the words typed in full before it."""

    prefix: str
    words: tuple[str, ...]


def _typed_prefix(query: ParsedQuery) -> TypedPrefix | None:
    """The last word while it is typed, split as the statement splits words ("web/pro": "pro")."""
    parts = [part for word in query.words for part in re.split(r"\W+", word) if part]
    if not query.prefix or not parts:
        return None
    return TypedPrefix(prefix=parts[-1], words=tuple(parts[:-1]))


def _corrected(text: str, corrections: Iterable[tuple[str, str]]) -> str | None:
    """The text with each misspelt word replaced, the rest (syntax, case) as typed; None if none was."""
    suggestion = text
    for typed, correction in corrections:
        # Words joined by a correction may be apart by any spaces.
        words = r"\s+".join(map(re.escape, typed.split()))
        suggestion = re.sub(rf"(?<!\w){words}(?!\w)", correction, suggestion, flags=re.IGNORECASE)
    return " ".join(suggestion.split()) if suggestion != text else None


def _facet_values(counts: list[Any], scale: float) -> list[FacetValue]:
    return [FacetValue(value, round(n * scale)) for value, n in map(_json, counts)]


def _planned_rows(plan: Any) -> int:
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


def _json(value: Any) -> Any:
    """psycopg returns json elements of a SQL array as text or as parsed values, by version."""
    return json.loads(value) if isinstance(value, str) else value


def _no_facets() -> dict[str, list[FacetValue]]:
    return {facet: [] for facet in FACET_SIZE}


def highlight(*headlines: str, typed: TypedPrefix | None = None) -> SafeString:
    """Escape the item's text; only the marks ts_headline placed become HTML.

    Several headlines of one text (stemmed, and as typed with its words split
    by ``catalog_search_words``, which moves no character) mark the union of
    their marks, by position. A mark on a completion of the word being typed covers the
    typed letters only ("thunderb" marks "Thunderb" in "Thunderbird"), as
    instant search shows what the box holds; a word that starts with a word
    typed in full keeps its whole mark.
    """
    text, spans = _unmarked(headlines[0])
    for other in headlines[1:]:
        other_text, other_spans = _unmarked(other)
        if len(other_text) == len(text):
            spans += other_spans
    parts: list[str] = []
    shown = 0
    for start, end in _merged(spans):
        run = text[start:end]
        cut = len(run)
        if typed and run.lower().startswith(typed.prefix) and not run.lower().startswith(typed.words):
            cut = len(typed.prefix)
        parts += [escape(text[shown:start]), "<mark>", escape(run[:cut]), "</mark>", escape(run[cut:])]
        shown = end
    parts.append(escape(text[shown:]))
    return mark_safe("".join(parts))


def _unmarked(headline: str) -> tuple[str, list[tuple[int, int]]]:
    """The text without ts_headline's marks, and where the marked runs are in it."""
    text: list[str] = []
    spans: list[tuple[int, int]] = []
    length, inside = 0, False
    for part in _MARKS.split(headline):
        if part in (MARK_START, MARK_STOP):
            inside = part == MARK_START
        elif part:
            if inside:
                spans.append((length, length + len(part)))
            text.append(part)
            length += len(part)
    return "".join(text), spans


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The union of the spans as runs apart from each other, in order: spans that touch are one run."""
    runs: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if runs and start <= runs[-1][1]:
            runs[-1] = (runs[-1][0], max(end, runs[-1][1]))
        else:
            runs.append((start, end))
    return runs
