"""Freshness benchmark: search latency against the pending backlog, commit to searchable, refresh.

For each backlog (0, 100, 1,000, 10,000 items edited since the last refresh) it
times the site's own search (``document_search``, all its statements) side by
side with the alternative overlay shape that computes pending documents per
query from the plain view (the shape in ../shared/NOTES.md). Then it times how
long an edit takes to commit and to become searchable from another connection,
and how long the refresh that claims the backlog takes.

Usage (the embedded server starts on demand; the catalog is loaded once into
its own database, ``searchsite_bench`` by default):

    .venv/bin/python -m bench.freshness [--catalog FILE] [--database NAME] [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench.stats import percentile
from catalog.search import TEXT_SEARCH_CONFIG

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CATALOG = ROOT / "catalog" / "fixtures" / "demo-catalog.jsonl.gz"
BACKLOGS = [0, 100, 1_000, 10_000]
QUERIES = [
    "web browser",
    "pdf viewer",
    "vlc",
    "text editor",
    "python library",
    "mail client",
    "database server",
    "image",
    "network monitoring tool",
    '"media player"',
    "game -chess",
    "firefox",
]

# One statement shape, two overlays: the count and the ranked first page.
RANKED_PAGE_SQL = f"""
    WITH matches AS (
        SELECT id, name, document FROM {{overlay}}
        WHERE document @@ websearch_to_tsquery('{TEXT_SEARCH_CONFIG}', %(q)s)
    )
    SELECT (SELECT count(*) FROM matches), array(
        SELECT id FROM matches
        ORDER BY ts_rank(document, websearch_to_tsquery('{TEXT_SEARCH_CONFIG}', %(q)s)) DESC, name LIMIT 20
    )
"""
# Ours: pending documents were computed by the triggers, at edit time.
STORED_OVERLAY = "catalog_searchoverlay"
# The alternative: compute the documents of pending items per query, from the plain view.
LIVE_OVERLAY = """(
    SELECT id, name, document FROM catalog_searchindex AS indexed
    WHERE NOT EXISTS (SELECT FROM catalog_searchpending AS p WHERE p.item_id = indexed.id)
    UNION ALL
    SELECT id, name, document FROM catalog_searchdocument
    WHERE id IN (SELECT item_id FROM catalog_searchpending)
) AS live_overlay"""


def setup_django(database: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "searchsite.settings")
    sys.path.insert(0, str(ROOT))
    from searchsite.embedded_postgres import ensure_running

    ensure_running()
    import django
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = database
    django.setup()
    import psycopg

    from catalog.db import connection_params

    with psycopg.connect(**{**connection_params(), "dbname": "postgres"}, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
            conn.execute(f'CREATE DATABASE "{database}"')


def load_catalog(path: Path) -> None:
    """Import the catalog unless this database already holds exactly its items."""
    from django.core.management import call_command

    from catalog.importer import _read_lines, checked_records
    from catalog.models import Item

    call_command("migrate", verbosity=0)
    names = {record["name"] for record in checked_records(_read_lines(path, progress=False))}
    if set(Item.objects.values_list("name", flat=True)) == names:
        return
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE catalog_itemtag, catalog_item, catalog_category, catalog_tag")
    started = time.perf_counter()
    call_command("import_catalog", str(path), verbosity=0)
    print(f"imported {len(names):,} items in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def _ranked_page(conn: Any, sql: str, query: str) -> Any:
    return conn.execute(sql, {"q": query}).fetchone()


def timed(run: Callable[[str], Any], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        for query in QUERIES:
            started = time.perf_counter()
            run(query)
            samples.append((time.perf_counter() - started) * 1000)
    return samples


def make_backlog(conn: Any, size: int) -> float:
    """Edit ``size`` random items in one transaction; return its duration (the triggers' cost)."""
    started = time.perf_counter()
    if size:
        conn.execute("SELECT setseed(0.42)")
        conn.execute(
            "UPDATE catalog_item SET updated_at = now()"
            " WHERE id IN (SELECT id FROM catalog_item ORDER BY random() LIMIT %s)",
            [size],
        )
    conn.execute("ANALYZE catalog_searchpending")
    return time.perf_counter() - started


def commit_to_searchable(editor: Any, samples: int = 20) -> tuple[list[float], list[float]]:
    """Per edit: the editing transaction's time, and commit-to-found by the site's search.

    The search runs on Django's connection: another connection than the editor's.
    """
    from catalog.search.query import document_search

    ids = [row[0] for row in editor.execute("SELECT id FROM catalog_item ORDER BY id LIMIT %s", [samples])]
    commit_ms, visible_ms = [], []
    for n, item_id in enumerate(ids):
        word = f"freshword{n}x{int(time.time())}"
        started = time.perf_counter()
        editor.execute("UPDATE catalog_item SET summary = summary || ' ' || %s WHERE id = %s", [word, item_id])
        committed = time.perf_counter()
        while not document_search(text=word + " ").hits:
            pass
        found = time.perf_counter()
        commit_ms.append((committed - started) * 1000)
        visible_ms.append((found - committed) * 1000)
    return commit_ms, visible_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG)
    parser.add_argument("--database", default="searchsite_bench")
    parser.add_argument("--rounds", type=int, default=15, help="times each query runs per backlog")
    args = parser.parse_args()

    setup_django(args.database)
    load_catalog(args.catalog)

    from catalog.models import Item
    from catalog.search.query import document_search
    from catalog.search.refresh import connect, refresh_index

    items = Item.objects.count()
    print(f"## Freshness at {items:,} items ({args.catalog.name})\n")
    print(
        f"{len(QUERIES)} queries x {args.rounds} rounds per backlog; times in ms; one process, same data. "
        "The two overlays run the same statement (count and ranked first page); site search is the "
        "whole document_search (count, ranked page, snippets) through Django.\n"
    )
    print(
        "| pending items | edit txn (s) | stored overlay p50 | p95 | live-compute overlay p50 | p95 "
        "| site search p50 | p95 | refresh (s) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    with connect() as conn:
        refresh_index(conn)
        for backlog in [size for size in BACKLOGS if size <= items]:
            edit_seconds = make_backlog(conn, backlog)
            stored_sql, live_sql = (RANKED_PAGE_SQL.format(overlay=o) for o in (STORED_OVERLAY, LIVE_OVERLAY))
            timed(lambda q: document_search(text=q), 1)  # warm the caches
            stored = timed(partial(_ranked_page, conn, stored_sql), args.rounds)
            live = timed(partial(_ranked_page, conn, live_sql), args.rounds)
            site = timed(lambda q: document_search(text=q), args.rounds)
            started = time.perf_counter()
            refresh_index(conn)
            refresh_seconds = time.perf_counter() - started
            cells = " | ".join(f"{percentile(s, 50):.2f} | {percentile(s, 95):.2f}" for s in (stored, live, site))
            print(f"| {backlog:,} | {edit_seconds:.2f} | {cells} | {refresh_seconds:.2f} |")

        commit_ms, visible_ms = commit_to_searchable(conn)
        refresh_index(conn)
    print(
        f"\nOne-item edit: commit in {statistics.median(commit_ms):.1f} ms (median, triggers included); "
        f"searchable from another connection {statistics.median(visible_ms):.2f} ms after commit "
        f"(median; max {max(visible_ms):.2f} ms), without waiting for a refresh."
    )


if __name__ == "__main__":
    main()
