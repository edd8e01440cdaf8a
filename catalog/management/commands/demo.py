import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from catalog.models import Item

DEMO_CATALOG = Path(settings.BASE_DIR) / "catalog" / "fixtures" / "demo-catalog.jsonl.gz"


class Command(BaseCommand):
    help = "Set up the demo (migrate, load the demo catalog, refresh) and serve it until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))

    def handle(self, *args: object, port: str, verbosity: int, **options: object) -> None:
        call_command("migrate", verbosity=0)
        if not Item.objects.exists():
            self.stdout.write(f"Loading the demo catalog from {DEMO_CATALOG.name}...")
            call_command("import_catalog", str(DEMO_CATALOG), verbosity=verbosity)
        call_command("refresh_search", verbosity=verbosity)
        self.stdout.write(self.style.SUCCESS(f"searchsite is at http://127.0.0.1:{port}/  (Ctrl-C stops it)"))
        self._serve(port)

    def _serve(self, port: str) -> None:
        """Run the web server until it exits or Ctrl-C, then stop it."""
        env = {**os.environ, "DEBUG": os.environ.get("DEBUG", "1")}
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        server = subprocess.Popen([*manage, "runserver", f"127.0.0.1:{port}", "--noreload"], env=env)
        try:
            server.wait()
        except KeyboardInterrupt:
            self.stdout.write("Stopping...")
        finally:
            server.terminate()
            server.wait()
