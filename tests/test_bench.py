"""The benchmark harness's pieces: arithmetic, the report and its merge, the catalog and database it reuses.

Nothing here times anything; the timings are the benchmark's own business.
"""

from __future__ import annotations

import gzip
import json
import math
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from bench import database, report
from bench.queries import CLASSES, Case
from bench.run import source_catalog, synthetic_catalog
from bench.stats import Latency, markdown_table, ms, percentile
from tests.conftest import CORPUS, write_catalog


class TestPercentile:
    def test_matches_statistics_inclusive_quantiles(self) -> None:
        samples = [5.0, 1.0, 9.0, 3.0, 7.0, 2.0, 8.0]
        cuts = statistics.quantiles(samples, n=100, method="inclusive")

        assert percentile(samples, 50) == pytest.approx(cuts[49])
        assert percentile(samples, 95) == pytest.approx(cuts[94])

    def test_one_sample_is_every_percentile(self) -> None:
        assert Latency.of([4.0]) == Latency(4.0, 4.0, 4.0, 1)

    def test_refuses_nonsense(self) -> None:
        with pytest.raises(ValueError):
            percentile([], 50)
        with pytest.raises(ValueError):
            percentile([1.0], 101)


class TestFormatting:
    def test_ms_keeps_three_significant_figures(self) -> None:
        assert [ms(1.234), ms(12.34), ms(1234.5), ms(None), ms(math.inf)] == ["1.23", "12.3", "1,234", "-", "timeout"]

    def test_markdown_table(self) -> None:
        assert markdown_table(["a", "b"], [["x", 1]]) == "| a | b |\n| --- | ---: |\n| x | 1 |"

    def test_markdown_table_refuses_ragged_rows(self) -> None:
        with pytest.raises(ValueError):
            markdown_table(["a", "b"], [["x"]])


class TestCase:
    def test_api_path_carries_page_and_filters(self) -> None:
        case = Case("facet filter", "web browser", page=2, categories=("web",), tags=("role::program",))

        assert case.api_path() == "/api/search?q=web+browser&page=2&category=web&tag=role%3A%3Aprogram"
        assert case.label() == "web browser (page 2) [category=web] [tag=role::program]"


def latency(p50: float, p95: float, p99: float) -> dict[str, float]:
    return {"p50": p50, "p95": p95, "p99": p99, "samples": 10}


def size_result(http_p95: float, *, judgements: dict[str, Any] | None = None) -> dict[str, Any]:
    """One size's results as a run writes them, every class timed alike but for the HTTP p95."""
    site = {"http": latency(1.0, http_p95, 3.0), "django": latency(1.0, 2.0, 3.0), "sql": latency(1.0, 1.6, 2.0)}
    return {
        "catalog": "synthetic, from test.jsonl.gz",
        "measured_at": "2026-12-01",
        "build": {
            "items": 10_000,
            "import_seconds": 1.0,
            "index_seconds": 2.0,
            "analyze_seconds": 0.5,
            "index_mb": 3.0,
        },
        "rounds": 10,
        "common_shares": {"package": 0.5},
        "cases": {cls: [f"{cls} query"] for cls in CLASSES},
        "site": {cls: site for cls in CLASSES},
        "rss_mb": 90.0,
        "load_before": 0.5,
        "load_after": 0.7,
        "rank_safety": {
            "queries": 60,
            "mean_overlap": 1.0,
            "min_overlap": 0.9,
            "below_1": ["q"],
            "tiered": latency(5.0, 8.0, 9.0),
            "exhaustive": latency(20.0, 40.0, 50.0),
        },
        "judgements": judgements or {"skipped": "no full catalog"},
        "worst": [{"query": "library", "page": 50, "ms": 1234.0, "outcome": "7 results"}],
        "alternatives": {
            "on the fly": {"rare term": {"timeout": True, "samples": 0}},
            "generated column": {"rare term": latency(0.5, 0.7, 0.8)},
        },
        "generated_column_seconds": 0.4,
        "edit_commit_ms": 4.0,
        "visible_ms": 0.5,
        "backlog": {
            "items": 1000,
            "edit_seconds": 0.25,
            "none_pending": latency(1.0, 1.6, 3.0),
            "stored_overlay": latency(1.0, 2.0, 3.0),
            "live_overlay": latency(100.0, 200.0, 300.0),
            "live_timeouts": 2,
        },
        "refresh_seconds": 1.5,
        "refresh_kind": "merge",
        "compaction_seconds": 30.0,
        "throughput": [
            {
                "clients": 4,
                "requests_per_second": 123.4,
                "p50_ms": 20.0,
                "p95_ms": 45.0,
                "errors": 0,
                "web_cores": 0.5,
                "database_cores": 1.25,
                "client_cores": 0.1,
                "other_cores": 0.05,
            }
        ],
    }


@pytest.fixture
def results() -> dict[str, Any]:
    return {
        "machine": {"cpu": "test CPU"},
        "before": {"10000": {"site": {"rare term": {"http": latency(1, 9.0, 1), "sql": latency(1, 4.0, 1)}}}},
        "sizes": {
            "10000": size_result(2.0),
            "1000000": size_result(50.0, judgements={"success_at_5": 0.75, "mrr_at_10": 0.5}),
        },
    }


class TestReport:
    def test_each_class_beside_its_floor_and_the_alternatives(self, results: dict[str, Any]) -> None:
        markdown = report.render(results)

        assert "test CPU" in markdown
        # HTTP p50 p95 p99, in process, SQL p50 p95 p99, HTTP/SQL, generated column, on the fly.
        assert "| rare term | 1.00 | 2.00 | 3.00 | 2.00 | 1.00 | 1.60 | 2.00 | 1.25 | 0.70 | timeout |" in markdown
        assert "| two terms | 1.00 | 2.00 | 3.00 | 2.00 | 1.00 | 1.60 | 2.00 | 1.25 | - | - |" in markdown

    def test_every_size_side_by_side_and_the_targets_at_the_largest(self, results: dict[str, Any]) -> None:
        markdown = report.render(results)

        # p95 grew 25 times over 100 times the items: size^0.70.
        assert "| rare term | 2.00 (1.60) | 50.0 (1.60) | 0.70 | 0.70 | timeout |" in markdown
        assert "### Targets at 1M" in markdown
        assert "| rare term | 50.0 | **not met** | 31.25 | **not met** |" in markdown
        assert "Import of 1,000,000 items: 1 s (<= 60 s): met." in markdown
        assert "Search p95 with 1,000 edits pending: 1.25x that with none (<= 1.2x): **not met**." in markdown

    def test_judgements_measured_or_skipped(self, results: dict[str, Any]) -> None:
        markdown = report.render(results)

        assert "| 10k | 60 | 1.000 | 0.900 | 5.00 | 8.00 | 20.0 | 40.0 | skipped |" in markdown
        assert "| 1M | 60 | 1.000 | 0.900 | 5.00 | 8.00 | 20.0 | 40.0 | 0.750 / 0.500 |" in markdown

    def test_before_edits_and_worst(self, results: dict[str, Any]) -> None:
        markdown = report.render(results)

        assert "| rare term | 9.00 (4.00) | 2.00 (1.60) |" in markdown
        assert "| 10k | 1,000 | 0.25 | 1.00 / 1.60 | 1.00 / 2.00 | 1.25 | 100 / 200 | 2 |" in markdown
        assert "| `library` | page 50 | 1,234 | 7 results |" in markdown

    def test_a_backlog_timed_without_its_baseline_says_so(self, results: dict[str, Any]) -> None:
        for key in ("none_pending", "live_timeouts"):
            del results["sizes"]["1000000"]["backlog"][key]

        markdown = report.render(results)

        assert "| 1M | 1,000 | 0.25 | - | 1.00 / 2.00 | - | 100 / 200 | - |" in markdown
        assert "edits pending" not in markdown

    def test_the_refresh_kinds_and_the_load_curve(self, results: dict[str, Any]) -> None:
        markdown = report.render(results)

        assert "| 1.5 (merge) | 30.0 |" in markdown
        assert "### Under load at 1M" in markdown
        assert "| 4 | 123.4 | 20.0 | 45.0 | 0 | 0.50 | 1.25 | 0.05 |" in markdown

    def test_readme_table_is_the_largest_size(self, results: dict[str, Any]) -> None:
        table = report.readme_table(results)

        assert table.startswith("p95 at 1,000,000 items, ms, HTTP (SQL); 10 rounds of each query, measured 2026-12-01")
        assert "| rare term | 50.0 (1.60) | 0.70 | timeout |" in table
        assert "previous release" not in table  # measured before at 10k only

    def test_merge_replaces_its_size_and_keeps_the_others(self, results: dict[str, Any]) -> None:
        merged = report.merge(results, 10_000, size_result(7.0), {"cpu": "new CPU"})

        assert merged["sizes"]["10000"]["site"]["rare term"]["http"]["p95"] == 7.0
        assert merged["sizes"]["1000000"] == results["sizes"]["1000000"]
        assert merged["before"] == results["before"]
        assert merged["machine"] == {"cpu": "new CPU"}
        assert results["sizes"]["10000"]["site"]["rare term"]["http"]["p95"] == 2.0  # not changed in place

    def test_fill_replaces_only_between_the_markers(self) -> None:
        text = f"# Title\n\nby hand\n\n{report.BEGIN}\nold table\n{report.END}\n\nmore by hand\n"

        filled = report.fill(text, "new table")

        assert filled == f"# Title\n\nby hand\n\n{report.BEGIN}\n\nnew table\n\n{report.END}\n\nmore by hand\n"
        assert report.fill(filled, "new table") == filled
        with pytest.raises(ValueError):
            report.fill("no markers", "table")

    def test_the_repository_docs_carry_the_markers(self) -> None:
        for path in (report.ROOT / "README.md", report.ROOT / "docs" / "benchmarks.md"):
            text = path.read_text()
            assert report.fill(text, "x") != text

    def test_a_scratch_output_gets_every_file_and_the_repository_none(
        self, results: dict[str, Any], tmp_path: Path
    ) -> None:
        files = [report.ROOT / "README.md", *(report.ROOT / "docs").glob("benchmarks.*")]
        repository = {path: path.read_bytes() for path in files}

        docs = report.Docs.at(tmp_path)
        docs.write(report.merge(report.load(docs.results), 10_000, size_result(7.0), {"cpu": "scratch CPU"}))

        written = json.loads(docs.results.read_text())
        assert written["sizes"]["10000"]["site"]["rare term"]["http"]["p95"] == 7.0
        assert written["sizes"].keys() >= report.load(report.ROOT / "docs" / "benchmarks.json")["sizes"].keys()
        assert "scratch CPU" in docs.markdown.read_text()
        assert "## Benchmarks" in docs.readme.read_text()
        assert docs.plot.read_bytes().startswith(b"\x89PNG")
        assert {path: path.read_bytes() for path in repository} == repository


class TestCatalogs:
    def test_a_fresh_clone_follows_the_demo_catalog(self, tmp_path: Path) -> None:
        full, demo = tmp_path / "full.jsonl.gz", tmp_path / "demo.jsonl.gz"

        assert source_catalog(full, demo) == demo
        full.touch()
        assert source_catalog(full, demo) == full

    def test_a_synthetic_catalog_is_made_once_per_source(self, tmp_path: Path) -> None:
        source = write_catalog(tmp_path / "source.jsonl.gz", CORPUS)
        other = write_catalog(tmp_path / "other.jsonl.gz", CORPUS[:-1])

        first = synthetic_catalog(30, source, tmp_path / "work")
        made = first.stat().st_mtime_ns
        again = synthetic_catalog(30, source, tmp_path / "work")
        elsewhere = synthetic_catalog(30, other, tmp_path / "work")

        assert again == first and first.stat().st_mtime_ns == made
        assert elsewhere != first
        with gzip.open(first, "rt") as handle:
            records = [json.loads(line) for line in handle]
        assert len(records) == 30
        assert records[: len(CORPUS)] == CORPUS

    def test_the_fingerprint_follows_the_catalog(self, tmp_path: Path) -> None:
        one = write_catalog(tmp_path / "one.jsonl.gz", CORPUS)
        same = tmp_path / "same.jsonl.gz"
        same.write_bytes(one.read_bytes())  # gzip's header names the file: same records, other bytes
        other = write_catalog(tmp_path / "other.jsonl.gz", CORPUS[:-1])

        assert database.fingerprint(one) == database.fingerprint(same) != database.fingerprint(other)


@pytest.fixture
def bench_database(transactional_db: None) -> Iterator[str]:
    """A benchmark database beside the test database; the connection points back at that after."""
    name, test_database = database.PREFIX + "test", connection.settings_dict["NAME"]
    try:
        yield name
    finally:
        connection.close()
        connection.settings_dict["NAME"] = test_database
        with database._server() as server:
            server.execute(database._sql("DROP DATABASE IF EXISTS {} WITH (FORCE)", name))


def test_a_database_is_reused_only_after_a_complete_run(bench_database: str, tmp_path: Path) -> None:
    from catalog.models import Item

    catalog = write_catalog(tmp_path / "corpus.jsonl.gz", CORPUS)

    build, reused = database.prepare(bench_database, catalog)
    assert not reused and build.items == len(CORPUS)
    assert Item.objects.count() == len(CORPUS)
    assert connection.settings_dict["NAME"] == bench_database

    database.record(bench_database, catalog, build)
    assert database.prepare(bench_database, catalog) == (build, True)
    # Reused, and not recorded again: a run that stops here leaves a database the next run rebuilds.
    rebuilt, reused = database.prepare(bench_database, catalog)
    assert not reused and rebuilt.items == len(CORPUS)


@pytest.mark.usefixtures("corpus")
class TestSemanticCost:
    def test_embeds_every_item_and_builds_a_second_hnsw_index_then_drops_it(self) -> None:
        from bench.semantic import embedding_seconds, hnsw_build

        items, seconds = embedding_seconds()
        build, size, vectors = hnsw_build()

        assert items == len(CORPUS) and seconds > 0
        assert build > 0 and size > 0 and vectors >= len(CORPUS) * 4 * 256  # float4s
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_indexes WHERE indexname = 'bench_vector_hnsw'")
            assert cursor.fetchone() == (0,)

    def test_times_each_query_both_ways_by_kind(self) -> None:
        from bench.semantic import latencies

        timed = latencies(["vlc", "web browser"], rounds=2)

        assert set(timed) == {"common word", "all"}
        assert [(lexical.samples, hybrid.samples) for lexical, hybrid in timed.values()] == [(4, 4), (4, 4)]


def test_a_profile_parts_the_statements_time_by_cte(corpus: None) -> None:
    from bench.profile import TIERS, Profile
    from catalog.search.explain import explain_search

    profile = Profile.of(explain_search(text="web browser").plan)
    parts = [profile.words, *profile.tiers.values(), profile.nearest, profile.blend, profile.count, profile.rest]

    assert list(profile.tiers) == list(TIERS)
    # Each part is its CTE's time less what it read first: none is negative (the plan rounds to 1 µs).
    assert min(parts) >= -0.002
    assert 0 < sum(parts) <= profile.execution
    assert profile.words > 0 and profile.count > 0
