"""Stored XSS: markup and script in every field of an item stay text on every page and in the API.

Two items carry payloads in every text field (the name too, with and without a
slash) and in their category and tags. Every page that shows them is parsed,
and must hold no element, attribute or URL scheme that a payload brought.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest
from django.test import Client

from catalog.importer import catalog_import
from catalog.models import Item
from tests.conftest import make_record, refresh, write_catalog
from tests.reliability.conftest import Figures

# A tag name no page uses, so that any element of that name came from a payload.
MARKER = "xss-marker"
# No white space: an item name may not hold any.
COMPACT = f"<{MARKER}/onclick=alert(1)>\"'onmouseover=alert(2)//"
PAYLOAD = (
    f"<{MARKER} onclick=alert(1)></{MARKER}><script>alert(2)</script><img src=x onerror=alert(3)>"
    "\" onmouseover=\"alert(4)\" ' onfocus='alert(5)' javascript:alert(6) {{ 7 }} evilword"
)


def evil_record(name: str) -> dict[str, object]:
    return make_record(
        name,
        section=f"evil{COMPACT}",
        summary=PAYLOAD,
        description=f"{PAYLOAD}\n\n{PAYLOAD}",
        tags=[PAYLOAD, f"evil::{COMPACT}"],
        homepage="javascript:alert(8)",
        version=PAYLOAD[:200],
        source=PAYLOAD[:200],
    )


NAMES = [f"evilword{COMPACT}", f"evilword-{MARKER}"]


class ActiveContent(HTMLParser):
    """Collects what a browser would run or render as markup: script elements, handlers, script URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == MARKER:
            self.found.append(f"<{tag}> element")
        if tag == "script" and not (values.get("src") or "").startswith("/"):
            self.found.append(f"<script> not from this site: {attrs}")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"handler {name}={value!r} on <{tag}>")
            if name in {"href", "src", "action", "formaction"} and (value or "").strip().lower().startswith(
                ("javascript:", "data:", "vbscript:")
            ):
                self.found.append(f"{name}={value!r} on <{tag}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def active_content(html: str) -> list[str]:
    parser = ActiveContent()
    parser.feed(html)
    parser.close()
    return parser.found


@pytest.fixture
def evil_items(db: None, tmp_path: Path) -> list[Item]:
    catalog_import(path=write_catalog(tmp_path / "evil.jsonl.gz", [evil_record(name) for name in NAMES]))
    refresh()
    return list(Item.objects.filter(name__in=NAMES))


def pages(item: Item) -> list[tuple[str, dict[str, str]]]:
    """Every public page that shows the item's fields, with the request headers to ask for it."""
    filters = f"category={quote(item.category.name)}&tag={quote(f'evil::{COMPACT}')}"
    return [
        ("/?q=evilword", {}),
        ("/?q=evilword", {"HX-Request": "true"}),
        (f"/?q=evilword&{filters}", {}),
        (f"/?q=evilword&{filters}", {"HX-Request": "true"}),
        (f"/?q={quote(PAYLOAD)}", {}),
        (item.get_absolute_url(), {}),
        # The search it came from, for the link back.
        (f"{item.get_absolute_url()}?q={quote(PAYLOAD)}&{filters}", {}),
    ]


class TestStoredMarkupIsInert:
    def test_on_every_public_page(self, client: Client, evil_items: list[Item], figures: Figures) -> None:
        for item in evil_items:
            for url, headers in pages(item):
                response = client.get(url, headers=headers)

                assert response.status_code == 200, url
                html = response.content.decode()
                assert active_content(html) == [], url
                assert "evilword" in html, url  # the payloads were there, as text
                figures.count("xss: pages showing payloads, 0 active")

    def test_the_item_page_shows_every_field_as_text(self, client: Client, evil_items: list[Item]) -> None:
        html = client.get(evil_items[0].get_absolute_url()).content.decode()

        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
        assert "javascript:alert(8)" in html and 'href="javascript:' not in html  # shown, never linked
        assert "{{ 7 }}" in html  # not a template

    def test_in_the_admin(self, admin_client: Client, evil_items: list[Item]) -> None:
        for url in ["/admin/catalog/item/", "/admin/catalog/item/?q=evilword", "/admin/catalog/tag/"]:
            assert active_content(admin_client.get(url).content.decode()) == [], url
        for item in evil_items:
            html = admin_client.get(f"/admin/catalog/item/{item.pk}/change/").content.decode()
            assert active_content(html) == []

    def test_in_the_api(self, client: Client, evil_items: list[Item]) -> None:
        response = client.get("/api/search", {"q": "evilword"})

        raw = response.content.decode()
        assert response["Content-Type"] == "application/json"
        assert not {"<", ">", "&"} & set(raw)
        hits = {hit["name"]: hit for hit in json.loads(raw)["results"]}
        assert sorted(hits) == sorted(NAMES)
        for item in evil_items:
            hit = hits[item.name]
            assert (hit["summary"], hit["category"]) == (PAYLOAD, item.category.name)
            assert sorted(hit["tags"]) == sorted([PAYLOAD, f"evil::{COMPACT}"])
            assert hit["url"] == f"http://testserver{item.get_absolute_url()}"
            assert active_content(hit["snippet"]) == []
