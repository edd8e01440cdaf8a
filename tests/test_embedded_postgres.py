from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from searchsite import embedded_postgres
from searchsite.embedded_postgres import SOCKET_PATH_MAX, socket_dir

ROOT = Path(__file__).resolve().parent.parent


def cli(data_dir: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "SEARCHSITE_PGDATA": str(data_dir)}
    env.pop("DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "searchsite.embedded_postgres", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=120)
    return process.returncode, out.strip(), err.strip()


class TestSocketDir:
    def test_socket_lives_in_the_data_directory_when_it_fits(self, tmp_path: Path) -> None:
        assert socket_dir(tmp_path / "data") == tmp_path / "data"

    def test_a_deep_data_directory_falls_back_to_a_short_folder(self) -> None:
        deep = Path("/srv") / ("d" * 120) / ".pgdata"

        fallback = socket_dir(deep)

        assert fallback.parent == Path("/tmp") and fallback.name.startswith("searchsite-")
        assert len(str(fallback / embedded_postgres.SOCKET_NAME)) <= SOCKET_PATH_MAX
        assert socket_dir(deep) == fallback  # stable, so every process finds it


class TestServerLifecycle:
    def test_two_concurrent_starts_start_one_server(self, tmp_path: Path) -> None:
        data = tmp_path / "data"
        first, second = cli(data, "start"), cli(data, "start")

        outcomes = sorted([finish(first)[:2], finish(second)[:2]])

        try:
            assert outcomes == [(0, "already running"), (0, "started")]
            assert finish(cli(data, "status"))[1].startswith("running")
        finally:
            assert finish(cli(data, "stop"))[:2] == (0, "stopped")
        assert finish(cli(data, "status"))[1].startswith("stopped")

    def test_run_starts_the_server_for_a_command_and_stops_it_after(self, tmp_path: Path) -> None:
        data = tmp_path / "data"
        probe = (
            "import psycopg, sys; from searchsite.embedded_postgres import socket_dir; "
            "print(psycopg.connect(host=str(socket_dir()), dbname='searchsite', user='postgres')"
            ".execute('select 42').fetchone()[0])"
        )

        code, out, _ = finish(cli(data, "run", "--", sys.executable, "-c", probe))

        assert (code, out) == (0, "42")
        assert finish(cli(data, "status"))[1].startswith("stopped")

    def test_bad_usage_gets_one_line(self, tmp_path: Path) -> None:
        code, _, err = finish(cli(tmp_path / "data", "explode"))

        assert code == 2
        assert err.startswith("usage: python -m searchsite.embedded_postgres") and "\n" not in err
