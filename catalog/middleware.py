"""An unreachable database is an outage to report, not a server error."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)

MESSAGE = "Search is unavailable for a moment: the database cannot be reached. Please try again shortly."
# Seconds a client (or a proxy) should wait before asking again.
RETRY_AFTER = "10"


class DatabaseUnavailableMiddleware:
    """Answer 503 with a page (or JSON) that says what happened, instead of a 500.

    A database that is down, restarting or refusing connections raises
    OperationalError (InterfaceError when a kept connection died); both are
    the service being unavailable, which a person, a script and a load
    balancer should each be told, with a hint to retry.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.error("database unavailable for %s: %s", request.path, str(exception).strip().splitlines()[0])
        response: HttpResponse
        if request.path.startswith("/api/"):
            response = JsonResponse({"error": MESSAGE}, status=503)
        else:
            response = render(request, "503.html", {"message": MESSAGE}, status=503)
        response["Retry-After"] = RETRY_AFTER
        return response
