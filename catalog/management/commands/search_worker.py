from django.core.management.base import BaseCommand, CommandParser

from catalog.search.worker import Worker


class Command(BaseCommand):
    help = "Refresh the search index after each burst of edits, until SIGTERM or Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        # Unset flags keep the settings (SEARCH_REFRESH_*_SECONDS).
        parser.add_argument("--quiet-seconds", type=float)
        parser.add_argument("--max-wait-seconds", type=float)
        parser.add_argument("--poll-seconds", type=float)

    def handle(self, *args: object, **options: object) -> None:
        names = ["quiet_seconds", "max_wait_seconds", "poll_seconds"]
        Worker(**{name: options[name] for name in names if options[name] is not None}).run()  # type: ignore[arg-type]
