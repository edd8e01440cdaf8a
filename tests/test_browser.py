"""The search page in a real browser: Debian's chromium driven by Playwright."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog.importer import catalog_import
from tests.conftest import CORPUS, refresh, write_catalog

playwright = pytest.importorskip("playwright.sync_api")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# --no-sandbox: required as root. The rest stop connections the closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="*** Debian's chromium is not installed (`make browser` installs it as root): browser tests SKIPPED ***",
)


@pytest.fixture
def site(live_server: Any, committed: None, tmp_path: Path) -> str:
    """A live server over the named corpus, committed."""
    catalog_import(path=write_catalog(tmp_path / "corpus.jsonl.gz", CORPUS))
    refresh()
    return str(live_server.url)


@pytest.fixture
def page(site: str) -> Iterator[Any]:
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser.new_page(base_url=site)
        browser.close()


def results(page: Any) -> Any:
    return page.locator("#results .hit h2 a")


def test_results_appear_as_you_type_without_a_reload(page: Any) -> None:
    page.goto("/")
    page.evaluate("window.marker = 'same page'")

    page.get_by_label("Search packages").press_sequentially("web browser", delay=40)

    playwright.expect(results(page)).to_have_count(2)
    assert sorted(results(page).all_inner_texts()) == ["chromium", "firefox-esr"]
    assert page.evaluate("window.marker") == "same page"
    playwright.expect(page.locator("#search-status")).to_contain_text("2 results for “web browser”")
    playwright.expect(page).to_have_url(re.compile(r"\?q=web%20browser"))


def test_a_prefix_finds_results_while_typing(page: Any) -> None:
    page.goto("/")

    page.get_by_label("Search packages").press_sequentially("thunderb", delay=40)

    playwright.expect(results(page)).to_have_text(["thunderbird"])


def test_clicking_a_suggestion_applies_it(page: Any) -> None:
    page.goto("/?q=vlc+or+browsr")  # finds vlc; a better spelling finds the browsers too
    playwright.expect(results(page)).to_have_count(2)
    suggestion = page.locator("a.suggestion")
    playwright.expect(suggestion).to_have_text("vlc or browser")

    suggestion.click()

    playwright.expect(results(page)).to_have_count(4)
    playwright.expect(page.get_by_label("Search packages")).to_have_value("vlc or browser")
    playwright.expect(page).to_have_url(re.compile(r"q=vlc\+or\+browser"))
    playwright.expect(page.locator("a.suggestion")).to_have_count(0)


def test_a_typo_finds_what_it_misspells_and_suggests_the_spelling(page: Any) -> None:
    page.goto("/")

    page.get_by_label("Search packages").press_sequentially("thunderbrd", delay=30)

    playwright.expect(results(page)).to_have_text(["thunderbird"])
    playwright.expect(page.locator(".notice")).to_have_text("Did you mean thunderbird?")


def test_adding_and_removing_a_facet_filter(page: Any) -> None:
    page.goto("/?q=browser")
    playwright.expect(results(page)).to_have_count(2)

    page.locator(".facets a", has_text="works-with::pdf").click()

    playwright.expect(results(page)).to_have_text(["firefox-esr"])
    chip = page.locator(".chip")
    playwright.expect(chip).to_have_text(re.compile("tag: works-with::pdf"))
    playwright.expect(page).to_have_url(re.compile(r"tag=works-with%3A%3Apdf"))
    # Typing keeps the filter.
    page.get_by_label("Search packages").fill("web browser")
    playwright.expect(page.locator("#search-status")).to_contain_text("1 result for “web browser”")

    page.locator(".chip").click()

    playwright.expect(results(page)).to_have_count(2)
    playwright.expect(page.locator(".chip")).to_have_count(0)


def test_keyboard_navigation(page: Any) -> None:
    page.goto("/?q=browser")
    page.locator("body").click()

    page.keyboard.press("/")
    playwright.expect(page.get_by_label("Search packages")).to_be_focused()
    page.keyboard.press("ArrowDown")
    first = results(page).first
    playwright.expect(first).to_be_focused()
    page.keyboard.press("ArrowDown")
    playwright.expect(results(page).nth(1)).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    playwright.expect(page.get_by_label("Search packages")).to_be_focused()
    page.keyboard.press("ArrowDown")
    name = first.inner_text()
    page.keyboard.press("Enter")
    playwright.expect(page).to_have_url(re.compile(f"/items/{name}/$"))
    page.go_back()
    page.get_by_label("Search packages").focus()
    page.keyboard.press("Escape")
    playwright.expect(page.get_by_label("Search packages")).to_have_value("")
    playwright.expect(results(page)).to_have_count(0)


def test_back_and_forward_restore_query_filters_and_page(page: Any) -> None:
    page.goto("/?q=browser")
    page.locator(".facets a", has_text="works-with::pdf").click()
    playwright.expect(results(page)).to_have_text(["firefox-esr"])

    page.go_back()

    playwright.expect(page).to_have_url(re.compile(r"\?q=browser$"))
    playwright.expect(results(page)).to_have_count(2)
    playwright.expect(page.locator(".chip")).to_have_count(0)
    page.go_forward()
    playwright.expect(results(page)).to_have_text(["firefox-esr"])
    playwright.expect(page.locator(".chip")).to_have_count(1)


def test_the_form_works_with_javascript_disabled(site: str) -> None:
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(java_script_enabled=False, base_url=site).new_page()
        page.goto("/")
        page.get_by_label("Search packages").fill("web browser")
        page.get_by_role("button", name="Search").click()

        playwright.expect(page).to_have_url(re.compile(r"\?q=web\+browser"))
        playwright.expect(results(page)).to_have_count(2)
        page.locator(".facets a", has_text="works-with::pdf").click()
        playwright.expect(results(page)).to_have_text(["firefox-esr"])
        browser.close()
