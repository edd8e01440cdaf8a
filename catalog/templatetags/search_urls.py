"""``{% search_url %}``: the address of the current search with one thing changed."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()

REPEATABLE = ("category", "tag")
# Values that are the default anyway: left out, so every state has one address.
DEFAULTS = {"page": "1"}


@register.simple_tag(takes_context=True)
def search_url(context: dict[str, Any], **changes: Any) -> str:
    """Toggle a filter value (category, tag; None clears it) or set a parameter; any change but a page goes to page 1.

    Every state of the page is a URL, so back, forward and sharing restore it.
    """
    params = context["request"].GET.copy()
    if "page" not in changes:
        params.pop("page", None)
    for key, value in changes.items():
        if key in REPEATABLE and value is None:  # every value of it off
            params.pop(key, None)
        elif key in REPEATABLE:
            values = params.getlist(key)
            params.setlist(key, [v for v in values if v != value] if value in values else [*values, value])
        elif value in (None, "") or DEFAULTS.get(key) == str(value):
            params.pop(key, None)
        else:
            params[key] = str(value)
    return f"?{params.urlencode()}"
