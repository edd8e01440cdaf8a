-- What the site searches: the materialized index, overlaid with the documents of
-- the items edited since its last refresh. The triggers compute those documents
-- into catalog_searchpending as each edit happens, so an edit is searchable the
-- moment it commits; the refresher deletes them when it refreshes the index,
-- in the same transaction, so readers switch over atomically.
--
-- {columns} is the document's column list after id (catalog/search/index.py).

-- Indexed documents of items with no pending change. Each is looked up among
-- the pending ids by index: OFFSET 0 keeps the check a subplan run per row,
-- so no join strategy is chosen from the planner's guess of the backlog. (A
-- plan cached while nothing was pending took the table for empty and scanned
-- it for each candidate: seconds once thousands were pending; an anti-join
-- chosen for many pending hashed every match before a LIMIT could stop it;
-- NOT IN hashed every pending row for each of the search's dozen reads of this
-- view. docs/benchmarks.md.)
SELECT id, {columns}
FROM catalog_searchindex AS indexed
WHERE NOT EXISTS (SELECT FROM catalog_searchpending AS pending WHERE pending.item_id = indexed.id OFFSET 0)

UNION ALL

-- Pending documents; a deleted item's pending row has none, so it disappears.
-- An item edited by several transactions since the refresh shows its latest
-- version (the triggers lock the item, so versions follow commit order),
-- looked up the same way: the row comparison is a range of the (item_id,
-- version) index alone.
SELECT item_id AS id, {columns}
FROM catalog_searchpending AS pending
WHERE NOT pending.deleted
  AND NOT EXISTS (
      SELECT FROM catalog_searchpending AS newer
      WHERE newer.item_id = pending.item_id AND (newer.item_id, newer.version) > (pending.item_id, pending.version)
      OFFSET 0
  )
