"""The triggers that queue each edit for the search index: the edit path's first step.

One item's edit, from the trigger to the search:

1. Its table's statement-level triggers (below: one per event, since PostgreSQL
   allows transition tables on single-event triggers only) collect the ids of
   the items the statement changed and call ``catalog_search_mark_pending``
   (``sql/mark_pending.sql``). It stores their new documents in the pending
   table and notifies ``NOTIFY_CHANNEL``.
2. ``overlay.py``: every search reads the index overlaid with the pending
   table, so the edit is found as soon as it commits.
3. ``refresh.py``: the refresh claims the pending rows and refreshes the index
   in one transaction; ``worker.py`` runs it after each burst of notifications.
"""

from __future__ import annotations

import re
from typing import Any

import pgtrigger

from catalog.search.index import SQL_DIR

# Both functions, installed by migration 0002 (a change needs a new migration:
# see the file's header).
MARK_PENDING_SQL = (SQL_DIR / "mark_pending.sql").read_text()
# What the refresher LISTENs to: the functions above notify it (mark_pending.sql
# spells it out, as SQL needs), and so does "Refresh search now".
NOTIFY_CHANNEL = "catalog_search_pending"
# The payload that asks for a refresh without the quiet window: an import's, "Refresh search now"'s.
REFRESH_NOW = "now"

NEW_ROWS = "new_rows"
OLD_ROWS = "old_rows"

_FUNCTION = re.compile(r"CREATE OR REPLACE FUNCTION (\w+)\(.*?\$\$(.*?)\$\$", re.DOTALL)


def mark_pending_functions() -> dict[str, str]:
    """The file's functions by name, each with its body as ``pg_proc.prosrc`` holds it."""
    return dict(_FUNCTION.findall(MARK_PENDING_SQL))


def _mark(changed_items: str, *tables: str) -> str:
    ids = " UNION ".join(changed_items.format(rows=table) for table in tables)
    return f"PERFORM catalog_search_mark_pending(ARRAY({ids})); RETURN NULL;"


def pending_triggers(*, changed_items: str) -> list[pgtrigger.Trigger]:
    """Triggers for one source table.

    ``changed_items`` is SQL selecting the ids of the items whose documents a
    set of changed rows affects, with ``{rows}`` standing for a transition table.
    """
    statement: dict[str, Any] = {"level": pgtrigger.Statement, "when": pgtrigger.After}
    return [
        pgtrigger.Trigger(
            name="search_pending_insert",
            operation=pgtrigger.Insert,
            referencing=pgtrigger.Referencing(new=NEW_ROWS),
            func=_mark(changed_items, NEW_ROWS),
            **statement,
        ),
        pgtrigger.Trigger(
            name="search_pending_update",
            operation=pgtrigger.Update,
            referencing=pgtrigger.Referencing(old=OLD_ROWS, new=NEW_ROWS),
            func=_mark(changed_items, OLD_ROWS, NEW_ROWS),
            **statement,
        ),
        pgtrigger.Trigger(
            name="search_pending_delete",
            operation=pgtrigger.Delete,
            referencing=pgtrigger.Referencing(old=OLD_ROWS),
            func=_mark(changed_items, OLD_ROWS),
            **statement,
        ),
        # TRUNCATE has no transition table: every item may have changed.
        pgtrigger.Trigger(
            name="search_pending_truncate",
            operation=pgtrigger.Truncate,
            func="PERFORM catalog_search_mark_all_pending(); RETURN NULL;",
            **statement,
        ),
    ]
