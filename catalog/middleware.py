"""Requests the site cannot serve answered as such: bad input (400) and a database outage (503), never a 500."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)

NUL_MESSAGE = "Null characters are not allowed in a URL, its parameters or a cookie."
MESSAGE = "Search is unavailable for a moment: the database cannot be reached. Please try again shortly."
# Seconds a client (or a proxy) should wait before asking again.
RETRY_AFTER = "10"


class RejectNullCharactersMiddleware:
    """Answer 400 to a request with a NUL character in its path, query string or cookies.

    PostgreSQL text cannot hold NUL, so such a value can name nothing, and the
    driver refuses to send it: an item URL, an admin list filter or
    autocomplete, or a session cookie carrying one was a 500. Form posts need
    no check: Django's form fields reject NUL themselves.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        parameters = [*request.GET.keys(), *(value for _, values in request.GET.lists() for value in values)]
        cookies = [*request.COOKIES.keys(), *request.COOKIES.values()]
        if any("\x00" in text for text in [request.path, *parameters, *cookies]):
            if request.path.startswith("/api/"):
                return JsonResponse({"error": NUL_MESSAGE}, status=400)
            return HttpResponseBadRequest(NUL_MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


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
