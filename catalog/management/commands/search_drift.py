from django.core.management.base import BaseCommand, CommandParser

from catalog.search.drift import index_drift


class Command(BaseCommand):
    help = "Count the rows that differ between the search document (plain view) and the index, with examples."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--examples", type=int, default=10, help="how many differing rows to show (default 10)")

    def handle(self, *args: object, examples: int, **options: object) -> None:
        drift = index_drift(examples=examples)
        self.stdout.write(
            f"{drift.total} row(s) differ: {drift.missing} missing from the index, "
            f"{drift.extra} extra in it, {drift.changed} changed"
        )
        if not drift.total:
            return
        self.stdout.write(
            f"{drift.total - drift.unexplained} pending: searches see their current documents through the overlay, "
            "or an import left them to the next refresh"
        )
        if drift.unexplained:
            self.stdout.write(
                self.style.WARNING(
                    f"{drift.unexplained} not pending: searches see stale documents until the next refresh "
                    "(a source table without triggers, or a view change not refreshed yet)"
                )
            )
        for example in drift.examples:
            columns = f" ({', '.join(example.columns)})" if example.columns else ""
            pending = "pending" if example.pending else "NOT pending"
            self.stdout.write(f"  {example.kind:<8} id {example.id:<8} {example.name}{columns}, {pending}")
