from django.core.management.base import BaseCommand

from catalog.search.freshness import index_status


class Command(BaseCommand):
    help = "Print how fresh the search index is."

    def handle(self, *args: object, **options: object) -> None:
        status = index_status()
        last = (
            f"{status.last_refresh_at:%Y-%m-%d %H:%M:%S %Z} ({status.last_refresh_seconds:.2f} s)"
            if status.last_refresh_at
            else "never"
        )
        self.stdout.write(f"last refresh:     {last}")
        searchable = (
            f"{status.awaiting_refresh} of them not searchable until the next refresh"
            if status.awaiting_refresh
            else "searchable through the overlay"
        )
        self.stdout.write(f"pending changes:  {status.pending_changes} item(s), {searchable}")
        self.stdout.write(f"oldest pending:   {status.stale_seconds:.1f} s")
        self.stdout.write(f"merged:           {status.merged_items} item(s), searchable, until the next compaction")
        self.stdout.write(f"worker:           {'running' if status.worker_alive else 'NOT running'}")
