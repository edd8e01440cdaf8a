"""Connecting with psycopg itself, outside Django's connection handling: the refresher, the benchmarks."""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections


def connection_params(using: str = DEFAULT_DB_ALIAS) -> dict[str, Any]:
    """``psycopg.connect()``'s arguments for a Django database: the server, user and options Django uses."""
    params = connections[using].get_connection_params()
    # Django's own cursor class and adaptation context: not for a plain connection.
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return params
