"""PostgreSQL stopped and restarted under the site and the worker: 503s meanwhile, nothing lost after.

It runs on a throwaway cluster of its own (never the shared test server, which
every other test needs up). The other faults of issue 13 live with the worker's
tests in tests/test_refresh.py: a worker SIGKILLed in the middle of a refresh,
and changes made while no worker ran.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest

from bench.server import WebServer
from catalog.search.worker import WORKER_APPLICATION_NAME
from searchsite import embedded_postgres
from tests.conftest import wait_until
from tests.reliability.conftest import INSERT_ITEM_SQL, Figures
from tests.workers import ROOT, start_worker

# Long enough that the edits are still pending when the server stops: only the
# worker's poll after it reconnects can refresh them.
QUIET_SECONDS = 60.0
WORDS = ["restartalpha", "restartbeta", "restartgamma"]


def url_for(data_dir: Path) -> str:
    return f"postgres://postgres@{quote(str(embedded_postgres.socket_dir(data_dir)), safe='')}/searchsite"


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[Path]:
    """A cluster of the test's own, migrated: its data directory."""
    data_dir = tmp_path / "data"
    embedded_postgres.start(data_dir)
    try:
        manage("migrate", url=url_for(data_dir))
        yield data_dir
    finally:
        embedded_postgres.stop(data_dir)


def manage(*args: str, url: str) -> str:
    """Run a management command against ``url`` as an operator would; its output."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args, "--verbosity=1"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def query(url: str, sql: str, params: list[Any] | None = None) -> Any:
    """The first value of the first row, on a connection of its own."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(sql, params).fetchone()
    return row[0] if row else None


def add_items(url: str) -> None:
    """Three items, each in its own transaction, as three editors would save them."""
    with psycopg.connect(url, autocommit=True) as conn:
        category = conn.execute("INSERT INTO catalog_category (name) VALUES ('misc') RETURNING id").fetchone()
        for word in WORDS:
            conn.execute(INSERT_ITEM_SQL, [f"{word}-item", f"the {word} tool", category[0] if category else None, word])


def found(web: WebServer, word: str) -> bool:
    status, _, body = web.request(f"/api/search?q={word}")
    return status == 200 and [hit["name"] for hit in json.loads(body)["results"]] == [f"{word}-item"]


def test_a_restarted_database_gets_503s_meanwhile_and_loses_nothing(own_server: Path, figures: Figures) -> None:
    url = url_for(own_server)
    worker = start_worker(url, quiet_seconds=QUIET_SECONDS)
    try:
        with WebServer(url) as web:
            wait_until(
                lambda: (
                    query(
                        url,
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                        [WORKER_APPLICATION_NAME],
                    )
                    == 1
                )
            )
            add_items(url)
            assert all(found(web, word) for word in WORDS)  # through the overlay
            assert query(url, "SELECT count(DISTINCT item_id) FROM catalog_searchpending") == len(WORDS)

            embedded_postgres.stop(own_server)
            stopped = time.monotonic()
            down = {
                path: web.request(path)
                for path in [
                    "/?q=restartalpha",
                    "/items/restartalpha-item/",
                    "/api/search?q=restartalpha",
                    "/api/index-status",
                ]
            }
            embedded_postgres.start(own_server)
            restarted = time.monotonic()

            def caught_up() -> bool:
                """the worker refreshed what was pending before the stop"""
                return query(url, "SELECT count(*) FROM catalog_searchrefresh WHERE outcome = 'ok'") == 1

            wait_until(caught_up)
            recovered = time.monotonic()
            status = json.loads(web.get("/api/index-status"))
            assert all(found(web, word) for word in WORDS)  # from the refreshed index now
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=30)

    for path, (code, headers, body) in down.items():
        assert (code, headers.get("Retry-After")) == (503, "10"), path
        assert b"the database cannot be reached" in body and b"Traceback" not in body, path
    assert (status["pending_changes"], status["awaiting_refresh"], status["worker_alive"]) == (0, 0, True)
    assert query(url, "SELECT items_claimed FROM catalog_searchrefresh") == len(WORDS)
    assert manage("search_drift", url=url) == "0 row(s) differ: 0 missing from the index, 0 extra in it, 0 changed\n"
    lost = output.find("lost the database")
    assert 0 <= lost < output.find("database reachable again after"), output
    assert "Traceback" not in output

    figures.record(
        "restart: PostgreSQL stopped",
        f"{len(down)} requests while down, all 503 with Retry-After; "
        f"{len(WORDS)} pending edits indexed {recovered - restarted:.1f} s after the restart "
        f"({recovered - stopped:.1f} s after the stop), drift 0",
    )
