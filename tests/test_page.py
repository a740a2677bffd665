"""The search page in a real browser: headless Chromium (Debian's) against a real uvicorn.

One index, one server and one browser for the module; each test opens its own
context. Screenshots go to artifacts/screenshots/; `pytest -s` prints the page
weight and the time to first results (measured, never asserted).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from search.app import create_app
from search.background_server import serve
from search.engine import SearchEngine
from tests.browser import BROWSER_TEST_MARKS, SCREENSHOTS, fetch

pytestmark = BROWSER_TEST_MARKS
pytest.importorskip("playwright.sync_api")

XSS_TITLE = '<script>window.__xss=1</script> Payload <img src=x onerror="window.__xss=2">'
XSS_TEXT = (
    "This payload article tests escaping. <script>window.__xss=1</script> The script tag "
    'above must show as text. <img src=x onerror="window.__xss=2"> So must this image, '
    "and the payload must never run in the browser."
)

_HARBOUR = [
    "The harbour town wakes before dawn, when the fishing boats return with the night's catch.",
    "Gulls circle over the market stalls while traders argue about the price of sardines.",
    "Along the quay, old warehouses have become cafés, galleries and small hotels.",
    "In winter the storms close the port for days, and the ferries wait at anchor.",
    "Children learn to mend nets from their grandparents on the stone steps of the square.",
    "The town council debates every year whether to dredge the silted northern channel.",
]
LIGHTHOUSE = (
    "At the end of the breakwater stands the lighthouse, and its last keeper, Tomás Ferreira, "
    "still climbs the spiral stairs every evening although the lamp has run itself since 1994."
)
HARBOUR_TEXT = (
    "Life in a harbour town\n\n"
    + "\n\n".join(" ".join(_HARBOUR[(i + j) % len(_HARBOUR)] for j in range(4)) for i in range(14))
    + "\n\n"
    + LIGHTHOUSE
)

TEXT_ARTICLES = {
    "en/coffee-harvest.txt": (
        "Coffee farmers brace for a smaller harvest\n\n"
        "Coffee growers in the highlands expect a smaller harvest this year after a long "
        "drought. Many farmers say the coffee cherries ripened too early and fell."
    ),
    "en/coffee-prices.txt": (
        "Coffee prices climb on world markets\n\n"
        "The price of arabica coffee rose to its highest level in a decade as traders "
        "worried about supply. Roasters warned that a cup of coffee will cost more."
    ),
    "en/coffee-rust.txt": (
        "A fungus threatens coffee plantations\n\n"
        "Coffee leaf rust, a fungus that withers the plants, has spread across plantations "
        "in the south. Agronomists are testing resistant coffee varieties."
    ),
    "en/election.txt": (
        "Voters head to the polls\n\n"
        "Millions of voters cast their ballots on Sunday in an election that will choose "
        "the next president. Turnout was high in the capital."
    ),
    "en/harbour-town.txt": HARBOUR_TEXT,
    "es/cafe-cosecha.txt": (
        "Los cafetaleros esperan una cosecha menor\n\n"
        "Los productores de café de la sierra esperan una cosecha más pequeña este año "
        "tras una larga sequía. Muchos campesinos dicen que el grano maduró antes de tiempo."
    ),
    "es/cafe-precios.txt": (
        "Sube el precio del café en los mercados\n\n"
        "El precio del café arábica alcanzó su nivel más alto en una década porque los "
        "comerciantes temen que falte grano. Los tostadores advierten que la taza costará más."
    ),
    "es/huracan.txt": (
        "Un huracán azota la costa del Pacífico\n\n"
        "Un poderoso huracán tocó tierra cerca de Acapulco durante la noche, inundó calles "
        "y dejó sin electricidad a miles de hogares."
    ),
}
JSONL_ARTICLES = [
    {
        "id": "coffee-exports",
        "title": "Coffee exports fall for a second year",
        "text": "Coffee exports fell again this year as the smaller harvest and the fungus "
        "cut supplies. Exporters hope the coffee market recovers next season.",
        "lang": "en",
        "date": "2024-05-01",
        "source": "Daily Wire Service",
        "url": "https://example.org/coffee-exports",
    },
    {
        "id": "cafe-roya",
        "title": "La roya amenaza los cafetales",
        "text": "La roya del café, un hongo que seca las plantas, se extendió por los "
        "cafetales del sur. Los agrónomos prueban variedades de café resistentes.",
        "lang": "es",
        "date": "2025-01-15",
        "source": "El Diario",
    },
    {"id": "xss", "title": XSS_TITLE, "text": XSS_TEXT, "lang": "en"},
]


def write_page_corpus(root: Path, more: list[dict[str, str]] | None = None) -> list[Path]:
    """The page tests' articles under `root` (a folder and a JSONL file), plus `more`."""
    folder = root / "corpus"
    for name, text in TEXT_ARTICLES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    extra = root / "extra.jsonl"
    records = [*JSONL_ARTICLES, *(more or [])]
    extra.write_text("".join(json.dumps(a) + "\n" for a in records), encoding="utf-8")
    return [folder, extra]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory, build) -> Path:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("page")
    build(write_page_corpus(root), root / "index", translation="off")
    return root / "index"


@pytest.fixture(scope="module")
def base_url(index_dir: Path, encoder) -> Iterator[str]:  # type: ignore[no-untyped-def]
    engine = SearchEngine(index_dir, encoder=encoder)
    with serve(create_app(engine, reload_seconds=0)) as url:
        yield url


def badges(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator(".result .badge").all_inner_texts()


def titles(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator(".result h2").all_inner_texts()


def test_search_filter_paginate_and_go_back(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    assert page.evaluate("document.activeElement.id") == "q", "the box is focused on load"
    assert page.get_by_label("Search articles").is_visible()
    page.keyboard.type("coffee harvest")
    started = time.perf_counter()
    page.keyboard.press("Enter")
    page.wait_for_selector(".result")
    print(f"\ntime to first results (Enter -> results visible): {_ms(started)} ms")
    assert "q=coffee+harvest" in page.url
    assert page.locator(".result .snippet mark").count() >= 2
    assert page.locator(".result mark").first.inner_text().lower() in ("coffee", "harvest")
    assert re.search(r"Results 1–\d+ of \d+ · \d+ ms", page.inner_text(".summary"))
    assert "keyword #1" in page.inner_text(".result .why")
    page.screenshot(path=str(SCREENSHOTS / "results.png"), full_page=True)

    page.click("label[for=lang-es]")  # JavaScript re-runs the search on change
    page.wait_for_url(re.compile(r"lang=es"))
    assert set(badges(page)) == {"ES"}
    assert page.is_checked("#lang-es")

    page.goto("/?q=coffee&limit=3")
    first_page = titles(page)
    assert len(first_page) == 3 and page.locator("a[rel=prev]").count() == 0
    page.click("a[rel=next]")
    page.wait_for_url(re.compile(r"offset=3"))
    second_page = titles(page)
    assert second_page and not set(second_page) & set(first_page)
    assert "limit=3" in page.url and page.inner_text(".summary").startswith("Results 4–6")
    page.go_back()
    page.wait_for_url(re.compile(r"limit=3$"))
    assert titles(page) == first_page


def test_open_article_highlights_the_passage(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/?q=lighthouse+keeper&mode=lexical")
    link = page.locator(".result h2 a").first
    assert link.inner_text() == "Life in a harbour town"
    assert "/articles/en%2Fharbour-town.txt?" in (link.get_attribute("href") or "")
    link.click()
    page.wait_for_selector("#passage")
    text = page.inner_text(".doc .text")
    assert text.startswith("Life in a harbour town") and text.rstrip().endswith("since 1994.")
    assert "lighthouse" in page.inner_text("#passage mark").lower()
    assert page.locator("#passage mark").count() >= 2
    assert page.evaluate("window.scrollY") > 0, "scrolled down to the passage"
    box = page.evaluate(
        "JSON.stringify(document.getElementById('passage').getBoundingClientRect())"
    )
    rect = json.loads(box)
    assert rect["top"] < 900 and rect["bottom"] > 0, f"passage not in view: {rect}"
    page.screenshot(path=str(SCREENSHOTS / "article.png"))


def test_markup_in_titles_text_and_query_never_runs(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    page.fill("#q", "<b>payload</b> script")
    page.press("#q", "Enter")
    page.wait_for_selector(".result")
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator(".result script, .result img, .result b").count() == 0
    visible = page.inner_text("main")
    assert "<script>window.__xss=1</script>" in visible
    assert '<img src=x onerror="window.__xss=2">' in visible
    assert page.input_value("#q") == "<b>payload</b> script"
    assert page.title().startswith("<b>payload</b> script")
    page.locator(".result h2 a", has_text="Payload").first.click()
    page.wait_for_selector(".doc")
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert "<script>window.__xss=1</script>" in page.inner_text(".doc h1")
    assert '<img src=x onerror="window.__xss=2">' in page.inner_text(".doc .text")
    _, headers, _ = fetch(f"{base_url}/?q=payload")
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]


def test_works_without_javascript(browser, base_url: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=base_url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/")
    page.fill("#q", "coffee prices")
    page.click("label[for=mode-lexical]")  # no JavaScript: nothing submits yet
    assert page.is_checked("#mode-lexical") and page.url.endswith("/")
    page.press("#q", "Enter")
    page.wait_for_selector(".result")
    assert "mode=lexical" in page.url
    assert page.locator(".result mark").count() >= 2
    assert page.inner_text(".result .why").startswith("Contains your words · keyword #1")
    page.click(".result h2 a")
    page.wait_for_selector("#passage")
    assert page.url.endswith("#passage") and page.locator("#passage mark").count() >= 1
    page.goto("/?q=lighthouse+keeper&mode=lexical")
    page.click(".result h2 a")
    page.wait_for_selector("#passage")
    assert page.evaluate("window.scrollY") > 0, "the #passage anchor scrolls without JS"
    context.close()


def test_keyboard_shortcuts_and_filters_keep_settings(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/?q=coffee&limit=3&offset=3")
    assert page.evaluate("document.activeElement.id") == "q", "focused on results pages too"
    page.keyboard.press("Escape")
    assert page.input_value("#q") == "coffee", "Esc leaves the box without clearing it"
    links = page.locator(".result h2 a")
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.textContent") == links.nth(0).inner_text()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert page.evaluate("document.activeElement.textContent") == links.nth(1).inner_text()
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.click("label[for=lang-en]")
    page.wait_for_url(re.compile(r"lang=en"))
    assert "limit=3" in page.url and "offset" not in page.url, "a new filter starts at page 1"
    assert set(badges(page)) == {"EN"} and len(titles(page)) == 3


def test_empty_no_results_and_bad_parameter_states(page) -> None:  # type: ignore[no-untyped-def]
    response = page.goto("/?q=")
    assert response.status == 200
    assert page.locator(".invite h1").inner_text() == "Search English and Spanish articles"
    assert page.locator(".alert, .result").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "empty.png"))

    response = page.goto("/?q=zyxwvut&mode=lexical&lang=es")
    assert response.status == 200
    assert "No results for “zyxwvut”" in page.inner_text(".empty h1")
    hints = page.locator(".empty a")
    assert hints.count() >= 3
    page.screenshot(path=str(SCREENSHOTS / "no-results.png"))
    assert "mode=semantic" in (hints.filter(has_text="meaning search").get_attribute("href") or "")
    page.click("text=all languages")
    page.wait_for_url(re.compile(r"mode=lexical$"))

    response = page.goto("/?q=x&limit=9999")
    assert response.status == 400
    assert "limit=9999 is out of range; use 1..100." in page.inner_text(".alert")
    assert "Traceback" not in page.content()
    page.screenshot(path=str(SCREENSHOTS / "error.png"))

    response = page.goto("/?q=coffee&offset=lots")
    assert response.status == 400
    assert "offset='lots' is not a whole number." in page.inner_text(".alert")

    response = page.goto("/articles/no/such/article")
    assert response.status == 404
    assert "No article with id 'no/such/article'" in page.inner_text(".alert")


def test_phone_width_has_no_horizontal_scroll(browser, base_url: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(
        base_url=base_url, viewport={"width": 375, "height": 740}, device_scale_factor=2
    )
    page = context.new_page()
    for path in ("/?q=coffee+harvest", "/articles/en%2Fharbour-town.txt", "/?q=x&limit=0", "/"):
        page.goto(path)
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= 376, f"{path} scrolls sideways: {width}px"
    page.goto("/?q=payload+script")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 376
    page.goto("/?q=coffee+harvest")
    page.screenshot(path=str(SCREENSHOTS / "results-phone.png"), full_page=True)
    context.close()


def test_json_twin_and_page_weight(base_url: str) -> None:
    status, _, body = fetch(f"{base_url}/?q=coffee&lang=es&format=json")
    _, _, api = fetch(f"{base_url}/api/search?q=coffee&lang=es")
    page_data, api_data = json.loads(body), json.loads(api)
    assert status == 200
    for data in (page_data, api_data):
        data.pop("took_ms")
    assert page_data == api_data
    status, _, body = fetch(f"{base_url}/?q=x&limit=0&format=json")
    assert status == 400 and json.loads(body)["error"]["parameter"] == "limit"
    status, _, body = fetch(f"{base_url}/articles/cafe-roya?format=json")
    assert status == 200 and json.loads(body)["source"] == "El Diario"

    status, headers, html = fetch(f"{base_url}/?q=coffee+harvest")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assets = re.findall(rb'(?:href|src)="(/static/[^"]+\.(?:css|js)[^"]*)"', html)
    sizes = {"html": len(html)}
    for asset in assets:
        asset_status, _, content = fetch(base_url + asset.decode())
        assert asset_status == 200
        sizes[asset.decode().split("?")[0]] = len(content)
    total = sum(sizes.values())
    print(f"\npage weight (10 results, uncompressed): {total} bytes {sizes}")
    assert len(sizes) == 3  # the page, one stylesheet, one script; nothing external
    assert b"http://" not in html.replace(b"https://example.org", b"")


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def test_no_external_fetches(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/?q=coffee")
    page.wait_for_load_state("networkidle")
    assert requested and all(url.startswith(base_url) for url in requested), requested
