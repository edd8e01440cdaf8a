"""The most expensive searches we can construct, each bounded by the search's time limit.

A search that would cost more than ``SEARCH_TIMEOUT_MS`` is refused with a
reason (``SearchTooExpensive``, a 422 on the site) instead of running on:
this times each of them through ``document_search`` and says which were
answered and which refused.
"""

from __future__ import annotations

import time
from typing import Any

# Many words (past MAX_TERMS they are dropped), many short prefixes, the most
# common words in a phrase, "or" (which reads every tier), typos everywhere,
# a deep page and a filter on the largest category.
WORST: list[tuple[str, dict[str, Any]]] = [
    (" ".join(["package", "library", "files", "support", "data", "provides", "program", "python", "tool"] * 3), {}),
    (" or ".join(["package", "library", "files", "support", "data", "provides", "program", "python"]), {}),
    ("pa li fi su da pr", {}),
    ("p", {}),
    ('"package library files support data"', {}),
    ("libary pakage suport progam fles", {}),
    ("library", {"page": 50}),
    ("package", {"categories": ["libs"], "page": 50}),
    ("-package -library -files data", {}),
    ("x" * 200, {}),
]


def measure() -> list[dict[str, Any]]:
    from catalog.search.query import SearchTooExpensive, document_search

    rows = []
    for text, options in WORST:
        started = time.perf_counter()
        try:
            result = document_search(text=text, **options)
            outcome = f"{result.total:,} results"
        except SearchTooExpensive:
            outcome = "refused: too expensive"
        rows.append({"query": text[:60], **options, "ms": (time.perf_counter() - started) * 1000, "outcome": outcome})
    return rows
