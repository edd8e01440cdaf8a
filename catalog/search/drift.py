"""How far the index has drifted from the documents: the plain view and the materialized one, row by row.

The materialized view is ``SELECT *`` from the plain view, so right after a
refresh the two hold the same rows. Edits make them differ until the next
refresh; the overlay serves those from the pending table, so drift with a
pending change is expected. Drift without one means searches see a stale
document: a source table without its triggers, or a change to the view's SQL
(a weight) that no refresh has applied yet.

It computes every document, as a refresh does: seconds on a large catalog.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from django.db import connection

Kind = Literal["missing", "extra", "changed"]

# Per kind (missing from the index, extra in it, changed) and pending or not:
# how many rows, and the first ids.
DRIFT_SQL = """
    WITH drift AS (
        SELECT
            coalesce(doc.id, indexed.id) AS id,
            CASE WHEN indexed.id IS NULL THEN 'missing' WHEN doc.id IS NULL THEN 'extra' ELSE 'changed' END AS kind
        FROM catalog_searchdocument AS doc
        FULL JOIN catalog_searchindex AS indexed ON indexed.id = doc.id
        WHERE doc IS DISTINCT FROM indexed
    )
    SELECT
        kind,
        EXISTS (SELECT FROM catalog_searchpending AS pending WHERE pending.item_id = drift.id)
            OR EXISTS (SELECT FROM catalog_searchrefreshrequest AS requested WHERE requested.item_id = drift.id)
            AS pending,
        count(*),
        (array_agg(id ORDER BY id))[1:%s]
    FROM drift
    GROUP BY 1, 2
"""

# The examples: their names and which columns changed.
EXAMPLES_SQL = """
    SELECT
        coalesce(doc.id, indexed.id),
        coalesce(doc.name, indexed.name),
        ARRAY(
            SELECT computed.key
            FROM jsonb_each(to_jsonb(doc)) AS computed
            JOIN jsonb_each(to_jsonb(indexed)) AS stored USING (key)
            WHERE computed.value IS DISTINCT FROM stored.value
            ORDER BY computed.key
        )
    FROM (SELECT * FROM catalog_searchdocument WHERE id = ANY (%s)) AS doc
    FULL JOIN (SELECT * FROM catalog_searchindex WHERE id = ANY (%s)) AS indexed ON indexed.id = doc.id
"""


@dataclass(frozen=True)
class DriftExample:
    id: int
    kind: Kind
    name: str
    # The overlay serves this item's current document already, or an import left it
    # to the next refresh (which it asked for).
    pending: bool
    # For a changed row: the columns that differ.
    columns: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Drift:
    missing: int
    extra: int
    changed: int
    # Differing rows with no pending change: searches see stale documents for them.
    unexplained: int
    examples: list[DriftExample]

    @property
    def total(self) -> int:
        return self.missing + self.extra + self.changed


def index_drift(*, examples: int = 10) -> Drift:
    """Count the rows that differ between the plain view and the index, with the first few by id."""
    counts: dict[Kind, int] = {"missing": 0, "extra": 0, "changed": 0}
    unexplained = 0
    first: dict[int, tuple[Kind, bool]] = {}
    with connection.cursor() as cursor:
        cursor.execute(DRIFT_SQL, [examples])
        for kind, pending, count, ids in cursor.fetchall():
            counts[kind] += count
            unexplained += 0 if pending else count
            first.update((id_, (kind, pending)) for id_ in ids)
        example_ids = sorted(first)[:examples]
        cursor.execute(EXAMPLES_SQL, [example_ids, example_ids])
        details = {id_: (name, columns) for id_, name, columns in cursor.fetchall()}
    return Drift(
        missing=counts["missing"],
        extra=counts["extra"],
        changed=counts["changed"],
        unexplained=unexplained,
        examples=[
            DriftExample(
                id=id_,
                kind=first[id_][0],
                name=details[id_][0] or "",
                pending=first[id_][1],
                columns=details[id_][1] if first[id_][0] == "changed" else [],
            )
            for id_ in example_ids
            # An edit between the two statements can make a row agree again.
            if id_ in details
        ],
    )
