"""The real HTTP stack: gunicorn serving the site from a subprocess, and a client that times it.

The suite measures what a user's request costs: the WSGI server, Django's
middleware, the view, the search, JSON encoding, over a TCP socket. One sync
worker serves the sequential requests, so its memory (RSS) is the web
process's.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_SECONDS = 30.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class WebServer:
    """gunicorn on 127.0.0.1 against ``database_url``; a context manager that stops what it started."""

    def __init__(self, database_url: str, *, workers: int = 1) -> None:
        self.port = _free_port()
        self.database_url = database_url
        self.workers = workers
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> WebServer:
        # DEBUG off, as deployed; a DATABASE_URL makes the settings demand a SECRET_KEY.
        env = {**os.environ, "DATABASE_URL": self.database_url, "DEBUG": "0"}
        env.setdefault("SECRET_KEY", "searchsite-benchmark-only-not-a-secret")
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen(
            [
                str(gunicorn),
                "searchsite.wsgi:application",
                f"--bind=127.0.0.1:{self.port}",
                f"--workers={self.workers}",
                "--worker-class=sync",
                "--log-level=warning",
            ],
            cwd=ROOT,
            env=env,
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            try:
                self.request("/api/index-status")  # any answer: the server is up
                return self
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"gunicorn exited with {self.process.returncode}") from None
                time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError(f"gunicorn did not answer within {START_TIMEOUT_SECONDS:.0f} s")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def request(self, path: str) -> tuple[int, dict[str, str], bytes]:
        """GET path: status, headers, body. A new connection each time, as gunicorn's sync worker closes it."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def get(self, path: str) -> bytes:
        """GET path; raise unless 200."""
        status, _, body = self.request(path)
        if status != 200:
            raise RuntimeError(f"GET {path}: HTTP {status}")
        return body

    def timed_get(self, path: str) -> float:
        started = time.perf_counter()
        self.get(path)
        return (time.perf_counter() - started) * 1000

    def worker_rss_mb(self) -> float:
        """Resident memory of the largest worker process (the one that served the requests)."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return max((_rss_mb(int(pid)) for pid in children), default=_rss_mb(self.process.pid))


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
