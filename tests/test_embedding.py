from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from django.db import connection

from catalog.importer import catalog_import
from catalog.models import Item, ItemVector, SearchIndex, SearchOverlay
from catalog.search.embedding import embed, item_text, model, vectors_update
from catalog.search.query import document_search
from tests.conftest import CORPUS, make_record, refresh, wait_until, write_catalog
from tests.workers import running_workers


def stored(name: str) -> np.ndarray:
    return np.asarray(ItemVector.objects.get(item__name=name).vector)


@pytest.mark.usefixtures("corpus")
class TestImport:
    def test_every_item_gets_the_vector_of_its_name_and_summary(self) -> None:
        items = Item.objects.all()

        assert ItemVector.objects.count() == len(CORPUS) == items.count()
        for item in items:
            expected = embed([item_text(item.name, item.summary)])[0]
            assert stored(item.name) == pytest.approx(expected, abs=1e-6)
            assert np.linalg.norm(expected) == pytest.approx(1, abs=1e-5)

    def test_the_index_holds_each_items_vector(self) -> None:
        indexed = SearchIndex.objects.get(name="evince")

        assert np.asarray(indexed.vector) == pytest.approx(stored("evince"), abs=1e-6)

    def test_reimporting_the_same_file_rewrites_no_vector(self, tmp_path: Path) -> None:
        catalog_import(path=write_catalog(tmp_path / "again.jsonl.gz", CORPUS))

        assert vectors_update(connection.connection) == 0
        assert SearchOverlay.objects.get(name="evince").vector is not None


@pytest.mark.usefixtures("corpus")
class TestEditedItems:
    def test_a_changed_summary_hides_the_stale_vector_and_the_item_is_still_found_by_words(self) -> None:
        Item.objects.filter(name="evince").update(summary="Document viewer for the desktop, now with zebras")

        pending = SearchOverlay.objects.get(name="evince")

        assert pending.vector is None
        assert [hit.name for hit in document_search(text="zebras").hits] == ["evince"]

    def test_the_refreshers_step_recomputes_only_the_edited_items_then_the_refresh_serves_them(self) -> None:
        Item.objects.filter(name="evince").update(summary="Document viewer for the desktop, now with zebras")

        written = vectors_update(connection.connection)
        refresh()

        expected = embed([item_text("evince", "Document viewer for the desktop, now with zebras")])[0]
        assert written == 1
        assert np.asarray(SearchOverlay.objects.get(name="evince").vector) == pytest.approx(expected, abs=1e-6)
        refresh(compact=True)
        assert np.asarray(SearchIndex.objects.get(name="evince").vector) == pytest.approx(expected, abs=1e-6)

    def test_an_edit_of_the_description_keeps_the_vector(self) -> None:
        before = stored("evince")
        Item.objects.filter(name="evince").update(description="A longer description.")

        assert vectors_update(connection.connection) == 0
        assert np.asarray(SearchOverlay.objects.get(name="evince").vector) == pytest.approx(before, abs=1e-6)


def test_the_model_loads_once_per_process() -> None:
    assert model() is model()


@pytest.mark.usefixtures("committed")
def test_the_worker_embeds_an_edited_item_before_it_refreshes(tmp_path: Path) -> None:
    catalog_import(path=write_catalog(tmp_path / "one.jsonl.gz", [make_record("gadget", summary="a small tool")]))
    refresh()
    new_summary = "a spreadsheet for accounts"
    expected = embed([item_text("gadget", new_summary)])[0]

    with running_workers():
        Item.objects.filter(name="gadget").update(summary=new_summary)

        def reindexed() -> bool:
            """the search reads the vector of the new summary"""
            vector = SearchOverlay.objects.get(name="gadget").vector
            return vector is not None and np.allclose(vector, expected, atol=1e-6)

        wait_until(reindexed)
