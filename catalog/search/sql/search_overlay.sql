-- What the site searches: the materialized index, overlaid with the documents of
-- the items edited since its last refresh. The triggers compute those documents
-- into catalog_searchpending as each edit happens, so an edit is searchable the
-- moment it commits; the refresher deletes them when it refreshes the index,
-- in the same transaction, so readers switch over atomically.
--
-- {columns} is the document's column list after id (catalog/search/index.py).

-- Indexed documents of items with no pending change: an anti-join, so the
-- planner probes the pending ids by index for a tier's few matches and hashes
-- them for many. (NOT IN built a hash of every pending row for each of the
-- search's dozen reads of this view: 10 ms each with 10,000 pending at a
-- million items, a rare word 4x slower; this way 10,000 pending cost nothing
-- measurable, docs/benchmarks.md.)
SELECT id, {columns}
FROM catalog_searchindex AS indexed
WHERE NOT EXISTS (SELECT FROM catalog_searchpending AS pending WHERE pending.item_id = indexed.id)

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
