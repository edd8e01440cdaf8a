"""Refreshing the index: one claim-and-refresh transaction, and the worker that runs it.

The refresh claims the pending documents and refreshes the materialized view
in one transaction: readers switch from overlay to refreshed rows atomically,
and a crash rolls the claim back, so nothing is lost. An advisory lock keeps
two refreshers from running at once.
"""

from __future__ import annotations

import logging
import signal
import time
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import psycopg
from django.db import connection, connections, models, transaction
from django.db.models.functions import Now

from catalog import conf

logger = logging.getLogger(__name__)

NOTIFY_CHANNEL = "catalog_search_pending"
# Sent by "Refresh search now": skip the quiet window.
REFRESH_NOW = "now"
WORKER_APPLICATION_NAME = "searchsite search_worker"
# pg_try_advisory_xact_lock key: any constant unique to this purpose.
ADVISORY_LOCK_KEY = 0x5EA4C4
# How often the worker wakes to check for SIGTERM and due refreshes.
TICK_SECONDS = 0.2
MAX_BACKOFF_SECONDS = 30.0


class SearchRefresh(models.Model):
    """One refresh of the index, as the refresher recorded it."""

    class Outcome(models.TextChoices):
        OK = "ok"
        FAILED = "failed"

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    duration_seconds = models.FloatField()
    items_claimed = models.IntegerField()
    outcome = models.CharField(max_length=10, choices=Outcome)
    error = models.TextField(blank=True)

    class Meta:
        db_table = "catalog_searchrefresh"
        ordering = ["-started_at"]
        get_latest_by = "started_at"
        verbose_name_plural = "search refreshes"
        # "Refresh search now" in the admin: a full refresh costs a minute of the
        # database at a million items, so it is granted, not given to all staff.
        permissions = [("refresh_search", "Can refresh the search index now")]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M:%S} {self.outcome}"


class SearchRefreshRequest(models.Model):
    """A refresh asked for and not run yet: the record that a NOTIFY only announces.

    A notification is lost when no refresher listens, so whatever needs a
    refresh writes a row here in its own transaction: a bulk import one per
    item it left to the refresh (their documents are not computed, so they are
    not searchable until then), "Refresh search now" one with no item. A
    refresher started later finds them, the refresh deletes them in its
    transaction, and the status counts their items until then.
    """

    item_id = models.BigIntegerField(null=True, help_text="an item left to the refresh; none: a refresh asked for")
    requested_at = models.DateTimeField()

    class Meta:
        db_table = "catalog_searchrefreshrequest"

    def __str__(self) -> str:
        return f"{self.item_id or 'refresh'} at {self.requested_at:%Y-%m-%d %H:%M:%S}"


def connect(using: str = "default", *, application_name: str = "searchsite") -> psycopg.Connection[Any]:
    """A connection of our own, outside Django's transaction handling.

    ``client_connection_check_interval`` makes the server notice a dead client
    and abandon its refresh, releasing the lock, instead of finishing it.
    """
    params = connections[using].get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params["application_name"] = application_name
    params["options"] = f"{params.get('options', '')} -c client_connection_check_interval=1000".strip()
    return psycopg.connect(**params, autocommit=True)


INSERT_REFRESH_SQL = """
    INSERT INTO catalog_searchrefresh
        (started_at, finished_at, duration_seconds, items_claimed, outcome, error)
    VALUES (%s, clock_timestamp(), %s, %s, %s, %s)
"""


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


def refresh_index(conn: psycopg.Connection[Any], *, wait_seconds: float = 0.0) -> RefreshRun | None:
    """Claim every pending change, refresh the index, record it; None if another refresher runs.

    ``wait_seconds``: how long to wait for a refresh already running (the
    worker gives up at once: it will be woken again; an operator's command
    waits). Only rows visible when the claim runs are deleted (not "every
    version up to N": a transaction that commits late would be lost); edits
    that commit during the refresh stay pending for the next one.
    """
    started_at = conn.execute("SELECT clock_timestamp()").fetchone()[0]  # type: ignore[index]
    started = time.perf_counter()
    waited = 0.0
    claimed = 0
    try:
        with conn.transaction():
            if (locked_after := _lock(conn, wait_seconds)) is None:
                return None
            if locked_after:
                waited = locked_after
                started = time.perf_counter()
                started_at = conn.execute("SELECT clock_timestamp()").fetchone()[0]  # type: ignore[index]
            claimed = conn.execute(CLAIM_SQL).fetchone()[0]  # type: ignore[index]
            conn.execute(REFRESH_KIND_SQL)
            conn.execute(REFRESH_SQL[_is_empty(conn)])
            for statement in AFTER_REFRESH_SQL:
                conn.execute(statement)
            conn.execute(
                INSERT_REFRESH_SQL,
                [started_at, time.perf_counter() - started, claimed, SearchRefresh.Outcome.OK, ""],
            )
    except psycopg.OperationalError:
        raise  # The connection is gone: the caller reconnects.
    except psycopg.Error as exc:
        duration = time.perf_counter() - started
        logger.exception("refresh failed after %.2f s: %s", duration, exc)
        conn.execute(INSERT_REFRESH_SQL, [started_at, duration, claimed, SearchRefresh.Outcome.FAILED, str(exc)])
        return RefreshRun(SearchRefresh.Outcome.FAILED, waited, duration, claimed, str(exc))
    duration = time.perf_counter() - started
    logger.info("refreshed the search index in %.2f s, %d item(s) claimed", duration, claimed)
    return RefreshRun(SearchRefresh.Outcome.OK, waited, duration, claimed)


def request_refresh() -> None:
    """Ask for a refresh now: recorded for whichever refresher runs next, and a running one woken at once."""
    with transaction.atomic(), connection.cursor() as cursor:
        SearchRefreshRequest.objects.create(requested_at=Now())
        cursor.execute("SELECT pg_notify(%s, %s)", [NOTIFY_CHANNEL, REFRESH_NOW])


@dataclass
class Burst:
    """Changes heard since the last refresh: when the first and the last came."""

    quiet_seconds: float
    max_wait_seconds: float
    first: float | None = None
    last: float = 0.0
    now_requested: bool = False

    def heard(self, at: float, *, now: bool = False) -> None:
        if self.first is None:
            self.first = at
        self.last = at
        self.now_requested = self.now_requested or now

    def due(self, at: float) -> bool:
        """A refresh is due once changes have been quiet a while, or waited too long."""
        if self.first is None:
            return False
        return self.now_requested or at - self.last >= self.quiet_seconds or at - self.first >= self.max_wait_seconds


@dataclass
class Worker:
    """LISTENs for changes and refreshes the index after each burst.

    It polls as a safety net (a change made while it was down, a lost
    notification), reconnects with backoff when the database goes away, and
    stops after the current refresh on SIGTERM or SIGINT.
    """

    quiet_seconds: float = field(default_factory=lambda: conf.refresh_quiet_seconds())
    max_wait_seconds: float = field(default_factory=lambda: conf.refresh_max_wait_seconds())
    poll_seconds: float = field(default_factory=lambda: conf.refresh_poll_seconds())
    using: str = "default"
    stopping: bool = False

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        backoff = 1.0
        logger.info(
            "search worker started (quiet %.1f s, max wait %.1f s, poll %.1f s)",
            self.quiet_seconds,
            self.max_wait_seconds,
            self.poll_seconds,
        )
        # When the database went away (or was not there at the start), for the log.
        unavailable_since: float | None = None
        while not self.stopping:
            connected = False
            try:
                with connect(self.using, application_name=WORKER_APPLICATION_NAME) as conn:
                    connected = True
                    if unavailable_since is not None:
                        away = time.monotonic() - unavailable_since
                        logger.info("database reachable again after %.1f s; listening", away)
                        unavailable_since = None
                    backoff = 1.0
                    self._serve(conn)
            except psycopg.OperationalError as exc:
                if connected:
                    logger.error("lost the database: %s", _first_line(exc))
                if unavailable_since is None:
                    unavailable_since = time.monotonic()
                logger.warning("database unavailable (%s); retrying in %.0f s", _first_line(exc), backoff)
                self._sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        logger.info("search worker stopped")

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(TICK_SECONDS)

    def _serve(self, conn: psycopg.Connection[Any]) -> None:
        conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
        burst = Burst(self.quiet_seconds, self.max_wait_seconds)
        next_poll = 0.0  # Poll at once: changes may have come while we were away.
        while not self.stopping:
            for notify in conn.notifies(timeout=TICK_SECONDS, stop_after=1):
                burst.heard(time.monotonic(), now=notify.payload == REFRESH_NOW)
            now = time.monotonic()
            if now >= next_poll:
                next_poll = now + self.poll_seconds
                if burst.first is None and _has_pending(conn):
                    burst.heard(now, now=True)
            if burst.due(now):
                burst = Burst(self.quiet_seconds, self.max_wait_seconds)
                # Notifications can outlive what they announced (another refresher claimed it).
                if _has_pending(conn):
                    refresh_index(conn)


def _has_pending(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute(
        "SELECT EXISTS (SELECT FROM catalog_searchpending) OR EXISTS (SELECT FROM catalog_searchrefreshrequest)"
    ).fetchone()
    return bool(row and row[0])


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
