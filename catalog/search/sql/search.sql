-- One search: the query's words in, a ranked page with snippets, the count and
-- the facets out. catalog/search/query.py runs it with these parameters (and
-- `manage.py search_explain` prints them, so this file runs in psql as it is):
--
--   words       text[]   the query's words, lowercased, web-search syntax removed
--   prefix      boolean  the last word may be unfinished (nothing typed after it)
--   websearch   text     the query when it uses web-search syntax, else NULL
--   categories  text[]   category filter (any of them), '{}' for none
--   tags        text[]   tag filter (any of them), '{}' for none; the two
--                        filters combine with AND
--   any_of      boolean  the web-search syntax says "or": not every word must match
--   by_name     boolean  order by name instead of relevance
--   exhaustive  boolean  rank every match, skipping no tier: the reference the
--                        tests and the benchmark compare the tiers with
--   offset, page_size    the page
--   depth       integer  offset + page_size: how many of the best are needed
--   count_cap   integer  matches counted (and faceted) at most
--   vector      text     the query's embedding (pgvector's text form), NULL
--                        for no semantic ranking (settings, syntax, by name)
--   neighbours  integer  how many items nearest the vector join the candidates,
--                        and how many of the best lexical ones the blend reorders
--   semantic_weight float8  the semantic part's weight in the blend
--   categories_shown, tags_shown   facet values returned
--
-- Matching: every word must match, each in one of its readings: the word as
-- typed or stemmed, a synonym, a completion of the last word while it is
-- typed, or a typo correction (one edit from 5 letters, two from 9, as
-- Meilisearch; an adjacent swap counts one). Completions and corrections are
-- words of the index's vocabulary (catalog_searchword), the most common first,
-- at most 20 and 10 per word, as Lucene's prefix and fuzzy queries expand to
-- the top terms. Ranking: catalog_search_score() (search_score.sql).
--
-- Rank-safe retrieval: the candidates come in tiers (below), and a tier is
-- read only if one of its items could still reach the page: the page is what
-- ranking every match would give, without ranking every match.
WITH
word AS (
    SELECT row_number() OVER (ORDER BY t.n, p.m) AS position, p.part AS word
    FROM unnest(%(words)s::text[]) WITH ORDINALITY AS t (term, n)
    -- The same splitting as the document's typed words ("web/proxy", "c++").
    CROSS JOIN LATERAL regexp_split_to_table(catalog_search_words(t.term), '\s+') WITH ORDINALITY AS p (part, m)
    -- Stop words ("the", "for") are left out, as from the documents' stemmed text.
    WHERE numnode(plainto_tsquery('searchsite_english', p.part)) > 0
),
known AS (
    SELECT word.position, word.word,
           coalesce((SELECT documents FROM catalog_searchword WHERE catalog_searchword.word = word.word), 0) AS documents,
           word.position = (SELECT max(position) FROM word) AND %(prefix)s::boolean AS typing,
           CASE WHEN length(word.word) >= 9 THEN 2 WHEN length(word.word) >= 5 THEN 1 ELSE 0 END AS edits
    FROM word
),
-- Other words for each query word, with how close they are (0: a completion).
alternative AS (
    SELECT known.position, completion.word, completion.documents, 0 AS distance
    FROM known
    CROSS JOIN LATERAL (
        SELECT word, documents FROM catalog_searchword
        -- Byte-wise, the words that start with it: a range of the vocabulary's
        -- text_pattern_ops index, whatever the database's collation.
        WHERE word ~>=~ known.word AND word ~<~ (known.word || chr(1114111)) AND word <> known.word
        ORDER BY documents DESC, word LIMIT 20
    ) AS completion
    WHERE known.typing AND length(known.word) >= 2 AND %(websearch)s::text IS NULL
    UNION ALL
    SELECT known.position, typo.word, typo.documents, typo.distance
    FROM known
    CROSS JOIN LATERAL (
        SELECT word, documents, distance FROM (
            -- Same first letter (people rarely mistype it) and a length within
            -- reach: a range of the vocabulary's (first letter, length) index.
            SELECT word, documents, levenshtein_less_equal(word, known.word, known.edits) AS distance
            FROM catalog_searchword
            WHERE left(word, 1) = left(known.word, 1)
              AND length(word) BETWEEN length(known.word) - known.edits AND length(known.word) + known.edits
            UNION
            -- Two neighbouring letters swapped: one typo, two edits for levenshtein.
            -- Looked up by index for each swap (as split's words are, below).
            SELECT swapped.word, swapped.documents, 1
            FROM generate_series(1, length(known.word) - 1) AS i
            CROSS JOIN LATERAL (
                SELECT word, documents FROM catalog_searchword
                WHERE word = overlay(known.word PLACING substr(known.word, i + 1, 1) || substr(known.word, i, 1) FROM i FOR 2)
                LIMIT 1
            ) AS swapped
        ) AS nearby
        WHERE distance BETWEEN 1 AND known.edits AND word <> known.word
        ORDER BY distance, documents DESC, word LIMIT 10
    ) AS typo
    WHERE known.edits > 0
),
-- Words typed apart that the vocabulary holds as one ("fire fox": "firefox"),
-- more commonly than the rarer of the two; a reading of both positions.
joined AS (
    SELECT first.position, first.word || ' ' || second.word AS typed, vocabulary.word AS correction
    FROM known AS first
    JOIN known AS second ON second.position = first.position + 1
    -- Looked up by index (LIMIT 1, as in split below).
    CROSS JOIN LATERAL (
        SELECT word, documents FROM catalog_searchword WHERE word = first.word || second.word LIMIT 1
    ) AS vocabulary
    WHERE vocabulary.documents > least(first.documents, second.documents) AND %(websearch)s::text IS NULL
),
-- A word typed as one that the vocabulary lacks or holds far more rarely than
-- two of its words run together ("libreoffice": "libre office"), when those are
-- more common than any typo correction of it: the best such split.
split AS (
    SELECT DISTINCT ON (known.position) known.position, known.word AS typed, head.word || ' ' || tail.word AS correction
    FROM known
    CROSS JOIN generate_series(2, length(known.word) - 2) AS i
    -- Looked up by index for each split point (LIMIT 1 keeps the planner from
    -- hashing the whole vocabulary: a word is there once).
    CROSS JOIN LATERAL (SELECT word, documents FROM catalog_searchword WHERE word = left(known.word, i) LIMIT 1) AS head
    CROSS JOIN LATERAL (SELECT word, documents FROM catalog_searchword WHERE word = substr(known.word, i + 1) LIMIT 1) AS tail
    WHERE least(head.documents, tail.documents) > 10 * known.documents AND %(websearch)s::text IS NULL
      AND least(head.documents, tail.documents) > coalesce((
          SELECT max(alternative.documents) FROM alternative
          WHERE alternative.position = known.position AND alternative.distance > 0
      ), 0)
      -- A word being typed is no typo while words start with it.
      AND NOT (known.typing AND EXISTS (
          SELECT FROM alternative WHERE alternative.position = known.position AND alternative.distance = 0
      ))
    ORDER BY known.position, least(head.documents, tail.documents) DESC, i
),
reading AS (
    SELECT
        known.position,
        known.word,
        -- The word as typed, or a synonym: what counts in full.
        plainto_tsquery('searchsite_simple', known.word)
        || coalesce((
            SELECT catalog_tsquery_or(
                plainto_tsquery('searchsite_simple', trim(synonym)) || plainto_tsquery('searchsite_english', trim(synonym))
            )
            FROM catalog_synonym, unnest(string_to_array(lower(words), ',')) AS synonym
            WHERE known.word = ANY (SELECT trim(w) FROM unnest(string_to_array(lower(words), ',')) AS w)
              AND trim(synonym) <> known.word
        ), ''::tsquery) AS exact,
        -- Its stem ("manager" finds "management" too), completions and
        -- corrections, those that join it to a neighbour or split it in two
        -- (the two words side by side) among them.
        plainto_tsquery('searchsite_english', known.word)
        || coalesce((
            -- Each is a word of the index as it is (quoted, not parsed again): a
            -- compound such as "library-dev" is one lexeme of the documents, and
            -- parsing would add its parts ("dev"), whose long posting lists the
            -- GIN scans would read only to learn nothing.
            SELECT catalog_tsquery_or(quote_literal(alternative.word)::tsquery)
            FROM alternative WHERE alternative.position = known.position
        ), ''::tsquery)
        || coalesce((
            SELECT catalog_tsquery_or(plainto_tsquery('searchsite_simple', joined.correction))
            FROM joined WHERE known.position IN (joined.position, joined.position + 1)
        ), ''::tsquery)
        || coalesce((
            SELECT phraseto_tsquery('searchsite_simple', split.correction)
            FROM split WHERE split.position = known.position
        ), ''::tsquery) AS near,
        -- BM25's IDF over the vocabulary's document counts; a word the
        -- vocabulary lacks (a typo, a prefix) takes its most common alternative's.
        greatest(known.documents, (
            SELECT coalesce(max(alternative.documents), 0) FROM alternative
            WHERE alternative.position = known.position AND known.documents = 0
        )) AS documents
    FROM known
),
query AS (
    SELECT
        coalesce(
            websearch_to_tsquery('searchsite_english', %(websearch)s::text),
            catalog_tsquery_and(exact || near ORDER BY position)
        ) AS match,
        -- Every word in one of its readings: what the tiers sort items by (a
        -- match holds them all, unless web-search syntax says "or").
        catalog_tsquery_and(exact || near ORDER BY position) AS words,
        -- Any word in one of its readings: what a semantic neighbour must hold.
        catalog_tsquery_or(exact || near ORDER BY position) AS any_word,
        array_agg(exact ORDER BY position) AS exact,
        array_agg(near ORDER BY position) AS near,
        array_agg(idf ORDER BY position) AS idf,
        CASE WHEN count(*) > 1 THEN catalog_tsquery_phrase(exact ORDER BY position) END AS phrase,
        string_agg(word, '-' ORDER BY position) AS query_name,
        -- The names that are the query: the first tier, looked up by name.
        ARRAY[string_agg(word, '-' ORDER BY position), string_agg(word, ' ' ORDER BY position)] AS exact_names,
        -- Tiers are skipped only when ranking by relevance a query whose every
        -- word must match (no "or"): the bounds below assume it.
        NOT %(any_of)s::boolean AND NOT %(by_name)s::boolean AND NOT %(exhaustive)s::boolean AS safe,
        -- Every word as typed: the query for names that hold them all so.
        catalog_tsquery_and(exact ORDER BY position) AS typed,
        %(websearch)s::text IS NULL AS plain,
        -- The most an item can score per unit of prior (search_score.sql), by
        -- where it holds the words: all, as typed, in its name (not being
        -- named as the query); all in its name, some only in another
        -- reading (scoring 0.7 at most); all in the short fields, not all in
        -- the name; some only elsewhere. r: the rarest word's share of the IDF.
        1.3 + CASE WHEN count(*) > 1 THEN 0.2 ELSE 0 END AS in_name,
        1.3 - 0.3 * min(idf) / sum(idf) + CASE WHEN count(*) > 1 THEN 0.2 ELSE 0 END AS near_name,
        1 - 0.4 * min(idf) / sum(idf) + CASE WHEN count(*) > 1 THEN 0.2 ELSE 0 END AS in_short,
        1 - 0.85 * min(idf) / sum(idf) AS elsewhere
    FROM (
        SELECT reading.*, ln(1 + (items.n - documents + 0.5) / (documents + 0.5))::float8 AS idf
        FROM reading
        CROSS JOIN (
            SELECT greatest(reltuples, 1) AS n FROM pg_class WHERE oid = 'catalog_searchindex'::regclass
        ) AS items
    ) AS reading
    HAVING count(*) > 0
),
-- The candidates, tier by tier. Each tier adds its best `depth` matches to
-- the best so far (by relevance; by name when asked), reading only the items
-- that could still enter those. Once the best so far are `depth`, an item of
-- a tier scores at most its bound per unit of prior (above) times its prior,
-- so one whose prior is under the last score over that bound cannot enter:
-- each `_entry` below gives its tier that least prior, and skips the tier
-- when the top of its prior band is under it (search_document.sql: 3 at
-- most; the bands are catalog/search/index.py's, written out here so that
-- the planner uses their partial GIN indexes). A tier checks the least prior
-- first (PostgreSQL checks conditions of equal cost in the order written):
-- before it looks for a phrase in the document, stored out of line for half
-- the items, and before it scores the row. Each tier on its own: a tier
-- skipped can be followed by one read, whose bound is higher. The tiers
-- partition the matches: 1. named as the query; 2. every word, as typed, in
-- the name, top band; then with the words in the name (some not as typed),
-- or in the short fields, by band of prior: 3. name, top; 4. as 2, middle;
-- 5. name, middle; 6. as 2, low; 7. short fields, top; 8. name, low; 9.
-- short fields, middle; 10. the other matches, top; 11. short fields, low;
-- 12. every other match. The names first: their tiers are small, and the
-- best they find can skip (or thin) the short fields' tiers, whose indexes
-- hold many more items.
named AS MATERIALIZED (
    SELECT * FROM (
        (SELECT doc.id, doc.name, score.score
         FROM catalog_searchoverlay AS doc, query, catalog_search_score(
             doc.name, doc.name_words, doc.summary_words, doc.tag_words, doc.prior,
             query.exact, query.near, query.idf, query.words, query.phrase, query.query_name) AS score
         WHERE doc.name = ANY ((SELECT exact_names FROM query)::text[]) AND doc.document @@ (SELECT match FROM query)
           AND (doc.category = ANY (%(categories)s::text[]) OR cardinality(%(categories)s::text[]) = 0)
           AND (doc.tags && %(tags)s::text[] OR cardinality(%(tags)s::text[]) = 0))
    ) AS tier
    ORDER BY CASE WHEN %(by_name)s::boolean THEN name END, score DESC, name LIMIT %(depth)s
),
typed_top_entry AS (
    SELECT least_prior, least_prior >= 3 AS skipped FROM (
        SELECT CASE WHEN query.safe AND count(*) >= %(depth)s THEN min(tier.score) / query.in_name END AS least_prior
        FROM named AS tier, query
        GROUP BY query.safe, query.in_name
    ) AS best
),
typed_top AS MATERIALIZED (
    SELECT * FROM (
        (SELECT * FROM named)
        UNION ALL
        (SELECT doc.id, doc.name, score.score
         FROM catalog_searchoverlay AS doc, query, catalog_search_score(
             doc.name, doc.name_words, doc.summary_words, doc.tag_words, doc.prior,
             query.exact, query.near, query.idf, query.words, query.phrase, query.query_name) AS score
         WHERE doc.name_words @@ (SELECT typed FROM query) AND doc.prior >= 2.0 AND doc.name <> ALL ((SELECT exact_names FROM query)::text[])
           AND doc.prior >= coalesce((SELECT least_prior FROM typed_top_entry), 0)
           AND (doc.category = ANY (%(categories)s::text[]) OR cardinality(%(categories)s::text[]) = 0)
           AND (doc.tags && %(tags)s::text[] OR cardinality(%(tags)s::text[]) = 0)
           -- A short field holding the query's terms is no match if the rest excludes it (-word).
           AND ((SELECT plain FROM query) OR doc.document @@ (SELECT match FROM query))
           AND NOT coalesce((SELECT skipped FROM typed_top_entry), false))
    ) AS tier
    ORDER BY CASE WHEN %(by_name)s::boolean THEN name END, score DESC, name LIMIT %(depth)s
),
name_top_entry AS (
    SELECT least_prior, least_prior >= 3 AS skipped FROM (
        SELECT CASE WHEN query.safe AND count(*) >= %(depth)s THEN min(tier.score) / query.near_name END AS least_prior
        FROM typed_top AS tier, query
        GROUP BY query.safe, query.near_name
    ) AS best
),
name_top AS MATERIALIZED (
    SELECT * FROM (
        (SELECT * FROM typed_top)
        UNION ALL
        (SELECT doc.id, doc.name, score.score
         FROM catalog_searchoverlay AS doc, query, catalog_search_score(
             doc.name, doc.name_words, doc.summary_words, doc.tag_words, doc.prior,
             query.exact, query.near, query.idf, query.words, query.phrase, query.query_name) AS score
         WHERE doc.name_words @@ (SELECT words FROM query) AND NOT doc.name_words @@ (SELECT typed FROM query) AND doc.prior >= 2.0
           AND doc.prior >= coalesce((SELECT least_prior FROM name_top_entry), 0)
           AND doc.name <> ALL ((SELECT exact_names FROM query)::text[])
           AND (doc.category = ANY (%(categories)s::text[]) OR cardinality(%(categories)s::text[]) = 0)
           AND (doc.tags && %(tags)s::text[] OR cardinality(%(tags)s::text[]) = 0)
           -- A short field holding the query's terms is no match if the rest excludes it (-word).
           AND ((SELECT plain FROM query) OR doc.document @@ (SELECT match FROM query))
           AND NOT coalesce((SELECT skipped FROM name_top_entry), false))
    ) AS tier
    ORDER BY CASE WHEN %(by_name)s::boolean THEN name END, score DESC, name LIMIT %(depth)s
),
typed_middle_entry AS (
    SELECT least_prior, least_prior >= 2.0 AS skipped FROM (
        SELECT CASE WHEN query.safe AND count(*) >= %(depth)s THEN min(tier.score) / query.in_name END AS least_prior
        FROM name_top AS tier, query
        GROUP BY query.safe, query.in_name
    ) AS best
),
typed_middle AS MATERIALIZED (
    SELECT * FROM (
        (SELECT * FROM name_top)
        UNION ALL
        (SELECT doc.id, doc.name, score.score
         FROM catalog_searchoverlay AS doc, query, catalog_search_score(
             doc.name, doc.name_words, doc.summary_words, doc.tag_words, doc.prior,
             query.exact, query.near, query.idf, query.words, query.phrase, query.query_name) AS score
         WHERE doc.name_words @@ (SELECT typed FROM query) AND doc.prior >= 1.6 AND doc.prior < 2.0 AND doc.name <> ALL ((SELECT exact_names FROM query)::text[])
           AND doc.prior >= coalesce((SELECT least_prior FROM typed_middle_entry), 0)
           AND (doc.category = ANY (%(categories)s::text[]) OR cardinality(%(categories)s::text[]) = 0)
           AND (doc.tags && %(tags)s::text[] OR cardinality(%(tags)s::text[]) = 0)
           -- A short field holding the query's terms is no match if the rest excludes it (-word).
           AND ((SELECT plain FROM query) OR doc.document @@ (SELECT match FROM query))
           AND NOT coalesce((SELECT skipped FROM typed_middle_entry), false))
    ) AS tier
    ORDER BY CASE WHEN %(by_name)s::boolean THEN name END, score DESC, name LIMIT %(depth)s
),
name_middle_entry AS (
    SELECT least_prior, least_prior >= 2.0 AS skipped FROM (
        SELECT CASE WHEN query.safe AND count(*) >= %(depth)s THEN min(tier.score) / query.near_name END AS least_prior
        FROM typed_middle AS tier, query
        GROUP BY query.safe, query.near_name
    ) AS best
),
name_middle AS MATERIALIZED (
    SELECT * FROM (
        (SELECT * FROM typed_middle)
        UNION ALL
        (SELECT doc.id, doc.name, score.score
         FROM catalog_searchoverlay AS doc, query, catalog_search_score(
             doc.name, doc.name_words, doc.summary_words, doc.tag_words, doc.prior,
             query.exact, query.near, query.idf, query.words, query.phrase, query.query_name) AS score
         WHERE doc.name_words @@ (SELECT words FROM query) AND NOT doc.name_words @@ (SELECT typed FROM query)
           AND doc.prior >= coalesce((SELECT least_prior FROM name_middle_entry), 0)
           AND doc.prior >= 1.6 AND doc.prior < 2.0 AND doc.name <> ALL ((SELECT exact_names FROM query)::text[])
           AND (doc.category = ANY (%(categories)s::text[]) OR cardinality(%(categories)s::text[]) = 0)
           AND (doc.tags && %(tags)s::text[] OR cardinality(%(tags)s::text[]) = 0)
           -- A short field holding the query's terms is no match if the rest excludes it (-word).
           AND ((SELECT plain FROM query) OR doc.document @@ (SELECT match FROM query))
           AND NOT coalesce((SELECT skipped FROM name_middle_entry), false))
    ) AS tier
    ORDER BY CASE WHEN %(by_name)s::boolean THEN name END, score DESC, name LIMIT %(depth)s
),
typed_low_entry AS (
    SELECT least_prior, least_prior >= 1.6 AS skipped FROM (
        SELECT CASE WHEN query.safe AND count(*) >= %(depth)s THEN min(tier.score) / query.in_name END AS least_prior
        FROM name_middle AS tier, query
        GROUP BY query.safe, query.in_name
    ) AS best
),
typed_low AS MATERIALIZED (
    SELECT * FROM (
        (SELECT * FROM name_middle)
        UNION ALL
        (SELECT doc.id, doc.name, score.score
         FROM catalog_searchoverlay AS doc, query, catalog_search_score(
             doc.name, doc.name_words, doc.summary_words, doc.tag_words, doc.prior,
             query.exact, query.near, query.idf, query.words, query.phrase, query.query_name) AS score
         WHERE doc.name_words @@ (SELECT typed FROM query) AND doc.prior < 1.6 AND doc.name <> ALL ((SELECT exact_names FROM query)::text[])
           AND doc.prior >= coalesce((SELECT least_prior FROM typed_low_entry), 0)
           AND (doc.category = ANY (%(categories)s::text[]) OR cardinality(%(categories)s::text[]) = 0)
           AND (doc.tags && %(tags)s::text[] OR cardinality(%(tags)s::text[]) = 0)
           -- A short field holding the query's terms is no match if the rest excludes it (-word).
           AND ((SELECT plain FROM query) OR doc.document @@ (SELECT match FROM query))
           AND NOT coalesce((SELECT skipped FROM typed_low_entry), false))
    ) AS tier
    ORDER BY CASE WHEN %(by_name)s::boolean THEN name END, score DESC, name LIMIT %(depth)s
),
short_top_entry AS (
    SELECT least_prior, least_prior >= 3 AS skipped FROM (
        SELECT CASE WHEN query.safe AND count(*) >= %(depth)s THEN min(tier.score) / query.in_short END AS least_prior
        FROM typed_low AS tier, query
        GROUP BY query.safe, query.in_short
    ) AS best
),
short_top AS MATERIALIZED (
    SELECT * FROM (
        (SELECT * FROM typed_low)
        UNION ALL
        (SELECT doc.id, doc.name, score.score
         FROM catalog_searchoverlay AS doc, query, catalog_search_score(
             doc.name, doc.name_words, doc.summary_words, doc.tag_words, doc.prior,
             query.exact, query.near, query.idf, query.words, query.phrase, query.query_name) AS score
         WHERE doc.short_words @@ (SELECT words FROM query) AND NOT doc.name_words @@ (SELECT words FROM query) AND doc.prior >= 2.0
           AND doc.prior >= coalesce((SELECT least_prior FROM short_top_entry), 0)
           AND doc.name <> ALL ((SELECT exact_names FROM query)::text[])
           AND (doc.category = ANY (%(categories)s::text[]) OR cardinality(%(categories)s::text[]) = 0)
           AND (doc.tags && %(tags)s::text[] OR cardinality(%(tags)s::text[]) = 0)
           -- A short field holding the query's terms is no match if the rest excludes it (-word).
           AND ((SELECT plain FROM query) OR doc.document @@ (SELECT match FROM query))
           AND NOT coalesce((SELECT skipped FROM short_top_entry), false))
    ) AS tier
    ORDER BY CASE WHEN %(by_name)s::boolean THEN name END, score DESC, name LIMIT %(depth)s
),
name_low_entry AS (
    SELECT least_prior, least_prior >= 1.6 AS skipped FROM (
        SELECT CASE WHEN query.safe AND count(*) >= %(depth)s THEN min(tier.score) / query.near_name END AS least_prior
        FROM short_top AS tier, query
        GROUP BY query.safe, query.near_name
    ) AS best
),
name_low AS MATERIALIZED (
    SELECT * FROM (
        (SELECT * FROM short_top)
        UNION ALL
        (SELECT doc.id, doc.name, score.score
         FROM catalog_searchoverlay AS doc, query, catalog_search_score(
             doc.name, doc.name_words, doc.summary_words, doc.tag_words, doc.prior,
             query.exact, query.near, query.idf, query.words, query.phrase, query.query_name) AS score
         WHERE doc.name_words @@ (SELECT words FROM query) AND NOT doc.name_words @@ (SELECT typed FROM query)
           AND doc.prior >= coalesce((SELECT least_prior FROM name_low_entry), 0)
           AND doc.prior < 1.6 AND doc.name <> ALL ((SELECT exact_names FROM query)::text[])
           AND (doc.category = ANY (%(categories)s::text[]) OR cardinality(%(categories)s::text[]) = 0)
           AND (doc.tags && %(tags)s::text[] OR cardinality(%(tags)s::text[]) = 0)
           -- A short field holding the query's terms is no match if the rest excludes it (-word).
           AND ((SELECT plain FROM query) OR doc.document @@ (SELECT match FROM query))
           AND NOT coalesce((SELECT skipped FROM name_low_entry), false))
    ) AS tier
    ORDER BY CASE WHEN %(by_name)s::boolean THEN name END, score DESC, name LIMIT %(depth)s
),
short_middle_entry AS (
    SELECT least_prior, least_prior >= 2.0 AS skipped FROM (
        SELECT CASE WHEN query.safe AND count(*) >= %(depth)s THEN min(tier.score) / query.in_short END AS least_prior
        FROM name_low AS tier, query
        GROUP BY query.safe, query.in_short
    ) AS best
),
short_middle AS MATERIALIZED (
    SELECT * FROM (
        (SELECT * FROM name_low)
        UNION ALL
        (SELECT doc.id, doc.name, score.score
         FROM catalog_searchoverlay AS doc, query, catalog_search_score(
             doc.name, doc.name_words, doc.summary_words, doc.tag_words, doc.prior,
             query.exact, query.near, query.idf, query.words, query.phrase, query.query_name) AS score
         WHERE doc.short_words @@ (SELECT words FROM query) AND NOT doc.name_words @@ (SELECT words FROM query) AND doc.prior >= 1.6 AND doc.prior < 2.0
           AND doc.prior >= coalesce((SELECT least_prior FROM short_middle_entry), 0)
           AND doc.name <> ALL ((SELECT exact_names FROM query)::text[])
           AND (doc.category = ANY (%(categories)s::text[]) OR cardinality(%(categories)s::text[]) = 0)
           AND (doc.tags && %(tags)s::text[] OR cardinality(%(tags)s::text[]) = 0)
           -- A short field holding the query's terms is no match if the rest excludes it (-word).
           AND ((SELECT plain FROM query) OR doc.document @@ (SELECT match FROM query))
           AND NOT coalesce((SELECT skipped FROM short_middle_entry), false))
    ) AS tier
    ORDER BY CASE WHEN %(by_name)s::boolean THEN name END, score DESC, name LIMIT %(depth)s
),
elsewhere_top_entry AS (
    SELECT least_prior, least_prior >= 3 AS skipped FROM (
        SELECT CASE WHEN query.safe AND count(*) >= %(depth)s THEN min(tier.score) / query.elsewhere END AS least_prior
        FROM short_middle AS tier, query
        GROUP BY query.safe, query.elsewhere
    ) AS best
),
elsewhere_top AS MATERIALIZED (
    SELECT * FROM (
        (SELECT * FROM short_middle)
        UNION ALL
        (SELECT doc.id, doc.name, score.score
         FROM catalog_searchoverlay AS doc, query, catalog_search_score(
             doc.name, doc.name_words, doc.summary_words, doc.tag_words, doc.prior,
             query.exact, query.near, query.idf, query.words, query.phrase, query.query_name) AS score
         WHERE doc.document @@ (SELECT match FROM query) AND NOT doc.short_words @@ (SELECT words FROM query) AND doc.prior >= 2.0
           AND doc.prior >= coalesce((SELECT least_prior FROM elsewhere_top_entry), 0)
           AND doc.name <> ALL ((SELECT exact_names FROM query)::text[])
           AND (doc.category = ANY (%(categories)s::text[]) OR cardinality(%(categories)s::text[]) = 0)
           AND (doc.tags && %(tags)s::text[] OR cardinality(%(tags)s::text[]) = 0)
           AND NOT coalesce((SELECT skipped FROM elsewhere_top_entry), false))
    ) AS tier
    ORDER BY CASE WHEN %(by_name)s::boolean THEN name END, score DESC, name LIMIT %(depth)s
),
short_low_entry AS (
    SELECT least_prior, least_prior >= 1.6 AS skipped FROM (
        SELECT CASE WHEN query.safe AND count(*) >= %(depth)s THEN min(tier.score) / query.in_short END AS least_prior
        FROM elsewhere_top AS tier, query
        GROUP BY query.safe, query.in_short
    ) AS best
),
short_low AS MATERIALIZED (
    SELECT * FROM (
        (SELECT * FROM elsewhere_top)
        UNION ALL
        (SELECT doc.id, doc.name, score.score
         FROM catalog_searchoverlay AS doc, query, catalog_search_score(
             doc.name, doc.name_words, doc.summary_words, doc.tag_words, doc.prior,
             query.exact, query.near, query.idf, query.words, query.phrase, query.query_name) AS score
         WHERE doc.short_words @@ (SELECT words FROM query) AND NOT doc.name_words @@ (SELECT words FROM query) AND doc.prior < 1.6
           AND doc.prior >= coalesce((SELECT least_prior FROM short_low_entry), 0)
           AND doc.name <> ALL ((SELECT exact_names FROM query)::text[])
           AND ((SELECT plain FROM query) OR doc.document @@ (SELECT match FROM query))
           AND (doc.category = ANY (%(categories)s::text[]) OR cardinality(%(categories)s::text[]) = 0)
           AND (doc.tags && %(tags)s::text[] OR cardinality(%(tags)s::text[]) = 0)
           AND NOT coalesce((SELECT skipped FROM short_low_entry), false))
    ) AS tier
    ORDER BY CASE WHEN %(by_name)s::boolean THEN name END, score DESC, name LIMIT %(depth)s
),
-- The last tier's two bands, each skipped on its own.
rest_entry AS (
    SELECT least_prior, least_prior >= 2.0 AS middle, least_prior >= 1.6 AS low FROM (
        SELECT CASE WHEN query.safe AND count(*) >= %(depth)s THEN min(tier.score) / query.elsewhere END AS least_prior
        FROM short_low AS tier, query
        GROUP BY query.safe, query.elsewhere
    ) AS best
),
candidates AS MATERIALIZED (
    SELECT * FROM (
        (SELECT * FROM short_low)
        UNION ALL
        (SELECT doc.id, doc.name, score.score
         FROM catalog_searchoverlay AS doc, query, catalog_search_score(
             doc.name, doc.name_words, doc.summary_words, doc.tag_words, doc.prior,
             query.exact, query.near, query.idf, query.words, query.phrase, query.query_name) AS score
         WHERE doc.document @@ (SELECT match FROM query) AND NOT doc.short_words @@ (SELECT words FROM query)
           AND doc.prior >= coalesce((SELECT least_prior FROM rest_entry), 0)
           AND doc.prior >= 1.6 AND doc.prior < 2.0 AND doc.name <> ALL ((SELECT exact_names FROM query)::text[])
           AND (doc.category = ANY (%(categories)s::text[]) OR cardinality(%(categories)s::text[]) = 0)
           AND (doc.tags && %(tags)s::text[] OR cardinality(%(tags)s::text[]) = 0)
           AND NOT coalesce((SELECT middle FROM rest_entry), false))
        UNION ALL
        (SELECT doc.id, doc.name, score.score
         FROM catalog_searchoverlay AS doc, query, catalog_search_score(
             doc.name, doc.name_words, doc.summary_words, doc.tag_words, doc.prior,
             query.exact, query.near, query.idf, query.words, query.phrase, query.query_name) AS score
         WHERE doc.document @@ (SELECT match FROM query) AND NOT doc.short_words @@ (SELECT words FROM query) AND doc.prior < 1.6
           AND doc.prior >= coalesce((SELECT least_prior FROM rest_entry), 0)
           AND doc.name <> ALL ((SELECT exact_names FROM query)::text[])
           AND (doc.category = ANY (%(categories)s::text[]) OR cardinality(%(categories)s::text[]) = 0)
           AND (doc.tags && %(tags)s::text[] OR cardinality(%(tags)s::text[]) = 0)
           AND NOT coalesce((SELECT low FROM rest_entry), false))
    ) AS tier
    ORDER BY CASE WHEN %(by_name)s::boolean THEN name END, score DESC, name LIMIT %(depth)s
),
-- Semantic ranking (docs/ranking.md), when a query vector is given and every
-- word is one the index holds: the vector of a typo or of an unfinished word
-- means nothing, so such a query ranks by words alone.
semantic AS (
    SELECT %(vector)s::vector IS NOT NULL AND NOT EXISTS (SELECT FROM known WHERE documents = 0) AS active
),
-- The items nearest the query's vector, from both halves of the overlay: the
-- index through its HNSW index (approximate; exact, by reading every vector,
-- when exhaustive), the pending documents by reading them. The overlay below
-- drops an indexed item that a pending document supersedes.
nearest AS (
    (SELECT indexed.id FROM catalog_searchindex AS indexed
     WHERE (SELECT active FROM semantic) AND NOT %(exhaustive)s::boolean
           AND (indexed.category = ANY (%(categories)s::text[]) OR cardinality(%(categories)s::text[]) = 0)
           AND (indexed.tags && %(tags)s::text[] OR cardinality(%(tags)s::text[]) = 0)
     ORDER BY indexed.vector <=> %(vector)s::vector LIMIT %(neighbours)s)
    UNION ALL
    (SELECT indexed.id FROM catalog_searchindex AS indexed
     WHERE (SELECT active FROM semantic) AND %(exhaustive)s::boolean AND indexed.vector IS NOT NULL
           AND (indexed.category = ANY (%(categories)s::text[]) OR cardinality(%(categories)s::text[]) = 0)
           AND (indexed.tags && %(tags)s::text[] OR cardinality(%(tags)s::text[]) = 0)
     -- An expression the index does not order by: every vector is compared.
     ORDER BY (indexed.vector <=> %(vector)s::vector) + 0 LIMIT %(neighbours)s)
    UNION ALL
    (SELECT pending.item_id FROM catalog_searchpending AS pending
     WHERE (SELECT active FROM semantic) AND NOT pending.deleted AND pending.vector IS NOT NULL
           AND (pending.category = ANY (%(categories)s::text[]) OR cardinality(%(categories)s::text[]) = 0)
           AND (pending.tags && %(tags)s::text[] OR cardinality(%(tags)s::text[]) = 0)
     ORDER BY pending.vector <=> %(vector)s::vector LIMIT %(neighbours)s)
),
-- The best lexical candidates, as many as the nearest items: with those, the
-- pool the blend orders. It is the same whatever the page (the statement reads
-- at least that many candidates), so pages never overlap; results past it
-- follow in lexical order.
pooled AS (
    SELECT id FROM candidates ORDER BY score DESC, name LIMIT %(neighbours)s
),
-- The lexical candidates and the nearest items, each with its lexical part
-- (its score if it matches the words, else 0; a neighbour must hold one of
-- them at least) and, in the pool, its semantic part (cosine similarity, 0 at
-- worst). The blend (docs/ranking.md), in the pool: results whose name is the
-- query or starts with it (a name part) first, in lexical order; then the
-- others by score = lexical + semantic_weight * prior * semantic. With no
-- semantic part, this is the lexical ranking exactly.
blended AS MATERIALIZED (
    SELECT doc.id, doc.name, doc.summary, doc.description, doc.category, doc.tags, doc.prior,
           parts.lexical + %(semantic_weight)s::float8 * doc.prior * parts.semantic AS score,
           parts.lexical, parts.semantic,
           CASE WHEN parts.is_match THEN score.words ELSE 0 END AS words,
           CASE WHEN parts.is_match THEN score.phrase_bonus ELSE 0 END AS phrase_bonus,
           CASE WHEN parts.is_match THEN score.name_bonus ELSE 0 END AS name_bonus,
           parts.is_match, parts.pooled,
           parts.pooled AND (SELECT active FROM semantic) AND NOT (parts.is_match AND score.name_bonus > 0) AS blended
    FROM catalog_searchoverlay AS doc
    CROSS JOIN query
    CROSS JOIN LATERAL catalog_search_score(
        doc.name, doc.name_words, doc.summary_words, doc.tag_words, doc.prior,
        query.exact, query.near, query.idf, query.words, query.phrase, query.query_name) AS score
    CROSS JOIN LATERAL (
        SELECT doc.document @@ query.match AS is_match,
               CASE WHEN doc.document @@ query.match THEN score.score ELSE 0 END AS lexical,
               NOT (SELECT active FROM semantic) OR doc.id IN (SELECT id FROM pooled UNION ALL SELECT id FROM nearest)
                   AS pooled
    ) AS matching
    CROSS JOIN LATERAL (
        SELECT matching.*,
               CASE WHEN (SELECT active FROM semantic) AND matching.pooled
                    THEN greatest(0, 1 - (doc.vector <=> %(vector)s::vector)) ELSE 0 END AS semantic
    ) AS parts
    -- An array, not a join: the ids reach both halves of the overlay as an index condition.
    WHERE doc.id = ANY ((SELECT array_agg(id) FROM candidates)::bigint[] || (SELECT array_agg(id) FROM nearest)::bigint[])
      -- A neighbour that holds none of the words is no result: the nearest
      -- items are near only relatively (in a small catalog, all are), and a
      -- result that shares no word with the query cannot show why it is there.
      AND (parts.is_match OR doc.document @@ query.any_word)
      AND (doc.category = ANY (%(categories)s::text[]) OR cardinality(%(categories)s::text[]) = 0)
      AND (doc.tags && %(tags)s::text[] OR cardinality(%(tags)s::text[]) = 0)
),
page AS (
    SELECT *, row_number() OVER (
        ORDER BY CASE WHEN %(by_name)s::boolean THEN name END, NOT pooled, blended, score DESC, name
    ) AS rank
    FROM blended
    ORDER BY rank OFFSET %(offset)s LIMIT %(page_size)s
),
-- The matches, whatever the filters, read through the same indexes by prior:
-- inlined into each count below, with that count's filters.
matched AS NOT MATERIALIZED (
    SELECT doc.category, doc.tags FROM catalog_searchoverlay AS doc, query
    WHERE doc.document @@ (SELECT match FROM query) AND doc.prior >= 2.0
    UNION ALL
    SELECT doc.category, doc.tags FROM catalog_searchoverlay AS doc, query
    WHERE doc.document @@ (SELECT match FROM query) AND doc.prior >= 1.6 AND doc.prior < 2.0
    UNION ALL
    SELECT doc.category, doc.tags FROM catalog_searchoverlay AS doc, query
    WHERE doc.document @@ (SELECT match FROM query) AND doc.prior < 1.6
),
-- At most count_cap matches of the filters, for the count (and the facets of
-- a facet with no value chosen).
counted AS MATERIALIZED (
    SELECT category, tags FROM matched
    WHERE (category = ANY (%(categories)s::text[]) OR cardinality(%(categories)s::text[]) = 0)
      AND (tags && %(tags)s::text[] OR cardinality(%(tags)s::text[]) = 0)
    LIMIT %(count_cap)s
),
-- Disjunctive faceting: a facet with values chosen is counted over the matches
-- of the other facet's filter alone, so its other values stay offered with
-- the counts choosing them too would add. Read only when it has values chosen.
category_counted AS MATERIALIZED (
    SELECT category FROM matched
    WHERE cardinality(%(categories)s::text[]) > 0
      AND (tags && %(tags)s::text[] OR cardinality(%(tags)s::text[]) = 0)
    LIMIT %(count_cap)s
),
tag_counted AS MATERIALIZED (
    SELECT tags FROM matched
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
    -- The description's best fragments, and the name and summary, with every match marked.
    ARRAY(
        SELECT json_build_array(
            id, name, summary, category, tags, score, words, phrase_bonus, name_bonus, prior, lexical, semantic,
            ts_headline(
                'searchsite_english', left(description, 2000), (SELECT match FROM query),
                'StartSel=' || chr(57344) || ', StopSel=' || chr(57345)
                || ', MaxFragments=2, MaxWords=24, MinWords=12, FragmentDelimiter=" … "'
            ),
            -- Twice each, as the document indexes them: stemmed and as typed
            -- ("libreoffice" is stemmed "libreoffic"; "mail/news" is the words
            -- "mail news", and catalog_search_words keeps each character in
            -- its place); query.py merges the marks.
            ARRAY(
                SELECT ts_headline(
                    config, field, (SELECT match FROM query),
                    'StartSel=' || chr(57344) || ', StopSel=' || chr(57345) || ', HighlightAll=true'
                )
                FROM (VALUES (1, 'searchsite_english'::regconfig, name), (2, 'searchsite_simple', catalog_search_words(name)),
                             (3, 'searchsite_english', summary), (4, 'searchsite_simple', catalog_search_words(summary))) AS field (n, config, field)
                ORDER BY n
            )
        )
        FROM page
        ORDER BY rank
    ) AS hits,
    -- Nearest items that do not match the words: results beyond the matches counted.
    (SELECT count(*) FROM blended WHERE NOT is_match) AS related,
    (SELECT count(*) FROM category_facet) AS category_counted,
    -- Each facet's most frequent values, and its chosen ones whatever their rank.
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
    -- "Did you mean": words typed apart that are one word, a word that is two,
    -- and each other word the vocabulary lacks, or holds far more rarely than a
    -- correction of it, with that correction.
    ARRAY(
        SELECT json_build_array(typed, correction) FROM (
            SELECT position, typed, correction FROM joined
            UNION ALL
            SELECT position, typed, correction FROM split
            UNION ALL
            SELECT known.position, known.word, corrected.word
            FROM known
            CROSS JOIN LATERAL (
                SELECT alternative.word FROM alternative
                WHERE alternative.position = known.position AND alternative.distance > 0
                  AND alternative.documents > 10 * known.documents
                  -- A word being typed is no typo while words start with it.
                  AND NOT (known.typing AND EXISTS (
                      SELECT FROM alternative AS completion
                      WHERE completion.position = known.position AND completion.distance = 0
                  ))
                ORDER BY alternative.distance, alternative.documents DESC, alternative.word LIMIT 1
            ) AS corrected
            WHERE NOT EXISTS (SELECT FROM joined WHERE known.position IN (joined.position, joined.position + 1))
              AND NOT EXISTS (SELECT FROM split WHERE split.position = known.position)
        ) AS correction
        ORDER BY position
    ) AS corrections,
    (SELECT match::text FROM query) AS match
