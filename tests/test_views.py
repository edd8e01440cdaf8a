from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from bench.server import WebServer
from catalog import views
from catalog.importer import catalog_import
from catalog.models import Item, SearchRefreshRequest
from catalog.search import query
from tests.conftest import make_record, refresh, write_catalog
from tests.test_query import HOSTILE_QUERIES

HX = {"HX-Request": "true"}


@pytest.fixture
def evil_item(db: None, tmp_path: Path) -> None:
    record = make_record(
        "evil-browser",
        summary="<script>alert('summary')</script> browser",
        description="Browser <img src=x onerror=alert(1)> for the web",
        tags=["<b>bold</b>"],
    )
    catalog_import(path=write_catalog(tmp_path / "evil.jsonl.gz", [record]))
    refresh()


@pytest.mark.usefixtures("corpus")
class TestSearchPage:
    def test_full_page_works_without_javascript(self, client: Client) -> None:
        response = client.get("/", {"q": "web browser"})

        html = response.content.decode()
        assert response.status_code == 200
        assert html.startswith("<!doctype html>")
        assert 'action="/"' in html and 'name="q"' in html and 'value="web browser"' in html
        assert 'href="/items/firefox-esr/?q=web+browser"' in html and 'href="/items/chromium/?q=web+browser"' in html
        assert "2 results for “web browser”" in html
        assert "<mark>" in html
        assert response.headers["Vary"] == "HX-Request"

    def test_htmx_request_gets_the_results_fragment(self, client: Client) -> None:
        response = client.get("/", {"q": "web browser"}, headers=HX)

        html = response.content.decode()
        assert "<html" not in html and "<form" not in html
        assert 'href="/items/chromium/?q=web+browser"' in html
        assert '<span id="search-status" hx-swap-oob="innerHTML">2 results for “web browser”' in html

    def test_history_restore_gets_the_full_page(self, client: Client) -> None:
        response = client.get("/", {"q": "vlc"}, headers={**HX, "HX-History-Restore-Request": "true"})

        assert response.content.decode().startswith("<!doctype html>")

    def test_no_match_says_so(self, client: Client) -> None:
        response = client.get("/", {"q": "zzyzx"})

        assert "Nothing matches “zzyzx”" in response.content.decode()

    def test_empty_query_shows_the_form(self, client: Client) -> None:
        html = client.get("/").content.decode()

        assert "Type to search the catalog" in html and 'class="hit"' not in html

    @pytest.mark.parametrize("page", ["0", "-1", "abc", "99999999999999999999", "1.5"])
    def test_bad_page_numbers_fall_back_to_the_first_page(self, client: Client, page: str) -> None:
        response = client.get("/", {"q": "web browser", "page": page})

        assert response.status_code == 200
        # An invalid page is no page: the links leave it out.
        assert 'href="/items/chromium/?q=web+browser"' in response.content.decode()

    @pytest.mark.parametrize("text", [*HOSTILE_QUERIES, "a\x01b\x7f"])
    def test_hostile_queries_get_a_page(self, client: Client, text: str) -> None:
        assert client.get("/", {"q": text}).status_code == 200
        assert client.get("/", {"q": text}, headers=HX).status_code == 200
        assert client.get("/api/search", {"q": text}).status_code == 200

    def test_only_get_is_allowed(self, client: Client) -> None:
        assert client.post("/", {"q": "vlc"}).status_code == 405


@pytest.mark.usefixtures("corpus")
class TestSearchApi:
    def test_schema(self, client: Client) -> None:
        response = client.get("/api/search", {"q": "vlc"})

        body = response.json()
        assert response.headers["Content-Type"] == "application/json"
        assert set(body) == {
            "query",
            "total",
            "total_is_estimate",
            "page",
            "took_ms",
            "suggestion",
            "ranked",
            "facets",
            "results",
        }
        assert body["total_is_estimate"] is False
        assert (body["query"], body["total"], body["page"]) == ("vlc", 2, 1)
        assert (body["suggestion"], body["ranked"]) == (None, 2)
        assert body["facets"] == {"category": [{"value": "video", "count": 2}], "tag": []}
        assert isinstance(body["took_ms"], float)
        first = body["results"][0]
        assert first == {
            "id": first["id"],
            "name": "vlc",
            "summary": "multimedia player and streamer",
            "category": "video",
            "tags": [],
            "url": "http://testserver/items/vlc/",
            "snippet": first["snippet"],
            "score": first["score"],
        }
        assert set(first["score"]) == {"score", "words", "phrase", "name", "prior", "lexical", "semantic"}
        assert first["score"]["name"] == 0.5  # named as the query

    def test_empty_query_gives_zero_results(self, client: Client) -> None:
        assert client.get("/api/search", {"q": ""}).json() == {
            "query": "",
            "total": 0,
            "total_is_estimate": False,
            "page": 1,
            "took_ms": 0.0,
            "suggestion": None,
            "ranked": 0,
            "facets": {"category": [], "tag": []},
            "results": [],
        }
        assert client.get("/api/search").json()["total"] == 0

    def test_pages(self, client: Client) -> None:
        assert client.get("/api/search", {"q": "vlc", "page": "2"}).json()["results"] == []


@pytest.mark.usefixtures("corpus")
class TestFacetsAndFilters:
    def test_facet_counts_follow_the_query_and_the_filters(self, client: Client) -> None:
        facets = client.get("/api/search", {"q": "browser"}).json()["facets"]
        assert facets["category"] == [{"value": "web", "count": 2}]
        assert facets["tag"][:2] == [{"value": "role::program", "count": 2}, {"value": "web::browser", "count": 2}]

        filtered = client.get("/api/search", {"q": "browser", "tag": "works-with::pdf"}).json()
        assert [r["name"] for r in filtered["results"]] == ["firefox-esr"]
        assert filtered["facets"]["category"] == [{"value": "web", "count": 1}]

    def test_filters_combine_with_and_across_facets(self, client: Client) -> None:
        both = {"q": "browser", "category": "web", "tag": ["web::browser", "role::program"]}
        assert client.get("/api/search", both).json()["total"] == 2
        assert client.get("/api/search", {**both, "category": "video"}).json()["total"] == 0

    @pytest.mark.parametrize("params", [{"category": "nope"}, {"tag": "no::such"}, {"tag": "\x01'\""}])
    def test_unknown_filter_values_give_an_empty_result(self, client: Client, params: dict[str, str]) -> None:
        response = client.get("/api/search", {"q": "browser", **params})

        assert response.status_code == 200
        assert (response.json()["total"], response.json()["results"]) == (0, [])

    def test_sort_by_name(self, client: Client) -> None:
        names = [r["name"] for r in client.get("/api/search", {"q": "browser", "sort": "name"}).json()["results"]]
        assert names == ["chromium", "firefox-esr"]
        assert client.get("/api/search", {"q": "browser", "sort": "bogus"}).status_code == 200

    def test_page_shows_facets_and_removable_chips(self, client: Client) -> None:
        html = client.get("/", {"q": "browser", "category": "web"}).content.decode()

        assert '<input type="hidden" name="category" value="web">' in html
        assert 'href="?q=browser" aria-label="Remove filter category web"' in html
        assert 'href="?q=browser&amp;category=web&amp;tag=web%3A%3Abrowser"' in html

    def test_htmx_results_update_the_filters_out_of_band(self, client: Client) -> None:
        html = client.get("/", {"q": "browser", "tag": "web::browser"}, headers=HX).content.decode()

        assert '<div id="filters" class="filters" hx-swap-oob="true"' in html
        assert '<input type="hidden" name="tag" value="web::browser">' in html


@pytest.mark.usefixtures("corpus")
class TestSpelling:
    def test_a_misspelt_word_finds_what_it_misspells_and_suggests_it(self, client: Client) -> None:
        body = client.get("/api/search", {"q": "thunderbrd"}).json()

        assert (body["total"], body["suggestion"]) == (1, "thunderbird")
        assert body["results"][0]["name"] == "thunderbird"
        html = client.get("/", {"q": "thunderbrd"}).content.decode()
        assert 'Did you mean <a class="suggestion" href="?q=thunderbird">thunderbird</a>?' in html

    def test_a_prefix_being_typed_is_not_corrected(self, client: Client) -> None:
        body = client.get("/api/search", {"q": "thunderb"}).json()

        assert (body["suggestion"], [r["name"] for r in body["results"]]) == (None, ["thunderbird"])


@pytest.mark.usefixtures("evil_item")
class TestEscaping:
    def test_page_escapes_item_text(self, client: Client) -> None:
        html = client.get("/", {"q": "browser"}).content.decode()

        assert "<script>alert" not in html and "<img" not in html and "<b>bold" not in html
        assert "&lt;script&gt;alert(&#x27;summary&#x27;)&lt;/script&gt; <mark>browser</mark>" in html
        assert "&lt;b&gt;bold&lt;/b&gt;" in html

    def test_api_keeps_markup_inert(self, client: Client) -> None:
        response = client.get("/api/search", {"q": "browser"})

        raw = response.content.decode()
        assert "<" not in raw and ">" not in raw
        [hit] = json.loads(raw)["results"]
        assert hit["summary"] == "<script>alert('summary')</script> browser"
        assert "<img" not in hit["snippet"] and "<mark>" in hit["snippet"]

    def test_detail_page_escapes_item_text(self, client: Client) -> None:
        html = client.get("/items/evil-browser/").content.decode()

        assert "<script>alert" not in html
        assert "&lt;script&gt;" in html


@pytest.mark.usefixtures("corpus")
class TestFreshnessFooter:
    """The footer of the search page says how fresh the index is, in plain English."""

    def footer(self, client: Client) -> str:
        html = client.get("/").content.decode()
        return " ".join(html[html.index('<footer class="freshness">') : html.index("</footer>")].split()[2:])

    def test_a_refresh_under_a_minute_ago_was_just_now(self, client: Client) -> None:
        assert self.footer(client) == "Index refreshed just now; the refresher is not running."

    def test_one_edit_is_already_searchable(self, client: Client) -> None:
        Item.objects.filter(name="vlc").update(summary="edited")

        assert self.footer(client) == (
            "Index refreshed just now; 1 item edited since then is already searchable; the refresher is not running."
        )

    def test_several_edits_are_already_searchable(self, client: Client) -> None:
        Item.objects.filter(name__in=["vlc", "evince", "chromium"]).update(summary="edited")

        assert "; 3 items edited since then are already searchable;" in self.footer(client)

    def test_an_imported_change_waits_for_the_refresh(self, client: Client) -> None:
        vlc = Item.objects.get(name="vlc")
        SearchRefreshRequest.objects.create(item_id=vlc.id, requested_at=vlc.updated_at)

        assert "; 1 item edited since then is searchable after the next refresh;" in self.footer(client)
        Item.objects.filter(name="evince").update(summary="edited")
        assert "; 2 items edited since then (1 of them searchable after the next refresh);" in self.footer(client)


def page_links(html: str) -> tuple[list[str], list[str]]:
    """The pagination as shown: its entries' text ("1", "…", ...) and the current page's."""
    nav = html[html.index('<nav class="pagination"') : html.index("</nav>")]
    entries = [re.sub(r"<[^>]+>", "", entry) for entry in re.findall(r"<li>(.*?)</li>", nav)]
    return entries, re.findall(r'<span aria-current="page">(\d+)</span>', nav)


@pytest.fixture
def twelve_pages(corpus: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Twelve items matching "zorblax", one result per page."""
    records = [make_record(f"zorblax-{n:02}", summary="the zorblax tool") for n in range(1, 13)]
    catalog_import(path=write_catalog(tmp_path / "zorblax.jsonl.gz", records))
    refresh()
    monkeypatch.setattr(query, "PAGE_SIZE", 1)


@pytest.mark.usefixtures("twelve_pages")
class TestPageNumbers:
    def test_first_previous_nearby_pages_next_and_last(self, client: Client) -> None:
        html = client.get("/", {"q": "zorblax", "page": "6"}).content.decode()

        assert page_links(html) == (["1", "…", "4", "5", "6", "7", "8", "…", "12"], ["6"])
        assert '<a rel="prev" href="?q=zorblax&amp;page=5">' in html
        assert '<a rel="next" href="?q=zorblax&amp;page=7">' in html
        # The first page is the search's own address: no page=1.
        assert '<a href="?q=zorblax" aria-label="Page 1">1</a>' in html
        assert '<a href="?q=zorblax&amp;page=12" aria-label="Page 12">12</a>' in html

    def test_the_first_page_has_no_previous_and_the_last_no_next(self, client: Client) -> None:
        first = client.get("/", {"q": "zorblax"}).content.decode()
        last = client.get("/", {"q": "zorblax", "page": "12"}).content.decode()

        assert page_links(first) == (["1", "2", "3", "…", "12"], ["1"]) and 'rel="prev"' not in first
        assert page_links(last) == (["1", "…", "10", "11", "12"], ["12"]) and 'rel="next"' not in last

    def test_pages_stop_at_the_ranked_depth(self, client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(query, "RANK_DEPTH", 5)

        html = client.get("/", {"q": "zorblax", "page": "5"}).content.decode()

        assert page_links(html) == (["1", "2", "3", "4", "5"], ["5"])
        assert 'rel="next"' not in html and "page=6" not in html

    def test_the_htmx_fragment_has_the_same_page_numbers(self, client: Client) -> None:
        html = client.get("/", {"q": "zorblax", "page": "2"}, headers=HX).content.decode()

        assert page_links(html) == (["1", "2", "3", "4", "…", "12"], ["2"])


@pytest.mark.usefixtures("corpus")
class TestBackToResults:
    def test_result_links_carry_the_search(self, client: Client) -> None:
        html = client.get("/", {"q": "browser", "tag": "web::browser", "sort": "name"}).content.decode()

        assert 'href="/items/chromium/?q=browser&amp;tag=web%3A%3Abrowser&amp;sort=name"' in html

    def test_the_item_page_links_back_to_the_same_query_filters_and_page(self, client: Client) -> None:
        params = {"q": "vlc", "category": "video", "sort": "name", "page": "2"}

        html = client.get("/items/vlc/", params).content.decode()

        assert (
            '<a class="back" href="/?q=vlc&amp;category=video&amp;sort=name&amp;page=2">← Back to results</a>' in html
        )
        assert '<link rel="canonical" href="/items/vlc/">' in html

    def test_the_search_it_carries_is_validated(self, client: Client) -> None:
        params = {"q": "a\x01b", "page": "abc", "sort": "evil", "tag": "", "next": "//evil.example"}

        html = client.get("/items/vlc/", params).content.decode()

        assert '<a class="back" href="/?q=a+b">← Back to results</a>' in html

    def test_without_a_search_it_links_to_the_search_page(self, client: Client) -> None:
        assert '<a class="back" href="/">← Search</a>' in client.get("/items/vlc/").content.decode()


@pytest.mark.usefixtures("corpus")
class TestItemDetail:
    def test_shows_the_item(self, client: Client) -> None:
        html = client.get("/items/firefox-esr/").content.decode()

        assert "<h1>firefox-esr</h1>" in html
        assert "web::browser" in html

    def test_a_web_homepage_is_linked(self, client: Client) -> None:
        Item.objects.filter(name="vlc").update(homepage="https://www.videolan.org/vlc/")

        html = client.get("/items/vlc/").content.decode()

        assert '<a href="https://www.videolan.org/vlc/" rel="nofollow noopener">' in html

    def test_a_name_with_a_slash_has_a_page_and_a_link(self, client: Client, tmp_path: Path) -> None:
        catalog_import(path=write_catalog(tmp_path / "slash.jsonl.gz", [make_record("vlc/extra", summary="zorblax")]))
        refresh()

        assert 'href="/items/vlc/extra/?q=zorblax"' in client.get("/", {"q": "zorblax"}).content.decode()
        assert "<h1>vlc/extra</h1>" in client.get("/items/vlc/extra/").content.decode()

    def test_unknown_item_is_404(self, client: Client) -> None:
        assert client.get("/items/no-such-package/").status_code == 404


@pytest.fixture(scope="module")
def web_without_database() -> Iterator[WebServer]:
    """The site served by a real gunicorn whose database server does not exist."""
    with WebServer("postgres://postgres@%2Ftmp%2Fsearchsite-no-such-server/searchsite") as web:
        yield web


class TestDatabaseDown:
    @pytest.mark.parametrize("path", ["/?q=firefox", "/items/vlc/"])
    def test_pages_say_the_search_is_unavailable(self, web_without_database: WebServer, path: str) -> None:
        status, headers, body = web_without_database.request(path)

        assert (status, headers["Retry-After"]) == (503, "10")
        assert b"the database cannot be reached" in body
        assert b"Traceback" not in body

    @pytest.mark.parametrize("path", ["/api/search?q=firefox", "/api/index-status"])
    def test_api_answers_json(self, web_without_database: WebServer, path: str) -> None:
        status, headers, body = web_without_database.request(path)

        assert (status, headers["Content-Type"]) == (503, "application/json")
        assert "the database cannot be reached" in json.loads(body)["error"]


@pytest.mark.usefixtures("corpus")
class TestExpensiveSearches:
    """Past its time limit a search is refused with a reason (422), never a 500."""

    @pytest.fixture(autouse=True)
    def no_time_at_all(self, settings: Any) -> None:
        settings.SEARCH_TIMEOUT_MS = 1  # not even the smallest search runs in 1 ms here

    def test_the_page_asks_to_simplify(self, client: Client) -> None:
        response = client.get("/", {"q": "web browser"})

        assert response.status_code == 422
        assert (
            "This search takes too long to run. Use fewer or longer words, or add a filter."
            in response.content.decode()
        )

    def test_htmx_gets_the_fragment_to_swap(self, client: Client) -> None:
        response = client.get("/", {"q": "web browser"}, headers={"HX-Request": "true"})

        assert response.status_code == 422 and 'role="alert">This search takes too long' in response.content.decode()

    def test_the_api_says_so_in_json(self, client: Client) -> None:
        response = client.get("/api/search", {"q": "web browser"})

        assert (response.status_code, response.json()) == (
            422,
            {"error": "This search takes too long to run. Use fewer or longer words, or add a filter."},
        )


@pytest.mark.usefixtures("corpus")
class TestHonestPages:
    """Past the ranked depth the page says so and links nowhere; estimates say they are."""

    def test_past_the_depth_the_page_says_how_many_are_shown_and_links_no_further(
        self, client: Client, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(query, "RANK_DEPTH", 1)

        html = client.get("/", {"q": "web browser"}).content.decode()

        assert "Showing the best 1 of 2 results for “web browser”; refine your search to see others" in html
        assert 'rel="next"' not in html

    def test_estimated_counts_are_labelled(self, client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(query, "COUNT_CAP", 1)

        html = client.get("/", {"q": "web browser"}).content.decode()
        body = client.get("/api/search", {"q": "web browser"}).json()

        assert "About " in html and "(estimated counts)" in html and '<span class="count">~' in html
        assert body["total_is_estimate"] is True and body["total"] >= 1


@pytest.mark.usefixtures("corpus")
class TestHighlighting:
    def test_names_and_summaries_mark_the_matched_words(self, client: Client) -> None:
        html = client.get("/", {"q": "web browser "}).content.decode()

        assert "Mozilla Firefox <mark>web</mark> <mark>browser</mark> - Extended" in html

    def test_the_word_being_typed_marks_the_typed_letters(self, client: Client) -> None:
        html = client.get("/", {"q": "thunderb"}).content.decode()

        assert ">Thunderb</mark>" not in html  # the name is lowercase
        assert "<mark>thunderb</mark>ird</a>" in html


@pytest.mark.usefixtures("corpus")
class TestJoinedAndSplitWords:
    def test_words_typed_apart_are_corrected_to_the_word_they_make(self, client: Client) -> None:
        body = client.get("/api/search", {"q": "fire fox"}).json()

        assert body["suggestion"] == "firefox"
        assert [r["name"] for r in body["results"]] == ["firefox-esr"]

    def test_a_word_typed_as_one_is_split_into_the_words_it_holds(self, client: Client) -> None:
        body = client.get("/api/search", {"q": "textedito "}).json()  # "text" and "edito" are no words here
        assert body["suggestion"] is None

        body = client.get("/api/search", {"q": "texteditor "}).json()

        assert body["suggestion"] == "text editor"
        assert [r["name"] for r in body["results"]] == ["cafe-editor"]


@pytest.mark.usefixtures("corpus")
class TestDisjunctiveFacets:
    def test_values_of_one_facet_combine_with_or(self, client: Client) -> None:
        one = client.get("/api/search", {"q": "browser or player", "category": "web"}).json()
        both = client.get("/api/search", {"q": "browser or player", "category": ["web", "video"]}).json()

        assert one["total"] == 2 and both["total"] == 3

    def test_a_chosen_facet_keeps_its_siblings_counted_without_its_own_filter(self, client: Client) -> None:
        body = client.get("/api/search", {"q": "browser or player", "category": "web"}).json()

        assert body["facets"]["category"] == [{"value": "web", "count": 2}, {"value": "video", "count": 1}]
        # The other facet is counted with the category filter.
        assert {"value": "works-with::pdf", "count": 1} in body["facets"]["tag"]
        assert all(v["count"] <= 2 for v in body["facets"]["tag"])

    def test_tags_combine_with_or_and_with_and_across_facets(self, client: Client) -> None:
        tags = {"q": "browser or player", "tag": ["works-with::pdf", "role::program"]}
        assert client.get("/api/search", tags).json()["total"] == 2
        assert client.get("/api/search", {**tags, "category": "video"}).json()["total"] == 0

    def test_clear_all_removes_every_filter_and_keeps_the_query(self, client: Client) -> None:
        html = client.get("/", {"q": "browser", "category": "web", "tag": "web::browser"}).content.decode()

        assert '<a class="clear-all" href="?q=browser">Clear all</a>' in html

    def test_long_facet_lists_show_more_behind_a_details_element(
        self, client: Client, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(views, "FACET_SHOWN", 1)
        html = client.get("/", {"q": "browser", "tag": "works-with::pdf"}).content.decode()

        more = html.split('<details class="more" data-keep-open="more tag" open>', 1)[1].split("</details>", 1)[0]
        assert "works-with::pdf" in more and 'aria-current="true"' in more


@pytest.mark.usefixtures("corpus")
class TestBrowsing:
    def test_a_filter_without_words_lists_its_items_by_popularity_then_name(self, client: Client) -> None:
        Item.objects.filter(name="vlc-plugin-jack").update(popularity=5)
        refresh()

        body = client.get("/api/search", {"category": "video"}).json()

        assert [r["name"] for r in body["results"]] == ["vlc-plugin-jack", "vlc"]
        assert body["total"] == 2
        assert {"value": "web", "count": 2} in body["facets"]["category"]  # its siblings, to add
        html = client.get("/", {"category": "video"}).content.decode()
        assert "2 packages with these filters, most popular first" in html
        assert 'href="/items/vlc/?category=video"' in html

    def test_by_name(self, client: Client) -> None:
        body = client.get("/api/search", {"tag": "role::program", "sort": "name"}).json()

        assert [r["name"] for r in body["results"]] == ["chromium", "firefox-esr"]

    def test_nothing_chosen_lists_nothing(self, client: Client) -> None:
        assert client.get("/api/search", {"q": ""}).json()["total"] == 0

    def test_the_item_page_links_to_its_category(self, client: Client) -> None:
        html = client.get("/items/vlc/").content.decode()

        assert 'href="/?category=video"' in html
