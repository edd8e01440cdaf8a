"""Concurrent editors and importers: every edit searchable the moment it commits, no drift once refreshed.

Editor threads, each on a connection of its own and with items of its own,
change summaries, rename, delete and add items, tag them and move them between
categories, and search the site (gunicorn) for each change right after it
commits. Meanwhile ``manage.py import_catalog`` runs in processes of its own,
adding and updating other items, and a real worker refreshes after each burst.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from bench.server import WebServer
from catalog.importer import catalog_import
from catalog.models import SearchRefresh
from catalog.search.drift import index_drift
from catalog.search.refresh import connect
from tests.conftest import database_url, make_record, refresh, wait_until, write_catalog
from tests.reliability.conftest import INSERT_ITEM_SQL, SECONDS, Figures
from tests.workers import ROOT, caught_up, running_workers

EDITORS = 3
ITEMS_PER_EDITOR = 12
CATEGORIES_PER_EDITOR = 3
IMPORTS = 3
ITEMS_PER_IMPORT = 200
OPERATIONS = ["summary", "rename", "tag", "category", "delete"]


@dataclass
class Expected:
    """What the site must show for one item: the word its summary holds, its name, category and tags."""

    name: str
    word: str
    category: str
    tags: list[str] = field(default_factory=list)


def hits(web: WebServer, text: str) -> dict[int, dict[str, Any]]:
    """The site's results for a search, by item id."""
    status, _, body = web.request(f"/api/search?q={text}")
    assert status == 200, (text, status)
    return {hit["id"]: hit for hit in json.loads(body)["results"]}


@dataclass
class Editor:
    """One editor's items (id -> what the site must show) and the edits made to them."""

    n: int
    web: WebServer
    items: dict[int, Expected]
    stop: threading.Event
    category_ids: dict[str, int] = field(default_factory=dict)
    done: Counter[str] = field(default_factory=Counter)
    mismatches: list[str] = field(default_factory=list)
    deleted: list[tuple[int, str]] = field(default_factory=list)

    def run(self) -> None:
        rng = random.Random(self.n)
        with connect() as conn:
            self.category_ids = dict(conn.execute("SELECT name, id FROM catalog_category").fetchall())
            while not self.stop.is_set():
                operation = rng.choice(OPERATIONS)
                item_id = rng.choice(sorted(self.items))
                getattr(self, operation)(conn, item_id, f"{self.n}x{sum(self.done.values())}", rng)
                self.done[operation] += 1

    def check(self, item_id: int, what: str) -> None:
        """Search for the item as the site shows it now; note what differs."""
        expected = self.items[item_id]
        by_word = hits(self.web, expected.word).get(item_id)
        by_name = hits(self.web, expected.name).get(item_id)
        shown = by_word and (by_word["name"], by_word["category"], sorted(by_word["tags"]))
        if shown != (expected.name, expected.category, sorted(expected.tags)) or by_name is None:
            self.mismatches.append(f"after {what} of {item_id}: expected {expected}, found {by_word} / {by_name}")

    def summary(self, conn: psycopg.Connection[Any], item_id: int, key: str, rng: random.Random) -> None:
        word = f"edword{key}q"
        conn.execute("UPDATE catalog_item SET summary = %s WHERE id = %s", [f"the {word} thing", item_id])
        self.items[item_id].word = word
        self.check(item_id, "summary")

    def rename(self, conn: psycopg.Connection[Any], item_id: int, key: str, rng: random.Random) -> None:
        name = f"renamed{key}q"
        conn.execute("UPDATE catalog_item SET name = %s WHERE id = %s", [name, item_id])
        self.items[item_id].name = name
        self.check(item_id, "rename")

    def tag(self, conn: psycopg.Connection[Any], item_id: int, key: str, rng: random.Random) -> None:
        tag = f"edited::tag{key}q"
        with conn.transaction():
            [(tag_id,)] = conn.execute("INSERT INTO catalog_tag (name) VALUES (%s) RETURNING id", [tag]).fetchall()
            conn.execute("INSERT INTO catalog_itemtag (item_id, tag_id) VALUES (%s, %s)", [item_id, tag_id])
        self.items[item_id].tags.append(tag)
        self.check(item_id, "tag")

    def category(self, conn: psycopg.Connection[Any], item_id: int, key: str, rng: random.Random) -> None:
        category = rng.choice(sorted(set(editor_categories(self.n)) - {self.items[item_id].category}))
        conn.execute("UPDATE catalog_item SET category_id = %s WHERE id = %s", [self.category_ids[category], item_id])
        self.items[item_id].category = category
        self.check(item_id, "category")

    def delete(self, conn: psycopg.Connection[Any], item_id: int, key: str, rng: random.Random) -> None:
        """Delete the item, check it is gone, and add one in its place (an editor's "add")."""
        expected = self.items.pop(item_id)
        with conn.transaction():
            conn.execute("DELETE FROM catalog_itemtag WHERE item_id = %s", [item_id])
            conn.execute("DELETE FROM catalog_item WHERE id = %s", [item_id])
        self.deleted.append((item_id, expected.word))
        if item_id in hits(self.web, expected.word):
            self.mismatches.append(f"deleted {item_id} still found by {expected.word}")
        added = Expected(name=f"added{key}q", word=f"addword{key}q", category=editor_categories(self.n)[0])
        [(new_id,)] = conn.execute(
            INSERT_ITEM_SQL, [added.name, f"the {added.word} thing", self.category_ids[added.category], added.name]
        ).fetchall()
        self.items[new_id] = added
        self.check(new_id, "add")

    def check_all(self) -> None:
        """Every item as last edited, every deleted one gone: after the refreshes, from the index."""
        for item_id in sorted(self.items):
            self.check(item_id, "the last refresh")
        for item_id, word in self.deleted:
            if item_id in hits(self.web, word):
                self.mismatches.append(f"deleted {item_id} found by {word} after the last refresh")


def editor_categories(n: int) -> list[str]:
    return [f"editcat{n}x{c}" for c in range(CATEGORIES_PER_EDITOR)]


def editors_catalog(path: Path) -> Path:
    records = [
        make_record(
            f"editem{e}x{i}q", section=editor_categories(e)[i % CATEGORIES_PER_EDITOR], summary=f"edword{e}i{i}q"
        )
        for e in range(EDITORS)
        for i in range(ITEMS_PER_EDITOR)
    ]
    # Every editor's category exists, with an item in it, from the start.
    return write_catalog(path, records)


def import_file(path: Path, round_: int) -> Path:
    """Round k adds its own items and rewrites the summaries of every earlier round's."""
    records = [
        make_record(f"imported{k}x{i}q", summary=f"importround{round_}q package")
        for k in range(round_ + 1)
        for i in range(ITEMS_PER_IMPORT)
    ]
    return write_catalog(path, records)


def run_imports(tmp_path: Path, outputs: list[str]) -> None:
    """The imports, spread over the test's seconds, each in a process of its own as an operator runs it."""
    started = time.monotonic()
    for round_ in range(IMPORTS):
        time.sleep(max(0.0, started + round_ * SECONDS / IMPORTS - time.monotonic()))
        result = subprocess.run(
            [sys.executable, "manage.py", "import_catalog", str(import_file(tmp_path / f"{round_}.jsonl.gz", round_))],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database_url()},
            capture_output=True,
            text=True,
        )
        outputs.append(result.stdout.strip() if result.returncode == 0 else f"failed: {result.stderr}")


def editors_items() -> list[dict[int, Expected]]:
    with connect() as conn:
        rows = conn.execute(
            "SELECT item.id, item.name, item.summary, category.name FROM catalog_item AS item"
            " JOIN catalog_category AS category ON category.id = item.category_id WHERE item.name LIKE 'editem%%'"
        ).fetchall()
    items: list[dict[int, Expected]] = [{} for _ in range(EDITORS)]
    for item_id, name, summary, category in rows:
        items[int(name.removeprefix("editem").split("x")[0])][item_id] = Expected(name, summary, category)
    return items


def test_every_edit_is_searchable_at_once_while_imports_and_refreshes_run(
    site: WebServer, tmp_path: Path, figures: Figures
) -> None:
    catalog_import(path=editors_catalog(tmp_path / "editors.jsonl.gz"))
    refresh()
    stop = threading.Event()
    imports: list[str] = []
    editors = [Editor(n, site, items, stop) for n, items in enumerate(editors_items())]
    importer = threading.Thread(target=run_imports, args=(tmp_path, imports))

    with running_workers():
        started = time.monotonic()
        threads = [threading.Thread(target=editor.run) for editor in editors]
        for thread in [importer, *threads]:
            thread.start()
        importer.join()
        time.sleep(max(0.0, started + SECONDS - time.monotonic()))  # edits for SECONDS at least
        stop.set()
        for thread in threads:
            thread.join()
        wait_until(caught_up)
    refreshes = SearchRefresh.objects.filter(outcome="ok").count() - 1  # the setup's

    assert [editor.mismatches for editor in editors] == [[]] * EDITORS
    assert all(line.startswith("Imported ") for line in imports) and len(imports) == IMPORTS, imports
    assert index_drift().unexplained == 0  # whatever the worker merged but did not compact is pending
    refresh(compact=True)
    assert index_drift().total == 0
    for editor in editors:
        editor.check_all()
    assert [editor.mismatches for editor in editors] == [[]] * EDITORS
    # Every imported item, the first round's too, holds the last round's summary.
    last = f"importround{IMPORTS - 1}q"
    assert json.loads(site.get(f"/api/search?q={last}"))["total"] == IMPORTS * ITEMS_PER_IMPORT

    done = sum((editor.done for editor in editors), Counter[str]())
    figures.record(
        "editors: edits searchable at once",
        f"{done.total():,} of {done.total():,} by {EDITORS} editors ("
        + ", ".join(f"{done[operation]} {operation}" for operation in OPERATIONS)
        + f") during {IMPORTS} imports of up to {IMPORTS * ITEMS_PER_IMPORT} items and {refreshes} refreshes;"
        " drift 0 after",
    )
