"""Full-text search over the catalog: the index, the query and its freshness."""

# The text-search configuration of documents and queries alike (created in
# migration 0001 and named in sql/search_document.sql): English stemming over
# unaccented words.
TEXT_SEARCH_CONFIG = "searchsite_english"
# Unstemmed words (unaccent, lowercase) for prefixes and the typo vocabulary.
WORDS_CONFIG = "searchsite_simple"
