from django.core.management.base import BaseCommand, CommandParser

from catalog.search.explain import explain_search


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
        write(self.style.MIGRATE_HEADING("-- results: score = prior * (words + phrase + name)"))
        write(f"{'':>4} {'name':<40} {'score':>7} {'prior':>6} {'words':>6} {'phrase':>6} {'name':>6}")
        for rank, hit in enumerate(explained.hits, start=1):
            s = hit.score
            parts = f"{s.score:>7.3f} {s.prior:>6.2f} {s.words:>6.3f} {s.phrase:>6.2f} {s.name:>6.2f}"
            write(f"{rank:>4} {hit.name:<40} {parts}")
