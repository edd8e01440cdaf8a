"""One migration autodetector for both django-pgviews-redux and django-pgtrigger.

Each library replaces ``makemigrations`` and ``migrate`` with its own
autodetector; whichever app loads last would silently win, dropping either
view deletions or trigger changes from new migrations. Combining them keeps both.
"""

from django_pgviews.db.migrations.autodetector import PGViewsAutodetector
from pgtrigger.migrations import MigrationAutodetectorMixin


class Autodetector(MigrationAutodetectorMixin, PGViewsAutodetector):
    pass
