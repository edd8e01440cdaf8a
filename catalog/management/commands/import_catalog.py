from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.importer import CatalogFileError, catalog_import


class Command(BaseCommand):
    help = "Import a catalog file (JSONL, plain or gzipped), upserting items by name."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: object, file: Path, verbosity: int, **options: object) -> None:
        try:
            report = catalog_import(path=file, progress=verbosity > 0)
        except CatalogFileError as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{file}: {exc}") from None
        self.stdout.write(
            f"Imported {report.records} records: {report.items_created} new items, {report.items_updated} updated."
        )
