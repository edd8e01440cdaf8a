"""Editors: a change saved in the admin is searchable at once; the index's freshness is shown there."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Item, ItemTag, SearchRefresh, SearchRefreshRequest, Tag
from tests.conftest import refresh


@pytest.fixture
def editor(client: Client, db: None) -> Client:
    client.force_login(get_user_model().objects.create_superuser("editor", password="x"))
    return client


def change_form(item: Item, **changes: str) -> dict[str, str]:
    """The item's change form as the browser posts it, with an inline tag row added."""
    links = list(ItemTag.objects.filter(item=item))
    data = {
        "name": item.name,
        "summary": item.summary,
        "description": item.description,
        "category": str(item.category_id),
        "homepage": item.homepage,
        "version": item.version,
        "source": item.source,
        "installed_size_kb": str(item.installed_size_kb),
        "priority": item.priority,
        "popularity": str(item.popularity),
        "itemtag_set-TOTAL_FORMS": str(len(links)),
        "itemtag_set-INITIAL_FORMS": str(len(links)),
        "itemtag_set-MIN_NUM_FORMS": "0",
        "itemtag_set-MAX_NUM_FORMS": "1000",
        **changes,
    }
    for n, link in enumerate(links):
        data |= {f"itemtag_set-{n}-id": str(link.id), f"itemtag_set-{n}-item": str(item.id)}
        data[f"itemtag_set-{n}-tag"] = str(link.tag_id)
    return data


@pytest.mark.usefixtures("corpus")
class TestEditorsChangesAreSearchable:
    def test_an_edit_saved_in_the_admin_is_found_by_the_search_page_at_once(self, editor: Client) -> None:
        vlc = Item.objects.get(name="vlc")
        new_tag = Tag.objects.create(name="use::glorping")
        form = change_form(vlc, summary="the zorblax media player")
        n = form["itemtag_set-TOTAL_FORMS"]
        form |= {"itemtag_set-TOTAL_FORMS": str(int(n) + 1), f"itemtag_set-{n}-tag": str(new_tag.id)}

        response = editor.post(f"/admin/catalog/item/{vlc.id}/change/", form)

        assert response.status_code == 302, response.content.decode()[:2000]
        assert 'href="/items/vlc/?q=zorblax"' in editor.get("/", {"q": "zorblax"}).content.decode()
        assert 'href="/items/vlc/?q=glorping"' in editor.get("/", {"q": "glorping"}).content.decode()
        assert 'href="/items/vlc/?q=streamer"' not in editor.get("/", {"q": "streamer"}).content.decode()

    def test_popularity_is_shown_and_an_edit_of_it_reorders_the_search_at_once(self, editor: Client) -> None:
        for name in ("zorblax-one", "zorblax-two"):
            Item.objects.create(name=name, summary="the zorblax tool", category=Item.objects.get(name="vlc").category)
        assert names(editor, "zorblax tool") == ["zorblax-one", "zorblax-two"]  # alike: by name
        two = Item.objects.get(name="zorblax-two")

        response = editor.post(f"/admin/catalog/item/{two.id}/change/", change_form(two, popularity="500"))

        assert response.status_code == 302, response.content.decode()[:2000]
        assert names(editor, "zorblax tool") == ["zorblax-two", "zorblax-one"]
        assert (
            '<th scope="col" class="sortable column-popularity">' in editor.get("/admin/catalog/item/").content.decode()
        )

    def test_the_refresh_history_shows_freshness_and_the_refresh_button(self, editor: Client) -> None:
        Item.objects.filter(name="vlc").update(summary="changed")

        html = editor.get("/admin/catalog/searchrefresh/").content.decode()

        assert "Pending changes: 1 item" in html
        assert "Refresher: <strong>not running</strong>" in html
        assert 'value="Refresh search now"' in html

    def test_refresh_now_asks_the_refresher_and_says_when_none_runs(self, editor: Client) -> None:
        response = editor.post("/admin/catalog/searchrefresh/refresh/", follow=True)

        assert "no refresher is running" in response.content.decode()

    def test_refresh_now_is_recorded_for_a_refresher_started_later(self, editor: Client) -> None:
        editor.post("/admin/catalog/searchrefresh/refresh/")

        assert list(SearchRefreshRequest.objects.values_list("item_id", flat=True)) == [None]
        refresh()
        assert not SearchRefreshRequest.objects.exists()

    def test_refresh_now_is_for_staff_only(self, client: Client) -> None:
        response = client.post("/admin/catalog/searchrefresh/refresh/")

        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def record_refresh(*, seconds: float, minutes_ago: float = 0) -> SearchRefresh:
    """A refresh in the history, as the refresher records one."""
    finished = timezone.now() - timedelta(minutes=minutes_ago)
    return SearchRefresh.objects.create(
        started_at=finished - timedelta(seconds=seconds),
        finished_at=finished,
        duration_seconds=seconds,
        items_claimed=3,
        outcome=SearchRefresh.Outcome.OK,
    )


class TestRefreshHistoryWording:
    def test_the_history_is_called_search_refreshes(self, editor: Client) -> None:
        html = editor.get("/admin/").content.decode()

        assert 'href="/admin/catalog/searchrefresh/">Search refreshes</a>' in html and "refreshs" not in html

    def test_durations_read_in_seconds(self, editor: Client) -> None:
        record_refresh(seconds=2.4321, minutes_ago=5)

        html = editor.get("/admin/catalog/searchrefresh/").content.decode()

        assert '<td class="field-duration">2.4 s</td>' in html
        assert "took 2.4 s" in html and "2.4321" not in html

    def test_a_refresh_under_a_minute_ago_was_just_now(self, editor: Client) -> None:
        record_refresh(seconds=1.5)

        html = editor.get("/admin/catalog/searchrefresh/").content.decode()

        assert "Last refresh: just now (" in html and "0 minutes" not in html

    def test_an_older_refresh_says_how_long_ago(self, editor: Client) -> None:
        record_refresh(seconds=1.5, minutes_ago=5)

        assert "Last refresh: 5\xa0minutes ago (" in editor.get("/admin/catalog/searchrefresh/").content.decode()


class TestRefreshHistoryIsReadOnly:
    def test_the_list_offers_no_action(self, editor: Client) -> None:
        record_refresh(seconds=1.5)

        html = editor.get("/admin/catalog/searchrefresh/").content.decode()

        assert 'name="action"' not in html and "delete_selected" not in html

    def test_a_refresh_cannot_be_deleted_or_changed(self, editor: Client) -> None:
        refresh_id = record_refresh(seconds=1.5).id

        assert editor.get(f"/admin/catalog/searchrefresh/{refresh_id}/delete/").status_code == 403
        assert editor.post(f"/admin/catalog/searchrefresh/{refresh_id}/delete/", {"post": "yes"}).status_code == 403
        change = editor.get(f"/admin/catalog/searchrefresh/{refresh_id}/change/").content.decode()
        assert 'name="_save"' not in change and 'class="deletelink"' not in change
        assert SearchRefresh.objects.filter(id=refresh_id).exists()


@pytest.mark.usefixtures("corpus")
class TestItemsShowWhetherTheyAreSearchable:
    def searchable(self, editor: Client) -> dict[str, str]:
        """The items change list's "searchable" column, by item name."""
        html = editor.get("/admin/catalog/item/").content.decode()
        row = r'<th class="field-name"><a [^>]*>([^<]+)</a></th>.*?<td class="field-searchable">([^<]+)</td>'
        return dict(re.findall(row, html))

    def test_each_item_says_whether_its_latest_change_is_searchable(self, editor: Client) -> None:
        Item.objects.filter(name="vlc").update(summary="edited")
        SearchRefreshRequest.objects.create(item_id=Item.objects.get(name="evince").id, requested_at=timezone.now())

        searchable = self.searchable(editor)

        assert searchable["vlc"] == "yes, edited since the last compaction"
        assert searchable["evince"] == "after the next refresh"
        assert searchable["chromium"] == "yes, indexed"
        assert len(searchable) == 7

    def test_the_column_costs_one_query_for_the_whole_page(self, editor: Client) -> None:
        Item.objects.filter(name__in=["vlc", "chromium"]).update(summary="edited")

        with CaptureQueriesContext(connection) as queries:
            editor.get("/admin/catalog/item/")

        reading_pending = [q["sql"] for q in queries.captured_queries if "catalog_searchpending" in q["sql"]]
        assert len(reading_pending) == 1
        assert "catalog_searchrefreshrequest" in reading_pending[0]


@pytest.fixture
def staff(client: Client, db: None) -> Client:
    """Staff who may see the refresh history but were not granted refresh_search."""
    user = get_user_model().objects.create_user("staff", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_searchrefresh"))
    client.force_login(user)
    return client


class TestRefreshPermission:
    def test_staff_without_it_see_the_freshness_but_no_button(self, staff: Client) -> None:
        response = staff.get("/admin/catalog/searchrefresh/")

        html = response.content.decode()
        assert response.status_code == 200 and "Search index freshness" in html
        assert 'value="Refresh search now"' not in html

    def test_staff_without_it_are_refused_and_nothing_is_requested(self, staff: Client) -> None:
        response = staff.post("/admin/catalog/searchrefresh/refresh/")

        assert response.status_code == 403
        assert not SearchRefreshRequest.objects.exists()

    def test_staff_granted_it_can_refresh(self, staff: Client) -> None:
        user = get_user_model().objects.get(username="staff")
        user.user_permissions.add(Permission.objects.get(codename="refresh_search"))

        assert 'value="Refresh search now"' in staff.get("/admin/catalog/searchrefresh/").content.decode()
        assert staff.post("/admin/catalog/searchrefresh/refresh/").status_code == 302
        assert SearchRefreshRequest.objects.count() == 1

    def test_anonymous_users_are_sent_to_log_in(self, client: Client, db: None) -> None:
        responses = [client.get("/admin/catalog/searchrefresh/"), client.post("/admin/catalog/searchrefresh/refresh/")]

        for response in responses:
            assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
        assert not SearchRefreshRequest.objects.exists()


def names(client: Client, text: str) -> list[str]:
    return [result["name"] for result in client.get("/api/search", {"q": text}).json()["results"]]
