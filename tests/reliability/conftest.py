"""The reliability suite: the site under load, concurrent writers, faults, hostile input and intruders.

Every test asserts what must hold (no server error, nothing lost, no drift,
nobody let in) and records figures: how much was tried and how fast the site
answered. The figures assert nothing; pytest prints them at the end.

`make test` runs the suite short; `make reliability` runs it long, through
the environment:

- ``RELIABILITY_SECONDS``: seconds of load in each timed test (default 6);
- ``RELIABILITY_CLIENTS``: concurrent HTTP clients (default 4);
- ``RELIABILITY_EXAMPLES``: fuzzed requests per fuzz test (default 150);
- ``RELIABILITY_CATALOG``: the catalog the load test serves (default the demo's 6,000 items).
"""

from __future__ import annotations

import http.client
import os
import statistics
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import pytest

from bench.server import WebServer
from catalog.management.commands.demo import DEMO_CATALOG

SECONDS = float(os.environ.get("RELIABILITY_SECONDS", "6"))
CLIENTS = int(os.environ.get("RELIABILITY_CLIENTS", "4"))
EXAMPLES = int(os.environ.get("RELIABILITY_EXAMPLES", "150"))
CATALOG = Path(os.environ.get("RELIABILITY_CATALOG", DEMO_CATALOG))

FIGURES = pytest.StashKey[dict[str, str]]()

# An item as an editor adds one, with the parameters name, summary, category id and source; its id.
INSERT_ITEM_SQL = """
    INSERT INTO catalog_item (name, summary, description, category_id, homepage, version, source,
                              installed_size_kb, priority, popularity, updated_at)
    VALUES (%s, %s, '', %s, '', '1.0', %s, 1, 'optional', 0, now())
    RETURNING id
"""


class Figures:
    """What the suite tried and measured, by name, in the order first recorded."""

    def __init__(self, rows: dict[str, str]) -> None:
        self.rows = rows

    def record(self, name: str, value: str) -> None:
        self.rows[name] = value

    def count(self, name: str, n: int = 1) -> None:
        """Add to a running count (requests fuzzed, pages checked...)."""
        self.rows[name] = f"{int(self.rows.get(name, '0').replace(',', '')) + n:,}"


@pytest.fixture(scope="session")
def figures(pytestconfig: pytest.Config) -> Figures:
    return Figures(pytestconfig.stash.setdefault(FIGURES, {}))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    rows = config.stash.get(FIGURES, {})
    if not rows:
        return
    terminalreporter.write_sep("=", f"reliability figures ({SECONDS:g} s of load, {CLIENTS} clients)")
    width = max(map(len, rows))
    for name, value in rows.items():
        terminalreporter.write_line(f"{name:<{width}}  {value}")


def latency_text(ms: Sequence[float], what: str = "requests") -> str:
    """p50 and p95 of times in milliseconds, as the figures show them."""
    if len(ms) < 2:
        return f"{len(ms)} {what}"
    p95 = statistics.quantiles(ms, n=20, method="inclusive")[18]
    return f"p50 {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms ({len(ms):,} {what})"


@dataclass(frozen=True)
class Answer:
    """One request a client made: when it started (monotonic), how long it took, its status or error."""

    path: str
    started: float
    ms: float
    status: int  # 0: no HTTP answer at all
    error: str = ""


@dataclass
class Clients:
    """``count`` threads requesting ``paths`` in turn from the site until the block ends.

    Each thread waits for its answer before it asks again, as a person or a
    script does: a slower site answers fewer requests, and each one later.
    """

    web: WebServer
    paths: Sequence[str]
    count: int = CLIENTS
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> Clients:
        for n in range(self.count):
            thread = threading.Thread(target=self._run, args=(n,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _run(self, n: int) -> None:
        for i in range(n, 10**9, self.count):
            if self._stop.is_set():
                return
            self.answers.append(self.get(self.paths[i % len(self.paths)]))

    def get(self, path: str) -> Answer:
        started = time.monotonic()
        try:
            status, _, _ = self.web.request(path)
        except (OSError, http.client.HTTPException) as exc:
            return Answer(path, started, (time.monotonic() - started) * 1000, 0, f"{type(exc).__name__}: {exc}")
        return Answer(path, started, (time.monotonic() - started) * 1000, status)

    def statuses(self) -> dict[int, int]:
        """How many answers had each status (0: no answer)."""
        counts: dict[int, int] = {}
        for answer in self.answers:
            counts[answer.status] = counts.get(answer.status, 0) + 1
        return counts

    def failures(self, *, allowed: frozenset[int] = frozenset({200})) -> list[Answer]:
        return [answer for answer in self.answers if answer.status not in allowed]


# What the clients search for: the classes of the benchmark, and the pages people see.
SEARCHES = [
    "/api/search?q=web+browser",
    "/?q=pdf+viewer",
    "/api/search?q=vlc",
    "/api/search?q=text+editor&sort=name",
    "/?q=thunderb",
    "/api/search?q=python&page=3",
    "/api/search?q=libreofice",
    "/?q=editor&category=editors",
]


@pytest.fixture
def site(committed: None) -> Iterator[WebServer]:
    """gunicorn with two workers (one a core), serving the test database as deployed."""
    from tests.conftest import database_url

    with WebServer(database_url(), workers=2) as web:
        yield web
