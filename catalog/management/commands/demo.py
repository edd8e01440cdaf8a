import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from catalog.models import Item

DEMO_CATALOG = Path(settings.BASE_DIR) / "catalog" / "fixtures" / "demo-catalog.jsonl.gz"
# The demo's editor account; a real deployment runs createsuperuser instead.
DEMO_ADMIN = ("admin", "admin")


class Command(BaseCommand):
    help = "Set up the demo (migrate, demo catalog, refresh) and run the web server and refresher until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))

    def handle(self, *args: object, port: str, verbosity: int, **options: object) -> None:
        call_command("migrate", verbosity=0)
        if not Item.objects.exists():
            self.stdout.write(f"Loading the demo catalog from {DEMO_CATALOG.name}...")
            call_command("import_catalog", str(DEMO_CATALOG), verbosity=verbosity)
        call_command("refresh_search", verbosity=verbosity)
        users = get_user_model().objects
        if not users.filter(is_superuser=True).exists():
            users.create_superuser(DEMO_ADMIN[0], password=DEMO_ADMIN[1])
        self.stdout.write(
            self.style.SUCCESS(f"searchsite is at http://127.0.0.1:{port}/  (Ctrl-C stops it)\n")
            + f"Editors: http://127.0.0.1:{port}/admin/ (user {DEMO_ADMIN[0]!r}, password "
            f"{DEMO_ADMIN[1]!r} unless you changed it); edits are searchable as soon as you save."
        )
        self._serve(port)

    def _serve(self, port: str) -> None:
        """Run the web server and the refresher until either exits or Ctrl-C, then stop both."""
        env = {**os.environ, "DEBUG": os.environ.get("DEBUG", "1")}
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        processes = [
            subprocess.Popen([*manage, "runserver", f"127.0.0.1:{port}", "--noreload"], env=env),
            subprocess.Popen([*manage, "search_worker"], env=env),
        ]
        try:
            while all(process.poll() is None for process in processes):
                time.sleep(0.5)
        except KeyboardInterrupt:
            self.stdout.write("Stopping...")
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait()
