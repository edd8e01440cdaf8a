"""The benchmark suite's arithmetic and report, without a database or timings."""

from __future__ import annotations

import math
import statistics

import pytest

from bench.queries import Case
from bench.report import render
from bench.stats import Latency, markdown_table, ms, percentile


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


class TestReport:
    def test_render_shows_each_class_and_the_ratio(self) -> None:
        latency = {"p50": 1.0, "p95": 2.0, "p99": 3.0, "samples": 10}
        sql = {"p50": 1.0, "p95": 1.6, "p99": 2.0, "samples": 10}
        results = {
            "machine": {"cpu": "test CPU"},
            "sizes": {
                "10000": {
                    "build": {"items": 10000, "import_seconds": 1, "index_seconds": 2, "index_mb": 3},
                    "refresh_seconds": 1.5,
                    "edit_commit_ms": 4,
                    "visible_ms": 0.5,
                    "rss_mb": 90,
                    "rounds": 10,
                    "site": {"rare term": {"http": latency, "django": latency, "sql": sql}},
                    "alternatives": {"on the fly": {"rare term": {"timeout": True, "samples": 0}}},
                }
            },
        }

        markdown = render(results)

        assert "test CPU" in markdown
        assert "| rare term | 1.00 | 2.00 | 3.00 | 2.00 | 1.00 | 1.60 | 2.00 | 1.25 | - | timeout |" in markdown
