"""Intruders: who may press "Refresh search now", see the refresh history or change items, and what the public sees.

tests/test_admin.py covers the refresh permission itself (staff granted it
refresh; staff with the history's view permission alone see no button). Here
every kind of user short of that tries every admin action, and a failed
refresh's error, which names the database's tables and constraints, must show
in the staff's history only, never on a public page or in the API.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client

from catalog.models import Item, SearchRefresh, SearchRefreshRequest
from catalog.search.refresh import refresh_index
from tests.reliability.conftest import Figures
from tests.test_admin import change_form

REFRESH_NOW = "/admin/catalog/searchrefresh/refresh/"
HISTORY = "/admin/catalog/searchrefresh/"
# The name of the constraint that makes the refresh fail: it shows in the error text.
MARKER = "leakedconstraintmarker"

pytestmark = pytest.mark.usefixtures("corpus")


def logged_in(client: Client, *permissions: str, staff: bool = True) -> Client:
    user = get_user_model().objects.create_user("someone", is_staff=staff)  # no password: no slow hashing
    user.user_permissions.add(*Permission.objects.filter(codename__in=permissions))
    client.force_login(user)
    return client


# Every kind of user short of one granted refresh_search.
USERS: dict[str, Callable[[Client], Client]] = {
    "anonymous": lambda client: client,
    "logged in, not staff": lambda client: logged_in(client, "view_item", "change_item", staff=False),
    "staff, view only": lambda client: logged_in(client, "view_item", "view_searchrefresh"),
    "staff editing items": lambda client: logged_in(client, "add_item", "change_item", "delete_item", "view_item"),
}
# Where the admin sends those who may not be there at all: the login page.
SENT_TO_LOG_IN = {"anonymous", "logged in, not staff"}


@pytest.fixture(params=list(USERS))
def user(request: pytest.FixtureRequest, client: Client) -> tuple[str, Client]:
    return request.param, USERS[request.param](client)


def refused(response: object, who: str) -> bool:
    status, location = response.status_code, response.get("Location", "")  # type: ignore[attr-defined]
    return (status == 302 and location.startswith("/admin/login/")) if who in SENT_TO_LOG_IN else status == 403


def failed_refresh() -> SearchRefresh:
    """A refresh that really fails (a constraint no word meets), recorded as the worker records one."""
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE catalog_searchword ADD CONSTRAINT {MARKER} CHECK (false) NOT VALID")
        run = refresh_index(connection.connection, compact=True)
        cursor.execute(f"ALTER TABLE catalog_searchword DROP CONSTRAINT {MARKER}")
    assert run is not None and run.outcome == "failed" and MARKER in run.error
    return SearchRefresh.objects.get(outcome="failed")


def test_no_one_short_of_the_permission_can_refresh(user: tuple[str, Client], figures: Figures) -> None:
    who, client = user

    response = client.post(REFRESH_NOW)

    assert refused(response, who), (response.status_code, response.get("Location"))
    assert not SearchRefreshRequest.objects.exists()
    assert 'value="Refresh search now"' not in client.get(HISTORY).content.decode()
    figures.count("permissions: admin requests refused")


def test_the_refresh_history_is_for_staff_who_may_view_it(user: tuple[str, Client], figures: Figures) -> None:
    who, client = user
    failed_refresh()

    response = client.get(HISTORY)

    if who == "staff, view only":
        assert response.status_code == 200 and MARKER in response.content.decode()  # where the error belongs
    else:
        assert refused(response, who) and MARKER not in response.content.decode()
        figures.count("permissions: admin requests refused")


def test_only_editors_change_or_delete_items(user: tuple[str, Client], figures: Figures) -> None:
    who, client = user
    vlc = Item.objects.get(name="vlc")

    changed = client.post(f"/admin/catalog/item/{vlc.id}/change/", change_form(vlc, summary="defaced"))
    deleted = client.post(
        "/admin/catalog/item/", {"action": "delete_selected", "_selected_action": [vlc.id], "post": "yes"}
    )

    if who == "staff editing items":
        assert changed.status_code == 302 and deleted.status_code == 302 and not Item.objects.filter(id=vlc.id).exists()
    else:
        assert refused(changed, who) and Item.objects.get(id=vlc.id).summary != "defaced"
        figures.count("permissions: admin requests refused", 2)


PUBLIC = ["/", "/?q=web+browser", "/items/vlc/", "/api/index-status", "/api/search?q=vlc"]


def test_a_failed_refresh_shows_on_no_public_page(user: tuple[str, Client], figures: Figures) -> None:
    _, client = user
    failed_refresh()

    responses = {path: client.get(path) for path in PUBLIC}

    for path, response in responses.items():
        body = response.content.decode()
        assert response.status_code == 200 and MARKER not in body and "catalog_searchword" not in body, path
    figures.count("permissions: public pages checked for staff details", len(responses))
