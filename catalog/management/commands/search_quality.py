from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from catalog.search.quality import (
    DEFAULT_PATH,
    FULL_CATALOG,
    RANKINGS,
    catalog_database,
    evaluate,
    load_judgements,
)


class Command(BaseCommand):
    help = (
        "Score the site's ranking on the judgement set: success@5 and MRR@10, overall and per kind "
        "of query, beside words alone and vectors alone; then the worst queries and what they found. "
        "The set is written for the whole Debian "
        "catalog: with ../shared beside the checkout, it is loaded into a scratch database first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--worst", type=int, default=10, metavar="N", help="how many of the worst queries to show")
        parser.add_argument("--judgements", type=Path, default=DEFAULT_PATH, help="the judgement set (JSON)")
        parser.add_argument(
            "--catalog",
            type=Path,
            default=FULL_CATALOG if FULL_CATALOG.exists() else None,
            help=f"catalog file to score on, in a scratch database (default: {FULL_CATALOG}, if present)",
        )
        parser.add_argument(
            "--current-database", action="store_true", help="score on the site's database as it is instead"
        )

    def handle(
        self, *args: object, worst: int, judgements: Path, catalog: Path | None, current_database: bool, **options: Any
    ) -> None:
        write = self.stdout.write
        scratch = catalog is not None and not current_database
        write(f"catalog: {catalog if scratch else 'the current database'}")
        with catalog_database(catalog) if scratch else nullcontext():  # type: ignore[arg-type]
            judged = load_judgements(judgements)
            reports = {name: evaluate(judged, search) for name, search in RANKINGS.items()}
        report = reports["hybrid"]
        write(f"{len(report.scores)} queries")
        write(f"success@5  {report.success_at_5:.3f}")
        write(f"MRR@10     {report.mrr_at_10:.3f}")
        write("")
        write(f"{'kind':<15} {'queries':>7} {'success@5':>10} {'MRR@10':>8}")
        for kind, (success, mrr) in report.by_kind().items():
            count = sum(score.judgement.kind == kind for score in report.scores)
            write(f"{kind:<15} {count:>7} {success:>10.3f} {mrr:>8.3f}")
        write("")
        write("success@5 / MRR@10 by ranking (hybrid: the site's, lexical: words alone, semantic: vectors alone)")
        write(f"{'kind':<15} {'queries':>7} " + " ".join(f"{name:>13}" for name in reports))
        for kind in (*report.by_kind(), "all"):
            count = sum(kind in ("all", score.judgement.kind) for score in report.scores)
            cells = []
            for ranked in reports.values():
                success, mrr = (ranked.success_at_5, ranked.mrr_at_10) if kind == "all" else ranked.by_kind()[kind]
                cells.append(f"{f'{success:.3f}/{mrr:.3f}':>13}")
            write(f"{kind:<15} {count:>7} {' '.join(cells)}")
        if worst > 0:
            write("")
            write(f"Worst {worst}:")
            for score in report.worst(worst):
                judgement = score.judgement
                write(
                    f"  RR {score.reciprocal_rank:.2f}  {judgement.kind:<13} {judgement.query!r} "
                    f"wants {', '.join(judgement.relevant)}"
                )
                write(f"      found: {', '.join(score.found) or '(nothing)'}")
