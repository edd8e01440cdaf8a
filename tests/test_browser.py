"""The search page in a real browser: Debian's chromium driven by Playwright."""

from __future__ import annotations

import re
import shutil
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog.importer import catalog_import
from catalog.search import query
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


# Records, in the page, when each keystroke happened (with the box's value after
# it) and when each response swapped into #results was painted (with its query).
# A callback after the next animation frame runs once that frame is painted.
MEASURE_PAINTS = """() => {
  window.keystrokes = [];
  window.paints = [];
  const input = document.getElementById("search-input");
  let pressed = 0;
  input.addEventListener("keydown", (event) => { pressed = event.timeStamp; });
  input.addEventListener("input", () => keystrokes.push({value: input.value, at: pressed}));
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.target.id !== "results") return;  // not the out-of-band swaps of the same response
    const q = new URL(event.detail.pathInfo.finalRequestPath, location.href).searchParams.get("q") || "";
    requestAnimationFrame(() => setTimeout(() => paints.push({q, at: performance.now()})));
  });
}"""


def test_each_keystroke_updates_the_results_in_order_and_the_time_to_paint_is_printed(
    page: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "web browser"
    page.goto("/")
    page.evaluate(MEASURE_PAINTS)

    page.get_by_label("Search packages").press_sequentially(text, delay=150)  # about 80 words a minute

    playwright.expect(results(page)).to_have_count(2)
    playwright.expect(page.locator("#search-status")).to_contain_text("2 results for “web browser”")
    page.wait_for_function("paints.length && paints[paints.length - 1].q === 'web browser'")
    keystrokes, paints = page.evaluate("[keystrokes, paints]")
    typed = [k["value"] for k in keystrokes]
    assert typed == [text[: n + 1] for n in range(len(text))]
    # A stale response never paints over a newer one: painted queries come in the order typed.
    painted = [typed.index(paint["q"]) for paint in paints]
    assert painted == sorted(set(painted)) and painted[-1] == len(text) - 1
    # Keystroke to paint, for each keystroke whose own results were painted
    # (hx-sync drops a request when the next key comes before its answer).
    latencies = {paint["q"]: paint["at"] - keystrokes[typed.index(paint["q"])]["at"] for paint in paints}
    # Of which the request itself (sent after the debounce), answered or dropped.
    requests = page.evaluate(
        "performance.getEntriesByType('resource').filter(e => e.initiatorType === 'xmlhttprequest')"
        ".map(e => e.duration)"
    )
    with capsys.disabled():
        print(
            f"\nkeystroke to paint, typing {text!r} at 150 ms a key: {len(latencies)} of {len(typed)} keystrokes "
            f"painted, median {statistics.median(latencies.values()):.0f} ms, "
            f"max {max(latencies.values()):.0f} ms, last key {latencies[text]:.0f} ms; "
            f"{len(requests)} requests, median {statistics.median(requests):.0f} ms"
        )


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
    playwright.expect(page).to_have_url(re.compile(f"/items/{name}/\\?q=browser$"))
    page.go_back()
    page.get_by_label("Search packages").focus()
    page.keyboard.press("Escape")
    playwright.expect(page.get_by_label("Search packages")).to_have_value("")
    playwright.expect(results(page)).to_have_count(0)


def test_escape_leaves_a_clean_address(page: Any, site: str) -> None:
    page.goto("/")
    box = page.get_by_label("Search packages")
    box.press_sequentially("vlc", delay=40)
    playwright.expect(page).to_have_url(re.compile(r"/\?q=vlc$"))

    box.press("Escape")

    playwright.expect(results(page)).to_have_count(0)
    playwright.expect(page).to_have_url(f"{site}/")
    box.press("Escape")  # in the empty box
    playwright.expect(page.locator("#search-status")).to_have_text("Type to search the catalog")
    playwright.expect(page).to_have_url(f"{site}/")


def test_page_numbers_move_through_the_results(page: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(query, "PAGE_SIZE", 1)  # the live server runs in this process
    page.goto("/?q=vlc+or+browser")
    pages = page.get_by_role("navigation", name="Result pages")
    playwright.expect(pages.locator("li")).to_have_text(["1", "2", "3", "4"])
    playwright.expect(pages.locator("[aria-current=page]")).to_have_text("1")
    playwright.expect(pages.locator("[rel=prev]")).to_have_count(0)
    first = results(page).inner_text()

    pages.get_by_role("link", name="Page 3").click()

    playwright.expect(page).to_have_url(re.compile(r"\?q=vlc\+or\+browser&page=3$"))
    playwright.expect(pages.locator("[aria-current=page]")).to_have_text("3")
    playwright.expect(results(page)).to_have_count(1)
    playwright.expect(results(page)).not_to_have_text(first)
    pages.get_by_role("link", name="Next →").click()
    playwright.expect(pages.locator("[aria-current=page]")).to_have_text("4")
    playwright.expect(pages.locator("[rel=next]")).to_have_count(0)
    pages.get_by_role("link", name="Page 1").click()
    playwright.expect(page).to_have_url(re.compile(r"\?q=vlc\+or\+browser$"))
    playwright.expect(results(page)).to_have_text([first])


def test_back_to_results_returns_to_the_same_query_filters_and_page(page: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(query, "PAGE_SIZE", 1)
    page.goto("/?q=browser")
    page.locator(".facets a", has_text="role::program").click()
    playwright.expect(page.locator(".chip")).to_have_count(1)
    page.get_by_role("link", name="Page 2").click()
    playwright.expect(page.locator("[aria-current=page]")).to_have_text("2")
    name = results(page).inner_text()

    results(page).click()
    playwright.expect(page.get_by_role("heading", level=1)).to_have_text(name)
    page.get_by_role("link", name="← Back to results").click()

    playwright.expect(page).to_have_url(re.compile(r"/\?q=browser&tag=role%3A%3Aprogram&page=2$"))
    playwright.expect(page.get_by_label("Search packages")).to_have_value("browser")
    playwright.expect(page.locator(".chip")).to_have_text(re.compile("tag: role::program"))
    playwright.expect(page.locator("[aria-current=page]")).to_have_text("2")
    playwright.expect(results(page)).to_have_text([name])


def test_a_failed_search_shows_the_error_where_the_results_were(page: Any) -> None:
    page.goto("/?q=browser")
    playwright.expect(results(page)).to_have_count(2)
    box = page.get_by_label("Search packages")
    alert = page.locator("#results [role=alert]")

    page.route(re.compile(r"[?&]q=vlc(&|$)"), lambda route: route.fulfill(status=500, body="boom"))
    box.fill("vlc")

    playwright.expect(alert).to_have_text("The search failed on the server. Try again in a moment.")
    playwright.expect(results(page)).to_have_count(0)
    playwright.expect(page.locator("#search-status")).to_have_text("")

    page.route(re.compile(r"[?&]q=evince(&|$)"), lambda route: route.abort())
    box.fill("evince")

    playwright.expect(alert).to_have_text("The search could not reach the server. Check your connection and try again.")
    playwright.expect(results(page)).to_have_count(0)

    page.unroute_all()
    box.fill("thunderb")
    playwright.expect(results(page)).to_have_text(["thunderbird"])
    playwright.expect(alert).to_have_count(0)


def test_sorting_keeps_the_query_and_leaves_the_default_out_of_the_address(page: Any) -> None:
    page.goto("/?q=browser")

    page.get_by_label("Sort").select_option("name")

    playwright.expect(page).to_have_url(re.compile(r"/\?q=browser&sort=name$"))
    playwright.expect(results(page)).to_have_text(["chromium", "firefox-esr"])
    playwright.expect(page.get_by_label("Search packages")).to_have_value("browser")
    page.get_by_label("Sort").select_option("relevance")
    playwright.expect(page).to_have_url(re.compile(r"/\?q=browser$"))
    playwright.expect(page.get_by_label("Search packages")).to_have_value("browser")


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
        results(page).click()
        page.get_by_role("link", name="← Back to results").click()
        playwright.expect(page).to_have_url(re.compile(r"/\?q=web\+browser&tag=works-with%3A%3Apdf$"))
        playwright.expect(results(page)).to_have_text(["firefox-esr"])
        browser.close()


def test_names_and_summaries_mark_the_words_and_the_typed_prefix(page: Any) -> None:
    page.goto("/")

    page.get_by_label("Search packages").press_sequentially("mail thunderb", delay=40)

    hit = page.locator("#results .hit").first
    playwright.expect(hit.locator("h2 mark")).to_have_text(["thunderb"])
    playwright.expect(hit.locator(".summary mark")).to_have_text(["mail"])


def test_choosing_facet_values_keeps_siblings_combines_them_and_keeps_focus_and_scroll(page: Any) -> None:
    page.set_viewport_size({"width": 1000, "height": 420})
    page.goto("/?q=browser+or+player")
    playwright.expect(results(page)).to_have_count(3)
    web = page.get_by_role("link", name="web", exact=True)
    page.mouse.wheel(0, 200)
    page.wait_for_function("window.scrollY > 0")
    web.focus()  # focusing may scroll it into view: the filter must not move it after
    where = web.bounding_box()["y"]
    page.keyboard.press("Enter")

    playwright.expect(results(page)).to_have_count(2)
    # Its sibling stays offered, counted without the category filter.
    playwright.expect(page.get_by_role("link", name="video", exact=True)).to_be_visible()
    playwright.expect(page.locator(".facets li", has_text="video").locator(".count")).to_have_text("1")
    playwright.expect(web).to_be_focused()
    # About where it was on the screen: the browser's scroll anchoring absorbs
    # the chips added above, all but a few pixels (less than the link's height).
    assert abs(web.bounding_box()["y"] - where) < web.bounding_box()["height"] / 2
    page.get_by_role("link", name="video", exact=True).click()
    playwright.expect(results(page)).to_have_count(3)  # web or video
    playwright.expect(page.locator(".chip")).to_have_count(2)

    page.get_by_role("link", name="Clear all").click()

    playwright.expect(page.locator(".chip")).to_have_count(0)
    playwright.expect(page).to_have_url(re.compile(r"\?q=browser\+or\+player$"))


def test_a_filter_without_words_browses_its_items(page: Any) -> None:
    page.goto("/?q=vlc&category=video")
    playwright.expect(results(page)).to_have_count(2)

    page.get_by_label("Search packages").fill("")

    playwright.expect(page.locator("#search-status")).to_have_text("2 packages with these filters, most popular first")
    playwright.expect(results(page)).to_have_count(2)
    playwright.expect(page).to_have_url(re.compile(r"/\?category=video$"))


def test_on_a_phone_filters_open_from_a_drawer_above_the_results_with_large_tap_targets(site: str) -> None:
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(base_url=site, viewport={"width": 390, "height": 844}, has_touch=True)
        page.goto("/?q=browser")
        toggle = page.get_by_text("Filters", exact=True)
        facet = page.locator(".facet-value", has_text="works-with::pdf")
        playwright.expect(facet).to_be_hidden()
        assert toggle.bounding_box()["y"] < results(page).first.bounding_box()["y"]

        toggle.tap()

        playwright.expect(facet).to_be_visible()
        assert facet.bounding_box()["y"] < results(page).first.bounding_box()["y"]
        small = page.evaluate(
            """() => Array.from(document.querySelectorAll("main a, main button, main input, main select, main summary"))
                .filter((el) => el.getClientRects().length && getComputedStyle(el).visibility !== "hidden")
                .map((el) => [el.textContent.trim() || el.name, el.getBoundingClientRect().height])
                .filter(([, height]) => height < 44)"""
        )
        assert small == []
        facet.tap()
        playwright.expect(results(page)).to_have_text(["firefox-esr"])
        playwright.expect(facet).to_be_visible()  # the drawer stays open
        browser.close()


def test_filters_work_without_javascript_on_a_phone(site: str) -> None:
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(java_script_enabled=False, base_url=site, viewport={"width": 390, "height": 844})
        page = context.new_page()
        page.goto("/?q=browser")
        page.get_by_text("Filters", exact=True).click()
        page.locator(".facet-value", has_text="works-with::pdf").click()

        playwright.expect(results(page)).to_have_text(["firefox-esr"])
        playwright.expect(page).to_have_url(re.compile(r"tag=works-with%3A%3Apdf"))
        browser.close()
