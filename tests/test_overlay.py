"""The live overlay: edits are searchable the moment they commit, with no refresher running."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from catalog.models import Category, Item, ItemTag, SearchPending, Tag
from catalog.search import TEXT_SEARCH_CONFIG
from catalog.search.query import document_search
from catalog.search.refresh import connect
from tests.conftest import refresh, wait_until

ADD_SHARING_TAG = (
    "INSERT INTO catalog_itemtag (item_id, tag_id) SELECT %s, id FROM catalog_tag WHERE name = 'use::sharing'"
)


def names(text: str) -> list[str]:
    return [hit.name for hit in document_search(text=text).hits]


@pytest.mark.usefixtures("corpus")
class TestEditsAreSearchableAtOnce:
    def test_an_edited_item_is_found_by_its_new_text_only(self) -> None:
        Item.objects.filter(name="vlc").update(summary="zorblax media player")

        assert names("zorblax") == ["vlc"]
        assert names("streamer") == []

    def test_a_new_item_is_found(self) -> None:
        Item.objects.create(name="quuxplayer", summary="plays quux files", category=Category.objects.get(name="video"))

        assert names("quux") == ["quuxplayer"]

    def test_a_deleted_item_is_gone(self) -> None:
        assert "evince" in names("pdf")

        Item.objects.get(name="evince").delete()

        assert "evince" not in names("pdf")
        assert names("evince") == []

    def test_a_tag_rename_changes_every_item_that_carries_it(self) -> None:
        Tag.objects.filter(name="web::browser").update(name="web::navigator")

        assert sorted(names("navigator")) == ["chromium", "firefox-esr"]

    def test_adding_a_tag_link_is_found(self) -> None:
        ItemTag.objects.create(item=Item.objects.get(name="vlc"), tag=Tag.objects.create(name="use::zapping"))

        assert names("zapping") == ["vlc"]

    def test_a_category_rename_changes_its_items(self) -> None:
        Category.objects.filter(name="mail").update(name="correspondence")

        assert names("correspondence") == ["thunderbird"]

    def test_several_edits_of_one_item_show_the_latest(self) -> None:
        vlc = Item.objects.get(name="vlc")
        for word in ["alphaword", "betaword", "gammaword"]:
            vlc.summary = word
            vlc.save()

        assert (names("alphaword"), names("betaword"), names("gammaword")) == ([], [], ["vlc"])

    def test_a_refresh_moves_pending_documents_into_the_index(self) -> None:
        Item.objects.filter(name="vlc").update(summary="zorblax media player")
        assert SearchPending.objects.filter(item_id=Item.objects.get(name="vlc").id).exists()

        refresh()

        assert not SearchPending.objects.exists()
        assert names("zorblax") == ["vlc"]

    def test_truncate_marks_every_item(self) -> None:
        with connection.cursor() as cursor:
            # Django's foreign keys are deferred; TRUNCATE refuses pending checks.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("TRUNCATE catalog_itemtag")

        assert names("navigator browser") == []
        assert "firefox-esr" not in names("x11")  # its tags are gone
        assert "firefox-esr" in names("firefox")


@pytest.mark.usefixtures("committed")
def test_a_committed_edit_is_searchable_from_another_connection() -> None:
    category = Category.objects.create(name="video")
    Item.objects.create(name="frobnicator", summary="frobs widgets", category=category)  # autocommit

    with connect() as conn:
        rows = conn.execute(
            "SELECT name FROM catalog_searchoverlay WHERE document @@ websearch_to_tsquery(%s::regconfig, %s)",
            [TEXT_SEARCH_CONFIG, "frobs"],
        ).fetchall()

    assert rows == [("frobnicator",)]


@pytest.mark.usefixtures("committed")
def test_editors_of_different_items_do_not_wait_on_each_other() -> None:
    category = Category.objects.create(name="misc")
    first, second = (Item.objects.create(name=n, summary=n, category=category) for n in ("one", "two"))
    with connect() as a, connect() as b:
        a.execute("BEGIN")
        a.execute("UPDATE catalog_item SET summary = 'edited by a' WHERE id = %s", [first.id])
        b.execute("SET lock_timeout = '1s'")
        b.execute("BEGIN")
        b.execute("UPDATE catalog_item SET summary = 'edited by b' WHERE id = %s", [second.id])
        b.execute("INSERT INTO catalog_tag (name) VALUES ('b-tag')")
        b.execute(
            "INSERT INTO catalog_itemtag (item_id, tag_id) SELECT %s, id FROM catalog_tag WHERE name = 'b-tag'",
            [second.id],
        )
        b.execute("COMMIT")
        a.execute("COMMIT")

    assert sorted(SearchPending.objects.filter(summary__startswith="edited").values_list("summary", flat=True)) == [
        "edited by a",
        "edited by b",
    ]


@pytest.mark.usefixtures("committed")
def test_concurrent_edits_of_one_item_keep_both_changes() -> None:
    """The second editor's trigger waits for the first's lock, then computes a document holding both edits."""
    category = Category.objects.create(name="misc")
    item = Item.objects.create(name="shared", summary="plain", category=category)
    Tag.objects.create(name="use::sharing")
    with connect() as a, connect() as b:
        a.execute("BEGIN")
        a.execute("UPDATE catalog_item SET summary = 'renamed thing' WHERE id = %s", [item.id])
        b_pid = b.info.backend_pid
        # b's row needs no lock of a's (its foreign key check shares the item);
        # only its trigger's lock of the item waits, until a commits.
        b.execute("BEGIN")
        tagging = threading.Thread(target=b.execute, args=(ADD_SHARING_TAG, [item.id]))
        tagging.start()

        def b_waits_for_a() -> bool:
            """b's trigger waiting for a's lock on the item"""
            return a.execute("SELECT pg_blocking_pids(%s)", [b_pid]).fetchone() == ([a.info.backend_pid],)

        wait_until(b_waits_for_a)
        # Before a commits, b's document cannot have been computed: b has not written one.
        assert SearchPending.objects.filter(item_id=item.id).count() == 1
        a.execute("COMMIT")
        tagging.join(timeout=10)
        assert not tagging.is_alive()
        b.execute("COMMIT")

    latest = SearchPending.objects.filter(item_id=item.id).latest("version")
    assert (latest.summary, latest.tags) == ("renamed thing", ["use::sharing"])
    assert names("renamed sharing") == ["shared"]
