"""Load during refresh: clients search while an editor edits and the index is refreshed; nothing fails.

Rounds alternate a quiet window and a refreshing one (refreshes back to back,
the worker's own claim-and-refresh transaction) of the same length, with edits
throughout. An answer whose request overlapped a refresh counts as "during
refresh", any other as "idle": the same site, the same edits, with and without
a refresh running (issue 13, item 8).
"""

from __future__ import annotations

import json
import random
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg

from bench.server import WebServer
from catalog.importer import catalog_import
from catalog.models import Item
from catalog.search.drift import index_drift
from catalog.search.refresh import connect, refresh_index
from tests.conftest import refresh
from tests.reliability.conftest import CATALOG, SEARCHES, SECONDS, Answer, Clients, Figures, latency_text

ROUNDS = 2
# An edit every so often, each searched for through the site right after it commits.
EDIT_INTERVAL_SECONDS = 0.25


@dataclass
class Refresher:
    """Runs refreshes back to back in the second half of each round, and notes when each ran."""

    window_seconds: float
    ran: list[tuple[float, float]] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)

    def run(self) -> None:
        with connect() as conn:
            for _ in range(ROUNDS):
                time.sleep(self.window_seconds)
                busy_until = time.monotonic() + self.window_seconds
                while time.monotonic() < busy_until:
                    started = time.monotonic()
                    run = refresh_index(conn, compact=True)  # the dear kind: what searches feel
                    self.ran.append((started, time.monotonic()))
                    self.outcomes.append(run.outcome if run else "not run: another refresher held the lock")
            time.sleep(self.window_seconds)  # a last quiet window, after the last refresh

    def overlapped(self, answer: Answer) -> bool:
        ended = answer.started + answer.ms / 1000
        return any(started < ended and answer.started < finished for started, finished in self.ran)


@dataclass
class Editor:
    """Edits a random item's summary to a new word, then searches the site for it at once."""

    web: WebServer
    item_ids: list[int]
    stop: threading.Event
    rng: random.Random = field(default_factory=lambda: random.Random(13))
    commit_ms: list[float] = field(default_factory=list)
    # item id -> the word its summary holds now
    words: dict[int, str] = field(default_factory=dict)
    not_found: list[str] = field(default_factory=list)

    def run(self) -> None:
        with connect() as conn:
            while not self.stop.wait(EDIT_INTERVAL_SECONDS):
                self.edit(conn, len(self.commit_ms))

    def edit(self, conn: psycopg.Connection[Any], n: int) -> None:
        item_id, word = self.rng.choice(self.item_ids), f"loadedit{n}x"
        started = time.perf_counter()
        conn.execute("UPDATE catalog_item SET summary = %s WHERE id = %s", [f"{word} changed under load", item_id])
        self.commit_ms.append((time.perf_counter() - started) * 1000)
        self.words[item_id] = word
        if not self.found(word, item_id):
            self.not_found.append(word)

    def found(self, word: str, item_id: int) -> bool:
        status, _, body = self.web.request(f"/api/search?q={word}")
        return status == 200 and item_id in [hit["id"] for hit in json.loads(body)["results"]]


def test_searches_never_fail_and_edits_stay_searchable_while_the_index_refreshes(
    site: WebServer, figures: Figures
) -> None:
    catalog_import(path=CATALOG)
    refresh()
    ids = list(Item.objects.order_by("id").values_list("id", flat=True))
    refresher, stop = Refresher(window_seconds=SECONDS / (2 * ROUNDS)), threading.Event()
    editor = Editor(site, ids, stop)
    threads = [threading.Thread(target=refresher.run), threading.Thread(target=editor.run)]

    started = time.monotonic()
    with Clients(site, SEARCHES) as clients:
        for thread in threads:
            thread.start()
        threads[0].join()
        stop.set()
        threads[1].join()
    elapsed = time.monotonic() - started

    assert clients.failures() == []
    assert editor.not_found == []
    assert refresher.outcomes and set(refresher.outcomes) == {"ok"}
    during = [a.ms for a in clients.answers if refresher.overlapped(a)]
    idle = [a.ms for a in clients.answers if not refresher.overlapped(a)]
    assert during and idle
    refresh(compact=True)
    assert index_drift().total == 0
    assert [word for item_id, word in editor.words.items() if not editor.found(word, item_id)] == []

    answers = len(clients.answers)
    refresh_seconds = [finished - started for started, finished in refresher.ran]
    figures.record(
        "load: answers",
        f"{answers:,} in {elapsed:.0f} s ({answers / elapsed:.0f}/s) on {len(ids):,} items, 0 errors",
    )
    figures.record("load: idle", latency_text(idle))
    slower = statistics.median(during) / statistics.median(idle) - 1
    figures.record("load: during refresh", f"{latency_text(during)}; p50 {slower:+.0%} against idle")
    figures.record("load: refreshes", f"{len(refresh_seconds)}, {statistics.mean(refresh_seconds):.1f} s each, all ok")
    figures.record(
        "load: edits searchable at once",
        f"{len(editor.commit_ms)} of {len(editor.commit_ms)}; commit {latency_text(editor.commit_ms, 'edits')}",
    )
    figures.record("load: drift after the last refresh", "0")
