from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.models import F

from catalog.importer import catalog_import
from catalog.models import Item, Synonym
from catalog.search import query
from catalog.search.explain import explain_search
from catalog.search.overlay import SearchOverlay
from catalog.search.query import MAX_TERMS, PAGE_SIZE, document_search, highlight, parse, search_params
from tests.conftest import make_record, refresh, write_catalog

# Hostile input and the plain words it must answer as (None: nothing to find).
HOSTILE_QUERIES = {
    '"': None,
    "'": None,
    '"unbalanced phrase': None,
    "\\": None,
    "\\\\'; DROP TABLE catalog_item; --": None,
    "' OR 1=1 --": None,
    "a & b | !c <-> (d:*": None,
    "-": None,
    "or": None,
    "the and of": None,
    "x" * 10_000: None,
    "%_*?": None,
    "<script>alert(1)</script>": None,
    "🦊 browser 🎬": "browser",
    "web " * 2_500: "web",
}


def names(text: str, **kwargs: object) -> list[str]:
    return [hit.name for hit in document_search(text=text, **kwargs).hits]


@pytest.mark.usefixtures("corpus")
class TestDocumentSearch:
    def test_finds_by_summary_description_and_tags(self) -> None:
        assert set(names("web browser")) == {"firefox-esr", "chromium"}
        assert names("spam filter") == ["thunderbird"]
        assert names("pdf") == ["evince", "firefox-esr"]  # summary outranks a tag

    def test_accents_do_not_matter(self) -> None:
        assert names("creme brulee cafe") == ["cafe-editor"]
        assert names("café") == ["cafe-editor"]

    def test_exact_name_ranks_first(self) -> None:
        assert names("vlc") == ["vlc", "vlc-plugin-jack"]
        assert names("VLC")[0] == "vlc"

    def test_websearch_syntax(self) -> None:
        assert set(names('"web browser"')) == {"chromium", "firefox-esr"}
        assert names('"browser web"') == []
        assert names("browser -mozilla") == ["chromium"]
        assert set(names("thunderbird or vlc")) == {"thunderbird", "vlc", "vlc-plugin-jack"}

    def test_synonyms_find_each_other(self) -> None:
        assert names("email client") == ["thunderbird"]  # "email, e-mail, mail" ships as a synonym
        assert names("clip player") == []

        Synonym.objects.create(words="clip, multimedia")

        assert names("clip player") == ["vlc"]

    def test_prefixes_match_while_typing(self) -> None:
        assert names("thunderb") == ["thunderbird"]
        assert set(names("web brows")) == {
            "chromium",
            "firefox-esr",
        }
        assert names("multimedia pla") == ["vlc"]

    def test_a_typo_matches_the_word_it_misspells_and_is_suggested(self) -> None:
        result = document_search(text="thunderbrd ")

        assert ([h.name for h in result.hits], result.suggestion) == (["thunderbird"], "thunderbird")
        assert names("multimedai") == ["vlc"]  # two letters swapped: one typo

    def test_short_words_have_no_typos(self) -> None:
        assert names("vlx ") == []

    def test_a_word_being_typed_is_completed_not_corrected(self) -> None:
        result = document_search(text="thunde")

        assert ([h.name for h in result.hits], result.suggestion) == (["thunderbird"], None)

    def test_words_are_split_as_typed(self) -> None:
        assert names("web/browser") == names("web browser")
        assert names("firefox-esr")[0] == "firefox-esr"

    def test_stop_words_are_left_out(self) -> None:
        assert names("the vlc") == names("vlc")

    def test_filters_and_facets(self) -> None:
        result = document_search(text="browser", tags=["works-with::pdf"])

        assert [h.name for h in result.hits] == ["firefox-esr"]
        assert [(f.value, f.count) for f in result.facets["category"]] == [("web", 1)]
        assert document_search(text="browser", categories=["nope"]).total == 0

    def test_reports_total_and_page(self) -> None:
        result = document_search(text="web browser")

        assert (result.query, result.total, result.page, result.num_pages) == ("web browser", 2, 1, 1)
        assert result.took_ms > 0

    def test_empty_query_finds_nothing_without_querying(self) -> None:
        result = document_search(text="   ")

        assert (result.total, result.hits) == (0, [])

    @pytest.mark.parametrize(("text", "plain"), HOSTILE_QUERIES.items())
    def test_hostile_queries_answer_as_their_words(self, text: str, plain: str | None) -> None:
        result = document_search(text=text)

        if plain is None:
            assert (result.total, result.hits, result.suggestion) == (0, [], None)
        else:
            expected = document_search(text=plain)
            assert (result.total, names(text)) == (expected.total, names(plain))
            assert result.total > 0

    @pytest.mark.parametrize("text", HOSTILE_QUERIES)
    def test_hostile_queries_reach_the_database_bounded(self, text: str) -> None:
        # What the statement is given: at most MAX_TERMS words, however long the text.
        words = search_params(parse(text), page=1, categories=(), tags=(), sort="relevance")["words"]

        assert len(words) <= MAX_TERMS
        assert len(words) == MAX_TERMS or len(text.split()) < MAX_TERMS


class TestSnippets:
    def test_item_text_is_escaped_and_only_our_marks_survive(self, db: None, tmp_path: Path) -> None:
        evil = make_record(
            "evil",
            summary="<script>alert('summary')</script> browser",
            description="A <script>alert('x')</script> <mark>fake</mark> browser & more",
        )
        catalog_import(path=write_catalog(tmp_path / "evil.jsonl.gz", [evil]))
        refresh()

        [hit] = document_search(text="browser").hits

        # ts_headline drops markup it recognises; what remains is escaped.
        assert "<script" not in hit.snippet
        assert hit.snippet.count("<mark>") == 1
        assert "<mark>browser</mark> &amp; more" in hit.snippet

    def test_highlight_escapes_everything_but_headline_marks(self) -> None:
        assert highlight("a<b \ue000c\ue001 &") == "a&lt;b <mark>c</mark> &amp;"


class TestTokens:
    """Words with punctuation are found the way people type them (matching: words alone)."""

    @pytest.fixture(autouse=True)
    def items(self, db: None, tmp_path: Path, settings: Any) -> None:
        settings.SEARCH_SEMANTIC = False
        records = [
            make_record("nginx", summary="small, powerful, scalable web/proxy server"),
            make_record("g++", summary="GNU C++ compiler"),
            make_record("python3-django", summary="High-level Python web development framework"),
            make_record("linux-image-amd64", summary="Linux for x86_64 machines"),
            make_record("nodejs", summary="evented I/O for V8 javascript: node.js runtime"),
        ]
        catalog_import(path=write_catalog(tmp_path / "tokens.jsonl.gz", records))
        refresh()

    @pytest.mark.parametrize(
        ("text", "found"),
        [
            ("web/proxy", "nginx"),
            ("proxy server", "nginx"),
            ("c++ compiler", "g++"),
            ("python3-django", "python3-django"),
            ("django", "python3-django"),
            ("x86_64", "linux-image-amd64"),
            ("node.js", "nodejs"),
        ],
    )
    def test_found_as_typed(self, text: str, found: str) -> None:
        assert names(text + " ") == [found]


@pytest.mark.usefixtures("demo_catalog")
class TestOnTheDemoCatalog:
    @pytest.mark.parametrize(
        ("text", "first"),
        [("vlc", "vlc"), ("thunderbird", "thunderbird"), ("Thunderbird", "thunderbird"), ("gimp", "gimp")],
    )
    def test_exact_name_match_ranks_first(self, db: None, text: str, first: str) -> None:
        assert names(text)[0] == first

    def test_finds_browsers(self, db: None) -> None:
        found = set(names("web browser")) | set(names("web browser", page=2))

        assert {"chromium", "firefox-esr"} <= found

    def test_pages_do_not_overlap(self, db: None) -> None:
        first, second = document_search(text="library"), document_search(text="library", page=2)

        assert first.total > 2 * PAGE_SIZE
        assert len(first.hits) == len(second.hits) == PAGE_SIZE
        assert not {h.id for h in first.hits} & {h.id for h in second.hits}

    def test_a_small_category_is_read_through_its_index(self, db: None) -> None:
        # Its few items are the nearest neighbours there are, compared exactly:
        # a sequential scan of every item (2 s at a million) is not planned.
        plan = explain_search(text="editor", categories=["shells"]).plan

        assert "Seq Scan on catalog_searchindex" not in plan
        assert "Bitmap Index Scan on searchindex_category_popular" in plan

    def test_browsing_a_category_reads_its_first_page_in_order(self, db: None) -> None:
        # The page reads a page of its 1,117 items, not all of them sorted (at a
        # million, 100k); the count reads up to COUNT_CAP.
        plan = explain_search(text="", categories=["libs"]).plan

        [read] = re.findall(r"Index Scan using searchindex_category_popular .*rows=([\d.]+) loops", plan)
        assert float(read) == PAGE_SIZE

    @pytest.mark.parametrize("page", [1, 2, 3])
    def test_browsing_lists_the_overlay_in_order_with_edits_pending(self, db: None, page: int) -> None:
        chosen = ["perl", "gnu-r"]
        obscure = Item.objects.filter(category__name="perl").order_by("popularity", "name").first()
        moved = Item.objects.filter(category__name="python").order_by("-popularity", "name").first()
        top = Item.objects.filter(category__name="gnu-r").order_by("-popularity", "name").first()
        assert obscure and moved and top
        Item.objects.filter(pk=obscure.pk).update(popularity=10**6)  # pending: first now
        Item.objects.filter(pk=moved.pk).update(category=top.category)  # pending: joins gnu-r
        top.delete()  # pending: gone

        result = document_search(text="", categories=chosen, page=page)

        overlay = SearchOverlay.objects.filter(category__in=chosen)
        expected = list(overlay.order_by(F("popularity").desc(nulls_last=True), "name").values_list("name", flat=True))
        listed = [hit.name for hit in result.hits]
        assert listed == expected[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        assert (obscure.name == expected[0], moved.name in expected, top.name in expected) == (True, True, False)
        assert result.total == len(expected)

    def test_the_overlay_keeps_the_gin_index_and_computes_no_document_per_query(self, db: None) -> None:
        Item.objects.filter(name__in=["vlc", "gimp"]).update(summary="edited web browser")

        plans = explain_search(text="web browser").plan

        assert "Bitmap Index Scan on searchindex_doc_mid_gin" in plans
        assert "catalog_searchpending" in plans
        # No document is computed per query: the tables it is built from are not read
        # (catalog_item only through its name index, for the exact-name lookup).
        for source in ("catalog_itemtag", "catalog_tag", "catalog_category", "Seq Scan on catalog_item"):
            assert source not in plans
        assert {"vlc", "gimp"} <= set(names("edited web browser"))

    def test_the_cached_plan_reads_pending_documents_by_index_whatever_their_number(self, db: None) -> None:
        # Made while nothing is pending, the plan serves any backlog: each candidate
        # is looked up among the pending ids by index, and the pending table is
        # never scanned per candidate (once at most: its vectors, for the nearest).
        plans = explain_search(text="web browser").plan
        scans = [line for line in plans.splitlines() if "Seq Scan on catalog_searchpending" in line]

        assert "Index Cond: (item_id = indexed.id)" in plans
        assert all("loops=1)" in line or "(never executed)" in line for line in scans)

    def test_a_search_runs_the_plan_cached_for_the_connection_unless_it_filters(self, db: None) -> None:
        def plans() -> tuple[int, int]:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT coalesce(sum(generic_plans), 0), coalesce(sum(custom_plans), 0)"
                    " FROM pg_prepared_statements WHERE starts_with(statement, '-- One search:')"
                )
                return cursor.fetchone()  # type: ignore[return-value]

        before = plans()
        for _ in range(3):
            document_search(text="web browser")
        cached = plans()
        document_search(text="web browser", categories=["web"])
        document_search(text="editor", tags=["role::program"])

        assert cached[0] - before[0] == 3 and cached[1] == before[1]
        assert plans() == (cached[0], cached[1] + 2)


def _vocabulary(order: str, limit: int) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT word FROM catalog_searchword WHERE length(word) > 3 ORDER BY {order} LIMIT %s", [limit])
        return [word for (word,) in cursor.fetchall()]


@pytest.mark.usefixtures("demo_catalog")
class TestRankSafety:
    """The tiers skip work, never results: the page is the one ranking every match gives."""

    def _compared(self) -> list[tuple[str, dict[str, object]]]:
        common = _vocabulary("documents DESC, word", 20)
        rare = _vocabulary("md5(word)", 20)  # a seeded shuffle: any word, mostly rare
        queries = [
            *common,
            *rare,
            *(f"{a} {b}" for a, b in zip(common, rare, strict=True)),
            *(f"{a} {b}" for a, b in itertools.pairwise(common)),
            *(word[:4] for word in rare),
        ]
        variants: list[dict[str, object]] = [{}, {"page": 3}, {"tags": ["role::program"]}, {"categories": ["libs"]}]
        return [(text, variant) for text in queries for variant in variants]

    def test_the_tiered_page_is_the_exhaustive_page(self, db: None, settings: Any) -> None:
        # The lexical ranking alone: exactly rank-safe.
        settings.SEARCH_SEMANTIC = False
        differing = [
            (text, variant)
            for text, variant in self._compared()
            if _ranked(text, variant, exhaustive=False) != _ranked(text, variant, exhaustive=True)
        ]

        assert differing == []

    def test_the_hybrid_page_is_the_exhaustive_page_when_the_neighbours_are_exact(
        self, db: None, settings: Any
    ) -> None:
        """With semantic ranking the tiers skip no result either.

        The HNSW index is approximate, and its graph differs from build to build
        (random levels): without it (dropped, in the test's transaction) the
        site's search compares every vector too, as the exhaustive reference does.
        """
        settings.SEARCH_SEMANTIC = True
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX searchindex_vector_hnsw")
        differing = [
            (text, variant)
            for text, variant in self._compared()
            if _ranked(text, variant, exhaustive=False) != _ranked(text, variant, exhaustive=True)
        ]

        assert differing == []

    def test_a_common_word_skips_the_low_tiers(self, db: None) -> None:
        plan = explain_search(text="python").plan

        assert "Bitmap Index Scan on searchindex_name_top_gin" in plan
        # Counting reads every band (once); ranking stopped before the low one.
        low = [line for line in plan.splitlines() if "Bitmap Index Scan on searchindex_doc_low_gin" in line]
        assert len([line for line in low if "(never executed)" not in line]) == 1 < len(low)

    def test_each_tier_is_skipped_on_its_own_bound(self, db: None) -> None:
        # "database": the best 40 found, no other match in the top band (bound
        # 0.45 a unit of prior) could join them, but one in the low band's short
        # fields (0.96) still could: the first tier is skipped, the later one read.
        scans = _tier_scans(explain_search(text="database").plan)

        assert scans["short_low"] is not None and scans["elsewhere_top"] is None

    def test_a_tier_scores_only_the_items_that_could_enter(self, db: None) -> None:
        # "python": once the best 40 are found, an item naming a reading of it
        # ("pythonic") in the low band enters only with a prior high enough.
        matched, read = _tier_scans(explain_search(text="python").plan)["name_low"] or (0, 0)

        assert 0 < read < matched / 2

    def test_a_tier_checks_the_least_prior_before_the_phrase(self, db: None) -> None:
        # Half the documents are stored out of line: a row the least prior rules
        # out is not fetched from TOAST to look for the phrase.
        plan = explain_search(text='"web browser"').plan
        tiers = [line for line in plan.splitlines() if "document @@" in line and "prior >= COALESCE" in line]

        assert tiers and all(line.index("prior >= COALESCE") < line.index("document @@") for line in tiers)

    def test_web_search_syntax_ranks_every_match(self, db: None) -> None:
        for text in ('"web browser"', "editor -emacs", "vim or emacs"):
            assert _ranked(text, {}, exhaustive=False) == _ranked(text, {}, exhaustive=True)


def _tier_scans(plan: str) -> dict[str, tuple[int, int] | None]:
    """Per CTE of the plan, the rows its index scan of the index matched and those left to score; None if skipped."""
    sections = re.split(r"\n  CTE (\w+)\n", "\n" + plan)
    scans: dict[str, tuple[int, int] | None] = {}
    for name, body in zip(sections[1::2], sections[2::2], strict=True):
        heap = re.search(r"Bitmap Heap Scan on catalog_searchindex .*?\((actual .*?rows=([\d.]+)|never executed)", body)
        index = re.search(r"Bitmap Index Scan on searchindex_\w+ .*?\((actual .*?rows=([\d.]+)|never executed)", body)
        if heap and index:
            scans[name] = (int(float(index[2])), int(float(heap[2]))) if heap[2] else None
    return scans


def _ranked(text: str, variant: dict[str, object], *, exhaustive: bool) -> list[tuple[str, float]]:
    result = document_search(text=text, exhaustive=exhaustive, **variant)  # type: ignore[arg-type]
    return [(hit.name, round(hit.score.score, 9)) for hit in result.hits]


class TestEstimatedTotals:
    def test_past_the_count_cap_the_total_is_the_planners_estimate(
        self, db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # 400 items hold "gadget", 100 do not; a cap of 50 counts only some of them.
        records = [make_record(f"gadget-{n}", summary="a gadget", section="utils") for n in range(400)]
        records += [make_record(f"other-{n}", summary="something else", section="utils") for n in range(100)]
        catalog_import(path=write_catalog(tmp_path / "many.jsonl.gz", records))
        refresh()
        monkeypatch.setattr(query, "COUNT_CAP", 50)

        result = document_search(text="gadget")

        assert result.total_is_estimate
        assert 200 <= result.total <= 800
        assert 200 <= result.facets["category"][0].count <= 800
        # Under the cap, the count is exact.
        monkeypatch.setattr(query, "COUNT_CAP", 1000)
        exact = document_search(text="gadget")
        assert not exact.total_is_estimate and 400 <= exact.total < 500


@pytest.mark.usefixtures("demo_catalog")
class TestSemanticOnTheDemoCatalog:
    def test_off_in_settings_every_page_is_the_lexical_ranking(self, db: None, settings: Any) -> None:
        settings.SEARCH_SEMANTIC = False
        for text in ("web browser", "vlc", "python", "pdf viewer", "thunderb"):
            for page in (1, 2):
                hits = document_search(text=text, page=page).hits
                params = search_params(parse(text), page=page, categories=(), tags=(), sort="relevance")

                assert params["vector"] is None
                assert [hit.score.score for hit in hits] == [hit.score.lexical for hit in hits]
                assert [(-hit.score.score, hit.name) for hit in hits] == sorted((-h.score.score, h.name) for h in hits)

    def test_pages_follow_on_with_semantic_ranking(self, db: None) -> None:
        for text in ("web browser", "pdf viewer", "python"):
            pages = [[hit.id for hit in document_search(text=text, page=page).hits] for page in (1, 2, 3)]

            assert len({id for page in pages for id in page}) == sum(map(len, pages))
