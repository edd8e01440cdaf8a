"""Request parsing: any query string becomes valid search parameters."""

from __future__ import annotations

import re
from typing import Any

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
