from django.apps import AppConfig
from django.core import checks
from django.db.models.signals import post_migrate

from catalog.checks import check_database, check_trigger_functions


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from catalog.search.score import install_score_function

        checks.register(check_database, checks.Tags.database)
        checks.register(check_trigger_functions, checks.Tags.database)
        post_migrate.connect(install_score_function, sender=self)
