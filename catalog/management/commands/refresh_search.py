from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.search.refresh import connect, refresh_index
from catalog.search.refresh_models import SearchRefresh

# A full refresh of a million items takes about a minute (docs/benchmarks.md).
DEFAULT_TIMEOUT_SECONDS = 600.0


class Command(BaseCommand):
    help = (
        "Compact the search index now: claim every pending edit and refresh the materialized view "
        "(REFRESH ... CONCURRENTLY, or a plain REFRESH when the index is empty), "
        "after waiting for a refresh already running."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--timeout",
            type=float,
            default=DEFAULT_TIMEOUT_SECONDS,
            metavar="SECONDS",
            help=f"how long to wait for a refresh already running (default {DEFAULT_TIMEOUT_SECONDS:g}; 0: not at all)",
        )

    def handle(self, *args: object, timeout: float, **options: object) -> None:
        with connect() as conn:
            run = refresh_index(conn, wait_seconds=timeout, compact=True)
        if run is None:
            raise CommandError(
                f"Another refresh is still running after {timeout:g} s; nothing was done (a longer --timeout waits)."
            )
        if run.waited_seconds:
            self.stdout.write(f"Waited {run.waited_seconds:.2f} s for the refresh already running.")
        if run.outcome == SearchRefresh.Outcome.FAILED:
            raise CommandError(f"The refresh failed: {run.error}")
        self.stdout.write(
            f"Search index compacted in {run.duration_seconds:.2f} s ({run.items_claimed} pending item(s) claimed)."
        )
