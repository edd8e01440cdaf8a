from django.core.management.base import BaseCommand, CommandParser

from catalog.search.explain import explain_search


class Command(BaseCommand):
    help = "Print the SQL the site runs for a search, with EXPLAIN (ANALYZE, BUFFERS) of each statement."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("query")
        parser.add_argument("--page", type=int, default=1)

    def handle(self, *args: object, query: str, page: int, **options: object) -> None:
        for number, explained in enumerate(explain_search(text=query, page=page), start=1):
            self.stdout.write(self.style.MIGRATE_HEADING(f"-- statement {number}"))
            self.stdout.write(explained.sql + ";")
            self.stdout.write(explained.plan + "\n")
