"""Search quality, measured: a judgement set of real queries and the metrics that score a ranking.

Ranking changes (stemming, typo tolerance, prefixes, weights) trade one kind of query against
another; scoring every change on the same judged queries shows what it won and what it cost.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.test.utils import override_settings

from catalog.search.embedding import query_vector
from catalog.search.query import NEIGHBOURS, document_search

DEFAULT_PATH = Path(__file__).with_name("judgements.json")
# Written like the first, never used to tune the ranking: does it generalise?
HOLDOUT_PATH = Path(__file__).with_name("judgements-holdout.json")
# The whole Debian catalog beside the checkout (not in the repository): the
# judgement sets are written for it, not for the demo's sample of it.
FULL_CATALOG = Path(settings.BASE_DIR).parent / "shared" / "data" / "debian-bookworm-packages.jsonl.gz"
# What a person types: a package's name, what it does, a misspelling, a name half typed (search as
# you type sees every prefix), or several words that narrow a kind.
KINDS = ("name", "kind-of-thing", "typo", "prefix", "multi-word")
# Results a person reads before giving up on a query; success counts the first screen only.
TOP = 10
SUCCESS_DEPTH = 5


@dataclass(frozen=True)
class Judgement:
    """One query and the packages a person would accept near the top, most wanted first."""

    query: str
    kind: str
    relevant: tuple[str, ...]


def load_judgements(path: Path = DEFAULT_PATH) -> list[Judgement]:
    """Read and check the judgement set, so a malformed entry fails loudly rather than scoring 0."""
    entries = json.loads(path.read_text(encoding="utf-8"))
    judgements = []
    for number, entry in enumerate(entries, start=1):
        judgement = Judgement(query=entry["query"], kind=entry["kind"], relevant=tuple(entry["relevant"]))
        if judgement.kind not in KINDS:
            raise ValueError(f"{path.name} entry {number}: kind {judgement.kind!r} is not one of {KINDS}")
        if not judgement.query.strip() or not judgement.relevant:
            raise ValueError(f"{path.name} entry {number}: needs a query and at least one relevant name")
        judgements.append(judgement)
    return judgements


@dataclass(frozen=True)
class QueryScore:
    """How one query fared: what came back, and where the first acceptable package was."""

    judgement: Judgement
    found: tuple[str, ...]
    reciprocal_rank: float
    success_at_5: bool


@dataclass(frozen=True)
class QualityReport:
    """Per-query scores and their means, overall and per kind of query."""

    scores: list[QueryScore]

    @property
    def success_at_5(self) -> float:
        """Share of queries with an acceptable package on the first screen."""
        return _mean(float(score.success_at_5) for score in self.scores)

    @property
    def mrr_at_10(self) -> float:
        """Mean reciprocal rank: rewards putting the first acceptable package higher."""
        return _mean(score.reciprocal_rank for score in self.scores)

    def by_kind(self) -> dict[str, tuple[float, float]]:
        """(success@5, MRR@10) per kind, in KINDS order, since a change often helps one kind only."""
        result = {}
        for kind in KINDS:
            report = QualityReport([score for score in self.scores if score.judgement.kind == kind])
            if report.scores:
                result[kind] = (report.success_at_5, report.mrr_at_10)
        return result

    def worst(self, n: int) -> list[QueryScore]:
        """The n lowest-scoring queries (ties keep the judgement order): where to look first."""
        ranked = sorted(self.scores, key=lambda score: (score.reciprocal_rank, score.success_at_5))
        return ranked[: max(n, 0)]


def evaluate(judgements: Iterable[Judgement], search: Callable[[str], list[str]]) -> QualityReport:
    """Run every judged query through ``search`` (text in, ranked names out) and score it."""
    return QualityReport([_score(judgement, search(judgement.query)) for judgement in judgements])


def site_search(text: str) -> list[str]:
    """The site's own ranking, as the search page and the API show it."""
    return [hit.name for hit in document_search(text=text).hits[:TOP]]


def lexical_search(text: str) -> list[str]:
    """The site's ranking with semantic ranking off (settings.SEARCH_SEMANTIC): words alone."""
    with override_settings(SEARCH_SEMANTIC=False):
        return site_search(text)


# The items nearest the query's vector, through the index's HNSW index, which
# keeps as many candidates as the site's search does.
NEAREST_SQL = "SELECT name FROM catalog_searchindex ORDER BY vector <=> %s::vector LIMIT %s"


def semantic_search(text: str) -> list[str]:
    """Semantic ranking alone: the items nearest the query's vector, nothing else."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('hnsw.ef_search', %s, true)", [str(NEIGHBOURS)])
        cursor.execute(NEAREST_SQL, [query_vector(text), TOP])
        return [name for (name,) in cursor.fetchall()]


RANKINGS: dict[str, Callable[[str], list[str]]] = {
    "lexical": lexical_search,
    "semantic": semantic_search,
    "hybrid": site_search,
}


def _score(judgement: Judgement, ranked: list[str]) -> QueryScore:
    found = tuple(ranked[:TOP])
    relevant = set(judgement.relevant)
    first = next((rank for rank, name in enumerate(found, start=1) if name in relevant), None)
    return QueryScore(
        judgement=judgement,
        found=found,
        reciprocal_rank=1 / first if first else 0.0,
        success_at_5=first is not None and first <= SUCCESS_DEPTH,
    )


def _mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items) if items else 0.0


@contextmanager
def catalog_database(path: Path) -> Iterator[None]:
    """A scratch database holding the catalog file, indexed; dropped afterwards.

    Django's test-database machinery makes it (``<name>_quality``), so the
    database the site uses is left as it was.
    """
    from catalog.importer import catalog_import
    from catalog.search.refresh import connect, refresh_index

    settings_dict = connection.settings_dict
    old_name = settings_dict["NAME"]
    settings_dict["TEST"] = {**settings_dict.get("TEST", {}), "NAME": f"{old_name}_quality"}
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        catalog_import(path=path)
        with connect() as conn:
            refresh_index(conn)
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
