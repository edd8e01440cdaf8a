"""The ranking formula (sql/search_score.sql): installed as written, and within the bounds the tiers rely on."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest
from django.db import connection

from catalog.search.index import PRIOR_MAX
from catalog.search.query import SEARCH, parse, search_params
from catalog.search.score import SCORE_SQL

# Every match of a query, with the parts of its score.
ALL_MATCHES = 1000


def test_the_database_holds_the_files_function_and_no_other(db: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = 'catalog_search_score'")
        installed = [source for (source,) in cursor.fetchall()]

    assert installed == [re.search(r"\$\$(.*)\$\$", SCORE_SQL, re.DOTALL).group(1)]  # type: ignore[union-attr]


def _matches(text: str) -> list[tuple[str, float, float, float, float, float]]:
    """(name, score, words, phrase, name bonus, prior) of every match, up to ALL_MATCHES."""
    params = search_params(parse(text), page=1, categories=(), tags=(), sort="relevance", exhaustive=True)
    params |= {"page_size": ALL_MATCHES, "depth": ALL_MATCHES}
    with connection.cursor() as cursor:
        cursor.execute(SEARCH.text, params)
        row = cursor.fetchone()
    hits = [] if row is None else row[1]
    return [(h[1], h[5], h[6], h[7], h[8], h[9]) for h in hits]


@pytest.mark.usefixtures("demo_catalog")
class TestBounds:
    def test_every_part_stays_in_its_range_on_random_queries(self, db: None, settings: Any) -> None:
        settings.SEARCH_SEMANTIC = False  # the lexical formula's parts
        with connection.cursor() as cursor:
            cursor.execute("SELECT name || ' ' || summary FROM catalog_searchindex ORDER BY md5(name) LIMIT 40")
            texts = [text for (text,) in cursor.fetchall()]
        rng = random.Random(7)
        queries = [" ".join(rng.sample(text.split(), min(len(text.split()), rng.randint(1, 3)))) for text in texts]
        outside = []
        for text in queries:
            joined = "-".join(parse(text).words)
            for name, score, words, phrase, name_bonus, prior in _matches(text):
                exact = name in (joined, joined.replace("-", " "))
                if not (
                    0.15 - 1e-9 <= words <= 1 + 1e-9
                    and phrase in (0, 0.2)
                    and 0 <= name_bonus <= (0.5 if exact else 0.3)
                    and 1 <= prior <= PRIOR_MAX
                    and abs(score - prior * (words + phrase + name_bonus)) < 1e-9
                ):
                    outside.append((text, name, score, words, phrase, name_bonus, prior))

        assert outside == []

    def test_a_popular_program_outranks_an_obscure_library_for_the_same_words(self, db: None) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT min(prior) FILTER (WHERE kind = 1 AND popularity >= 20),"
                " max(prior) FILTER (WHERE kind = 0 AND popularity = 0) FROM catalog_searchindex"
            )
            program, library = cursor.fetchone()

        assert program > library
