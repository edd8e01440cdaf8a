"""The production logging configuration (searchsite/settings.py): a server error leaves its traceback."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import path


def broken_view(request: object) -> None:
    raise RuntimeError("the view broke")


urlpatterns = [path("broken/", broken_view)]


@pytest.fixture
def request_log() -> Iterator[io.StringIO]:
    """What the handler configured for django.request writes, as it would write it to stderr."""
    # pytest adds its capturing handlers next to it.
    [handler] = [h for h in logging.getLogger("django.request").handlers if type(h) is logging.StreamHandler]
    captured = io.StringIO()
    previous = handler.setStream(captured)
    yield captured
    handler.setStream(previous)


@pytest.mark.urls(__name__)
def test_a_server_error_logs_its_traceback_with_debug_off(client: Client, request_log: io.StringIO) -> None:
    client.raise_request_exception = False

    assert client.get("/broken/").status_code == 500

    log = request_log.getvalue()
    assert "ERROR django.request: Internal Server Error: /broken/" in log
    assert "Traceback (most recent call last)" in log and "RuntimeError: the view broke" in log
