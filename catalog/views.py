"""Thin views: parse the request, run the search, render."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from catalog.forms import SearchForm
from catalog.models import Item
from catalog.search.freshness import index_status
from catalog.search.query import FacetValue, SearchResult, SearchTooExpensive, document_search

# Offered on the empty page and when nothing matches.
EXAMPLE_QUERIES = ["web browser", "pdf viewer", "vlc", "text editor", "thunderb"]

# Page numbers shown on each side of the current one, and at each end.
NEARBY_PAGES = 2
END_PAGES = 1

# Values of a facet shown at first; the others behind "Show more".
FACET_SHOWN = 8

# Item text may hold markup: keep it inert even where a client pastes JSON into HTML.
_HTML_SAFE = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


class HTMLSafeJSONEncoder(DjangoJSONEncoder):
    def encode(self, o: object) -> str:
        return super().encode(o).translate(_HTML_SAFE)


@require_GET
@vary_on_headers("HX-Request")
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    params = form.search_params()
    status, error = 200, None
    try:
        result = document_search(**params)
    except SearchTooExpensive as exc:
        result = SearchResult(query=params["text"], total=0, page=params["page"], took_ms=0.0, hits=[])
        status, error = 422, str(exc)
    context = {
        "form": form,
        "params": params,
        "result": result,
        "error": error,
        "examples": EXAMPLE_QUERIES,
        "pages": page_numbers(result),
        "facets": facet_lists(result, params),
        # How many filter values are chosen.
        "filtered": len(params["categories"]) + len(params["tags"]),
        # Item links carry the search, so the item page can link back to it.
        "search_query": form.query_string(),
    }
    # htmx swaps in the results alone; a history restore needs the whole page.
    if request.htmx and not request.htmx.history_restore_request:  # type: ignore[attr-defined]
        # "partial": the status and filters outside #results come along out of band.
        return render(request, "catalog/search.html#results", {**context, "partial": True}, status=status)
    return render(request, "catalog/search.html", {**context, "index": index_status()}, status=status)


@dataclass(frozen=True)
class FacetList:
    """One facet as the page shows it: the first values, the rest behind "Show more"."""

    name: str  # the request parameter: "category", "tag"
    label: str
    shown: Sequence[FacetValue]
    more: Sequence[FacetValue]
    chosen: Sequence[str]
    estimated: bool

    @property
    def more_holds_a_choice(self) -> bool:
        """A chosen value is among the rest: "Show more" starts open, so that it shows."""
        return any(value.value in self.chosen for value in self.more)


def facet_lists(result: SearchResult, params: dict[str, Any]) -> list[FacetList]:
    chosen = {"category": params["categories"], "tag": params["tags"]}
    labels = {"category": "Category", "tag": "Tag"}
    return [
        FacetList(
            name=facet,
            label=labels[facet],
            shown=values[:FACET_SHOWN],
            more=values[FACET_SHOWN:],
            chosen=chosen[facet],
            estimated=facet in result.estimated_facets,
        )
        for facet, values in result.facets.items()
        if values
    ]


def page_numbers(result: SearchResult) -> list[int | None]:
    """The pages to link: the first, those near the current one, the last; None for a gap.

    Django's elided range over ``result.num_pages`` (one "row" per page), which
    stops at the ranked depth: no link leads past the pages the result offers.
    """
    pages = Paginator(range(result.num_pages), per_page=1)
    current = min(result.page, pages.num_pages)
    numbers = pages.get_elided_page_range(current, on_each_side=NEARBY_PAGES, on_ends=END_PAGES)
    return [number if isinstance(number, int) else None for number in numbers]


@require_GET
def item_detail(request: HttpRequest, name: str) -> HttpResponse:
    item = get_object_or_404(Item.objects.select_related("category").prefetch_related("tags"), name=name)
    # The search the person came from, re-validated, for the link back to its results.
    search_query = SearchForm(request.GET).query_string()
    return render(request, "catalog/item_detail.html", {"item": item, "search_query": search_query})


@require_GET
def api_search(request: HttpRequest) -> JsonResponse:
    try:
        result = document_search(**SearchForm(request.GET).search_params())
    except SearchTooExpensive as exc:
        return JsonResponse({"error": str(exc)}, status=422)
    return JsonResponse(
        {
            "query": result.query,
            "total": result.total,
            # Past COUNT_CAP matches, total and facet counts are the planner's estimate.
            "total_is_estimate": result.total_is_estimate,
            # The results the pages offer: the best RANK_DEPTH at most.
            "ranked": result.ranked,
            "page": result.page,
            "took_ms": result.took_ms,
            "suggestion": result.suggestion,
            "facets": {
                facet: [{"value": v.value, "count": v.count} for v in values] for facet, values in result.facets.items()
            },
            "results": [
                {
                    "id": hit.id,
                    "name": hit.name,
                    "summary": hit.summary,
                    "category": hit.category,
                    "tags": hit.tags,
                    "url": request.build_absolute_uri(reverse("catalog:item", args=[hit.name])),
                    "snippet": str(hit.snippet),
                    "score": asdict(hit.score),
                }
                for hit in result.hits
            ],
        },
        encoder=HTMLSafeJSONEncoder,
    )


@require_GET
def api_index_status(request: HttpRequest) -> JsonResponse:
    return JsonResponse(index_status().as_json())
