"""The benchmark's database: one per catalog, built once, reused while it is current.

Each size gets a database of its own on the embedded server
(``searchsite_bench_10k`` ...), so that the import is timed into empty
tables, as a first deployment would run it, and no run sees another's
leftovers. Building 1M items takes minutes, so a database is reused when it
was built from the same catalog file by the same code: a run that completes
records a fingerprint of both (and what the build cost) as the database's
comment, and a run that stops half way leaves none, so the next one rebuilds.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
# Only databases with this prefix are ever dropped.
PREFIX = "searchsite_bench_"
# What a build depends on besides the catalog file: the app's code and SQL
# (models, migrations, the views and their indexes, the importer, the refresh),
# but not the statements a search runs, which only the timing reads: a change
# to them is timed on the database built before it, as an upgrade would run it.
BUILD_CODE = ROOT / "catalog"
BUILD_CODE_SUFFIXES = {".py", ".sql"}
QUERY_CODE = {
    BUILD_CODE / "search" / name for name in ("query.py", "sql/search.sql", "sql/browse.sql", "sql/search_estimate.sql")
}
# For the bulk index build only: GIN builds sort their entries in this much
# memory, and pgvector builds its HNSW graph in it (about 1.4 GB at a million
# 256-dimension vectors; past it the build goes on slower, on disk).
BUILD_MAINTENANCE_WORK_MEM = "2GB"
# After the checkpoint, long enough for autovacuum to visit the tables just built.
SETTLE_SECONDS = 30


def setup_django() -> None:
    """Start the embedded server if needed and set Django up (before any model import)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "searchsite.settings")
    sys.path.insert(0, str(ROOT))
    if "DATABASE_URL" not in os.environ:
        from searchsite.embedded_postgres import ensure_running

        ensure_running()
    import django

    django.setup()


def database_name(size: int) -> str:
    """searchsite_bench_10k, _100k, _1m: readable, and never a database someone else uses."""
    if size % 1_000_000 == 0:
        label = f"{size // 1_000_000}m"
    elif size % 1_000 == 0:
        label = f"{size // 1_000}k"
    else:
        label = str(size)
    return PREFIX + label


@dataclass(frozen=True)
class Build:
    """What filling one database cost, in seconds."""

    items: int
    import_seconds: float
    index_seconds: float
    analyze_seconds: float
    index_mb: float


def fingerprint(catalog: Path) -> str:
    """A digest of the catalog file and of every file under catalog/ that a build runs."""
    digest = hashlib.sha256()
    with catalog.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    for path in sorted(BUILD_CODE.rglob("*")):
        if path.suffix in BUILD_CODE_SUFFIXES and path not in QUERY_CODE:
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def prepare(name: str, catalog: Path) -> tuple[Build, bool]:
    """Point Django at database ``name`` holding ``catalog``, indexed: its build figures, and if reused.

    A database whose recorded fingerprint matches is used as it is (and
    unrecorded until ``record``); otherwise it is dropped and built again.
    """
    from django.db import connection

    if not name.startswith(PREFIX):
        raise ValueError(f"refusing to use {name!r}: benchmark databases start with {PREFIX}")
    connection.close()
    with _server() as server:
        row = server.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        recorded = json.loads(row[0]) if row and row[0] else {}
        reused = recorded.get("fingerprint") == fingerprint(catalog)
        if reused:
            server.execute(_sql("COMMENT ON DATABASE {} IS NULL", name))
        else:
            server.execute(_sql("DROP DATABASE IF EXISTS {} WITH (FORCE)", name))
            server.execute(_sql("CREATE DATABASE {}", name))
    _use(name)
    return (Build(**recorded["build"]) if reused else _build(catalog)), reused


def record(name: str, catalog: Path, build: Build) -> None:
    """After a complete run: the database holds ``catalog`` as built, for the next run to reuse."""
    note = json.dumps({"fingerprint": fingerprint(catalog), "build": asdict(build)})
    with _server() as server:
        server.execute(_sql("COMMENT ON DATABASE {} IS {}", name, note))


def _build(catalog: Path) -> Build:
    """Migrate, import the catalog through the real importer, then build the index.

    The importer defers documents to the refresh it asks for (a bulk load).
    The first build is the real ``refresh_index``, which builds an empty index
    with a plain ``REFRESH`` (see catalog/search/refresh.py), given a large
    ``maintenance_work_mem`` for its GIN builds, as an operator would for a
    first load (set for this session only; the server's default is 64 MB).
    ANALYZE afterwards, as autovacuum would shortly, so that every run plans
    on statistics.
    """
    from django.core.management import call_command
    from django.db import connection

    from catalog.importer import catalog_import
    from catalog.search.refresh import SearchRefresh, connect, refresh_index

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    report = catalog_import(path=catalog, progress=True)
    import_seconds = time.perf_counter() - started
    print(f"  imported {report.records:,} items in {import_seconds:.1f} s", file=sys.stderr)
    with connect() as conn:
        conn.execute(f"SET maintenance_work_mem = '{BUILD_MAINTENANCE_WORK_MEM}'")
        started = time.perf_counter()
        run = refresh_index(conn)
        if run is None or run.outcome != SearchRefresh.Outcome.OK:
            raise RuntimeError(f"the index build failed: {SearchRefresh.objects.latest().error}")
        index_seconds = time.perf_counter() - started
        print(f"  built the index in {index_seconds:.1f} s", file=sys.stderr)
        started = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        analyze_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size('catalog_searchindex')")
        index_bytes = cursor.fetchone()[0]
    return Build(report.records, import_seconds, index_seconds, analyze_seconds, index_bytes / 2**20)


def _server() -> Any:
    """An autocommit connection to the server's maintenance database (for CREATE and DROP DATABASE)."""
    import psycopg

    return psycopg.connect(**{**_connection_params(), "dbname": "postgres"}, autocommit=True)


def _sql(template: str, name: str, literal: str | None = None) -> Any:
    """A statement about database ``name``: identifiers and literals quoted by psycopg (no parameters here)."""
    from psycopg import sql

    parts: list[sql.Composable] = [sql.Identifier(name)] + ([sql.Literal(literal)] if literal is not None else [])
    return sql.SQL(template).format(*parts)  # type: ignore[arg-type]


def _connection_params() -> dict[str, Any]:
    from catalog.db import connection_params

    return connection_params()


def use_built(size: int) -> None:
    """Point Django at the benchmark database of ``size`` items as a complete run left it; exits if there is none."""
    name = database_name(size)
    with _server() as server:
        row = server.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
    if not row or not row[0]:
        raise SystemExit(f"no complete benchmark database {name}: run python -m bench --size {size} first")
    _use(name)


def _use(name: str) -> None:
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


def database_url() -> str:
    """A DATABASE_URL for the web server subprocess: same server, same user, the benchmark's database."""
    params = _connection_params()
    host = quote(str(params.get("host", "")), safe="")
    port = f":{params['port']}" if params.get("port") else ""
    user = quote(str(params.get("user", "postgres")), safe="")
    password = f":{quote(str(params['password']), safe='')}" if params.get("password") else ""
    return f"postgres://{user}{password}@{host}{port}/{params['dbname']}"


def settle() -> None:
    """Let the server go quiet before timing: a build leaves gigabytes of dirty pages.

    The checkpointer would otherwise write the 1M build's pages, spread over
    minutes, on the same two cores while the searches are timed.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
    time.sleep(SETTLE_SECONDS)


def machine() -> dict[str, str]:
    """The machine the figures were measured on, for the report's header."""
    import django
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('server_version'), current_setting('shared_buffers'), current_setting('work_mem')"
        )
        server, shared_buffers, work_mem = cursor.fetchone()
    return {
        "cpu": _proc_field("/proc/cpuinfo", "model name") or "unknown CPU",
        "cores": str(os.cpu_count()),
        "memory": f"{int(_proc_field('/proc/meminfo', 'MemTotal').split()[0]) / 2**20:.0f} GiB",
        "os": platform.platform(terse=True),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": server,
        "shared_buffers": shared_buffers,
        "work_mem": work_mem,
    }


def _proc_field(path: str, field: str) -> str:
    """The first ``field: value`` of a /proc file (Linux, where the figures are measured)."""
    for line in Path(path).read_text().splitlines():
        if line.startswith(field):
            return line.split(":", 1)[1].strip()
    return ""
