"""A benchmark database of its own on the embedded server: create, fill, index, describe.

Every size gets a fresh database (``searchsite_bench_10k`` ...), so that the
import is timed into empty tables, as a first deployment would run it, and no
run sees another's leftovers. The Django process is configured once; switching
sizes only points the default connection at another database.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent


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
    return f"searchsite_bench_{label}"


def _server_params() -> dict[str, Any]:
    from catalog.db import connection_params

    return connection_params()


def recreate_database(name: str) -> None:
    """Drop (closing its sessions) and create ``name``; the default connection then uses it."""
    import psycopg
    from django.db import connection

    if not name.startswith("searchsite_bench"):
        raise ValueError(f"refusing to drop {name!r}: benchmark databases start with searchsite_bench")
    connection.close()
    with psycopg.connect(**{**_server_params(), "dbname": "postgres"}, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    use_database(name)


def use_database(name: str) -> None:
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


def database_url(name: str) -> str:
    """A DATABASE_URL for the web server subprocess: same server, same user, this database."""
    params = _server_params()
    host = quote(str(params.get("host", "")), safe="")
    port = f":{params['port']}" if params.get("port") else ""
    user = quote(str(params.get("user", "postgres")), safe="")
    password = f":{quote(str(params['password']), safe='')}" if params.get("password") else ""
    return f"postgres://{user}{password}@{host}{port}/{params['dbname']}"


# For the bulk index build only: GIN builds sort their entries in this much memory.
BUILD_MAINTENANCE_WORK_MEM = "1GB"


@dataclass(frozen=True)
class Build:
    """What filling one database cost, in seconds."""

    items: int
    import_seconds: float
    index_seconds: float
    analyze_seconds: float
    index_mb: float


def build(catalog: Path) -> Build:
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


# After the checkpoint, long enough for autovacuum to visit the tables just built.
SETTLE_SECONDS = 30


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
    from django.db import connection

    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 2**20:.0f} GiB"
    except OSError:
        pass
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
        cursor.execute("SELECT current_setting('shared_buffers'), current_setting('work_mem')")
        shared_buffers, work_mem = cursor.fetchone()
    import django

    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "os": platform.platform(terse=True),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": server,
        "shared_buffers": shared_buffers,
        "work_mem": work_mem,
    }


def connection_database() -> str:
    """The database the default connection points at now."""
    from django.db import connection

    return str(connection.settings_dict["NAME"])
