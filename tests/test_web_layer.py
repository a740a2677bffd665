"""The web layer on a small index built with the fake encoder (fast: no model).

Pins what the HTTP faces promise whatever the model: one parser for /api/search and
/?format=json (same statuses, same messages), the error shape, the OpenAPI bounds,
unknown parameters, highlights rendered as <mark> only in the web layer.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from search.app import create_app
from search.engine import SearchEngine
from tests.corpus import write_corpus, write_jsonl
from tests.fake_encoder import FakeEncoder, build_fake_index

pytestmark = pytest.mark.fast


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("web")
    encoder = FakeEncoder()
    corpus = write_corpus(root / "corpus")
    extra = write_jsonl(
        root / "extra.jsonl",
        [
            {
                "id": "dated",
                "title": "Flood warning",
                "text": "Heavy flooding hit the northern towns after days of rain.",
                "date": "2024-05-01",
                "source": "Daily Wire Service",
            },
            {"id": "xss", "text": "<script>alert(1)</script> flooding & <b>mud</b>"},
        ],
    )
    build_fake_index([corpus, extra], root / "index", encoder=encoder)
    engine = SearchEngine(root / "index", encoder=encoder)
    with TestClient(create_app(engine, reload_seconds=0)) as test_client:
        yield test_client


BAD_PARAMETERS = [
    ({"q": "a", "limit": "ten"}, "limit", "limit='ten' is not a whole number."),
    ({"q": "a", "limit": "0"}, "limit", "limit=0 is out of range; use 1..100."),
    ({"q": "a", "limit": "101"}, "limit", "limit=101 is out of range; use 1..100."),
    ({"q": "a", "offset": "-1"}, "offset", "offset=-1 is out of range; use 0..1000."),
    ({"q": "a", "offset": "1.5"}, "offset", "offset='1.5' is not a whole number."),
    ({"q": "a", "mode": "fuzzy"}, "mode", "mode='fuzzy' is not one of hybrid, lexical, semantic."),
    ({"q": "a", "fusion": "max"}, "fusion", "fusion='max' is not one of rrf, weighted."),
    ({"q": "a", "translate": "maybe"}, "translate", "translate='maybe' is not true or false."),
    ({"q": "a", "alpha": "x"}, "alpha", "alpha='x' is not a number."),
    ({"q": "a", "alpha": "nan"}, "alpha", "alpha='nan' is not a finite number."),
    (
        {"q": "a", "alpha": "2", "fusion": "weighted"},
        "alpha",
        "alpha=2.0 must be a number between 0 and 1.",
    ),
    (
        {"q": "a", "alpha": "0.5"},
        "alpha",
        "alpha weights the legs of fusion=weighted; add fusion=weighted.",
    ),
    ({"q": "a", "rrf_k": "0"}, "rrf_k", "rrf_k=0 is out of range; use 1..10000."),
    ({"q": "a", "per_article": "0"}, "per_article", "per_article=0 is out of range; use 1..20."),
    ({"q": "a", "date_from": "May"}, "date_from", "date_from='May' is not a date; use YYYY-MM-DD."),
    (
        {"q": "a", "date_from": "2024-02-01", "date_to": "2024-01-01"},
        "date_from",
        "date_from 2024-02-01 is after date_to 2024-01-01.",
    ),
    ({"q": "a", "lang": "fr"}, "lang", "lang='fr' is not a language of this index; use one of "),
    ({"q": "-only"}, "q", "q has nothing to search for (it only excludes words)"),
    ({"q": "x" * 1001}, "q", "q is 1001 characters; the limit is 1000."),
    ({"limit": "5"}, "q", "q is required, e.g. /api/search?q=your+words"),
    ({"q": "a", "order": "date"}, "order", "Unknown parameter 'order'; accepted: "),
    (
        {"q": "a", "sort": "date"},
        "sort",
        "sort='date' is not one of relevance, date_desc, date_asc.",
    ),
    ({"q": "a", "lang_scope": "x"}, "lang_scope", "lang_scope='x' is not one of article, passage."),
    (
        {"q": "a", "skip_translation": "fr"},
        "skip_translation",
        "skip_translation='fr' is not a language queries are translated into; use one of en, es.",
    ),
]


@pytest.mark.parametrize(("params", "parameter", "message"), BAD_PARAMETERS)
def test_api_and_page_json_agree_on_every_bad_parameter(
    client: TestClient, params: dict[str, str], parameter: str, message: str
) -> None:
    api = client.get("/api/search", params=params)
    page = client.get("/", params={**params, "format": "json"})
    assert api.status_code == page.status_code == 400
    api_error, page_error = api.json()["error"], page.json()["error"]
    # The page accepts one more parameter, `ui`, and says so; nothing else differs.
    page_error["message"] = page_error["message"].replace(", ui.", ".")
    assert api_error == page_error
    assert api_error["parameter"] == parameter
    assert api_error["code"] == "bad_parameter"
    assert api_error["message"].startswith(message)


@pytest.mark.parametrize(("params", "parameter", "message"), BAD_PARAMETERS)
def test_the_html_page_shows_the_same_message(
    client: TestClient, params: dict[str, str], parameter: str, message: str
) -> None:
    if "q" not in params:  # the page invites a search instead
        assert client.get("/", params=params).status_code == 200
        return
    page = client.get("/", params=params)
    assert page.status_code == 400
    assert "That search did not work" in page.text
    assert message.replace("'", "&#39;")[:40] in page.text


def test_an_unknown_format_is_a_400_in_the_api_and_on_the_page(client: TestClient) -> None:
    message = "format='xml' is not one of json, csv, markdown."
    api = client.get("/api/search", params={"q": "a", "format": "xml"})
    assert api.status_code == 400 and api.json()["error"]["message"] == message
    page = client.get("/", params={"q": "a", "format": "xml"})
    assert page.status_code == 400 and "That search did not work" in page.text
    assert message.replace("'", "&#39;") in page.text


def test_empty_values_mean_the_default_everywhere(client: TestClient) -> None:
    params = {"q": "flooding", "limit": "", "offset": "", "date_from": "", "mode": ""}
    api = client.get("/api/search", params=params)
    page = client.get("/", params={**params, "format": "json"})
    assert api.status_code == page.status_code == 200
    assert api.json()["limit"] == 10 and api.json()["mode"] == "hybrid"
    assert api.json()["results"] == page.json()["results"]


def test_unknown_parameter_lists_the_accepted_ones(client: TestClient) -> None:
    message = client.get("/api/search", params={"q": "a", "foo": "bar"}).json()["error"]["message"]
    for name in ("q", "mode", "limit", "lang", "date_from", "translate", "sort", "format"):
        assert name in message
    assert "ui" not in message.split(": ", 1)[1].split(", ")  # only the page reads `ui`
    page_message = client.get("/", params={"q": "a", "foo": "1", "format": "json"}).json()
    assert page_message["error"]["message"].endswith(", ui.")


def test_openapi_declares_bounds_enums_and_formats(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    parameters = {p["name"]: p for p in schema["paths"]["/api/search"]["get"]["parameters"]}
    assert parameters["q"]["required"] is True
    limit = parameters["limit"]["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 100, 10)
    assert parameters["mode"]["schema"]["enum"] == ["hybrid", "lexical", "semantic"]
    assert parameters["fusion"]["schema"]["enum"] == ["rrf", "weighted"]
    assert parameters["date_from"]["schema"] == {"type": "string", "format": "date"}
    assert parameters["lang"]["schema"]["type"] == "array"
    assert parameters["translate"]["schema"]["type"] == "boolean"


@pytest.mark.parametrize("bound", ["date_from", "date_to"])
def test_a_one_sided_date_range_is_a_search_not_a_crash(client: TestClient, bound: str) -> None:
    day = {"date_from": "2024-01-01", "date_to": "2024-12-31"}[bound]
    body = client.get("/api/search", params={"q": "flooding", bound: day}).json()
    assert [r["article_id"] for r in body["results"]] == ["dated"]
    after = {"date_from": "2025-01-01", "date_to": "2024-04-30"}[bound]
    none = client.get("/api/search", params={"q": "flooding", bound: after}).json()
    assert none["results"] == []


def test_highlights_are_spans_and_html_is_built_in_the_web_layer(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": "flooding mud", "mode": "lexical"}).json()
    xss = next(r for r in body["results"] if r["article_id"] == "xss")
    assert [xss["text"][h["start"] : h["end"]] for h in xss["highlights"]] == ["flooding", "mud"]
    assert all(h["translated"] is False for h in xss["highlights"])
    assert xss["snippet_html"] == (
        "&lt;script&gt;alert(1)&lt;/script&gt; <mark>flooding</mark> &amp; "
        "&lt;b&gt;<mark>mud</mark>&lt;/b&gt;"
    )
    page = client.get("/", params={"q": "flooding mud", "mode": "lexical"}).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>flooding</mark>" in page
    assert "<script>alert" not in page


def test_the_article_page_highlights_the_query(client: TestClient) -> None:
    article = client.get("/api/articles/xss", params={"q": "mud"}).json()
    [passage] = article["passages"]
    assert [article["text"][h["start"] : h["end"]] for h in passage["highlights"]] == ["mud"]
    html = client.get("/articles/xss", params={"q": "mud", "passage": passage["passage_id"]})
    assert "&lt;b&gt;<mark>mud</mark>&lt;/b&gt;" in html.text


def test_single_leg_scores_are_that_legs_own(client: TestClient) -> None:
    lexical = client.get("/api/search", params={"q": "flooding", "mode": "lexical"}).json()
    top = lexical["results"][0]
    assert top["semantic"] is None and top["score"] == top["lexical"]["score"] > 1.0
