"""Reads past one machine: searches read a real streaming replica of the embedded server.

The replica is made with `pg_basebackup -R` from the running test server into a
data directory of its own under /tmp (a short path: the socket lives there too)
and started with the same binaries and, as root, the same user namespace. The
searching side runs in another process with DATABASE_REPLICA_URL set, exactly
as a deployment configures it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection

from catalog.models import Category, Item, SearchPending
from catalog.search.freshness import index_status
from catalog.search.index import SearchIndex
from catalog.search.overlay import SearchOverlay
from catalog.search.query import document_search
from catalog.search.refresh import connect, refresh_index
from searchsite import embedded_postgres
from searchsite.routers import REPLICA, SearchReplicaRouter
from tests.conftest import database_url

ROOT = Path(__file__).resolve().parent.parent

# Searches and the status, through the views, in a process configured like a deployment.
SEARCH_SCRIPT = """
import json, sys
import django
django.setup()
from django.test import Client
from catalog.models import Item

text, edit = sys.argv[1:]
if edit:
    # A write with the replica configured: it must reach the primary (a replica refuses writes).
    Item.objects.filter(name="zorblax-player").update(summary=edit)
client = Client(HTTP_HOST="localhost")
search = client.get("/api/search", {"q": text}).json()
print(json.dumps({
    "names": [result["name"] for result in search["results"]],
    "status": client.get("/api/index-status").json(),
}))
"""


@dataclass(frozen=True)
class Replica:
    data_dir: Path
    socket_dir: Path

    def connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(
            host=str(self.socket_dir), dbname=connection.settings_dict["NAME"], user="postgres", autocommit=True
        )

    def url(self) -> str:
        return database_url(host=str(self.socket_dir))


def server_command(*args: str) -> list[str]:
    """A server binary, run as the embedded server runs it (in a user namespace as root)."""
    prefix = embedded_postgres.ROOTLESS_PREFIX if os.geteuid() == 0 else []
    return [*prefix, str(embedded_postgres.bindir() / args[0]), *args[1:]]


def run_server_command(*args: str) -> None:
    result = subprocess.run(server_command(*args), capture_output=True, text=True, start_new_session=True)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def replica(django_db_setup: None) -> Iterator[Replica]:
    """A streaming replica of the test server, made after the test database exists, removed afterwards."""
    primary = Path(connection.settings_dict["HOST"] or "")
    if not embedded_postgres.is_running() or primary != embedded_postgres.socket_dir():
        pytest.skip("a replica is made of the embedded server; DATABASE_URL names another")
    # Short, so that the socket path fits (about 107 bytes).
    home = Path(tempfile.mkdtemp(prefix="searchsite-replica-", dir="/tmp"))
    replica = Replica(data_dir=home / "data", socket_dir=home)
    try:
        run_server_command(
            "pg_basebackup", "-h", str(primary), "-U", "postgres", "-D", str(replica.data_dir),
            "-R", "-X", "stream", "-c", "fast", "--no-sync",
        )  # fmt: skip
        # -R writes every option its libpq knows into primary_conninfo; the server's
        # walreceiver may load an older libpq (the system's) that rejects some: keep two.
        conninfo = f"host='{primary}' user=postgres".replace("'", "''")
        with open(replica.data_dir / "postgresql.auto.conf", "a") as conf:
            conf.write(f"primary_conninfo = '{conninfo}'\n")
        # fsync off: a throwaway server need not sync the whole copy before it starts.
        options = f"-c listen_addresses='' -k {replica.socket_dir} -c fsync=off"
        log = replica.data_dir / "replica.log"
        run_server_command("pg_ctl", "start", "-w", "-D", str(replica.data_dir), "-l", str(log), "-o", options)
        yield replica
    finally:
        if (replica.data_dir / "postmaster.pid").exists():
            run_server_command("pg_ctl", "stop", "-w", "-m", "immediate", "-D", str(replica.data_dir))
        shutil.rmtree(home)


def wait_until_replayed(replica: Replica) -> None:
    """Until the replica has replayed everything the primary has committed so far."""
    _wait_for_wal(replica, "pg_last_wal_replay_lsn")


def wait_until_received(replica: Replica) -> None:
    """Until the replica has received (not necessarily replayed) everything committed so far."""
    _wait_for_wal(replica, "pg_last_wal_receive_lsn")


def _wait_for_wal(replica: Replica, position: str, timeout: float = 30.0) -> None:
    with connect() as primary:
        target = primary.execute("SELECT pg_current_wal_flush_lsn()").fetchone()[0]  # type: ignore[index]
    with replica.connect() as standby:
        deadline = time.monotonic() + timeout
        while not standby.execute(f"SELECT {position}() >= %s::pg_lsn", [target]).fetchone()[0]:  # type: ignore[index]
            assert time.monotonic() < deadline, f"the replica's {position}() did not reach the primary's"
            time.sleep(0.05)


def search_through(replica: Replica, text: str, *, edit: str = "") -> dict[str, Any]:
    """Run a search (and an edit first, if given) in a process whose searches read the replica."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "searchsite.settings",
        "DATABASE_URL": database_url(),
        "DATABASE_REPLICA_URL": replica.url(),
    }
    result = subprocess.run(
        [sys.executable, "-c", SEARCH_SCRIPT, text, edit], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def names_on_the_primary(text: str) -> list[str]:
    return [hit.name for hit in document_search(text=text).hits]


@pytest.mark.usefixtures("committed")
def test_a_refresh_on_the_primary_becomes_searchable_through_the_replica_once_replayed(replica: Replica) -> None:
    category = Category.objects.create(name="sound")
    wait_until_replayed(replica)
    with replica.connect() as standby:
        standby.execute("SELECT pg_wal_replay_pause()")
    try:
        Item.objects.create(name="zorblax-player", summary="zorblax music player", category=category)
        with connect() as primary:
            run = refresh_index(primary)
            assert run is not None and run.outcome == "ok"
        wait_until_received(replica)

        # Replay is paused: the primary has it, the replica's readers do not, and it says how far behind it is.
        assert names_on_the_primary("zorblax") == ["zorblax-player"]
        paused = search_through(replica, "zorblax")
        assert paused["names"] == []
        assert paused["status"]["replica_lag_seconds"] > 0
        assert paused["status"]["pending_changes"] == 0  # the status itself reads the primary
    finally:
        with replica.connect() as standby:
            standby.execute("SELECT pg_wal_replay_resume()")

    wait_until_replayed(replica)
    replayed = search_through(replica, "zorblax", edit="quuxvel music player")
    assert replayed["names"] == ["zorblax-player"]
    assert 0 <= replayed["status"]["replica_lag_seconds"] < 15

    # The edit went to the primary, where its trigger queued the document; the
    # replica serves it through the overlay once replayed, before any refresh.
    assert SearchPending.objects.filter(name="zorblax-player", summary="quuxvel music player").exists()
    wait_until_replayed(replica)
    assert search_through(replica, "quuxvel")["names"] == ["zorblax-player"]


@pytest.mark.django_db
def test_without_a_replica_the_status_reports_no_lag() -> None:
    assert index_status().replica_lag_seconds is None


class TestSearchReplicaRouter:
    def test_search_reads_go_to_the_replica_and_everything_else_to_the_primary(self) -> None:
        router = SearchReplicaRouter()

        assert router.db_for_read(SearchOverlay) == REPLICA
        assert router.db_for_read(SearchIndex) == REPLICA
        assert router.db_for_read(Item) is None
        assert router.db_for_read(SearchPending) is None

    def test_nothing_is_migrated_on_the_replica(self) -> None:
        router = SearchReplicaRouter()

        assert router.allow_migrate(REPLICA, "catalog") is False
        assert router.allow_migrate("default", "catalog") is None
