"""Why the index's GIN indexes have fastupdate off: search time and refresh time, on and off.

A concurrent refresh rewrites every changed row of the materialized view. With
fastupdate on, those entries wait in the GIN pending list, which every search
scans until vacuum or gin_clean_pending_list() merges it. Measured side by side
on one database (the freshness benchmark's):

    .venv/bin/python -m bench.gin_fastupdate [--database searchsite_bench_full] [--edits 10000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from bench.freshness import QUERIES, RANKED_PAGE_SQL, STORED_OVERLAY, setup_django

INDEX = "searchindex_document_gin"


def search_ms(conn: Any, rounds: int = 10) -> float:
    sql = RANKED_PAGE_SQL.format(overlay=STORED_OVERLAY)
    samples = []
    for _ in range(rounds):
        for query in QUERIES:
            started = time.perf_counter()
            conn.execute(sql, {"q": query}).fetchone()
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def edit(conn: Any, count: int, marker: str) -> None:
    """Change the documents of ``count`` items (a refresh skips rows whose document is unchanged)."""
    conn.execute(
        "UPDATE catalog_item SET summary = regexp_replace(summary, ' ginprobe\\w+$', '') || ' ginprobe' || %s"
        " WHERE id IN (SELECT id FROM catalog_item ORDER BY id LIMIT %s)",
        [marker, count],
    )


def pending_pages(conn: Any) -> int:
    return conn.execute("SELECT pending_pages FROM pgstatginindex(%s::regclass)", [INDEX]).fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="searchsite_bench_full")
    parser.add_argument("--edits", type=int, default=10_000)
    args = parser.parse_args()
    setup_django(args.database)
    from catalog.search.refresh import connect, refresh_index

    with connect() as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pgstattuple")
        refresh_index(conn)
        print(f"{args.edits:,} items edited, then a concurrent refresh; search = median ms of the ranked page\n")
        print("| fastupdate | refresh (s) | GIN pending pages | search (ms) | after gin_clean_pending_list (ms) |")
        print("|---|---:|---:|---:|---:|")
        for setting in ("on", "off"):
            conn.execute(f"ALTER INDEX {INDEX} SET (fastupdate = {setting})")
            edit(conn, args.edits, setting)
            started = time.perf_counter()
            refresh_index(conn)
            refresh_seconds = time.perf_counter() - started
            pages, before = pending_pages(conn), search_ms(conn)
            conn.execute("SELECT gin_clean_pending_list(%s::regclass)", [INDEX])
            print(f"| {setting} | {refresh_seconds:.1f} | {pages:,} | {before:.2f} | {search_ms(conn):.2f} |")
        conn.execute(f"ALTER INDEX {INDEX} SET (fastupdate = off)")


if __name__ == "__main__":
    main()
