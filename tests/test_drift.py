"""search_drift: the rows where the plain view and the index differ, and whether the overlay covers them."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from catalog.importer import catalog_import
from catalog.models import Category, Item
from catalog.search.drift import Drift, index_drift
from tests.conftest import make_record, write_catalog

pytestmark = pytest.mark.usefixtures("corpus")


def item_id(name: str) -> int:
    return Item.objects.get(name=name).pk


def update_without_triggers(sql: str) -> None:
    """An edit the triggers never see, as on a source table someone forgot to give them."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql)
        cursor.execute("SET LOCAL session_replication_role = origin")


class TestIndexDrift:
    def test_a_refreshed_index_has_none(self) -> None:
        assert index_drift() == Drift(missing=0, extra=0, changed=0, unexplained=0, examples=[])

    def test_edits_are_counted_by_kind_and_explained_by_their_pending_changes(self) -> None:
        Item.objects.filter(name="vlc").update(summary="multimedia player, edited")
        Item.objects.filter(name="evince").delete()
        added = Item.objects.create(name="mpv", summary="video player", category=Category.objects.get(name="video"))

        drift = index_drift()

        assert (drift.missing, drift.extra, drift.changed, drift.unexplained) == (1, 1, 1, 0)
        examples = {example.id: example for example in drift.examples}
        assert [example.id for example in drift.examples] == sorted(examples)
        changed = examples[item_id("vlc")]
        assert (changed.kind, changed.name, changed.pending) == ("changed", "vlc", True)
        assert {"summary", "document"} <= set(changed.columns) and "name" not in changed.columns
        assert (examples[added.pk].kind, examples[added.pk].name, examples[added.pk].columns) == ("missing", "mpv", [])
        [extra] = [example for example in drift.examples if example.kind == "extra"]
        assert (extra.name, extra.pending) == ("evince", True)

    def test_items_an_import_left_to_the_refresh_are_explained(self, tmp_path: Path) -> None:
        catalog_import(path=write_catalog(tmp_path / "more.jsonl.gz", [make_record("mpv", section="video")]))

        drift = index_drift()

        assert (drift.missing, drift.unexplained) == (1, 0)
        assert [(example.name, example.pending) for example in drift.examples] == [("mpv", True)]

    def test_an_edit_without_triggers_is_unexplained(self) -> None:
        update_without_triggers("UPDATE catalog_item SET summary = 'silently edited' WHERE name = 'chromium'")

        drift = index_drift()

        assert (drift.changed, drift.unexplained) == (1, 1)
        [example] = drift.examples
        assert (example.id, example.kind, example.pending) == (item_id("chromium"), "changed", False)

    def test_examples_are_limited_to_the_first_ids(self) -> None:
        update_without_triggers("UPDATE catalog_item SET summary = summary || ' (edited)'")
        ids = sorted(Item.objects.values_list("pk", flat=True))

        drift = index_drift(examples=3)

        assert (drift.changed, drift.unexplained) == (len(ids), len(ids))
        assert [example.id for example in drift.examples] == ids[:3]


class TestSearchDriftCommand:
    def test_prints_counts_and_examples(self) -> None:
        Item.objects.filter(name="vlc").update(summary="multimedia player, edited")
        update_without_triggers("UPDATE catalog_item SET name = 'chromium-browser' WHERE name = 'chromium'")
        out = StringIO()

        call_command("search_drift", stdout=out)

        lines = out.getvalue().splitlines()
        assert lines[:3] == [
            "2 row(s) differ: 0 missing from the index, 0 extra in it, 2 changed",
            "1 pending: searches see their current documents through the overlay, "
            "or an import left them to the next refresh",
            "1 not pending: searches see stale documents until the next refresh "
            "(a source table without triggers, or a view change not refreshed yet)",
        ]
        assert len(lines) == 5
        assert "chromium-browser (" in out.getvalue() and ", NOT pending" in out.getvalue()
        assert "vlc (" in out.getvalue() and "description" not in out.getvalue()

    def test_says_when_there_is_none(self) -> None:
        out = StringIO()

        call_command("search_drift", stdout=out)

        assert out.getvalue() == "0 row(s) differ: 0 missing from the index, 0 extra in it, 0 changed\n"
