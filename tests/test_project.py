"""Project-wide checks: the migration machinery of both libraries stays combined."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command


def test_system_checks_pass_without_warnings() -> None:
    out = StringIO()
    call_command("check", "--fail-level", "WARNING", stdout=out)

    assert "no issues" in out.getvalue()


@pytest.mark.django_db
def test_models_and_triggers_have_their_migrations() -> None:
    # Fails (SystemExit) if makemigrations would write anything.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_the_search_index_carries_its_indexes() -> None:
    from django.db import connection

    from catalog.search.query import SEARCH

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'catalog_searchindex' ORDER BY 1")
        indexes = dict(cursor.fetchall())

    assert "UNIQUE INDEX" in indexes["catalog_searchindex_id_index"]
    # The prior bands: the search statement spells each band's predicate as the index does.
    search_sql = " ".join(SEARCH.text.split())
    for band, predicate in [
        ("top", "prior >= (2.0)::double precision"),
        ("mid", "(prior >= (1.6)::double precision) AND (prior < (2.0)::double precision)"),
        ("low", "prior < (1.6)::double precision"),
    ]:
        assert (
            f"USING gin (category, tags, document) WITH (fastupdate=off) WHERE ({predicate})"
            in indexes[f"searchindex_doc_{band}_gin"]
        )
        spelt = re.sub(r"\(([\d.]+)\)::double precision", r"\1", predicate).replace("(", "").replace(")", "")
        assert f"doc.{spelt.replace(' AND ', ' AND doc.')}" in search_sql
