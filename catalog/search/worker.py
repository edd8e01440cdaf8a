"""The refresher's loop (``manage.py search_worker``): LISTEN, wait for a burst of edits to end, refresh.

What it runs is ``embedding.vectors_update`` for the edited items, then
``refresh.refresh_index`` (a merge, or a compaction when due); what wakes it is the trigger
function's notification (triggers.py) or "Refresh search now".
"""

from __future__ import annotations

import logging
import signal
import time
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import psycopg

from catalog import conf
from catalog.search.embedding import vectors_update
from catalog.search.refresh import connect, refresh_index
from catalog.search.triggers import NOTIFY_CHANNEL, REFRESH_NOW

logger = logging.getLogger(__name__)

WORKER_APPLICATION_NAME = "searchsite search_worker"
# How often the worker wakes to check for SIGTERM and due refreshes.
TICK_SECONDS = 0.2
MAX_BACKOFF_SECONDS = 30.0


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
                if burst.first is None and _has_work(conn):
                    burst.heard(now, now=True)
            if burst.due(now):
                burst = Burst(self.quiet_seconds, self.max_wait_seconds)
                # Notifications can outlive what they announced (another refresher claimed it).
                if _has_work(conn):
                    _update_vectors(conn)
                    refresh_index(conn)


def _update_vectors(conn: psycopg.Connection[Any]) -> None:
    """The edited items' vectors, so that the refresh indexes them (embedding.py).

    A failure here costs semantic ranking of those items only, until the next
    round: they are still found by words, so the refresh goes ahead.
    """
    try:
        written = vectors_update(conn)
    except psycopg.OperationalError:
        raise  # The connection is gone: the caller reconnects.
    except Exception:
        logger.exception("could not update the edited items' vectors; refreshing without them")
        return
    if written:
        logger.info("embedded %d edited item(s)", written)


def _has_work(conn: psycopg.Connection[Any]) -> bool:
    """Pending documents not merged yet, or refreshes asked for; merged ones wait for their compaction."""
    row = conn.execute(
        "SELECT EXISTS (SELECT FROM catalog_searchpending WHERE NOT merged)"
        " OR EXISTS (SELECT FROM catalog_searchrefreshrequest)"
    ).fetchone()
    return bool(row and row[0])


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
