from __future__ import annotations

import gzip
import json
from collections import Counter
from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from catalog.search.quality import (
    DEFAULT_PATH,
    FULL_CATALOG,
    HOLDOUT_PATH,
    KINDS,
    Judgement,
    QualityReport,
    evaluate,
    lexical_search,
    load_judgements,
    site_search,
)
from tests.conftest import module_catalog

# The judgement set's score on the whole catalog with today's ranking, hybrid
# (docs/ranking.md records each change: 0.924 / 0.804; words alone 0.873 / 0.748):
# a ranking change that lowers it fails here.
PINNED_SUCCESS_AT_5 = 0.92
PINNED_MRR_AT_10 = 0.80
needs_full_catalog = pytest.mark.skipif(not FULL_CATALOG.exists(), reason=f"needs {FULL_CATALOG}")


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
        first = json.loads(DEFAULT_PATH.read_text())[0]

        assert all(isinstance(j, Judgement) and isinstance(j.relevant, tuple) for j in judgements)
        assert judgements[0] == Judgement(query=first["query"], kind=first["kind"], relevant=tuple(first["relevant"]))

    @pytest.mark.parametrize("path", [DEFAULT_PATH, HOLDOUT_PATH], ids=["judgements", "holdout"])
    def test_half_are_kinds_of_thing_and_every_kind_is_there(self, path: Path) -> None:
        judgements = load_judgements(path)
        per_kind = Counter(j.kind for j in judgements)

        assert len(judgements) >= (60 if path == DEFAULT_PATH else 30)
        assert set(per_kind) == set(KINDS)
        assert per_kind["kind-of-thing"] * 2 >= len(judgements)

    def test_queries_are_unique_across_both_sets_and_lists_short(self) -> None:
        judgements = load_judgements() + load_judgements(HOLDOUT_PATH)

        assert len({j.query.lower() for j in judgements}) == len(judgements)
        assert all(1 <= len(j.relevant) <= 6 and len(set(j.relevant)) == len(j.relevant) for j in judgements)

    @needs_full_catalog
    def test_every_relevant_package_is_in_the_whole_catalog(self) -> None:
        with gzip.open(FULL_CATALOG, "rt", encoding="utf-8") as handle:
            names = {json.loads(line)["name"] for line in handle}
        judgements = load_judgements() + load_judgements(HOLDOUT_PATH)

        missing = {(j.query, name) for j in judgements for name in j.relevant if name not in names}

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


# The whole Debian catalog.
full_catalog = module_catalog(FULL_CATALOG)


@needs_full_catalog
@pytest.mark.usefixtures("full_catalog")
class TestOnTheWholeCatalog:
    def test_the_judgement_score_does_not_drop(self, db: None) -> None:
        report = evaluate(load_judgements(), site_search)

        assert report.success_at_5 >= PINNED_SUCCESS_AT_5 and report.mrr_at_10 >= PINNED_MRR_AT_10

    def test_the_hybrid_beats_words_alone_on_kinds_of_thing_and_loses_nothing_elsewhere(self, db: None) -> None:
        judgements = load_judgements()
        hybrid = evaluate(judgements, site_search).by_kind()
        lexical = evaluate(judgements, lexical_search).by_kind()

        assert all(hybrid["kind-of-thing"][i] > lexical["kind-of-thing"][i] for i in (0, 1))
        assert {kind: all(hybrid[kind][i] >= lexical[kind][i] for i in (0, 1)) for kind in hybrid} == dict.fromkeys(
            hybrid, True
        )

    def test_the_command_prints_the_metrics_overall_per_kind_and_the_worst(self, db: None) -> None:
        out = StringIO()

        call_command("search_quality", "--current-database", "--worst", "3", stdout=out)

        lines = out.getvalue().splitlines()
        assert lines[0] == "catalog: the current database"
        assert f"{len(load_judgements())} queries" in lines
        assert any(line.startswith("success@5 ") for line in lines)
        assert {line.split()[0] for line in lines if line.split() and line.split()[0] in KINDS} == set(KINDS)
        assert lines[lines.index("Worst 3:") - 2].split()[0] == "all"  # the comparison of rankings
        assert "Worst 3:" in lines
        assert sum(line.strip().startswith("found:") for line in lines) == 3
