-- Browsing without words: the items of the chosen categories and tags, most
-- popular first (then by name), or by name; with the count and the facets as
-- search.sql gives them, and its columns, so that one hydration reads both.
-- Parameters (search.sql's, those that apply):
--
--   categories  text[]   category filter (any of them), '{}' for none
--   tags        text[]   tag filter (any of them), '{}' for none; the two
--                        filters combine with AND, and one of them is set
--   by_name     boolean  order by name instead of popularity
--   offset, page_size    the page
--   count_cap   integer  items counted (and faceted) at most
--   categories_shown, tags_shown   facet values returned
--
-- Browsing is planned for its values (query.py, PLANNING), so the CASE on
-- by_name and the tests of which filters are set fold away in the plan.
WITH
-- With categories chosen, the page's candidates: each category's first
-- offset + page_size items that no edit has changed since the refresh, read
-- in order from the index's (category, popularity, name) B-tree
-- (catalog/search/index.py), and every pending item. The overlay's page is
-- among them, and a large category costs a page, not its items (at 1M,
-- 315 ms to 0.2 ms for 106k items: docs/benchmarks.md). By name, each
-- category's items are sorted; with tags alone, the overlay's items under
-- them are read through the tags GIN index and sorted.
ranked AS (
    SELECT top.id
    FROM unnest(%(categories)s::text[]) AS chosen (category)
    CROSS JOIN LATERAL (
        SELECT indexed.id FROM catalog_searchindex AS indexed
        WHERE indexed.category = chosen.category
          AND (indexed.tags && %(tags)s::text[] OR cardinality(%(tags)s::text[]) = 0)
          AND NOT EXISTS (SELECT FROM catalog_searchpending AS pending WHERE pending.item_id = indexed.id OFFSET 0)
        ORDER BY CASE WHEN %(by_name)s::boolean THEN indexed.name END, indexed.popularity DESC NULLS LAST, indexed.name
        LIMIT %(offset)s::integer + %(page_size)s::integer
    ) AS top
    UNION ALL
    SELECT item_id FROM catalog_searchpending
),
page AS (
    SELECT doc.id, doc.name, doc.summary, doc.category, doc.tags, doc.popularity, doc.prior
    FROM catalog_searchoverlay AS doc
    -- An array, not a join, as in search.sql: the ids reach both halves of the overlay as an index condition.
    WHERE (doc.id = ANY ((SELECT array_agg(id) FROM ranked)::bigint[]) OR cardinality(%(categories)s::text[]) = 0)
      AND (doc.category = ANY (%(categories)s::text[]) OR cardinality(%(categories)s::text[]) = 0)
      AND (doc.tags && %(tags)s::text[] OR cardinality(%(tags)s::text[]) = 0)
    ORDER BY CASE WHEN %(by_name)s::boolean THEN doc.name END, doc.popularity DESC NULLS LAST, doc.name
    OFFSET %(offset)s LIMIT %(page_size)s
),
-- As in search.sql: the count over both filters, each facet with values
-- chosen over the other facet's filter alone.
counted AS MATERIALIZED (
    SELECT category, tags FROM catalog_searchoverlay
    WHERE (category = ANY (%(categories)s::text[]) OR cardinality(%(categories)s::text[]) = 0)
      AND (tags && %(tags)s::text[] OR cardinality(%(tags)s::text[]) = 0)
    LIMIT %(count_cap)s
),
category_counted AS MATERIALIZED (
    SELECT category FROM catalog_searchoverlay
    WHERE cardinality(%(categories)s::text[]) > 0
      AND (tags && %(tags)s::text[] OR cardinality(%(tags)s::text[]) = 0)
    LIMIT %(count_cap)s
),
tag_counted AS MATERIALIZED (
    SELECT tags FROM catalog_searchoverlay
    WHERE cardinality(%(tags)s::text[]) > 0
      AND (category = ANY (%(categories)s::text[]) OR cardinality(%(categories)s::text[]) = 0)
    LIMIT %(count_cap)s
),
category_facet AS (
    SELECT category FROM counted WHERE cardinality(%(categories)s::text[]) = 0
    UNION ALL
    SELECT category FROM category_counted
),
tag_facet AS (
    SELECT tags FROM counted WHERE cardinality(%(tags)s::text[]) = 0
    UNION ALL
    SELECT tags FROM tag_counted
)
SELECT
    (SELECT count(*) FROM counted) AS counted,
    -- No query, so no score, snippet or marks: the prior alone.
    ARRAY(
        SELECT json_build_array(id, name, summary, category, tags, 0, 0, 0, 0, prior, 0, 0, NULL, NULL)
        FROM page
        ORDER BY CASE WHEN %(by_name)s::boolean THEN name END, popularity DESC NULLS LAST, name
    ) AS hits,
    0 AS related,
    (SELECT count(*) FROM category_facet) AS category_counted,
    ARRAY(
        SELECT json_build_array(category, n) FROM (
            SELECT category, count(*) AS n, row_number() OVER (ORDER BY count(*) DESC, category) AS rank
            FROM category_facet GROUP BY category
        ) AS facet
        WHERE rank <= %(categories_shown)s OR category = ANY (%(categories)s::text[])
        ORDER BY rank
    ) AS category_facets,
    (SELECT count(*) FROM tag_facet) AS tag_counted,
    ARRAY(
        SELECT json_build_array(tag, n) FROM (
            SELECT tag, count(*) AS n, row_number() OVER (ORDER BY count(*) DESC, tag) AS rank
            FROM tag_facet CROSS JOIN unnest(tag_facet.tags) AS tag GROUP BY tag
        ) AS facet
        WHERE rank <= %(tags_shown)s OR tag = ANY (%(tags)s::text[])
        ORDER BY rank
    ) AS tag_facets,
    '{}'::json[] AS corrections,
    NULL::text AS match
