"""Shared fixtures: every database test runs on the real (embedded) PostgreSQL."""

from __future__ import annotations

import gzip
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection, transaction

from catalog.importer import catalog_import
from catalog.management.commands.demo import DEMO_CATALOG
from catalog.search.refresh import refresh_index
from searchsite.embedded_postgres import ensure_running


def pytest_configure(config: pytest.Config) -> None:
    ensure_running()
    # The workers and servers the tests start with a DATABASE_URL are
    # deployments to the settings, which demand a key of them.
    os.environ.setdefault("SECRET_KEY", "searchsite-tests-only-not-a-secret")


def database_url(*, host: str | None = None, name: str | None = None) -> str:
    """The test database as a URL for another process, on another host or database if given."""
    s = connection.settings_dict
    password = f":{quote(s['PASSWORD'], safe='')}" if s.get("PASSWORD") else ""
    port = f":{s['PORT']}" if s.get("PORT") else ""
    user, host = quote(s["USER"], safe=""), quote(host or s["HOST"], safe="")
    return f"postgres://{user}{password}@{host}{port}/{name or s['NAME']}"


def wait_until(condition: Callable[[], object], timeout: float = 20.0) -> None:
    """Poll until the condition holds; its docstring names it in the failure."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition.__doc__ or condition}")
        time.sleep(0.05)


def make_record(name: str, **fields: Any) -> dict[str, Any]:
    """A catalog record as the import file holds it, with plausible defaults."""
    return {
        "name": name,
        "version": "1.0-1",
        "section": "misc",
        "summary": f"{name} summary",
        "description": "",
        "tags": [],
        "homepage": "",
        "source": name,
        "installed_size_kb": 100,
        "priority": "optional",
        **fields,
    }


def write_catalog(path: Path, records: list[dict[str, Any]] | list[str]) -> Path:
    """Write records (dicts, or raw lines as given) as a gzipped JSONL file."""
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for record in records:
            handle.write((record if isinstance(record, str) else json.dumps(record)) + "\n")
    return path


# A small corpus you can refer to by name.
CORPUS = [
    make_record(
        "firefox-esr",
        section="web",
        summary="Mozilla Firefox web browser - Extended Support Release (ESR)",
        description="Firefox ESR is a powerful, extensible web browser with support for modern web "
        "application technologies.",
        tags=["interface::x11", "role::program", "web::browser", "works-with::pdf"],
    ),
    make_record(
        "chromium",
        section="web",
        summary="web browser",
        description="Chromium is an open-source browser project that aims to build a safer, faster, "
        "and more stable way for all Internet users to experience the web.",
        tags=["role::program", "web::browser"],
    ),
    make_record("vlc", section="video", summary="multimedia player and streamer"),
    make_record("vlc-plugin-jack", section="video", summary="Jack audio plugins for VLC"),
    make_record("evince", section="gnome", summary="Document (PostScript, PDF) viewer"),
    make_record(
        "thunderbird",
        section="mail",
        summary="mail/news client with RSS, chat and integrated spam filter support",
    ),
    make_record("cafe-editor", section="editors", summary="Crème brûlée text editor for the café"),
]


def refresh(*, compact: bool = False) -> None:
    """Refresh as the worker does (or compact, as refresh_search does), on the test's own connection and transaction."""
    connection.ensure_connection()
    run = refresh_index(connection.connection, compact=compact)
    assert run is not None and run.outcome == "ok"


@pytest.fixture
def committed(transactional_db: None) -> Iterator[None]:
    """For tests that commit: empty the index afterwards, as the flush empties the tables.

    A flush does not empty materialized views; left alone, the next test would
    start with stale rows hidden by pending deletions.
    """
    yield
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE catalog_itemtag, catalog_itemvector, catalog_item, catalog_category, catalog_tag")
    refresh(compact=True)


@pytest.fixture
def corpus(db: None, tmp_path: Path) -> None:
    """The named corpus, imported and indexed inside the test's transaction."""
    catalog_import(path=write_catalog(tmp_path / "corpus.jsonl.gz", CORPUS))
    refresh()


def module_catalog(path: Path) -> Any:
    """A module-scoped fixture: the catalog file, imported and indexed, rolled back after the module."""

    @pytest.fixture(scope="module")
    def fixture(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
        with django_db_blocker.unblock(), transaction.atomic():
            catalog_import(path=path)
            refresh()
            yield
            transaction.set_rollback(True)

    return fixture


# The committed demo catalog (6,000 real packages).
demo_catalog = module_catalog(DEMO_CATALOG)
