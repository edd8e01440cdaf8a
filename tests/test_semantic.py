"""The semantic blend of the search (query.py, sql/search.sql; docs/ranking.md).

A module of its own: its small corpus must not meet test_query.py's
module-scoped demo catalog.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from catalog.importer import catalog_import
from catalog.search import query
from catalog.search.query import document_search
from tests.conftest import make_record, refresh, write_catalog


def names(text: str) -> list[str]:
    return [hit.name for hit in document_search(text=text).hits]


class TestSemanticRanking:
    """The blend of words and vectors (docs/ranking.md), on a corpus where words alone miss."""

    @pytest.fixture(autouse=True)
    def items(self, db: None, tmp_path: Path) -> None:
        records = [
            make_record("gimp", section="graphics", summary="GNU Image Manipulation Program", tags=["role::program"]),
            make_record("image-tools", section="graphics", summary="image editor helpers for scripts"),
            make_record("nano", section="editors", summary="small, friendly text editor"),
            make_record("sl", section="games", summary="steam locomotive runs across your terminal"),
        ]
        catalog_import(path=write_catalog(tmp_path / "semantic.jsonl.gz", records))
        refresh()

    def test_a_program_that_never_says_the_words_is_found_through_its_vector(self, settings: Any) -> None:
        hits = document_search(text="image editor").hits
        gimp = next(hit for hit in hits if hit.name == "gimp")

        assert (gimp.score.lexical, gimp.score.words) == (0, 0) and gimp.score.semantic > 0
        assert gimp.score.score == pytest.approx(query.SEMANTIC_WEIGHT * gimp.score.prior * gimp.score.semantic)
        # The neighbour is a result, and counted as one; words alone do not find it.
        assert document_search(text="image editor").total == len(hits)
        settings.SEARCH_SEMANTIC = False
        assert names("image editor") == ["image-tools"]

    def test_a_neighbour_sharing_no_word_with_the_query_is_no_result(self) -> None:
        assert "sl" not in names("image editor")

    def test_names_that_are_the_query_or_start_with_it_stay_first_in_lexical_order(self, settings: Any) -> None:
        hybrid = document_search(text="image").hits
        settings.SEARCH_SEMANTIC = False
        lexical = document_search(text="image").hits

        named = [hit.name for hit in lexical if hit.score.name > 0]
        assert named and [hit.name for hit in hybrid[: len(named)]] == named

    def test_a_word_the_index_lacks_turns_the_semantic_part_off(self, settings: Any) -> None:
        typo = document_search(text="imaeg editr").hits
        settings.SEARCH_SEMANTIC = False

        assert [hit.score.semantic for hit in typo] == [0] * len(typo)
        assert [(hit.name, hit.score) for hit in typo] == [
            (hit.name, hit.score) for hit in document_search(text="imaeg editr").hits
        ]

    def test_off_in_settings_the_ranking_is_the_lexical_one(self, settings: Any) -> None:
        settings.SEARCH_SEMANTIC = False

        result = document_search(text="editor")

        assert [hit.score.semantic for hit in result.hits] == [0, 0]
        assert [hit.score.score for hit in result.hits] == [hit.score.lexical for hit in result.hits]
        assert sorted(hit.name for hit in result.hits) == ["image-tools", "nano"]  # the words' matches only
