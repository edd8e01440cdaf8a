"""What semantic ranking costs, on the catalog in the current database, side by side with words alone.

    .venv/bin/python -m bench.semantic [--rounds R]

Prints, for the items there: embedding every name and summary (the import's
work, progress bar included), building the HNSW index afresh (a copy of the
index's, dropped after) and its size, and search latency in process for the
judgement set's queries and a few common words, with semantic ranking off
(words alone, the baseline) and on, query after query, in one process.
docs/benchmarks.md records a run; the million-item figures are the lead's.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from bench.database import setup_django
from bench.stats import Latency, markdown_table, ms

# The judgement set's queries, and words whose matches are many (the tiers' hard case).
COMMON_WORDS = ("python", "library", "web", "data", "editor", "server")
HNSW_SQL = (
    "CREATE INDEX bench_vector_hnsw ON catalog_searchindex USING hnsw (vector vector_cosine_ops)"
    " WITH (m = 16, ef_construction = 64)"
)


def embedding_seconds() -> tuple[int, float]:
    """Every item's text embedded as the import embeds it (in batches, a bar): items and seconds."""
    from tqdm import tqdm

    from catalog.models import Item
    from catalog.search.embedding import BATCH_SIZE, embed, item_text, model

    texts = [item_text(name, summary) for name, summary in Item.objects.values_list("name", "summary")]
    model()  # loaded once per process, not timed: the import pays it once too
    started = time.perf_counter()
    with tqdm(total=len(texts), desc="embedding", unit=" items") as bar:
        for start in range(0, len(texts), BATCH_SIZE):
            embed(texts[start : start + BATCH_SIZE])
            bar.update(len(texts[start : start + BATCH_SIZE]))
    return len(texts), time.perf_counter() - started


def hnsw_build() -> tuple[float, int, int]:
    """Seconds to build the index's HNSW index afresh, its size and the vectors' (bytes); dropped after."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(HNSW_SQL)
        seconds = time.perf_counter() - started
        cursor.execute(
            "SELECT pg_relation_size('bench_vector_hnsw'), pg_relation_size('searchindex_vector_hnsw'),"
            " (SELECT sum(pg_column_size(vector)) FROM catalog_searchindex)"
        )
        built, served, vectors = cursor.fetchone()
        transaction.set_rollback(True)
    assert built > 0 and served > 0
    return seconds, built, int(vectors)


def latencies(queries: list[str], rounds: int) -> dict[str, tuple[Latency, Latency]]:
    """Per query kind: (words alone, hybrid), each query timed alternately, warm."""
    from django.test.utils import override_settings

    from catalog.search.quality import load_judgements
    from catalog.search.query import document_search

    kinds = {judgement.query: judgement.kind for judgement in load_judgements()}
    samples: dict[str, tuple[list[float], list[float]]] = {}

    def timed(search: Callable[[], object]) -> float:
        started = time.perf_counter()
        search()
        return (time.perf_counter() - started) * 1000

    for text in queries:  # warm: plans, caches, the model
        document_search(text=text)
    for _ in range(rounds):
        for text in queries:
            lexical, hybrid = samples.setdefault(kinds.get(text, "common word"), ([], []))
            with override_settings(SEARCH_SEMANTIC=False):
                lexical.append(timed(lambda text=text: document_search(text=text)))  # type: ignore[misc]
            hybrid.append(timed(lambda text=text: document_search(text=text)))  # type: ignore[misc]
    everything = ([t for lex, _ in samples.values() for t in lex], [t for _, hyb in samples.values() for t in hyb])
    return {
        kind: (Latency.of(lexical), Latency.of(hybrid))
        for kind, (lexical, hybrid) in {**samples, "all": everything}.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="times each query is run, each way")
    args = parser.parse_args()
    setup_django()
    from catalog.search.embedding import query_vector
    from catalog.search.quality import load_judgements

    items, seconds = embedding_seconds()
    print(f"embedding {items:,} items: {seconds:.1f} s ({items / seconds:,.0f} items/s)")
    runs = 1000
    started = time.perf_counter()
    for _ in range(runs):
        query_vector("pdf viewer for the desktop")
    print(f"a query's vector: {(time.perf_counter() - started) * 1000 / runs:.3f} ms")
    build, size, vectors = hnsw_build()
    print(
        f"HNSW build (m 16, ef_construction 64): {build:.1f} s, {size / 2**20:.0f} MB"
        f" (vectors {vectors / 2**20:.0f} MB)"
    )
    queries = [judgement.query for judgement in load_judgements()] + list(COMMON_WORDS)
    rows = []
    for kind, (lexical, hybrid) in latencies(queries, args.rounds).items():
        added = hybrid.p95 - lexical.p95
        rows.append(
            [kind, lexical.samples, ms(lexical.p50), ms(lexical.p95), ms(hybrid.p50), ms(hybrid.p95), ms(added)]
        )
    print()
    print(f"search in process, ms ({args.rounds} rounds; words alone is the baseline, run alternately)")
    headers = ["queries", "runs", "words p50", "words p95", "hybrid p50", "hybrid p95", "added p95"]
    print(markdown_table(headers, rows))


if __name__ == "__main__":
    main()
