"""Refreshing the index: one transaction, a merge or a compaction (the worker runs it after each burst of edits).

The edit path's last step (triggers.py tells it from the start). The pending
documents are searchable from the moment their edit commits (the overlay), so
a refresh has two jobs of different cost, and does the dear one only when due:

- a merge costs what changed: it computes the documents an import left to it,
  adds the pending documents' new words to the vocabulary (completions,
  corrections) and drops superseded versions; the rows stay pending;
- a compaction costs the whole catalog (minutes at a million items): it claims
  the pending documents and refreshes the materialized view, in one
  transaction, so readers switch from overlay to refreshed rows atomically.
  It runs once pending items exceed ``conf.compaction_share()`` of the index,
  when the index is empty, or when asked for ("Refresh search now").

A crash rolls either back, so nothing is lost. An advisory lock keeps two
refreshers from running at once.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import psycopg
from django.db import connection, transaction
from django.db.models.functions import Now

from catalog import conf
from catalog.db import connection_params
from catalog.search.refresh_models import SearchRefresh, SearchRefreshRequest
from catalog.search.triggers import NOTIFY_CHANNEL, REFRESH_NOW

logger = logging.getLogger(__name__)

# pg_try_advisory_xact_lock key: any constant unique to this purpose.
ADVISORY_LOCK_KEY = 0x5EA4C4


def connect(using: str = "default", *, application_name: str = "searchsite") -> psycopg.Connection[Any]:
    """A connection of our own, outside Django's transaction handling: the refresher's.

    ``client_connection_check_interval`` makes the server notice a dead client
    and abandon its refresh, releasing the lock, instead of finishing it.
    """
    params = connection_params(using)
    params["application_name"] = application_name
    params["options"] = f"{params.get('options', '')} -c client_connection_check_interval=1000".strip()
    return psycopg.connect(**params, autocommit=True)


INSERT_REFRESH_SQL = """
    INSERT INTO catalog_searchrefresh
        (started_at, finished_at, duration_seconds, items_claimed, kind, outcome, error)
    VALUES (%s, clock_timestamp(), %s, %s, %s, %s, %s)
"""

# Whether this refresh compacts: the pending items (and those an import left
# to the refresh) against the index's size, a refresh asked for, an empty index.
COMPACTION_DUE_SQL = """
    SELECT
        (SELECT count(DISTINCT item_id)
         FROM (SELECT item_id FROM catalog_searchpending
               UNION ALL SELECT item_id FROM catalog_searchrefreshrequest WHERE item_id IS NOT NULL) AS changed)
        > %s * (SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = 'catalog_searchindex'::regclass)
        OR EXISTS (SELECT FROM catalog_searchrefreshrequest WHERE item_id IS NULL)
        OR NOT EXISTS (SELECT FROM catalog_searchindex)
"""

# A merge's statements, each one snapshot, so that nothing committed between
# two of them is dropped. First the items an import left to the refresh get
# their documents, as an edit's trigger computes them.
MERGE_IMPORTED_SQL = """
    WITH claimed AS (DELETE FROM catalog_searchrefreshrequest WHERE item_id IS NOT NULL RETURNING item_id),
         imported AS (SELECT ARRAY(SELECT DISTINCT item_id FROM claimed) AS ids)
    SELECT catalog_search_mark_pending(ids) FROM imported
"""
# Then the pending documents not merged yet give their new words to the
# vocabulary (a known word keeps its count until a compaction recounts them
# all): how many items were merged.
MERGE_WORDS_SQL = """
    WITH merged AS (UPDATE catalog_searchpending SET merged = true WHERE NOT merged RETURNING item_id, words),
         new_words AS (
             INSERT INTO catalog_searchword (word, documents)
             SELECT word.lexeme, count(*)
             FROM merged, unnest(merged.words) AS word
             WHERE length(word.lexeme) BETWEEN 3 AND 40
             GROUP BY word.lexeme
             ON CONFLICT (word) DO NOTHING
         )
    SELECT count(DISTINCT item_id) FROM merged
"""
# Then the versions a newer committed one supersedes go; fresh statistics
# keep the planner's estimates of the pending rows right.
MERGE_AFTER_SQL = [
    """
    DELETE FROM catalog_searchpending AS superseded
    WHERE EXISTS (
        SELECT FROM catalog_searchpending AS newer
        WHERE newer.item_id = superseded.item_id AND newer.version > superseded.version
    )
    """,
    "ANALYZE catalog_searchpending",
]


# Every pending document and refresh request this transaction can see; the
# count is of items (a request without one asks for a refresh only).
CLAIM_SQL = """
    WITH pending AS (DELETE FROM catalog_searchpending RETURNING item_id),
         requested AS (DELETE FROM catalog_searchrefreshrequest RETURNING item_id)
    SELECT count(DISTINCT item_id) FROM (SELECT item_id FROM pending UNION ALL SELECT item_id FROM requested) AS claimed
"""

# The vocabulary follows the index; DELETE, not TRUNCATE, so that readers
# keep the old words until the refresh commits.
AFTER_REFRESH_SQL = [
    "DELETE FROM catalog_searchword",
    """
    INSERT INTO catalog_searchword (word, documents)
    SELECT word, ndoc FROM ts_stat('SELECT words FROM catalog_searchindex')
    WHERE length(word) BETWEEN 3 AND 40
    """,
    # Fresh statistics: search.sql reads the item count for IDF, and the
    # estimate of a large result's total comes from the planner.
    "ANALYZE catalog_searchindex",
]


# A concurrent refresh keeps the index readable, at the price of inserting each
# changed row through the GIN indexes (fastupdate is off); into an empty index
# that is every row, minutes at 100k items, where a plain refresh builds the
# indexes in bulk. An empty index has nothing to keep readable: searches wait
# for the first build instead (docs/benchmarks.md measures both).
REFRESH_SQL = {
    False: "REFRESH MATERIALIZED VIEW CONCURRENTLY catalog_searchindex",
    True: "REFRESH MATERIALIZED VIEW catalog_searchindex",
}
# The categories' kinds first: the documents read them. Concurrently, so that
# editors' triggers, which read them too, never wait for the index's refresh.
REFRESH_KIND_SQL = "REFRESH MATERIALIZED VIEW CONCURRENTLY catalog_searchkind"


def _is_empty(conn: psycopg.Connection[Any]) -> bool:
    return not conn.execute("SELECT EXISTS (SELECT FROM catalog_searchindex)").fetchone()[0]  # type: ignore[index]


@dataclass(frozen=True)
class RefreshRun:
    """What one ``refresh_index`` did, as recorded in ``SearchRefresh``."""

    outcome: str
    kind: str
    # How long it waited for a refresh that was running when it was called.
    waited_seconds: float
    duration_seconds: float
    items_claimed: int
    error: str = ""


def _lock(conn: psycopg.Connection[Any], wait_seconds: float) -> float | None:
    """Take the refreshers' lock for this transaction: the seconds waited for it, or None.

    ``lock_timeout`` bounds the wait and is restored at once, so that it never
    applies to the locks the refresh itself takes.
    """
    if conn.execute("SELECT pg_try_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY]).fetchone()[0]:  # type: ignore[index]
        return 0.0
    if wait_seconds <= 0:
        return None
    asked = time.perf_counter()
    previous = conn.execute("SELECT current_setting('lock_timeout')").fetchone()[0]  # type: ignore[index]
    conn.execute("SELECT set_config('lock_timeout', %s, true)", [f"{max(1, round(wait_seconds * 1000))}ms"])
    try:
        with conn.transaction():  # A savepoint: a timeout leaves the transaction usable.
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
    except psycopg.errors.LockNotAvailable:
        return None
    finally:
        conn.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
    return time.perf_counter() - asked


def refresh_index(
    conn: psycopg.Connection[Any], *, wait_seconds: float = 0.0, compact: bool = False
) -> RefreshRun | None:
    """Merge the pending changes, or compact them into the index when due; record it. None if another refresher runs.

    ``wait_seconds``: how long to wait for a refresh already running (the
    worker gives up at once: it will be woken again; an operator's command
    waits). ``compact``: compact whatever is pending (``refresh_search``).
    A compaction claims only rows visible when its claim runs (not "every
    version up to N": a transaction that commits late would be lost); edits
    that commit during it stay pending for the next refresh.
    """
    started_at = conn.execute("SELECT clock_timestamp()").fetchone()[0]  # type: ignore[index]
    started = time.perf_counter()
    waited = 0.0
    claimed = 0
    kind = SearchRefresh.Kind.COMPACTION
    try:
        with conn.transaction():
            if (locked_after := _lock(conn, wait_seconds)) is None:
                return None
            if locked_after:
                waited = locked_after
                started = time.perf_counter()
                started_at = conn.execute("SELECT clock_timestamp()").fetchone()[0]  # type: ignore[index]
            if compact or conn.execute(COMPACTION_DUE_SQL, [conf.compaction_share()]).fetchone()[0]:  # type: ignore[index]
                claimed = _compact(conn)
            else:
                kind = SearchRefresh.Kind.MERGE
                claimed = _merge(conn)
            conn.execute(
                INSERT_REFRESH_SQL,
                [started_at, time.perf_counter() - started, claimed, kind, SearchRefresh.Outcome.OK, ""],
            )
    except psycopg.OperationalError:
        raise  # The connection is gone: the caller reconnects.
    except psycopg.Error as exc:
        duration = time.perf_counter() - started
        logger.exception("refresh failed after %.2f s (a %s): %s", duration, kind, exc)
        conn.execute(INSERT_REFRESH_SQL, [started_at, duration, claimed, kind, SearchRefresh.Outcome.FAILED, str(exc)])
        return RefreshRun(SearchRefresh.Outcome.FAILED, kind, waited, duration, claimed, str(exc))
    duration = time.perf_counter() - started
    logger.info("search index %s in %.2f s, %d item(s)", _DONE[kind], duration, claimed)
    return RefreshRun(SearchRefresh.Outcome.OK, kind, waited, duration, claimed)


_DONE = {SearchRefresh.Kind.MERGE: "merged", SearchRefresh.Kind.COMPACTION: "compacted"}


def _compact(conn: psycopg.Connection[Any]) -> int:
    """Claim every pending change and refresh the materialized view: the items claimed."""
    claimed: int = conn.execute(CLAIM_SQL).fetchone()[0]  # type: ignore[index]
    conn.execute(REFRESH_KIND_SQL)
    conn.execute(REFRESH_SQL[_is_empty(conn)])
    for statement in AFTER_REFRESH_SQL:
        conn.execute(statement)
    return claimed


def _merge(conn: psycopg.Connection[Any]) -> int:
    """Give the pending changes their documents and words, leaving the view alone: the items merged."""
    conn.execute(MERGE_IMPORTED_SQL)
    count: int = conn.execute(MERGE_WORDS_SQL).fetchone()[0]  # type: ignore[index]
    for statement in MERGE_AFTER_SQL:
        conn.execute(statement)
    return count


def request_refresh() -> None:
    """Ask for a refresh now: recorded for whichever refresher runs next, and a running one woken at once."""
    with transaction.atomic(), connection.cursor() as cursor:
        SearchRefreshRequest.objects.create(requested_at=Now())
        cursor.execute("SELECT pg_notify(%s, %s)", [NOTIFY_CHANNEL, REFRESH_NOW])
