"""Full-text search over the catalog: the index, the query and its freshness.

Two text-search configurations, created by migrations 0001 and 0003 and named
in the SQL files of sql/: ``searchsite_english`` (unaccent, then English
stemming) and ``searchsite_simple`` (unaccent, lowercase: words as typed).
"""
