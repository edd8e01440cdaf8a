"""Request parsing: any query string becomes valid search parameters."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from django import forms

from catalog.search.query import MAX_PAGE, SORTS

# Longer queries are cut rather than refused, as Meilisearch and Algolia do.
MAX_QUERY_LENGTH = 200
# Facet filters a URL may carry; more are ignored.
MAX_FILTER_VALUES = 10
MAX_FILTER_LENGTH = 200
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]+")


def _clean_text(value: str, max_length: int) -> str:
    return " ".join(_CONTROL_CHARACTERS.sub(" ", value).split())[:max_length]


class QueryField(forms.CharField):
    """Search text: control characters (NUL included) become spaces, then it is cut to size."""

    def to_python(self, value: Any) -> str:
        return _clean_text(super().to_python(value) or "", MAX_QUERY_LENGTH)


class FilterValuesField(forms.Field):
    """A repeatable parameter (``?tag=a&tag=b``): any values, cleaned and deduplicated."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[str]:
        values = [_clean_text(str(v), MAX_FILTER_LENGTH) for v in (value or [])]
        return list(dict.fromkeys(v for v in values if v))[:MAX_FILTER_VALUES]


class SearchForm(forms.Form):
    q = QueryField(required=False)
    page = forms.IntegerField(required=False, min_value=1, max_value=MAX_PAGE)
    category = FilterValuesField(required=False)
    tag = FilterValuesField(required=False)
    sort = forms.ChoiceField(required=False, choices=[(sort, sort) for sort in SORTS])

    def search_params(self) -> dict[str, Any]:
        """The arguments of ``document_search``; an invalid value falls back to its default."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "text": data.get("q", ""),
            "page": data.get("page") or 1,
            "categories": data.get("category", []),
            "tags": data.get("tag", []),
            "sort": data.get("sort") or SORTS[0],
        }

    def query_string(self) -> str:
        """The search as a query string to link back to it ("?q=vlc&page=2", "" for none).

        Built from the validated parameters, with defaults left out: whatever a
        request carried, the link holds only a valid search.
        """
        params = self.search_params()
        pairs = [("q", params["text"])] if params["text"] else []
        pairs += [("category", value) for value in params["categories"]]
        pairs += [("tag", value) for value in params["tags"]]
        if params["sort"] != SORTS[0]:
            pairs.append(("sort", params["sort"]))
        if params["page"] > 1:
            pairs.append(("page", str(params["page"])))
        return f"?{urlencode(pairs)}" if pairs else ""
