"""Rank safety, measured: the served top ten against ranking every match, query by query.

The search reads tiers of candidates and stops once no unread item can reach
the page (catalog/search/sql/search.sql). This compares its top ten with the
exhaustive top ten of the same formula (``exhaustive=True``) over the most
common words of the index, two-word queries, prefixes and rarer words, and
times both side by side.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from bench.stats import Latency

TOP = 10
COMMON_WORDS = 20
# The most common words, then words ranked every 50th down the vocabulary.
VOCABULARY_SQL = """
    SELECT word FROM catalog_searchword WHERE length(word) >= 3 AND word ~ '^[a-z][a-z0-9]+$'
    ORDER BY documents DESC, word LIMIT %s
"""


@dataclass(frozen=True)
class RankSafety:
    queries: list[str]
    overlaps: list[float]
    tiered: Latency
    exhaustive: Latency

    def as_json(self) -> dict[str, Any]:
        return {
            "queries": len(self.queries),
            "mean_overlap": sum(self.overlaps) / len(self.overlaps),
            "min_overlap": min(self.overlaps),
            "below_1": [q for q, o in zip(self.queries, self.overlaps, strict=True) if o < 1],
            "tiered": self.tiered.as_json(),
            "exhaustive": self.exhaustive.as_json(),
        }


def safety_queries() -> list[str]:
    """The 20 most common words, two-word pairs of them and of others, prefixes and rarer words."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(VOCABULARY_SQL, [2000])
        words = [word for (word,) in cursor.fetchall()]
    common, others = words[:COMMON_WORDS], words[COMMON_WORDS::50]
    pairs = [f"{a} {b}" for a, b in zip(common[::2], common[1::2], strict=False)]
    pairs += [f"{a} {b}" for a, b in zip(common, others, strict=False)][:10]
    prefixes = [word[:4] for word in others[:10]]
    return common + pairs + prefixes + others[:10]


def measure() -> RankSafety:
    from catalog.search.query import document_search

    queries = safety_queries()
    overlaps, tiered, exhaustive = [], [], []
    for text in queries:
        started = time.perf_counter()
        served = [hit.id for hit in document_search(text=text).hits[:TOP]]
        tiered.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        every = [hit.id for hit in document_search(text=text, exhaustive=True).hits[:TOP]]
        exhaustive.append((time.perf_counter() - started) * 1000)
        overlaps.append(len(set(served) & set(every)) / max(1, len(every)) if every else float(not served))
    return RankSafety(queries, overlaps, Latency.of(tiered), Latency.of(exhaustive))
