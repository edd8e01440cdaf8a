"""What an edit costs and how soon it is found; the overlay against its alternative; the refresh.

The site finds an edit the moment it commits: the triggers compute the
item's document into catalog_searchpending and the search reads the index
overlaid with those documents (catalog/search/sql/search_overlay.sql). The
usual alternative computes pending documents per query from the plain view;
both run the same statement (count and ranked first page) side by side while
a backlog of edits waits for the refresh. Then the worker's refresh of that
backlog (a merge when it is under the compaction share, catalog/search/refresh.py)
and, side by side, the compaction that claims it.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from bench.stats import Latency
from catalog.search import TEXT_SEARCH_CONFIG

EDITS = 20
BACKLOG = 1_000
# One statement, two overlays: the count and the ranked first page.
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


def measure(texts: list[str], rounds: int) -> dict[str, Any]:
    """Edit commit and visibility, the two overlays under a backlog, then the worker's refresh and a compaction."""
    from catalog.search.refresh import connect, refresh_index

    with connect() as editor:
        commit_ms, visible_ms = commit_to_searchable(editor)
        backlog_seconds = make_backlog(editor, BACKLOG)
        stored, live = _overlays(editor, texts, rounds)
        worker_refresh = refresh_index(editor)
        compaction = refresh_index(editor, compact=True)
    assert worker_refresh is not None and compaction is not None
    return {
        "edit_commit_ms": statistics.median(commit_ms),
        "visible_ms": statistics.median(visible_ms),
        "backlog": {
            "items": BACKLOG,
            "edit_seconds": backlog_seconds,
            "stored_overlay": stored.as_json(),
            "live_overlay": live.as_json(),
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
    """Edit ``size`` random items in one transaction; return its duration (the triggers' cost)."""
    started = time.perf_counter()
    editor.execute("SELECT setseed(0.42)")
    editor.execute(
        "UPDATE catalog_item SET updated_at = now()"
        " WHERE id IN (SELECT id FROM catalog_item ORDER BY random() LIMIT %s)",
        [size],
    )
    elapsed = time.perf_counter() - started
    editor.execute("ANALYZE catalog_searchpending")
    return elapsed


def _overlays(conn: Any, texts: list[str], rounds: int) -> tuple[Latency, Latency]:
    """The ranked page on the stored overlay and on the live one, text by text."""
    stored_sql, live_sql = (RANKED_PAGE_SQL.format(overlay=overlay) for overlay in (STORED_OVERLAY, LIVE_OVERLAY))
    stored: list[float] = []
    live: list[float] = []
    for _ in range(rounds):
        for text in texts:
            for sql, samples in ((stored_sql, stored), (live_sql, live)):
                started = time.perf_counter()
                conn.execute(sql, {"q": text}).fetchone()
                samples.append((time.perf_counter() - started) * 1000)
    return Latency.of(stored), Latency.of(live)
