"""What an edit costs and how soon it is found; the site's search under a backlog, against its alternative; the refresh.

The site finds an edit the moment it commits: the triggers compute the
item's document into catalog_searchpending and the search reads the index
overlaid with those documents (catalog/search/sql/search_overlay.sql). What
that costs every search is measured as the issue asks: the site's own search
(``document_search``, in process) over the benchmark's queries with no edit
pending, then with 10,000 pending. The usual alternative computes pending
documents per query from the plain view: the same search, on a connection
where a temporary view of that name shadows the overlay. Between the two
backlogs, the worker's refresh of the first 1,000 edits (a merge while pending
items are under the compaction share, catalog/search/refresh.py); last, the
compaction that claims them all.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from bench.stats import Latency

EDITS = 20
# Edits the worker's refresh is timed on, then the backlog the search is timed
# under: 1% of a million items, the default compaction share.
MERGED = 1_000
BACKLOG = 10_000
PENDING_SQL = "SELECT count(DISTINCT item_id) FROM catalog_searchpending"
# The alternative overlay: pending items' documents computed per query from the
# plain view. A temporary view is found before the real one (pg_temp comes first
# on the search path), so the site's statement runs on it unchanged.
LIVE_OVERLAY_SQL = """
    CREATE TEMPORARY VIEW catalog_searchoverlay AS
    SELECT id, {columns} FROM catalog_searchindex AS indexed
    WHERE NOT EXISTS (SELECT FROM catalog_searchpending AS p WHERE p.item_id = indexed.id)
    UNION ALL
    SELECT id, {columns} FROM catalog_searchdocument
    WHERE id IN (SELECT item_id FROM catalog_searchpending WHERE NOT deleted)
"""


def measure(texts: list[str], rounds: int) -> dict[str, Any]:
    """Edits, the site's search with none and with a backlog pending (and its alternative), the refreshes."""
    from catalog.search.refresh import connect, refresh_index

    none, _ = _searches(texts, rounds)
    with connect() as editor:
        commit_ms, visible_ms = commit_to_searchable(editor)
        make_backlog(editor, MERGED)
        worker_refresh = refresh_index(editor)
        items = _count(editor, "SELECT count(*) FROM catalog_item")
        edit_seconds = make_backlog(editor, min(BACKLOG, items) - _count(editor, PENDING_SQL))
        pending = _count(editor, PENDING_SQL)
        stored, _ = _searches(texts, rounds)
        live, live_timeouts = _searches(texts, rounds, live=True)
        compaction = refresh_index(editor, compact=True)
    assert worker_refresh is not None and compaction is not None
    return {
        "edit_commit_ms": statistics.median(commit_ms),
        "visible_ms": statistics.median(visible_ms),
        "backlog": {
            "items": pending,
            "edit_seconds": edit_seconds,
            "none_pending": none.as_json(),
            "stored_overlay": stored.as_json(),
            "live_overlay": live.as_json(),
            "live_timeouts": live_timeouts,
        },
        "refresh_seconds": worker_refresh.duration_seconds,
        "refresh_kind": worker_refresh.kind,
        "compaction_seconds": compaction.duration_seconds,
    }


def commit_to_searchable(editor: Any) -> tuple[list[float], list[float]]:
    """Per edit: the editing transaction's time, and commit-to-found by the site's search.

    The search runs on Django's connection: another connection than the
    editor's. Each summary is put back afterwards, so that a reused database
    keeps the catalog it was built from.
    """
    from catalog.search.query import document_search

    rows = editor.execute("SELECT id, summary FROM catalog_item ORDER BY id LIMIT %s", [EDITS]).fetchall()
    commit_ms, visible_ms = [], []
    for n, (item_id, summary) in enumerate(rows):
        word = f"freshword{n}x{int(time.time())}"
        started = time.perf_counter()
        editor.execute("UPDATE catalog_item SET summary = summary || ' ' || %s WHERE id = %s", [word, item_id])
        committed = time.perf_counter()
        while not document_search(text=word + " ").hits:  # a finished word, not a prefix
            pass
        found = time.perf_counter()
        commit_ms.append((committed - started) * 1000)
        visible_ms.append((found - committed) * 1000)
        editor.execute("UPDATE catalog_item SET summary = %s WHERE id = %s", [summary, item_id])
    return commit_ms, visible_ms


def make_backlog(editor: Any, size: int) -> float:
    """Edit ``size`` random items not pending yet, in one transaction; return its duration (the triggers' cost)."""
    started = time.perf_counter()
    editor.execute("SELECT setseed(0.42)")
    editor.execute(
        "UPDATE catalog_item SET updated_at = now() WHERE id IN ("
        " SELECT id FROM catalog_item WHERE id NOT IN (SELECT item_id FROM catalog_searchpending)"
        " ORDER BY random() LIMIT %s)",
        [size],
    )
    elapsed = time.perf_counter() - started
    editor.execute("ANALYZE catalog_searchpending")
    return elapsed


def _count(editor: Any, sql: str) -> int:
    return int(editor.execute(sql).fetchone()[0])


def _searches(texts: list[str], rounds: int, *, live: bool = False) -> tuple[Latency, int]:
    """The site's search of each text, ``rounds`` times, in process; on the alternative overlay if ``live``.

    A search past the time limit counts at the time it took, and is counted.
    Each overlay gets a connection of its own: a prepared statement keeps
    reading the relation it was planned on, whatever a later view shadows.
    """
    from django.db import connection

    from catalog.search.index import document_column_names
    from catalog.search.query import SearchTooExpensive, document_search

    connection.close()
    if live:
        with connection.cursor() as cursor:
            cursor.execute(LIVE_OVERLAY_SQL.format(columns=", ".join(document_column_names())))
    samples, timeouts = [], 0
    for _ in range(rounds):
        for text in texts:
            started = time.perf_counter()
            try:
                document_search(text=text)
            except SearchTooExpensive:
                timeouts += 1
            samples.append((time.perf_counter() - started) * 1000)
    connection.close()
    return Latency.of(samples), timeouts
