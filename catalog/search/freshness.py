"""How fresh the index is: what the status API, the page, the admin and search_status show."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, router
from django.utils import timezone
from django.utils.timesince import timesince

from catalog.search.overlay import SearchOverlay
from catalog.search.worker import WORKER_APPLICATION_NAME

STATUS_SQL = """
    SELECT
        (SELECT finished_at FROM catalog_searchrefresh WHERE outcome = 'ok'
         ORDER BY finished_at DESC LIMIT 1),
        (SELECT duration_seconds FROM catalog_searchrefresh WHERE outcome = 'ok'
         ORDER BY finished_at DESC LIMIT 1),
        (SELECT count(DISTINCT item_id)
         FROM (SELECT item_id FROM catalog_searchpending WHERE NOT merged
               UNION ALL SELECT item_id FROM catalog_searchrefreshrequest) AS changed),
        (SELECT count(DISTINCT item_id) FROM catalog_searchrefreshrequest
         WHERE item_id NOT IN (SELECT item_id FROM catalog_searchpending)),
        (SELECT extract(epoch FROM clock_timestamp() - min(changed_at))
         FROM (SELECT changed_at FROM catalog_searchpending WHERE NOT merged
               UNION ALL SELECT requested_at FROM catalog_searchrefreshrequest WHERE item_id IS NOT NULL) AS changed),
        (SELECT count(DISTINCT item_id) FROM catalog_searchpending WHERE merged),
        EXISTS (SELECT FROM pg_stat_activity
                WHERE application_name = %s AND datname = current_database())
"""

# How far behind the primary the replica that searches read is. Caught up when
# it has replayed all it received; otherwise the age of the last transaction it
# replayed (an over-estimate after the primary was idle). On a server that is
# no replica both positions are NULL: 0.
REPLICA_LAG_SQL = """
    SELECT CASE
        WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
        ELSE extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())
    END
"""


@dataclass(frozen=True)
class IndexStatus:
    last_refresh_at: datetime | None
    last_refresh_seconds: float | None
    # Items changed since the last refresh (a merge or a compaction).
    pending_changes: int
    # Of those, the items a bulk import left to the refresh: not searchable until it runs.
    awaiting_refresh: int
    # Age of the oldest change not yet refreshed; the overlay makes it searchable already
    # unless it is awaiting the refresh.
    stale_seconds: float
    # Items merged but not compacted: searchable, served from the pending table
    # until the compaction that folds them into the materialized view.
    merged_items: int
    worker_alive: bool
    # Seconds the replica that searches read lags behind the primary: None without one
    # (or before it has replayed its first transaction).
    replica_lag_seconds: float | None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["last_refresh_at"] = self.last_refresh_at.isoformat() if self.last_refresh_at else None
        return data


# Under this, timesince says "0 minutes": say "just now" instead.
JUST_NOW = timedelta(minutes=1)


def index_status() -> IndexStatus:
    with connection.cursor() as cursor:
        cursor.execute(STATUS_SQL, [WORKER_APPLICATION_NAME])
        last_at, last_seconds, pending, awaiting, stale, merged, alive = cursor.fetchone()
    return IndexStatus(
        last_refresh_at=last_at,
        last_refresh_seconds=round(last_seconds, 3) if last_seconds is not None else None,
        pending_changes=pending,
        awaiting_refresh=awaiting,
        stale_seconds=round(float(stale), 3) if stale is not None else 0.0,
        merged_items=merged,
        worker_alive=alive,
        replica_lag_seconds=replica_lag_seconds(),
    )


def replica_lag_seconds() -> float | None:
    """The lag of the database searches read (searchsite/routers.py), if that is a replica."""
    alias = router.db_for_read(SearchOverlay)
    if alias == DEFAULT_DB_ALIAS:
        return None
    with connections[alias].cursor() as cursor:
        cursor.execute(REPLICA_LAG_SQL)
        lag = cursor.fetchone()[0]
    return round(float(lag), 3) if lag is not None else None


def duration_text(seconds: float) -> str:
    """A duration as editors read it: "2.4 s", not the stored float.

    Under a tenth of a second in milliseconds, where "0.0 s" would hide it; whole
    seconds from ten on, where a tenth no longer matters.
    """
    if seconds < 0.1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 10:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def age_text(moment: datetime) -> str:
    """How long ago a moment was: "just now" under a minute, else "5 minutes ago"."""
    if timezone.now() - moment < JUST_NOW:
        return "just now"
    return f"{timesince(moment)} ago"
