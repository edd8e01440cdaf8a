from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from psycopg.errors import DivisionByZero

from catalog import importer
from catalog.importer import CatalogFileError, catalog_import
from catalog.models import Category, Item, ItemTag, SearchPending, SearchRefreshRequest, Tag
from catalog.search.freshness import index_status
from catalog.search.query import document_search
from tests.conftest import CORPUS, make_record, refresh, write_catalog

pytestmark = pytest.mark.django_db


def source_state() -> list[tuple]:
    """Everything the import writes, comparable before and after."""
    return [
        sorted(Category.objects.values_list("name", flat=True)),
        sorted(Tag.objects.values_list("name", flat=True)),
        sorted(Item.objects.values_list("name", "summary", "version", "category__name")),
        sorted(ItemTag.objects.values_list("item__name", "tag__name")),
    ]


class TestCatalogImport:
    def test_imports_items_categories_and_tags(self, tmp_path: Path) -> None:
        report = catalog_import(path=write_catalog(tmp_path / "c.jsonl.gz", CORPUS))

        assert (report.records, report.items_created, report.items_updated) == (len(CORPUS), len(CORPUS), 0)
        firefox = Item.objects.get(name="firefox-esr")
        assert firefox.category.name == "web"
        assert sorted(firefox.tags.values_list("name", flat=True)) == [
            "interface::x11",
            "role::program",
            "web::browser",
            "works-with::pdf",
        ]

    def test_reads_plain_jsonl_too(self, tmp_path: Path) -> None:
        path = tmp_path / "plain.jsonl"
        path.write_text("\n".join(json.dumps(r) for r in CORPUS[:2]) + "\n\n")

        assert catalog_import(path=path).records == 2

    def test_upserts_by_name_and_replaces_tags(self, tmp_path: Path) -> None:
        catalog_import(path=write_catalog(tmp_path / "a.jsonl.gz", CORPUS))
        changed = make_record("vlc", section="video", summary="VLC media player", tags=["use::playing"])

        report = catalog_import(path=write_catalog(tmp_path / "b.jsonl.gz", [changed, CORPUS[0]]))

        assert (report.items_created, report.items_updated) == (0, 1)
        vlc = Item.objects.get(name="vlc")
        assert vlc.summary == "VLC media player"
        assert list(vlc.tags.values_list("name", flat=True)) == ["use::playing"]
        assert Item.objects.count() == len(CORPUS)

    def test_reimporting_the_same_file_changes_nothing(self, tmp_path: Path) -> None:
        path = write_catalog(tmp_path / "c.jsonl.gz", CORPUS)
        catalog_import(path=path)
        before = dict(Item.objects.values_list("name", "updated_at"))

        report = catalog_import(path=path)

        assert (report.items_created, report.items_updated) == (0, 0)
        assert dict(Item.objects.values_list("name", "updated_at")) == before

    def test_an_import_is_searchable_after_the_refresh_it_asks_for(self, tmp_path: Path) -> None:
        catalog_import(path=write_catalog(tmp_path / "c.jsonl.gz", CORPUS))

        assert not SearchPending.objects.exists()
        assert SearchRefreshRequest.objects.values("item_id").distinct().count() == len(CORPUS)
        assert (index_status().pending_changes, index_status().awaiting_refresh) == (len(CORPUS), len(CORPUS))
        assert document_search(text="web browser").total == 0
        refresh()
        assert document_search(text="web browser").total == 2
        assert not SearchRefreshRequest.objects.exists()
        assert index_status().pending_changes == 0

    def test_an_import_leaves_statistics_of_what_it_loaded(self, tmp_path: Path) -> None:
        with connection.cursor() as cursor:
            cursor.execute(importer.ANALYZE_SQL)  # every table analyzed empty, as a test's truncation leaves them

            catalog_import(path=write_catalog(tmp_path / "c.jsonl.gz", CORPUS))

            cursor.execute(
                "SELECT relname, reltuples FROM pg_class WHERE relname IN ('catalog_item', 'catalog_itemvector')"
            )
            assert dict(cursor.fetchall()) == {"catalog_item": len(CORPUS), "catalog_itemvector": len(CORPUS)}

    def test_edits_after_an_import_in_the_same_transaction_are_searchable_at_once(self, tmp_path: Path) -> None:
        catalog_import(path=write_catalog(tmp_path / "c.jsonl.gz", CORPUS))
        refresh()

        Item.objects.filter(name="vlc").update(summary="zorblax player")

        assert SearchPending.objects.count() == 1
        assert [hit.name for hit in document_search(text="zorblax").hits] == ["vlc"]


def constraints_and_indexes() -> list[tuple[str, str]]:
    """The definitions of every constraint and index of the tables a first load fills."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
            WHERE conrelid IN ('catalog_item'::regclass, 'catalog_itemtag'::regclass)
            UNION ALL
            SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index
            WHERE indrelid IN ('catalog_item'::regclass, 'catalog_itemtag'::regclass)
            ORDER BY 1, 2
            """
        )
        return cursor.fetchall()


class TestFirstLoad:
    """A load into empty tables drops foreign keys and plain indexes, and restores them."""

    def test_restores_every_constraint_and_index(self, tmp_path: Path) -> None:
        before = constraints_and_indexes()

        catalog_import(path=write_catalog(tmp_path / "c.jsonl.gz", CORPUS))

        assert constraints_and_indexes() == before
        vlc = Item.objects.get(name="vlc")
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("INSERT INTO catalog_itemtag (item_id, tag_id) VALUES (%s, -1)", [vlc.pk])
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    def test_a_failed_first_load_leaves_everything_as_it_was(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        before = constraints_and_indexes()
        # A failure after the drops, before the restores.
        monkeypatch.setattr(importer, "TAG_LINK_SQL", [*importer.TAG_LINK_SQL, "SELECT 1 / 0"])

        with pytest.raises(DivisionByZero):
            catalog_import(path=write_catalog(tmp_path / "c.jsonl.gz", CORPUS))

        assert constraints_and_indexes() == before
        assert not Item.objects.exists()

    def test_a_later_load_keeps_them_in_place(self, tmp_path: Path) -> None:
        catalog_import(path=write_catalog(tmp_path / "a.jsonl.gz", CORPUS[:1]))
        before = constraints_and_indexes()

        report = catalog_import(path=write_catalog(tmp_path / "b.jsonl.gz", CORPUS))

        assert (report.items_created, report.items_updated) == (len(CORPUS) - 1, 0)
        assert constraints_and_indexes() == before


class TestBadFiles:
    def test_bad_lines_are_all_reported_and_nothing_is_imported(self, tmp_path: Path) -> None:
        catalog_import(path=write_catalog(tmp_path / "good.jsonl.gz", CORPUS[:2]))
        before = source_state()
        lines = [
            json.dumps(make_record("new-item")),
            "{not json",
            json.dumps(make_record("x", summary="")),
            json.dumps(make_record("y", installed_size_kb="big")),
            json.dumps(make_record("z", priority="urgent")),
            json.dumps(make_record("nul", description="a\u0000b")),
            json.dumps(make_record("new-item")),
            "[1, 2]",
            json.dumps(make_record("w", tags="role::program")),
        ]

        with pytest.raises(CatalogFileError) as raised:
            catalog_import(path=write_catalog(tmp_path / "bad.jsonl.gz", lines))

        assert str(raised.value) == "8 bad line(s), nothing imported (1 good record(s) read before the first, line 2)"
        assert [(e.line, e.column, e.reason) for e in raised.value.errors] == [
            (2, 2, "not valid JSON (Expecting property name enclosed in double quotes)"),
            (3, None, "summary is missing or empty"),
            (4, None, "installed_size_kb must be a whole number from 0 to 2147483647"),
            (5, None, "priority must be one of extra, important, optional, required, standard, got 'urgent'"),
            (6, None, "description contains a NUL character"),
            (7, None, "duplicate name 'new-item' (first on line 1)"),
            (8, None, "expected a JSON object, got list"),
            (9, None, "tags must be a list of non-empty strings"),
        ]
        assert source_state() == before

    def test_a_priority_of_the_wrong_type_is_a_bad_line(self, tmp_path: Path) -> None:
        with pytest.raises(CatalogFileError) as raised:
            catalog_import(path=write_catalog(tmp_path / "bad.jsonl.gz", [make_record("x", priority=["high"])]))

        assert [str(error) for error in raised.value.errors] == [
            "line 1: priority must be one of extra, important, optional, required, standard, got ['high']"
        ]

    @pytest.mark.parametrize("compress", [False, True])
    def test_one_bad_line_deep_in_a_file_is_named_by_line_and_column(self, tmp_path: Path, compress: bool) -> None:
        # Long lines of multi-byte text: a block decoder would put the error elsewhere.
        record = make_record("item", description="crème brûlée " * 500)
        good = [json.dumps({**record, "name": f"item-{n}"}, ensure_ascii=False) for n in range(40)]
        path = tmp_path / ("bad.jsonl.gz" if compress else "bad.jsonl")
        for bad, expected in [
            (
                b'{"name": "ok", "summary": "s" "section": "a"}',
                "line 38, column 31: not valid JSON (Expecting ',' delimiter)",
            ),
            (
                '{"name": "café", "summary": "\xe9'.encode() + b"\xff",
                "line 38, column 31: not UTF-8 text (invalid start byte)",
            ),
        ]:
            content = b"\n".join([*(line.encode() for line in good[:37]), bad, *(line.encode() for line in good[37:])])
            path.write_bytes(gzip.compress(content) if compress else content)

            with pytest.raises(CatalogFileError) as raised:
                catalog_import(path=path)

            assert [str(error) for error in raised.value.errors] == [expected]
            summary = "1 bad line(s), nothing imported (37 good record(s) read before the first, line 38)"
            assert str(raised.value) == summary
            assert not Item.objects.exists()

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            (b"\x1f\x8b\x08 truncated gzip", "cannot read"),
            (b"\n\n", "holds no records"),
        ],
    )
    def test_unreadable_files_get_one_clear_message(self, tmp_path: Path, content: bytes, message: str) -> None:
        path = tmp_path / "broken.jsonl"
        path.write_bytes(content)

        with pytest.raises(CatalogFileError, match=message):
            catalog_import(path=path)
        assert Item.objects.count() == 0

    def test_command_lists_bad_lines_and_fails(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = write_catalog(tmp_path / "bad.jsonl.gz", [json.dumps(make_record("ok")), "oops"])

        with pytest.raises(CommandError, match="1 bad line"):
            call_command("import_catalog", str(path), verbosity=0)

        assert "line 2, column 1: not valid JSON (Expecting value)" in capsys.readouterr().err
        assert not Item.objects.exists()

    def test_command_reports_a_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(CommandError, match="cannot read"):
            call_command("import_catalog", str(tmp_path / "nope.jsonl"), verbosity=0)
