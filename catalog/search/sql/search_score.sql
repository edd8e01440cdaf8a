-- How well one item matches one query: the ranking formula, in one place.
-- Installed by migration 0006 (and checked against this file by the tests);
-- search.sql calls it for every candidate.
--
--   score = prior * (words + phrase + name)
--
-- words  (0.15 to 1): for each query word, the best field it is in, weighted
--        by the word's IDF and averaged: name 1, summary 0.6, tags and category
--        0.4, anywhere else (the description) 0.15. Only the word as typed (or a
--        synonym) counts in full: its stem ("manager" is "management"'s too), a
--        completion of the word being typed or a typo correction count 0.7, so
--        typed words outrank guesses. IDF (BM25's
--        ln(1 + (N - n + 0.5) / (n + 0.5))) is computed by search.sql from the
--        vocabulary: a rare word matters more than "package".
-- phrase (0 or 0.2): all words, in order, side by side, in the name or the
--        summary: proximity and order, as Meilisearch's proximity rule.
-- name   (0 to 0.5): exactness of the name, when it holds every word. 0.5
--        when the name is the query (words joined by "-" or by spaces), else
--        0.3 times the share of the name the query covers when the name starts
--        with it: "firefox" puts firefox-esr before firefox-esr-l10n-ja. One
--        signal among the others, not a tier.
-- prior  (1 to 2.5): the item's static prior (search_document.sql): kind and
--        popularity. A multiplier, so that it orders comparable matches.
--
-- The bounds rank-safe retrieval relies on (search.sql), by where an item
-- holds the words (n words, the rarest one's share of the IDF being r):
--   every word in the name:        words + phrase + name <= 1 + 0.2 + 0.5,
--                                  or 1 + 0.2 + 0.3 unless the name is the query
--                                  (no phrase for a single word);
--   every word in the short fields, not all in the name: some word scores at
--                                  most 0.6, so <= 1 - 0.4 r + 0.2 (no name);
--   some word only elsewhere:      it scores 0.15, so <= 1 - 0.85 r (no phrase:
--                                  a phrase is in the name or the summary).
-- tests/test_score.py checks them on random queries.
CREATE OR REPLACE FUNCTION catalog_search_score(
    name text,
    name_words tsvector,
    summary_words tsvector,
    tag_words tsvector,
    prior float8,
    exact tsquery[],  -- per query word: the word as typed, its synonyms
    near tsquery[],   -- per query word: its stem, completions, typo corrections
    idf float8[],     -- per query word
    all_words tsquery, -- every word, in any of its readings: what a match holds
    phrase tsquery,   -- all the words in order, or NULL for a single word
    query_name text   -- the words joined by "-"
) RETURNS TABLE (score float8, words float8, phrase_bonus float8, name_bonus float8)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT prior * (parts.words + parts.phrase_bonus + parts.name_bonus), parts.*
    FROM (
        SELECT
            (SELECT sum(idf[i] * greatest(
                        CASE WHEN name_words @@ exact[i] THEN 1.0
                             WHEN summary_words @@ exact[i] THEN 0.6
                             WHEN tag_words @@ exact[i] THEN 0.4
                             ELSE 0.15 END,
                        CASE WHEN name_words @@ near[i] THEN 0.7
                             WHEN summary_words @@ near[i] THEN 0.42
                             WHEN tag_words @@ near[i] THEN 0.28
                             ELSE 0 END))
                    / sum(idf[i])
             FROM generate_subscripts(idf, 1) AS i)::float8 AS words,
            (CASE WHEN name_words @@ phrase OR summary_words @@ phrase THEN 0.2 ELSE 0 END)::float8 AS phrase_bonus,
            (CASE WHEN NOT name_words @@ all_words THEN 0
                  WHEN name = query_name OR name = replace(query_name, '-', ' ') THEN 0.5
                  WHEN starts_with(name, query_name) THEN 0.3 * length(query_name) / length(name)
                  ELSE 0 END)::float8 AS name_bonus
    ) AS parts
$$;
