"""Full-text search over the catalog: the index, the query and its freshness.

Two text-search configurations, created by migrations 0001 and 0003 and named
in the SQL files of sql/: ``searchsite_english`` (unaccent, then English
stemming) and ``searchsite_simple`` (unaccent, lowercase: words as typed).
"""

# The documents' and queries' configuration, for the Python that names it
# (the benchmarks' alternatives, tests); the SQL files spell it out.
TEXT_SEARCH_CONFIG = "searchsite_english"
