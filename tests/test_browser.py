"""The search page in a real browser: Debian's chromium driven by Playwright."""

from __future__ import annotations

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


def test_results_appear_as_you_type_without_a_reload(page: Any) -> None:
    page.goto("/")
    page.evaluate("window.marker = 'same page'")

    page.get_by_label("Search packages").press_sequentially("web browser", delay=40)

    results = page.locator("#results .hit h2 a")
    playwright.expect(results).to_have_count(2)
    assert sorted(results.all_inner_texts()) == ["chromium", "firefox-esr"]
    assert page.evaluate("window.marker") == "same page"
    playwright.expect(page.locator("#search-status")).to_contain_text("2 results for “web browser”")
    playwright.expect(page).to_have_url(f"{page.url.split('?')[0]}?q=web%20browser")
