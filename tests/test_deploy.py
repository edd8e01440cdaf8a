"""Operators: compose.yaml and the Dockerfile run commands of this project with settings it reads,
production settings refuse to run insecurely, and every response carries a Content-Security-Policy."""

from __future__ import annotations

import ast
import importlib
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command, get_commands
from django.db import connection
from django.test import Client
from django.urls import resolve

from catalog import views
from catalog.checks import database_errors
from catalog.search.refresh import connect
from tests.conftest import database_url, wait_until

ROOT = Path(__file__).resolve().parent.parent
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
# The services that run this project's image (the others are PostgreSQL).
APP_SERVICES: dict[str, dict[str, Any]] = {
    name: service for name, service in COMPOSE["services"].items() if "build" in service
}
DOCKERFILE = (ROOT / "Dockerfile").read_text()
# Variables a checkout reads outside settings.py (the embedded server, `make demo`),
# and those only compose.yaml reads.
CHECKOUT_VARIABLES = {"SEARCHSITE_PGDATA", "PORT"}
COMPOSE_VARIABLES = {"POSTGRES_PASSWORD", "POSTGRES_SHARED_BUFFERS"}
# Python's own, set in the Dockerfile.
PYTHON_VARIABLES = {"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"}
INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:[-?])(?P<arg>[^}]*))?\}")
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+=|\shx-on", re.IGNORECASE)


def settings_variables() -> set[str]:
    """The environment variables searchsite/settings.py reads: os.environ.get("X") and os.environ["X"]."""

    def is_environ(node: ast.expr) -> bool:
        return isinstance(node, ast.Attribute) and node.attr == "environ"

    names = set()
    for node in ast.walk(ast.parse((ROOT / "searchsite" / "settings.py").read_text())):
        match node:
            case ast.Call(func=ast.Attribute(attr="get", value=environ), args=[ast.Constant(value=str(name)), *_]):
                if is_environ(environ):
                    names.add(name)
            case ast.Subscript(value=environ, slice=ast.Constant(value=str(name)), ctx=ast.Load()):
                if is_environ(environ):
                    names.add(name)
    return names


def interpolate(value: str, variables: Mapping[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?error}, each unset when empty."""

    def replace(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if variables.get(name):
            return variables[name]
        if op == ":?":
            raise AssertionError(f"compose refuses to start without {name}: {arg}")
        return arg if op == ":-" else ""

    return INTERPOLATION.sub(replace, value)


def dotenv_names(path: Path) -> set[str]:
    lines = path.read_text().splitlines()
    return {line.split("=", 1)[0] for line in lines if line.strip() and not line.startswith("#")}


def dockerfile_instructions(keyword: str) -> list[str]:
    """The arguments of every KEYWORD instruction, continuation lines joined."""
    joined = DOCKERFILE.replace("\\\n", " ")
    return [line.split(None, 1)[1] for line in joined.splitlines() if line.split(None, 1)[:1] == [keyword]]


def production_environment(variables: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any variable the settings read, plus the given ones.

    The venv's bin comes first on PATH, so "python" and "gunicorn" are the project's.
    """
    kept = {name: value for name, value in os.environ.items() if name not in settings_variables()}
    return {**kept, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", **variables}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TestComposeFile:
    def test_every_app_service_runs_a_command_of_the_project(self) -> None:
        assert set(APP_SERVICES) == {"migrate", "sync-views", "web", "worker"}
        for name, service in APP_SERVICES.items():
            match service["command"]:
                case ["python", "manage.py", command, *_]:
                    assert command in get_commands(), f"{name}: no manage.py {command}"
                case ["gunicorn", app, *_]:
                    module, _, attribute = app.partition(":")
                    assert callable(getattr(importlib.import_module(module), attribute or "application")), name
                case other:
                    pytest.fail(f"{name} runs {other}, neither manage.py nor gunicorn")

    def test_the_image_runs_the_web_service_by_default(self) -> None:
        [cmd] = dockerfile_instructions("CMD")

        assert json.loads(cmd) == APP_SERVICES["web"]["command"]

    def test_health_checks_run_project_code(self) -> None:
        web = APP_SERVICES["web"]["healthcheck"]["test"]
        worker = APP_SERVICES["worker"]["healthcheck"]["test"]

        assert web[:3] == ["CMD", "python", "-c"]
        compile(web[3], "web healthcheck", "exec")
        [path] = re.findall(r"http://127\.0\.0\.1:8000(/[^']*)'", web[3])
        assert resolve(path).func is views.api_index_status
        assert "0.0.0.0:8000" in APP_SERVICES["web"]["command"]
        assert worker[:4] == ["CMD", "python", "manage.py", "shell"] and "shell" in get_commands()
        compile(worker[-1], "worker healthcheck", "exec")

    def test_every_variable_passed_to_the_app_is_one_the_settings_read(self) -> None:
        read = settings_variables()
        for name, service in APP_SERVICES.items():
            assert set(service["environment"]) <= read, f"{name} passes variables the settings ignore"

    def test_the_database_image_ships_pgvector(self) -> None:
        # The official postgres image has contrib but not pgvector (migration 0012).
        assert COMPOSE["services"]["db"]["image"].startswith("pgvector/pgvector:pg")

    def test_services_start_in_order(self) -> None:
        def waits_for(service: str) -> dict[str, str]:
            return {dep: spec["condition"] for dep, spec in APP_SERVICES[service]["depends_on"].items()}

        assert waits_for("migrate") == {"db": "service_healthy"}
        assert waits_for("sync-views") == {"migrate": "service_completed_successfully"}
        assert waits_for("web") == waits_for("worker") == {"sync-views": "service_completed_successfully"}
        assert APP_SERVICES["migrate"]["environment"]["MATERIALIZED_VIEWS_DISABLE_SYNC_ON_MIGRATE"] == "1"

    def test_env_example_lists_every_variable(self) -> None:
        listed = dotenv_names(ROOT / ".env.example")
        interpolated = {match["name"] for match in INTERPOLATION.finditer((ROOT / "compose.yaml").read_text())}

        assert listed == settings_variables() | CHECKOUT_VARIABLES | COMPOSE_VARIABLES
        assert interpolated <= listed

    def test_the_image_sets_only_variables_the_settings_read_and_runs_as_another_user_than_root(self) -> None:
        variables = {pair.split("=", 1)[0] for env in dockerfile_instructions("ENV") for pair in env.split()}
        [user] = dockerfile_instructions("USER")

        assert variables <= settings_variables() | PYTHON_VARIABLES
        assert user not in {"root", "0"}
        for copy in dockerfile_instructions("COPY"):
            *sources, _ = copy.split()
            assert all((ROOT / source).exists() for source in sources), copy


@pytest.fixture
def empty_database() -> Iterator[str]:
    """A database of its own on the test server, dropped afterwards, as compose's db starts."""
    name = f"{connection.settings_dict['NAME']}_compose"
    with connect() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(name=name)
    finally:
        with connect() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(command: list[str] | str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=ROOT, env=env, shell=isinstance(command, str), capture_output=True, text=True, timeout=120
    )


def test_the_compose_services_deploy_and_serve_the_site_from_an_empty_database(
    empty_database: str, tmp_path: Path
) -> None:
    port = free_port()
    variables = {"SECRET_KEY": secrets.token_urlsafe(50)}
    app_env = {name: interpolate(value, variables) for name, value in APP_SERVICES["web"]["environment"].items()}
    env = production_environment({**app_env, "DATABASE_URL": empty_database, "STATIC_ROOT": str(tmp_path / "static")})

    def succeeds(command: list[str]) -> bool:
        return run(command, env).returncode == 0

    # The image's build step, then the one-shot services.
    [collectstatic] = [line for line in dockerfile_instructions("RUN") if "collectstatic" in line]
    for step in (collectstatic, APP_SERVICES["migrate"]["command"], APP_SERVICES["sync-views"]["command"]):
        result = run(step, env)
        assert result.returncode == 0, result.stderr

    worker_check = APP_SERVICES["worker"]["healthcheck"]["test"][1:]
    web_check = [part.replace(":8000", f":{port}") for part in APP_SERVICES["web"]["healthcheck"]["test"][1:]]
    web_command = [part.replace(":8000", f":{port}") for part in APP_SERVICES["web"]["command"]]
    no_worker = run(worker_check, env)
    assert (no_worker.returncode, no_worker.stderr) == (1, "")

    services = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for command in (APP_SERVICES["worker"]["command"], web_command)
    ]
    try:
        wait_until(lambda: succeeds(worker_check))
        wait_until(lambda: succeeds(web_check))

        request = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Host": "localhost"})
        with urllib.request.urlopen(request, timeout=5) as response:
            page = response.read().decode()
            assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        [stylesheet] = re.findall(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{stylesheet}", timeout=5) as response:
            assert response.status == 200
            assert "immutable" in response.headers["Cache-Control"]
    finally:
        for service in services:
            service.terminate()
        for service in services:
            service.wait(timeout=30)


class TestProductionSettings:
    def test_refuse_to_load_without_a_secret_key(self) -> None:
        env = production_environment({"DATABASE_URL": database_url()})

        result = run([sys.executable, "manage.py", "check"], env)

        assert result.returncode == 1
        assert result.stderr == (
            "searchsite: SECRET_KEY is not set; set it to a long random string (or DEBUG=1 to develop)\n"
        )

    def test_pass_the_deployment_checks_and_the_database_check(self) -> None:
        env = production_environment(
            {
                "DATABASE_URL": database_url(),
                "SECRET_KEY": secrets.token_urlsafe(50),
                "ALLOWED_HOSTS": "search.example.com",
            }
        )

        result = run(
            [sys.executable, "manage.py", "check", "--deploy", "--database", "default", "--fail-level", "WARNING"], env
        )

        assert result.returncode == 0, result.stderr
        assert result.stdout == "System check identified no issues (3 silenced).\n"


@pytest.mark.usefixtures("corpus")
class TestContentSecurityPolicy:
    @pytest.mark.parametrize("path", ["/", "/?q=web+browser", "/items/vlc/", "/api/search?q=vlc", "/admin/login/"])
    def test_every_response_carries_it(self, client: Client, path: str) -> None:
        response = client.get(path)

        assert response.status_code == 200
        assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY

    @pytest.mark.parametrize("path", ["/", "/?q=web+browser", "/items/vlc/", "/admin/login/"])
    def test_pages_have_no_inline_scripts_styles_or_handlers(self, client: Client, path: str) -> None:
        html = client.get(path).content.decode()

        assert INLINE_SCRIPT.findall(html) == []
        assert INLINE_STYLE.findall(html) == []
        assert EVENT_HANDLER.findall(html) == []

    def test_the_admin_freshness_panel_has_no_inline_scripts_styles_or_handlers(self, admin_client: Client) -> None:
        html = admin_client.get("/admin/catalog/searchrefresh/").content.decode()

        assert "Search index freshness" in html
        assert INLINE_SCRIPT.findall(html) == []
        assert INLINE_STYLE.findall(html) == []
        assert EVENT_HANDLER.findall(html) == []

    def test_htmx_is_configured_to_need_neither_eval_nor_inline_styles(self, client: Client) -> None:
        html = client.get("/").content.decode()

        [config] = re.findall(r"<meta name=\"htmx-config\" content='([^']*)'>", html)
        assert json.loads(config) | {"allowEval": False, "includeIndicatorStyles": False} == json.loads(config)

    def test_cookies_are_sent_over_https_only(self, client: Client) -> None:
        response = client.get("/admin/login/")

        assert response.cookies["csrftoken"]["secure"] is True


@pytest.mark.django_db
class TestDatabaseCheck:
    def test_passes_on_the_test_database(self) -> None:
        call_command("check", "--database", "default", "--fail-level", "WARNING")

    def test_names_an_old_server_another_vendor_and_missing_extensions(self) -> None:
        def ids(**reported: Any) -> list[tuple[str | None, str]]:
            return [(error.id, error.msg) for error in database_errors(alias="default", **reported)]

        everything = ["pg_trgm", "unaccent", "fuzzystrmatch", "vector", "btree_gin"]
        assert ids(vendor="postgresql", version=180001, available=everything) == []
        assert ids(vendor="postgresql", version=140012, available=everything) == [
            ("catalog.E001", "database 'default' is PostgreSQL 14; searchsite needs PostgreSQL 15 or later")
        ]
        assert ids(vendor="sqlite", version=0, available=[]) == [
            ("catalog.E001", "database 'default' is sqlite; searchsite needs PostgreSQL 15 or later")
        ]
        assert ids(vendor="postgresql", version=150000, available=["pg_trgm"]) == [
            ("catalog.E002", "database 'default' lacks the extension(s) unaccent, fuzzystrmatch, vector, btree_gin")
        ]
