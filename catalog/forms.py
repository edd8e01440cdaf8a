"""Request parsing: any query string becomes valid search parameters."""

from __future__ import annotations

import re
from typing import Any

from django import forms

# Longer queries are cut rather than refused, as Meilisearch and Algolia do.
MAX_QUERY_LENGTH = 200
MAX_PAGE = 500
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]+")


class QueryField(forms.CharField):
    """Search text: control characters (NUL included) become spaces, then it is cut to size."""

    def to_python(self, value: Any) -> str:
        text = _CONTROL_CHARACTERS.sub(" ", super().to_python(value))
        return " ".join(text.split())[:MAX_QUERY_LENGTH]


class SearchForm(forms.Form):
    q = QueryField(required=False, strip=True)
    page = forms.IntegerField(required=False, min_value=1, max_value=MAX_PAGE)

    def search_params(self) -> dict[str, Any]:
        """The arguments of ``document_search``; an invalid page falls back to the first."""
        self.is_valid()
        return {"text": self.cleaned_data.get("q", ""), "page": self.cleaned_data.get("page") or 1}
