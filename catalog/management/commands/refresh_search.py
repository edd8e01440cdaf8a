from django.core.management.base import BaseCommand, CommandError

from catalog.search.refresh import SearchRefresh, connect, refresh_index


class Command(BaseCommand):
    help = (
        "Claim pending edits and refresh the search index now "
        "(REFRESH ... CONCURRENTLY, or a plain REFRESH when the index is empty)."
    )

    def handle(self, *args: object, **options: object) -> None:
        with connect() as conn:
            outcome = refresh_index(conn)
        if outcome is None:
            raise CommandError("Another refresh is running; try again when it has finished.")
        refresh = SearchRefresh.objects.latest()
        if outcome == SearchRefresh.Outcome.FAILED:
            raise CommandError(f"The refresh failed: {refresh.error}")
        self.stdout.write(
            f"Search index refreshed in {refresh.duration_seconds:.2f} s "
            f"({refresh.items_claimed} pending item(s) claimed)."
        )
