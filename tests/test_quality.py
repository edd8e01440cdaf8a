from __future__ import annotations

import gzip
import json
from collections import Counter
from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from catalog.management.commands.demo import DEMO_CATALOG
from catalog.search.quality import (
    DEFAULT_PATH,
    KINDS,
    Judgement,
    QualityReport,
    evaluate,
    load_judgements,
)


def judged(query: str, *relevant: str, kind: str = "name") -> Judgement:
    return Judgement(query=query, kind=kind, relevant=relevant)


def fake_search(results: dict[str, list[str]]) -> Callable[[str], list[str]]:
    """A search that returns canned rankings, so the metrics are checked without a database."""
    return lambda text: results.get(text, [])


class TestMetrics:
    def test_reciprocal_rank_is_one_over_the_first_relevant_rank(self) -> None:
        results = {"a": ["x", "hit", "other"], "b": ["hit"], "c": [*"12345", "hit"], "d": ["x", "y"]}
        judgements = [judged(query, "hit", "other") for query in "abcd"]

        scores = evaluate(judgements, fake_search(results)).scores

        assert [score.reciprocal_rank for score in scores] == [0.5, 1.0, pytest.approx(1 / 6), 0.0]
        assert [score.success_at_5 for score in scores] == [True, True, False, False]

    def test_success_at_5_counts_rank_five_and_not_six(self) -> None:
        results = {"five": [*"1234", "hit"], "six": [*"12345", "hit"]}

        scores = evaluate([judged("five", "hit"), judged("six", "hit")], fake_search(results)).scores

        assert [(score.success_at_5, score.reciprocal_rank) for score in scores] == [
            (True, 0.2),
            (False, pytest.approx(1 / 6)),
        ]

    def test_only_the_top_ten_count(self) -> None:
        ranked = [f"n{i}" for i in range(1, 15)]

        (score,) = evaluate([judged("q", "n11")], fake_search({"q": ranked})).scores

        assert score.found == tuple(ranked[:10])
        assert (score.reciprocal_rank, score.success_at_5) == (0.0, False)

    def test_means_overall_and_by_kind(self) -> None:
        judgements = [
            judged("a", "hit", kind="name"),  # rank 1
            judged("b", "hit", kind="name"),  # rank 2
            judged("c", "hit", kind="typo"),  # rank 4
            judged("d", "hit", kind="typo"),  # missing
        ]
        results = {"a": ["hit"], "b": ["x", "hit"], "c": ["x", "y", "z", "hit"], "d": ["x"]}

        report = evaluate(judgements, fake_search(results))

        assert report.success_at_5 == 0.75
        assert report.mrr_at_10 == pytest.approx((1 + 0.5 + 0.25 + 0) / 4)
        assert report.by_kind() == {"name": (1.0, 0.75), "typo": (0.5, 0.125)}

    def test_worst_lists_the_lowest_scores_first(self) -> None:
        judgements = [judged(query, "hit") for query in "abcd"]
        results = {"a": ["hit"], "b": ["x", "x", "hit"], "c": [], "d": ["x", "hit"]}

        report = evaluate(judgements, fake_search(results))

        assert [score.judgement.query for score in report.worst(3)] == ["c", "b", "d"]
        assert report.worst(0) == []
        assert len(report.worst(10)) == 4

    def test_an_empty_report_scores_zero(self) -> None:
        report = QualityReport([])

        assert (report.success_at_5, report.mrr_at_10, report.by_kind()) == (0.0, 0.0, {})


class TestJudgementSet:
    def test_loads_as_judgements(self) -> None:
        judgements = load_judgements()

        assert all(isinstance(j, Judgement) and isinstance(j.relevant, tuple) for j in judgements)
        assert judgements[0] == Judgement(query="vlc", kind="name", relevant=("vlc",))

    def test_is_large_enough_and_covers_every_kind(self) -> None:
        judgements = load_judgements()
        per_kind = Counter(j.kind for j in judgements)

        assert len(judgements) >= 45
        assert set(per_kind) == set(KINDS)
        assert min(per_kind.values()) >= 8

    def test_queries_are_unique_and_lists_short(self) -> None:
        judgements = load_judgements()

        assert len({j.query.lower() for j in judgements}) == len(judgements)
        assert all(1 <= len(j.relevant) <= 6 and len(set(j.relevant)) == len(j.relevant) for j in judgements)

    def test_every_relevant_package_is_in_the_demo_catalog(self) -> None:
        with gzip.open(DEMO_CATALOG, "rt", encoding="utf-8") as handle:
            names = {json.loads(line)["name"] for line in handle}

        missing = {(j.query, name) for j in load_judgements() for name in j.relevant if name not in names}

        assert missing == set()

    def test_rejects_an_unknown_kind(self, tmp_path: Path) -> None:
        path = tmp_path / "bad.json"
        path.write_text(json.dumps([{"query": "vlc", "kind": "nme", "relevant": ["vlc"]}]))

        with pytest.raises(ValueError, match="entry 1: kind 'nme'"):
            load_judgements(path)

    def test_rejects_an_entry_without_relevant_names(self, tmp_path: Path) -> None:
        path = tmp_path / "bad.json"
        path.write_text(json.dumps([{"query": "vlc", "kind": "name", "relevant": []}]))

        with pytest.raises(ValueError, match="entry 1"):
            load_judgements(path)

    def test_default_path_is_beside_the_module(self) -> None:
        assert DEFAULT_PATH.name == "judgements.json" and DEFAULT_PATH.is_file()


@pytest.mark.usefixtures("demo_catalog")
class TestCommandOnTheDemoCatalog:
    def test_prints_the_metrics_overall_per_kind_and_the_worst(self, db: None) -> None:
        out = StringIO()

        call_command("search_quality", "--worst", "3", stdout=out)

        lines = out.getvalue().splitlines()
        assert any(line.startswith("success@5 ") for line in lines)
        assert any(line.startswith("MRR@10 ") for line in lines)
        assert {line.split()[0] for line in lines if line.split() and line.split()[0] in KINDS} == set(KINDS)
        assert "Worst 3:" in lines
        assert sum(line.strip().startswith("found:") for line in lines) == 3

    def test_worst_zero_prints_only_the_metrics(self, db: None) -> None:
        out = StringIO()

        call_command("search_quality", "--worst", "0", stdout=out)

        assert "success@5" in out.getvalue() and "Worst" not in out.getvalue()
