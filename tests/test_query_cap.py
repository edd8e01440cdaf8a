"""The rank cap: past RANK_CAP matches, totals and facet counts are estimates, and say so."""

from __future__ import annotations

import pytest
from django.test import Client

from catalog.search import query
from catalog.search.query import document_search


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
