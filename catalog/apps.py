from django.apps import AppConfig
from django.core import checks

from catalog.checks import check_database


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        checks.register(check_database, checks.Tags.database)
