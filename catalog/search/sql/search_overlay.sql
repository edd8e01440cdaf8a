-- What the site searches: the materialized index, overlaid with the documents of
-- the items edited since its last refresh. The triggers compute those documents
-- into catalog_searchpending as each edit happens, so an edit is searchable the
-- moment it commits; the refresher deletes them when it refreshes the index,
-- in the same transaction, so readers switch over atomically.
--
-- {columns} is the document's column list after id (catalog/search/index.py).

-- Indexed documents of items with no pending change. NOT IN, not NOT EXISTS:
-- it stays a filter against a hash of the pending ids, built once, so a scan
-- under a LIMIT stops early; as an anti-join the planner may hash every
-- matching row of the index first (100 ms for a common word at a million
-- items). item_id is never NULL, so the two mean the same.
SELECT id, {columns}
FROM catalog_searchindex AS indexed
WHERE indexed.id NOT IN (SELECT pending.item_id FROM catalog_searchpending AS pending)

UNION ALL

-- Pending documents; a deleted item's pending row has none, so it disappears.
-- An item edited by several transactions since the refresh shows its latest
-- version (the triggers lock the item, so versions follow commit order).
SELECT item_id AS id, {columns}
FROM catalog_searchpending AS pending
WHERE NOT pending.deleted
  AND NOT EXISTS (
      SELECT FROM catalog_searchpending AS newer
      WHERE newer.item_id = pending.item_id AND newer.version > pending.version
  )
