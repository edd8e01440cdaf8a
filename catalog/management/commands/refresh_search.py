import time

from django.core.management.base import BaseCommand

from catalog.search.index import SearchIndex


class Command(BaseCommand):
    help = "Refresh the search index now (REFRESH MATERIALIZED VIEW CONCURRENTLY)."

    def handle(self, *args: object, **options: object) -> None:
        started = time.perf_counter()
        SearchIndex.refresh(concurrently=True, strict=True)
        self.stdout.write(f"Search index refreshed in {time.perf_counter() - started:.2f} s.")
