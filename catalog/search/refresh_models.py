"""The refresh's records: the refreshes that ran, and the refreshes asked for.

``refresh.py`` writes both in its transaction; the admin, the status page and
``search_status`` read them.
"""

from __future__ import annotations

from django.db import models


class SearchRefresh(models.Model):
    """One refresh of the index, as the refresher recorded it."""

    class Outcome(models.TextChoices):
        OK = "ok"
        FAILED = "failed"

    class Kind(models.TextChoices):
        # The pending documents' words added to the vocabulary and superseded
        # versions dropped; an import's documents computed. Costs what changed.
        MERGE = "merge"
        # The materialized view refreshed and the pending documents claimed.
        # Costs the whole catalog: run once the pending share has grown.
        COMPACTION = "compaction"

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    duration_seconds = models.FloatField()
    items_claimed = models.IntegerField()
    kind = models.CharField(max_length=10, choices=Kind)
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
