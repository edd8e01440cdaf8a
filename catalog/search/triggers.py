"""The triggers that queue each edit for the search index.

Every source table gets statement-level triggers (one per event: PostgreSQL
allows transition tables on single-event triggers only). Each collects the ids
of the items its statement changed and hands them to
``catalog_search_mark_pending`` (migration 0002), which stores their freshly
computed documents in ``catalog_searchpending`` and notifies the refresher.
"""

from __future__ import annotations

from typing import Any

import pgtrigger

NEW_ROWS = "new_rows"
OLD_ROWS = "old_rows"


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
