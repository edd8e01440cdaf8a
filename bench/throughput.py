"""Requests per second under load: the curve of clients against throughput and p95, and what saturates.

At each level, that many client threads request the benchmark's queries (every
class, in turn, each thread from its own offset) from gunicorn over HTTP for
``SECONDS``. Where the machine's CPU went is read from /proc: the gunicorn
workers', PostgreSQL's (its server process, the backends it has reaped and
those alive), this process's (the clients), and the rest of the busy time:
anything else running on the machine, which makes the level's figures noisy.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.queries import Case
from bench.stats import Latency

LEVELS = (1, 2, 4, 8, 16)
SECONDS = 10.0
# gunicorn's advice for sync workers: two per core, plus one.
WORKERS = 2 * (os.cpu_count() or 1) + 1
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Level:
    clients: int
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    errors: int
    # Cores' worth of CPU over the level, of the machine's os.cpu_count().
    web_cores: float
    database_cores: float
    client_cores: float
    other_cores: float


def measure(cases: list[Case], database_url: str) -> list[dict[str, Any]]:
    """Each level's figures, printed as it is measured."""
    from django.db import connection

    from bench.server import WebServer

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        postmaster = _parent(cursor.fetchone()[0])
    paths = [case.api_path() for case in cases]
    levels = []
    with WebServer(database_url, workers=WORKERS) as web:
        for path in paths:  # warm the workers' connections and caches
            web.request(path)
        for clients in LEVELS:
            level = _level(web, postmaster, paths, clients)
            print(
                f"  {clients:>2} clients: {level.requests_per_second:6.1f} requests/s, p50 {level.p50_ms:6.1f} ms, "
                f"p95 {level.p95_ms:6.1f} ms, {level.errors} errors; CPU cores: web {level.web_cores:.2f}, "
                f"PostgreSQL {level.database_cores:.2f}, clients {level.client_cores:.2f}, "
                f"other {level.other_cores:.2f}"
            )
            levels.append(asdict(level))
    return levels


def _level(web: Any, postmaster: int, paths: list[str], clients: int) -> Level:
    times: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS

    def client(offset: int) -> None:
        nonlocal errors
        n = offset
        while time.monotonic() < deadline:
            path = paths[n % len(paths)]
            n += 1
            started = time.perf_counter()
            try:
                status, _, _ = web.request(path)
            except OSError:
                status = 0
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                times.append(elapsed)
                errors += status != 200

    threads = [threading.Thread(target=client, args=(i * len(paths) // clients,)) for i in range(clients)]
    before = _ticks(web, postmaster)
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    after = _ticks(web, postmaster)
    web_ticks, db_ticks, own, busy = (now - then for now, then in zip(after, before, strict=True))
    latency = Latency.of(times)
    return Level(
        clients=clients,
        requests_per_second=len(times) / elapsed,
        p50_ms=latency.p50,
        p95_ms=latency.p95,
        errors=errors,
        web_cores=web_ticks / TICKS / elapsed,
        database_cores=db_ticks / TICKS / elapsed,
        client_cores=own / TICKS / elapsed,
        other_cores=max(0.0, busy - web_ticks - db_ticks - own) / TICKS / elapsed,
    )


def _ticks(web: Any, postmaster: int) -> tuple[float, float, float, float]:
    """CPU so far: gunicorn's, PostgreSQL's, this process's, and the machine's busy time."""
    return _tree_ticks(web.process.pid), _tree_ticks(postmaster), _own_ticks(), _busy_ticks()


def _tree_ticks(pid: int) -> float:
    """A process's CPU with its children's: those alive, and those it has waited for."""
    fields = _stat(pid)
    total = float(sum(int(field) for field in fields[11:15]))  # utime, stime, cutime, cstime
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            utime, stime = _stat(int(child))[11:13]
        except FileNotFoundError:
            continue  # it ended meanwhile: its time is in cutime next time, a small error
        total += int(utime) + int(stime)
    return total


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _parent(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("PPid:"):
            return int(line.split()[1])
    raise RuntimeError(f"no parent of {pid}")


def _busy_ticks() -> float:
    user, nice, system, _idle, _iowait, irq, softirq, steal, *_ = map(
        int, Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    )
    return user + nice + system + irq + softirq + steal


def _own_ticks() -> float:
    times = os.times()
    return (times.user + times.system) * TICKS
