"""The rank cap: past RANK_CAP matches, totals and facet counts are estimates, and say so."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from catalog.models import Category, Item
from catalog.search import query
from catalog.search.explain import explain_search
from catalog.search.query import document_search
from tests.conftest import refresh


@pytest.fixture
def cap_of_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(query, "RANK_CAP", 2)


@pytest.mark.usefixtures("corpus")
class TestRankCap:
    def test_under_the_cap_counts_are_exact(self) -> None:
        result = document_search(text="web browser")

        assert (result.total, result.total_is_estimate) == (2, False)

    @pytest.mark.usefixtures("cap_of_two")
    def test_over_the_cap_the_total_is_an_estimate_of_at_least_the_cap(self) -> None:
        result = document_search(text="vlc")

        assert result.total_is_estimate
        assert result.total >= query.RANK_CAP
        assert result.hits[0].name == "vlc"  # the exact name is always a candidate

    @pytest.mark.usefixtures("cap_of_two")
    def test_over_the_cap_sorting_by_name_reads_every_match(self) -> None:
        result = document_search(text="vlc", sort="name")

        assert [hit.name for hit in result.hits] == ["vlc", "vlc-plugin-jack"]

    @pytest.mark.usefixtures("cap_of_two")
    def test_the_page_says_about(self, client: Client) -> None:
        html = client.get("/", {"q": "vlc"}).content.decode()

        assert "About " in html and "(counts estimated)" in html


@pytest.fixture
def zorblax_in_every_sample(db: None) -> dict[str, int]:
    """Three items sharing a word: one in the 1-in-100 sample, one in the 1-in-10, one in neither."""
    category = Category.objects.create(name="misc")
    ids = {"in-100": 300, "in-10": 310, "in-neither": 311}
    for name, id in ids.items():
        Item.objects.create(id=id, name=f"zorblax-{name}", summary="the zorblax tool", category=category)
    refresh()
    return ids


@pytest.mark.parametrize("text", ["zorblax", "zorbl"], ids=["whole word", "prefix"])
class TestSamples:
    """The words tiers are read by sample, smallest first: a common word fills the cap there."""

    def test_together_they_are_every_match(self, zorblax_in_every_sample: dict[str, int], text: str) -> None:
        result = document_search(text=text)

        assert (result.total, result.total_is_estimate) == (3, False)

    @pytest.mark.usefixtures("cap_of_two")
    def test_past_the_cap_the_candidates_come_from_the_smallest_samples(
        self, zorblax_in_every_sample: dict[str, int], text: str
    ) -> None:
        result = document_search(text=text)

        assert {hit.id for hit in result.hits} == {zorblax_in_every_sample["in-100"], zorblax_in_every_sample["in-10"]}

    def test_each_sample_reads_its_own_index(self, zorblax_in_every_sample: dict[str, int], text: str) -> None:
        with connection.cursor() as cursor:  # Three rows: only bitmap scans show which index would be read.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_indexscan = off")
        plans = "\n".join(explained.plan for explained in explain_search(text=text))

        assert "Bitmap Index Scan on searchindex_words_in100_gin" in plans
        assert "Bitmap Index Scan on searchindex_words_in10_gin" in plans
