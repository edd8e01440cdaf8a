from django.core.management.base import BaseCommand, CommandParser

from catalog.search.explain import explain_search
from catalog.search.query import SEMANTIC_WEIGHT


class Command(BaseCommand):
    help = (
        "Print the statement the site runs for a search (parameters in place, ready for psql), "
        "its EXPLAIN (ANALYZE, BUFFERS), and the parts of each result's score."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("query")
        parser.add_argument("--page", type=int, default=1)

    def handle(self, *args: object, query: str, page: int, **options: object) -> None:
        explained = explain_search(text=query, page=page)
        write = self.stdout.write
        write(self.style.MIGRATE_HEADING("-- statement"))
        write(explained.sql + ";")
        write(self.style.MIGRATE_HEADING("-- plan"))
        write(explained.plan)
        write(
            self.style.MIGRATE_HEADING(
                f"-- results: score = lexical + {SEMANTIC_WEIGHT} * prior * semantic,"
                " lexical = prior * (words + phrase + name)"
            )
        )
        header = ("score", "lexical", "semantic", "prior", "words", "phrase", "name")
        write(f"{'':>4} {'name':<40} " + " ".join(f"{part:>8}" for part in header))
        for rank, hit in enumerate(explained.hits, start=1):
            s = hit.score
            parts = (s.score, s.lexical, s.semantic, s.prior, s.words, s.phrase, s.name)
            write(f"{rank:>4} {hit.name:<40} " + " ".join(f"{part:>8.3f}" for part in parts))
