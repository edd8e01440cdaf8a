-- The search document: one row per item, computed live from the source tables.
-- The materialized view catalog_searchindex is SELECT * FROM this view.
--
-- Weights: A the item's name, B its summary and tag values, C its description,
-- D its category. All text goes through searchsite_english (unaccent, then
-- English stemming), the configuration queries use too.
SELECT
    item.id,
    item.name,
    item.summary,
    item.description,
    -- text, as in catalog_searchpending: equal types let a category filter reach
    -- both halves of the overlay.
    category.name::text AS category,
    item_tags.tags,
    setweight(to_tsvector('searchsite_english', item.name), 'A')
    || setweight(to_tsvector('searchsite_english', item.summary), 'B')
    -- Debtags read "works-with::pdf": the value after "::" is the searchable part.
    || setweight(to_tsvector('searchsite_english', item_tags.tag_values), 'B')
    || setweight(to_tsvector('searchsite_english', item.description), 'C')
    || setweight(to_tsvector('searchsite_english', category.name), 'D') AS document,
    -- The words people type, unstemmed (searchsite_simple: unaccent, lowercase):
    -- stemming breaks prefixes ("organi" is no prefix of the stem "organ"), so
    -- prefixes typed so far match here, and the vocabulary for typo
    -- corrections (catalog_searchword) is read from here.
    setweight(to_tsvector('searchsite_simple', item.name), 'A')
    || setweight(to_tsvector('searchsite_simple', item.summary), 'B')
    || setweight(to_tsvector('searchsite_simple', item_tags.tag_values), 'C') AS words
FROM catalog_item AS item
JOIN catalog_category AS category ON category.id = item.category_id
-- Aggregating per item in a LATERAL subquery instead of a top-level GROUP BY
-- lets a filter on item.id reach the items table (the live overlay needs it).
CROSS JOIN LATERAL (
    SELECT
        coalesce(array_agg(tag.name::text ORDER BY tag.name), '{}') AS tags,
        coalesce(string_agg(split_part(tag.name, '::', -1), ' '), '') AS tag_values
    FROM catalog_itemtag AS link
    -- One primary-key lookup per link. As a plain join the planner reads the
    -- whole tag table for every item (a hash join, or, before the tables have
    -- statistics, an index probe per tag): 5 to 100 times slower over a full
    -- refresh. LIMIT 1 keeps the subquery from being flattened into that join.
    CROSS JOIN LATERAL (
        SELECT tag.name FROM catalog_tag AS tag WHERE tag.id = link.tag_id LIMIT 1
    ) AS tag
    WHERE link.item_id = item.id
) AS item_tags
