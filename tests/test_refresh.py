"""The refresher, run for real as `manage.py search_worker` against the test database."""

from __future__ import annotations

import itertools
import re
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.core.management import CommandError, call_command

from catalog.importer import catalog_import
from catalog.models import Category, Item, SearchPending, SearchRefresh
from catalog.search.drift import index_drift
from catalog.search.freshness import index_status
from catalog.search.query import document_search
from catalog.search.refresh import ADVISORY_LOCK_KEY, connect, refresh_index
from catalog.search.worker import WORKER_APPLICATION_NAME, Burst
from tests.conftest import CORPUS, refresh, wait_until, write_catalog
from tests.workers import QUIET_SECONDS, no_pending, running_workers, start_worker, workers_connected

pytestmark = pytest.mark.usefixtures("committed")


def refreshes() -> int:
    return SearchRefresh.objects.filter(outcome="ok").count()


@contextmanager
def refresh_blocked() -> Iterator[None]:
    """Hold a lock that REFRESH ... CONCURRENTLY waits for, and readers do not.

    LOCK TABLE refuses materialized views; an uncommitted CREATE INDEX holds SHARE.
    """
    with connect() as blocker:
        blocker.execute("BEGIN")
        blocker.execute("CREATE INDEX blocker ON catalog_searchindex (id)")
        yield
        blocker.execute("ROLLBACK")


def refresh_waiting() -> bool:
    """the worker's refresh waits for the lock"""
    with connect() as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
            " AND query LIKE 'REFRESH%%' AND wait_event_type = 'Lock'",
            [WORKER_APPLICATION_NAME],
        ).fetchone()
    return bool(row and row[0])


@pytest.fixture
def items() -> list[Item]:
    category = Category.objects.create(name="misc")
    return [Item.objects.create(name=f"item-{n}", summary=f"thing {n}", category=category) for n in range(10)]


def names(text: str) -> list[str]:
    return [hit.name for hit in document_search(text=text).hits]


class TestBurst:
    def test_quiet_window_and_max_wait(self) -> None:
        burst = Burst(quiet_seconds=1.0, max_wait_seconds=5.0)
        assert not burst.due(100.0)
        burst.heard(100.0)
        assert not burst.due(100.5)
        burst.heard(100.9)
        assert not burst.due(101.5)
        assert burst.due(101.9)

    def test_a_busy_burst_waits_no_longer_than_the_maximum(self) -> None:
        burst = Burst(quiet_seconds=1.0, max_wait_seconds=5.0)
        for at in (100.0, 100.8, 101.6, 102.4, 103.2, 104.0, 104.8):
            burst.heard(at)
        assert not burst.due(104.9)
        assert burst.due(105.0)

    def test_a_refresh_now_request_is_due_at_once(self) -> None:
        burst = Burst(quiet_seconds=1.0, max_wait_seconds=5.0)
        burst.heard(100.0, now=True)
        assert burst.due(100.0)


def test_a_burst_of_30_edits_gives_exactly_one_refresh(items: list[Item]) -> None:
    with running_workers():
        wait_until(no_pending)  # the worker refreshes what was pending when it started
        before = refreshes()

        for round_ in range(3):
            for item in items:
                item.summary = f"edited {round_}"
                item.save()
        wait_until(no_pending)
        time.sleep(3 * QUIET_SECONDS)

    assert refreshes() == before + 1
    assert SearchRefresh.objects.latest().items_claimed == len(items)
    assert len(names("edited")) == len(items)


def test_two_refreshers_never_refresh_at_once(items: list[Item]) -> None:
    with refresher_lock_held(), connect() as other:
        assert refresh_index(other) is None

    with running_workers(2):
        for round_ in range(3):
            for item in items[:3]:
                item.summary = f"round {round_}"
                item.save()
            wait_until(no_pending)
            time.sleep(2 * QUIET_SECONDS)

    spans = sorted(SearchRefresh.objects.values_list("started_at", "finished_at"))
    assert len(spans) >= 3
    assert all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(spans))


@contextmanager
def refresher_lock_held() -> Iterator[psycopg.Connection]:
    """Hold the refreshers' lock, as a running refresh does, until the connection rolls back."""
    with connect() as holder:
        holder.execute("BEGIN")
        holder.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
        yield holder
        holder.execute("ROLLBACK")


class TestRefreshSearchCommand:
    def test_refreshes_and_says_what_it_claimed(self, items: list[Item]) -> None:
        out = StringIO()

        call_command("refresh_search", stdout=out)

        refreshed = r"Search index compacted in \d+\.\d\d s \(10 pending item\(s\) claimed\)\.\n"
        assert re.fullmatch(refreshed, out.getvalue())
        assert no_pending()

    def test_waits_for_a_running_refresh_then_refreshes(self, items: list[Item]) -> None:
        out = StringIO()
        with refresher_lock_held() as holder:
            release = threading.Timer(1.0, holder.execute, ["ROLLBACK"])
            release.start()
            call_command("refresh_search", "--timeout=20", stdout=out)
            release.join()

        waited, refreshed = out.getvalue().splitlines()
        # The lock is released about 1 s after the timer starts, a little less after the wait does.
        wait = re.fullmatch(r"Waited (\d+\.\d\d) s for the refresh already running\.", waited)
        assert wait and 0.5 <= float(wait[1]) < 5
        assert refreshed.startswith("Search index compacted in ") and "(10 pending item(s) claimed)" in refreshed
        assert no_pending()
        assert SearchRefresh.objects.latest().duration_seconds < 1.0  # the wait is not the refresh's time

    def test_gives_up_after_its_timeout_having_done_nothing(self, items: list[Item]) -> None:
        with refresher_lock_held():
            started = time.monotonic()
            with pytest.raises(CommandError, match=r"Another refresh is still running after 0\.5 s; nothing was done"):
                call_command("refresh_search", "--timeout=0.5")
            assert 0.5 <= time.monotonic() - started < 2

        assert SearchPending.objects.values("item_id").distinct().count() == len(items)
        assert not SearchRefresh.objects.exists()


def test_sigkill_during_a_refresh_loses_nothing(items: list[Item]) -> None:
    with running_workers() as [worker]:
        wait_until(no_pending)
        done = refreshes()
        with refresh_blocked():
            Item.objects.filter(pk=items[0].pk).update(summary="killword")
            wait_until(refresh_waiting)
            worker.send_signal(signal.SIGKILL)
            worker.wait()
        wait_until(lambda: workers_connected() == 0)

        # Its edit, and its new vector (the worker's step before the refresh).
        assert set(SearchPending.objects.values_list("item_id", flat=True)) == {items[0].pk}
        assert names("killword") == ["item-0"]  # still searchable, through the overlay
        assert refreshes() == done

    with running_workers():
        wait_until(no_pending)

    assert refreshes() == done + 1
    assert names("killword") == ["item-0"]
    assert index_drift().total == 0


def test_an_edit_committed_during_a_refresh_stays_pending_for_the_next(items: list[Item]) -> None:
    with running_workers():
        wait_until(no_pending)
        done = refreshes()
        with refresh_blocked():
            Item.objects.filter(pk=items[0].pk).update(summary="first edit")
            wait_until(refresh_waiting)  # items[0] is claimed, its row locked by the refresh
            with connect() as editor:
                editor.execute("SET lock_timeout = '1s'")
                editor.execute("UPDATE catalog_item SET summary = 'second edit' WHERE id = %s", [items[0].pk])
                editor.execute("UPDATE catalog_item SET summary = 'third edit' WHERE id = %s", [items[1].pk])
        wait_until(lambda: refreshes() == done + 1)
        first = SearchRefresh.objects.latest()
        assert first.items_claimed == 1
        assert names("second") == ["item-0"] and names("third") == ["item-1"]
        wait_until(no_pending)

    assert SearchRefresh.objects.latest().items_claimed == 2


def test_status_reports_pending_changes_and_the_worker(items: list[Item], client: object) -> None:
    status = index_status()
    assert (status.pending_changes, status.worker_alive) == (len(items), False)
    assert status.stale_seconds > 0

    with running_workers():
        wait_until(no_pending)
        body = client.get("/api/index-status").json()  # type: ignore[attr-defined]

    assert set(body) == {
        "last_refresh_at",
        "last_refresh_seconds",
        "pending_changes",
        "awaiting_refresh",
        "stale_seconds",
        "merged_items",
        "worker_alive",
        "replica_lag_seconds",
    }
    assert (body["pending_changes"], body["stale_seconds"], body["worker_alive"]) == (0, 0.0, True)
    assert body["last_refresh_seconds"] > 0


def test_worker_waits_out_a_dead_database_and_stops_on_sigterm(tmp_path: Path) -> None:
    worker = start_worker(f"postgres://postgres@{quote(str(tmp_path), safe='')}/nowhere")
    time.sleep(2)
    worker.terminate()
    output, _ = worker.communicate(timeout=10)

    assert worker.returncode == 0
    assert "database unavailable" in output and "retrying in 1 s" in output
    assert "search worker stopped" in output
    assert "Traceback" not in output


def test_worker_logs_losing_and_regaining_the_database(items: list[Item]) -> None:
    worker = start_worker()
    try:
        wait_until(lambda: workers_connected() == 1)
        with connect() as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                [WORKER_APPLICATION_NAME],
            )
        wait_until(lambda: workers_connected() == 0)
        wait_until(lambda: workers_connected() == 1)
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=30)

    lost = re.search(r"ERROR catalog\.search\.worker: lost the database: .+", output)
    back = re.search(r"INFO catalog\.search\.worker: database reachable again after \d+\.\d s; listening", output)
    assert lost and back and lost.start() < back.start(), output


def test_a_failed_refresh_logs_its_traceback_and_records_the_error(
    items: list[Item], caplog: pytest.LogCaptureFixture
) -> None:
    with connect() as conn:
        conn.execute("ALTER TABLE catalog_searchword ADD CONSTRAINT no_words CHECK (false) NOT VALID")
        try:
            run = refresh_index(conn)
        finally:
            conn.execute("ALTER TABLE catalog_searchword DROP CONSTRAINT no_words")

    assert run is not None and run.outcome == "failed" and "no_words" in run.error
    [record] = [r for r in caplog.records if r.name == "catalog.search.refresh" and r.levelname == "ERROR"]
    assert record.getMessage().startswith("refresh failed after ")
    assert record.exc_info is not None and "CheckViolation" in caplog.text
    assert SearchRefresh.objects.get().error == run.error
    assert SearchPending.objects.values("item_id").distinct().count() == len(items)  # nothing claimed


def test_an_import_is_refreshed_by_the_worker_right_after_it_commits(tmp_path: Path) -> None:
    with running_workers():
        done = refreshes()
        catalog_import(path=write_catalog(tmp_path / "c.jsonl.gz", CORPUS))
        wait_until(lambda: refreshes() == done + 1)

    assert sorted(names("web browser")) == ["chromium", "firefox-esr"]


def test_changes_while_no_refresher_runs_are_counted_and_indexed_by_one_started_later(
    items: list[Item], tmp_path: Path, client: object
) -> None:
    """An editor's edit and an import, both made with no worker running, then a worker started."""
    refresh()  # the items indexed: what follows is all that is pending
    Item.objects.filter(pk=items[0].pk).update(summary="editedoffline")
    catalog_import(path=write_catalog(tmp_path / "c.jsonl.gz", CORPUS))

    status = client.get("/api/index-status").json()  # type: ignore[attr-defined]
    assert (status["pending_changes"], status["awaiting_refresh"], status["worker_alive"]) == (8, 7, False)
    assert status["stale_seconds"] > 0
    out = StringIO()
    call_command("search_status", stdout=out)
    assert "pending changes:  8 item(s), 7 of them not searchable until the next refresh" in out.getvalue()
    assert index_drift().unexplained == 0
    assert names("web browser") == [] and names("editedoffline") == ["item-0"]  # the edit through the overlay

    with running_workers():
        wait_until(lambda: refreshes() == 2)

    assert sorted(names("web browser")) == ["chromium", "firefox-esr"] and names("editedoffline") == ["item-0"]
    assert SearchRefresh.objects.latest().items_claimed == len(CORPUS) + 1
    assert (index_status().pending_changes, index_status().awaiting_refresh) == (0, 0)
    assert index_drift().total == 0


def test_search_status_prints_the_freshness(items: list[Item]) -> None:
    out = StringIO()
    call_command("search_status", stdout=out)

    last, pending, oldest, merged, worker = out.getvalue().splitlines()
    assert last == "last refresh:     never"
    assert pending == f"pending changes:  {len(items)} item(s), searchable through the overlay"
    assert re.fullmatch(r"oldest pending:   \d+\.\d s", oldest)
    assert merged == "merged:           0 item(s), searchable, until the next compaction"
    assert worker == "worker:           NOT running"
