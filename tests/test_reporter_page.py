"""The reporter's search page in a real browser: filters and chips, facets, sort, the
no-match state, translations in view, the article page's translation toggle, the
Spanish interface, exports, and the API docs with the network cut off.

Real parts: the session's model, Apertium for query and passage translation (the
translation tests skip without it, outside CI), uvicorn, Debian's Chromium. The
corpus is test_page.py's, plus an English article quoting a Spanish tweet.
Screenshots of desktop (1280 px) and phone (375 px), in both interface
languages, go to artifacts/screenshots/.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from search.app import create_app
from search.background_server import serve
from search.engine import SearchEngine
from tests.browser import BROWSER_TEST_MARKS, SCREENSHOTS, fetch, watched_page
from tests.corpus import QUOTE_ARTICLE
from tests.test_page import write_page_corpus

pytestmark = BROWSER_TEST_MARKS
pytest.importorskip("playwright.sync_api")

# Nothing in the corpus is about this, in either language.
NO_MATCH_QUERY = "volcanic eruption Iceland"
PHONE: dict[str, Any] = {"viewport": {"width": 375, "height": 740}, "device_scale_factor": 2}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, build, encoder, translator) -> SearchEngine:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("reporter-page")
    build(write_page_corpus(root, [QUOTE_ARTICLE]), root / "index", translation="off")
    return SearchEngine(root / "index", encoder=encoder, translator=translator)


@pytest.fixture(scope="module")
def base_url(engine: SearchEngine) -> Iterator[str]:
    with serve(create_app(engine, reload_seconds=0)) as url:
        yield url


@pytest.fixture
def needs_translation(engine: SearchEngine) -> None:
    if not engine.translation_available:
        pytest.skip("needs Apertium (apt-get install apertium apertium-eng-spa)")


def chips(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        text.replace("×", "").strip()
        for text in page.locator(".chip > span:first-child").all_inner_texts()
    ]


def article_ids(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        href.split("?")[0]
        for href in page.locator(".results .result h2 a").evaluate_all(
            "els => els.map(e => e.getAttribute('href'))"
        )
    ]


def test_filters_become_chips_and_each_chip_removes_its_filter(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/?q=coffee")
    page.click("details.more summary")
    page.select_option("#source", "Daily Wire Service")  # JavaScript submits at once
    page.wait_for_url(re.compile(r"source=Daily\+Wire\+Service"))
    assert chips(page) == ["Source: Daily Wire Service"]
    assert set(page.locator(".result .meta .item").all_inner_texts()) >= {"Daily Wire Service"}
    page.click("details.more summary")
    page.fill("#date_from", "2024-01-01")
    page.fill("#date_to", "2024-12-31")
    page.click("button.apply")
    page.wait_for_url(re.compile(r"date_to=2024-12-31"))
    assert chips(page) == ["Source: Daily Wire Service", "From: Jan 1, 2024", "To: Dec 31, 2024"]
    assert article_ids(page) == ["/articles/coffee-exports"]
    page.screenshot(path=str(SCREENSHOTS / "filters-chips.png"))

    page.locator(".chip", has_text="Source").click()
    page.wait_for_url(lambda url: "source=" not in url)
    assert chips(page) == ["From: Jan 1, 2024", "To: Dec 31, 2024"]
    assert page.input_value("#date_from") == "2024-01-01", "the form shows the URL's state"
    page.go_back()
    page.wait_for_url(re.compile(r"source="))
    assert chips(page)[0] == "Source: Daily Wire Service", "the back button restores it"
    page.click("a.clear")
    page.wait_for_url(lambda url: "source=" not in url and "date_" not in url)
    assert chips(page) == [] and "q=coffee" in page.url


def test_filters_work_without_javascript(browser, base_url: str, needs_translation) -> None:  # type: ignore[no-untyped-def]
    with watched_page(browser, base_url, java_script_enabled=False) as page:
        page.goto("/?q=coffee")
        page.click("details.more summary")
        page.select_option("#source", "El Diario")
        assert "source=" not in page.url, "nothing submits without JavaScript"
        page.click("button.apply")
        page.wait_for_url(re.compile(r"source=El\+Diario"))
        assert chips(page) == ["Source: El Diario"]
        assert article_ids(page) == ["/articles/cafe-roya"]
        page.locator(".chip").click()
        page.wait_for_url(lambda url: "source=" not in url)
        assert len(article_ids(page)) > 1


def test_facets_count_and_click_through(page, needs_translation) -> None:  # type: ignore[no-untyped-def]
    page.goto("/?q=coffee")
    language = page.locator(".facet-lang")
    counts = dict(
        zip(
            language.locator(".fv").all_inner_texts(),
            language.locator(".count").all_inner_texts(),
            strict=True,
        )
    )
    assert set(counts) == {"English", "Spanish"} and all(int(n) > 0 for n in counts.values())
    language.locator("a.fv", has_text="Spanish").click()
    page.wait_for_url(re.compile(r"lang=es"))
    assert set(page.locator(".result .badge").all_inner_texts()) == {"ES"}
    assert page.locator(".facet-lang a.fv.active").inner_text().startswith("Spanish")
    assert chips(page) == ["Language: Spanish"]
    page.locator(".facet-year a.fv", has_text="2025").click()
    page.wait_for_url(re.compile(r"date_to=2025-12-31"))
    assert article_ids(page) == ["/articles/cafe-roya"]
    assert chips(page) == ["Language: Spanish", "From: Jan 1, 2025", "To: Dec 31, 2025"]
    page.locator(".facet-year a.fv.active").click()
    page.wait_for_url(lambda url: "date_from" not in url)
    page.locator(".facet-source a.fv", has_text="El Diario").click()
    page.wait_for_url(re.compile(r"source=El\+Diario"))
    assert article_ids(page) == ["/articles/cafe-roya"]


def test_sort_by_newest_and_oldest(page, needs_translation) -> None:  # type: ignore[no-untyped-def]
    page.goto("/?q=coffee")
    relevance = article_ids(page)
    page.click(".sort a:text('Newest')")
    page.wait_for_url(re.compile(r"sort=date_desc"))
    dates = page.locator(".results .result").evaluate_all(_DATES)
    assert dates[:2] == ["2025-01-15", "2024-05-01"] and set(dates[2:]) == {None}, "undated last"
    assert page.locator(".sort b").inner_text() == "Newest"
    page.click(".sort a:text('Oldest')")
    page.wait_for_url(re.compile(r"sort=date_asc"))
    assert article_ids(page)[:2] == ["/articles/coffee-exports", "/articles/cafe-roya"]
    assert sorted(article_ids(page)) == sorted(relevance), "sorting only reorders"


def test_nothing_matches_so_the_closest_passages_are_offered_apart(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"/?q={NO_MATCH_QUERY.replace(' ', '+')}")
    assert page.inner_text(".empty h1") == f"No results for “{NO_MATCH_QUERY}”"
    assert page.locator(".toolbar, .facets").count() == 0, "no counts, no facets for non-matches"
    closest = page.locator(".closest")
    assert closest.locator("#closest-title").inner_text() == "Closest passages"
    assert closest.locator(".result").count() >= 1
    assert "do not match" in closest.locator(".hint").inner_text()
    assert closest.locator(".match").count() == 0, "no result is labelled a match"
    page.screenshot(path=str(SCREENSHOTS / "no-match.png"), full_page=True)
    _, _, body = fetch(f"{base_url}/api/search?q={NO_MATCH_QUERY.replace(' ', '+')}")
    data = json.loads(body)
    assert data["total"] == 0 and data["results"] == [] and data["closest"]


def test_did_you_mean_links_to_the_corrected_search(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/?q=lighthouse+keepr")
    suggestion = page.locator(".suggest a")
    assert (
        suggestion.inner_text() == "lighthouse keeper"
        and suggestion.locator("b").inner_text() == "keeper"
    )
    suggestion.click()
    page.wait_for_url(re.compile(r"q=lighthouse\+keeper"))
    assert page.locator(".suggest").count() == 0


def test_a_quote_is_marked_and_the_language_filter_follows_the_article(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/?q=doblegar&mode=lexical")
    result = page.locator(".result").first
    assert result.locator(".badge").inner_text() == "EN", "the badge is the article's language"
    assert result.locator(".quote-tag").inner_text() == "quote in Spanish"
    page.goto("/?q=doblegar&mode=lexical&lang=es")
    assert page.locator(".results .result").count() == 0
    page.goto("/?q=doblegar&mode=lexical&lang=es&lang_scope=passage")
    assert page.locator(".results .result").count() == 1


def test_the_query_translations_are_shown_and_each_can_be_removed(page, needs_translation) -> None:  # type: ignore[no-untyped-def]
    page.goto("/?q=CJNG+cartel")
    lines = page.locator(".also li")
    texts = lines.all_inner_texts()
    assert any(t.startswith("Also searched in English:") and "Poster" in t for t in texts), texts
    assert any(t.startswith("Also searched in Spanish:") for t in texts), texts
    page.screenshot(path=str(SCREENSHOTS / "translations.png"))
    lines.filter(has_text="in English").locator("a.drop").click()
    page.wait_for_url(re.compile(r"skip_translation=en"))
    assert not any("Poster" in t for t in page.locator(".also li").all_inner_texts())
    dropped = page.locator(".also li.dropped")
    assert dropped.inner_text().startswith("Not searched in English.")
    dropped.locator("a").click()
    page.wait_for_url(lambda url: "skip_translation" not in url)
    assert any("Poster" in t for t in page.locator(".also li").all_inner_texts())


def test_translated_highlights_look_different(page, needs_translation) -> None:  # type: ignore[no-untyped-def]
    page.goto("/?q=coffee+harvest&lang=es&mode=lexical")
    translated = page.locator(".result mark.mt").first
    original_style = page.evaluate("getComputedStyle(document.createElement('mark')).outlineStyle")
    assert (
        translated.evaluate("m => getComputedStyle(m).outlineStyle") == "dotted" != original_style
    )
    assert (
        page.locator(".result .match").first.inner_text() == "Contains a translation of your words"
    )


def test_the_article_page_translates_a_passage_on_request(
    browser, base_url: str, needs_translation
) -> None:  # type: ignore[no-untyped-def]
    for javascript in (True, False):
        with watched_page(browser, base_url, java_script_enabled=javascript) as page:
            page.goto("/articles/es%2Fcafe-cosecha.txt")
            assert page.locator(".mt-block").count() == 0
            page.locator(".mt-toggle").first.click()
            page.wait_for_url(re.compile(r"mt=1#p1"))
            block = page.locator(".mt-block")
            assert block.locator(".mt-label").inner_text().lower() == (
                "machine translation (apertium), spanish → english"
            )
            assert "coffee" in block.inner_text().lower()
            assert block.get_attribute("lang") == "en"
            assert "Los cafetaleros" in page.inner_text(".doc .text"), "the original stays"
            if javascript:
                page.screenshot(path=str(SCREENSHOTS / "article-translation.png"))
            page.locator(".mt-toggle", has_text="Hide translation").click()
            page.wait_for_url(lambda url: "mt=" not in url)
            assert page.locator(".mt-block").count() == 0


def test_the_interface_speaks_spanish(browser, base_url: str) -> None:  # type: ignore[no-untyped-def]
    with watched_page(browser, base_url, locale="es-ES") as page:  # Accept-Language: es-ES
        page.goto("/")
        assert page.get_attribute("html", "lang") == "es"
        assert page.inner_text(".invite h1") == "Busque en artículos en inglés y en español"
        assert page.get_attribute("#q", "placeholder") == "Busque en inglés o español"
        page.fill("#q", "coffee")
        page.press("#q", "Enter")
        page.wait_for_selector(".result")
        assert re.match(r"Resultados 1–\d+ de \d+ · \d+ ms", page.inner_text(".summary"))
        assert page.locator(".sort b").inner_text() == "Relevancia"
        assert page.locator(".facet-lang h3").text_content() == "Idioma"
        page.click(".ui-switch a:text('English')")  # the switch wins over the browser
        page.wait_for_url(re.compile(r"ui=en"))
        assert page.get_attribute("html", "lang") == "en"
        page.locator(".sort a", has_text="Newest").click()
        page.wait_for_url(re.compile(r"sort=date_desc"))
        assert "ui=en" in page.url and page.get_attribute("html", "lang") == "en"
        response = page.goto("/?q=x&limit=0&ui=es")
        assert response.status == 400
        assert page.inner_text(".alert h1") == "Esa búsqueda no funcionó"
        assert page.inner_text(".error-message") == "limit=0 está fuera de rango; use 1..100."
        page.goto("/articles/harfuch-quote?ui=es")
        assert page.inner_text(".quote-tag") == "cita en español"


def test_exports_download_with_citations(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/?q=coffee")
    with page.expect_download() as csv_download:
        page.click(".export a:text('CSV')")
    assert csv_download.value.suggested_filename == "search-coffee.csv"
    rows = list(csv.DictReader(io.StringIO(Path(csv_download.value.path()).read_text("utf-8"))))
    assert len(rows) == page.locator(".results .result").count()
    exports = next(r for r in rows if r["title"] == "Coffee exports fall for a second year")
    assert exports["source"] == "Daily Wire Service" and exports["date"] == "2024-05-01"
    assert exports["url"] == "https://example.org/coffee-exports"
    assert exports["article_link"].startswith(page.url.split("/?")[0] + "/articles/coffee-exports?")
    with page.expect_download() as markdown_download:
        page.click(".export a:text('Markdown')")
    assert markdown_download.value.suggested_filename == "search-coffee.md"
    text = Path(markdown_download.value.path()).read_text("utf-8")
    assert text.startswith("# Search results: “coffee”") and "   > " in text


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_api_docs_render_with_the_network_cut_off(browser, base_url: str, path: str) -> None:  # type: ignore[no-untyped-def]
    # ReDoc always draws a "by Redocly" logo from its CDN; the policy blocks it (the
    # report is expected) and the image hides itself. Nothing else may be blocked.
    with watched_page(browser, base_url, tolerate=(_REDOC_LOGO,)) as page:
        outside: list[str] = []

        def only_this_server(route) -> None:  # type: ignore[no-untyped-def]
            if route.request.url.startswith(base_url):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.context.route("**/*", only_this_server)
        page.goto(path)
        if path == "/docs":
            page.wait_for_selector(".swagger-ui .opblock-summary-path", timeout=20_000)
            paths = page.locator(".opblock-summary-path").all_inner_texts()
            assert {"/api/search", "/api/sources", "/api/health"} <= {p.strip() for p in paths}
            assert "OAS 3.1" in page.inner_text(".swagger-ui .info")
        else:
            page.wait_for_selector("h1:has-text('Bilingual article search')", timeout=20_000)
            assert page.get_by_text("Search passages").count() >= 1
            assert page.get_by_text("/api/sources").count() >= 1
        page.screenshot(path=str(SCREENSHOTS / f"docs{path.replace('/', '-')}.png"))
        assert outside == [], f"the docs tried to reach {outside}"


@pytest.mark.parametrize("ui", ["en", "es"])
def test_screenshots_desktop_and_phone(browser, base_url: str, ui: str) -> None:  # type: ignore[no-untyped-def]
    """The pages at 1280 and 375 px in both languages, looked at by a person; the
    checks are the ones a person would make: no sideways scroll, the placeholder
    fits its box."""
    devices: tuple[tuple[str, dict[str, Any]], ...] = (("desktop", {}), ("phone", PHONE))
    for device, options in devices:
        with watched_page(browser, base_url, **options) as page:
            for name, path in (
                ("home", f"/?ui={ui}"),
                ("results", f"/?q=coffee+harvest&ui={ui}"),
                ("no-match", f"/?q={NO_MATCH_QUERY.replace(' ', '+')}&ui={ui}"),
                (
                    "article",
                    f"/articles/harfuch-quote?q=attack&passage=harfuch-quote%231&mt=2&ui={ui}",
                ),
            ):
                page.goto(path)
                width = page.evaluate("document.scrollingElement.scrollWidth")
                assert width <= page.viewport_size["width"] + 1, (
                    f"{path} scrolls sideways: {width}px"
                )
                if name == "home":
                    fits = page.evaluate(_PLACEHOLDER_FITS)
                    assert fits["text"] <= fits["room"], f"the placeholder is cut off: {fits}"
                page.screenshot(path=str(SCREENSHOTS / f"{name}-{device}-{ui}.png"), full_page=True)


_REDOC_LOGO = "'https://cdn.redoc.ly/redoc/logo-mini.svg' violates the following Content Security"
_DATES = (
    "els => els.map(e => { const t = e.querySelector('time'); return t && t.dateTime || null; })"
)
# The placeholder's rendered width against the room inside the box.
_PLACEHOLDER_FITS = """() => {
  const box = document.getElementById('q');
  const style = getComputedStyle(box);
  const canvas = document.createElement('canvas').getContext('2d');
  canvas.font = getComputedStyle(box, '::placeholder').font;
  const room = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return {text: canvas.measureText(box.placeholder).width, room: room};
}"""
