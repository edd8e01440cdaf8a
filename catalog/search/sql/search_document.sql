-- The search document: one row per item, computed live from the source tables.
-- The materialized view catalog_searchindex is SELECT * FROM this view.
--
-- Fields, in the order ranking trusts them: the name (weight A), the summary
-- (B), tag values and the category (C), the description (D). Each field's text
-- is indexed twice: stemmed (searchsite_english: "viewers" matches "viewer")
-- and as typed (searchsite_simple, unstemmed, after catalog_search_words():
-- prefixes and typo corrections are typed words, and stemming breaks prefixes,
-- "organi" being no prefix of the stem "organ"). How these columns rank is in
-- search_score.sql; how a query uses them, in search.sql.
SELECT
    item.id,
    item.name,
    item.summary,
    item.description,
    -- text, as in catalog_searchpending: equal types let a category filter reach
    -- both halves of the overlay.
    category.name::text AS category,
    item_tags.tags,
    item.popularity,
    -- Every field, for matching (the GIN indexes) and for snippets.
    setweight(to_tsvector('searchsite_english', item.name), 'A')
    || setweight(to_tsvector('searchsite_english', item.summary), 'B')
    -- Tags and the category apart, the description between them: a phrase
    -- ("browser web") must not match across two fields.
    || setweight(to_tsvector('searchsite_english', item_tags.tag_values), 'C')
    || setweight(to_tsvector('searchsite_english', item.description), 'D')
    || setweight(to_tsvector('searchsite_english', category.name), 'C')
    || setweight(to_tsvector('searchsite_simple', catalog_search_words(item.name)), 'A')
    || setweight(to_tsvector('searchsite_simple', catalog_search_words(item.summary)), 'B')
    || setweight(to_tsvector('searchsite_simple', catalog_search_words(item_tags.tag_values)), 'C') AS document,
    -- The short fields one by one, for ranking: which field a query word is in.
    to_tsvector('searchsite_english', item.name)
    || to_tsvector('searchsite_simple', catalog_search_words(item.name)) AS name_words,
    to_tsvector('searchsite_english', item.summary)
    || to_tsvector('searchsite_simple', catalog_search_words(item.summary)) AS summary_words,
    to_tsvector('searchsite_english', item_tags.tag_values || ' ' || category.name)
    || to_tsvector('searchsite_simple', catalog_search_words(item_tags.tag_values)) AS tag_words,
    -- The three together, for finding the items that hold every word in them
    -- (a GIN index far smaller than the document's).
    to_tsvector('searchsite_english', item.name || ' ' || item.summary || ' ' || item_tags.tag_values || ' ' || category.name)
    || to_tsvector('searchsite_simple', catalog_search_words(item.name || ' ' || item.summary || ' ' || item_tags.tag_values))
        AS short_words,
    -- What kind of item this is, from 0 (a library, documentation, data: what
    -- supports a program) to 1 (a program, what people look for): the share of
    -- its debtags roles that say program, else its category's share of
    -- programs (search_kind.sql).
    item_kind.kind,
    -- The static prior: how much an item's matches count before any query,
    -- from 1 to 3. Ranking multiplies the text score by it (search_score.sql),
    -- so it orders matches of comparable quality and cannot make a
    -- description-only match beat a match in a name. Kind gives up to 0.75,
    -- popularity up to 1.25: how many packages depend on the item, on a log
    -- scale that reaches its top at 1,000 (libc's 13,750 dependants count no
    -- more than that, a program's dozens count half). search.sql relies on
    -- prior <= 3 (PRIOR_MAX in catalog/search/index.py).
    (1
     + 0.75 * item_kind.kind
     + 1.25 * least(1, ln(1 + item.popularity) / ln(1001))
    )::float8 AS prior,
    -- The words as typed in the short fields: the vocabulary of completions and
    -- typo corrections (catalog_searchword), rebuilt with each refresh.
    to_tsvector('searchsite_simple', catalog_search_words(item.name || ' ' || item.summary || ' ' || item_tags.tag_values))
        AS words,
    -- What the item is about, for semantic ranking (catalog/search/embedding.py):
    -- its vector only while it was computed from the current name and summary;
    -- until the refresher recomputes it, an edited item is found by words only.
    item_vector.vector
FROM catalog_item AS item
JOIN catalog_category AS category ON category.id = item.category_id
LEFT JOIN catalog_searchkind AS kind ON kind.category_id = item.category_id
LEFT JOIN catalog_itemvector AS item_vector
    ON item_vector.item_id = item.id AND item_vector.text_hash = md5(item.name || E'\n' || item.summary)
-- Aggregating per item in a LATERAL subquery instead of a top-level GROUP BY
-- lets a filter on item.id reach the items table (the live overlay needs it).
CROSS JOIN LATERAL (
    SELECT
        coalesce(array_agg(tag.name::text ORDER BY tag.name), '{}') AS tags,
        -- Debtags read "works-with::pdf": the value after "::" is the searchable part.
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
CROSS JOIN LATERAL (
    SELECT coalesce(catalog_search_program_share(item_tags.tags), kind.program_share, 0.5)::float8 AS kind
) AS item_kind
