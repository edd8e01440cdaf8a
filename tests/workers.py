"""The refresher as the deployment runs it: ``manage.py search_worker`` in a process of its own.

The tests that kill it, start it late or take its database away need a real
process, not a thread: shared by tests/test_refresh.py and tests/reliability.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from catalog.models import SearchPending, SearchRefreshRequest
from catalog.search.refresh import connect
from catalog.search.worker import WORKER_APPLICATION_NAME
from tests.conftest import database_url, wait_until

ROOT = Path(__file__).resolve().parent.parent
QUIET_SECONDS = 0.5


def workers_connected() -> int:
    with connect() as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND datname = current_database()",
            [WORKER_APPLICATION_NAME],
        ).fetchone()
    return row[0] if row else 0


def start_worker(url: str | None = None, *, quiet_seconds: float = QUIET_SECONDS) -> subprocess.Popen[str]:
    """A worker on the test database (or ``url``); it polls rarely, so that what wakes it is the notification."""
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "search_worker",
            f"--quiet-seconds={quiet_seconds}",
            f"--max-wait-seconds={max(20, 2 * quiet_seconds)}",
            "--poll-seconds=60",
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url or database_url()},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@contextmanager
def running_workers(count: int = 1) -> Iterator[list[subprocess.Popen[str]]]:
    workers = [start_worker() for _ in range(count)]
    try:
        wait_until(lambda: workers_connected() == count)
        yield workers
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.communicate(timeout=30)


def no_pending() -> bool:
    """no pending change left to merge or compact"""
    return not SearchPending.objects.filter(merged=False).exists()


def caught_up() -> bool:
    """no pending change and no requested refresh left"""
    return no_pending() and not SearchRefreshRequest.objects.exists()
