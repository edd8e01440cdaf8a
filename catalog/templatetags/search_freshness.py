"""``|duration`` and ``|ago``: the index's freshness in words (catalog/search/freshness.py)."""

from __future__ import annotations

from django import template

from catalog.search.freshness import age_text, duration_text

register = template.Library()

register.filter("duration", duration_text)
register.filter("ago", age_text)
