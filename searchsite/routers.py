"""Where queries go when a streaming replica is configured (DATABASE_REPLICA_URL).

Searches are most of the load and only read, so the documents they read come
from the replica. Everything else stays on the primary: every write (a replica
refuses them), the triggers those writes fire, the refresher (it connects to
"default" itself), and the admin and Synonym reads, because an editor must see
their own change at once and a replica is a little behind.
"""

from __future__ import annotations

from typing import Any

from django.db import models

REPLICA = "replica"
# What searches read: the views of the search document and the typo vocabulary.
SEARCH_READ_MODELS = frozenset(
    {"catalog.searchdocument", "catalog.searchindex", "catalog.searchoverlay", "catalog.searchword"}
)


class SearchReplicaRouter:
    """Search reads to the replica; everything else to the primary."""

    def db_for_read(self, model: type[models.Model], **hints: Any) -> str | None:
        return REPLICA if model._meta.label_lower in SEARCH_READ_MODELS else None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        """Never on the replica: it replays the primary's schema, views included."""
        return False if db == REPLICA else None
