-- The planner's estimate of a search's matches, from the statistics of the
-- index (no row is read): search.sql counts at most count_cap of them. The
-- index alone, not the overlay: the few pending documents change little, and
-- the overlay's NOT IN would halve the estimate.
-- Parameters: match (search.sql's tsquery, as text; NULL when browsing without
-- words), categories, tags.
EXPLAIN (FORMAT JSON)
SELECT id FROM catalog_searchindex AS doc
WHERE (doc.document @@ %(match)s::tsquery OR %(match)s::tsquery IS NULL)
  AND (doc.category = ANY (%(categories)s::text[]) OR cardinality(%(categories)s::text[]) = 0)
  AND (doc.tags && %(tags)s::text[] OR cardinality(%(tags)s::text[]) = 0)
