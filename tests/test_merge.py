"""A refresh merges what changed and compacts only when due: its cost follows the change, nothing is hidden."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from catalog.importer import catalog_import
from catalog.models import Item, SearchPending, SearchRefresh, SearchWord
from catalog.search.drift import index_drift
from catalog.search.freshness import index_status
from catalog.search.query import document_search
from catalog.search.refresh import refresh_index, request_refresh
from catalog.search.worker import _has_work
from tests.conftest import make_record, write_catalog

pytestmark = pytest.mark.usefixtures("corpus", "words_alone")


@pytest.fixture
def words_alone(settings: Any) -> None:
    """Which documents are served is what the words match: no semantic neighbours (test_semantic.py)."""
    settings.SEARCH_SEMANTIC = False


@pytest.fixture
def merging(settings: Any) -> None:
    """Pending items may grow to the whole index before a compaction is due."""
    settings.SEARCH_COMPACTION_SHARE = 1.0


def run_refresh(*, compact: bool = False) -> str:
    """What the worker runs; the kind of refresh it was."""
    connection.ensure_connection()
    run = refresh_index(connection.connection, compact=compact)
    assert run is not None and run.outcome == "ok"
    return run.kind


def indexed_summary(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT summary FROM catalog_searchindex WHERE name = %s", [name])
        return cursor.fetchone()[0]


def names(text: str) -> list[str]:
    return [hit.name for hit in document_search(text=text).hits]


@pytest.mark.usefixtures("merging")
class TestMerge:
    def test_leaves_the_view_and_serves_the_edit_with_its_new_words(self) -> None:
        old = indexed_summary("vlc")
        Item.objects.filter(name="vlc").update(summary="quuxotic media player")

        assert run_refresh() == SearchRefresh.Kind.MERGE

        assert indexed_summary("vlc") == old
        assert SearchPending.objects.filter(merged=True).count() == 1
        assert SearchWord.objects.filter(word="quuxotic").exists()  # completions and corrections know it
        assert names("quuxoti") == names("quuxotik") == ["vlc"]  # a prefix, a typo
        drift = index_drift()
        assert (drift.changed, drift.unexplained) == (1, 0)
        status = index_status()
        assert (status.pending_changes, status.merged_items) == (0, 1)

    def test_drops_superseded_versions(self) -> None:
        vlc = Item.objects.get(name="vlc")
        for summary in ("first edit", "second edit", "third edit"):
            Item.objects.filter(pk=vlc.pk).update(summary=summary)
            SearchPending.objects.filter(item_id=vlc.pk).update(xact=0)  # as if each were its own transaction
        assert SearchPending.objects.filter(item_id=vlc.pk).count() == 3

        run_refresh()

        assert list(SearchPending.objects.filter(item_id=vlc.pk).values_list("summary", flat=True)) == ["third edit"]
        assert names("third edit") == ["vlc"] and names("second edit") == []

    def test_computes_the_documents_an_import_left_to_it(self, tmp_path: Path) -> None:
        catalog_import(
            path=write_catalog(tmp_path / "more.jsonl.gz", [make_record("mpv", summary="zorblaxian player")])
        )
        assert names("zorblaxian") == []  # an import leaves its documents to the refresh

        assert run_refresh() == SearchRefresh.Kind.MERGE

        assert names("zorblaxian") == ["mpv"]
        assert index_status().awaiting_refresh == 0
        assert index_drift().unexplained == 0

    def test_a_deletion_stays_hidden(self) -> None:
        Item.objects.filter(name="evince").delete()

        run_refresh()

        assert "evince" not in names("evince")
        assert SearchPending.objects.filter(deleted=True, merged=True).count() == 1

    def test_leaves_the_worker_nothing_to_do(self) -> None:
        Item.objects.filter(name="vlc").update(summary="edited")
        assert _has_work(connection.connection)

        run_refresh()

        assert not _has_work(connection.connection)


class TestCompaction:
    def test_when_pending_items_pass_the_share(self, settings: Any) -> None:
        settings.SEARCH_COMPACTION_SHARE = 1.5 / Item.objects.count()
        Item.objects.filter(name="vlc").update(summary="edited once")
        assert run_refresh() == SearchRefresh.Kind.MERGE

        Item.objects.filter(name="evince").update(summary="edited twice")

        assert run_refresh() == SearchRefresh.Kind.COMPACTION
        assert not SearchPending.objects.exists()
        assert (indexed_summary("vlc"), indexed_summary("evince")) == ("edited once", "edited twice")
        assert index_drift().total == 0

    @pytest.mark.usefixtures("merging")
    def test_when_asked_for(self) -> None:
        Item.objects.filter(name="vlc").update(summary="edited")
        run_refresh()

        request_refresh()

        assert run_refresh() == SearchRefresh.Kind.COMPACTION
        assert (index_drift().total, SearchPending.objects.count()) == (0, 0)

    @pytest.mark.usefixtures("merging")
    def test_by_refresh_search(self) -> None:
        Item.objects.filter(name="vlc").update(summary="edited")

        assert run_refresh(compact=True) == SearchRefresh.Kind.COMPACTION
        assert indexed_summary("vlc") == "edited"
