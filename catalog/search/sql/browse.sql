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
-- The filter's items are found through the index's category B-tree or its
-- tags GIN index (catalog/search/index.py) and sorted: a small category costs
-- its items, a large one is sorted whole (docs/benchmarks.md).
WITH
page AS (
    SELECT doc.id, doc.name, doc.summary, doc.category, doc.tags, doc.popularity, doc.prior
    FROM catalog_searchoverlay AS doc
    WHERE (doc.category = ANY (%(categories)s::text[]) OR cardinality(%(categories)s::text[]) = 0)
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
