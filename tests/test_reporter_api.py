"""The reporter's features through the API, on a fake encoder (fast: no model).

Facets, sort, matches and the closest passages, exports, case-insensitive sources,
the article-language filter, "did you mean", removable query translations and
passage translations, each against a small corpus written for it: an English
article quoting a Spanish tweet, a Spanish article, dated and undated articles
from sources spelt in two cases. Query translation is a stub with fixed answers,
so the ambiguity of "CJNG cartel" ("CJNG Poster" in English) is reproducible.
"""

from __future__ import annotations

import csv
import io
import json
from typing import ClassVar

import pytest
from fastapi.testclient import TestClient

from search.app import create_app
from search.engine import EngineOptions, SearchEngine
from tests.corpus import QUOTE_ARTICLE
from tests.fake_encoder import FakeEncoder, build_fake_index

pytestmark = pytest.mark.fast

FLOOR = 0.3  # the fake encoder's cosines are not the real model's: a floor of our own

ARTICLES = [
    QUOTE_ARTICLE,
    {
        "id": "atentado-harfuch",
        "title": "El atentado contra García Harfuch",
        "text": (
            "El atentado contra García Harfuch\n\n"
            "Un comando armado atacó la camioneta del secretario de Seguridad Ciudadana, Omar "
            "García Harfuch, en la madrugada del viernes. El atentado dejó tres muertos y el "
            "funcionario resultó herido en el hombro."
        ),
        "lang": "es",
        "date": "2020-06-26",
        "source": "El Universal",
    },
    {
        "id": "flood-2024",
        "title": "Flood warning in the north",
        "text": "Heavy flooding hit the northern towns after days of rain, and the river rose.",
        "date": "2024-05-01",
        "source": "reuters",
    },
    {
        "id": "flood-undated",
        "title": "Flooding and mud",
        "text": "Flooding left mud in every street of the old town; volunteers cleaned for days.",
    },
    {
        "id": "formula",
        "title": '=HYPERLINK("http://evil") flooding report',
        "text": "A report on flooding whose title starts like a spreadsheet formula.",
        "date": "2023-03-03",
        "source": "El Universal",
    },
]


class StubTranslator:
    """Fixed query translations; a passage (long text) comes back marked as translated;
    anything else comes back unchanged, which the engine drops as untranslated."""

    QUERIES: ClassVar[dict[tuple[str, str, str], str]] = {
        ("CJNG cartel", "es", "en"): "CJNG Poster",
        ("CJNG cartel", "en", "es"): "CJNG cártel",
        ("attack", "en", "es"): "atentado",
    }

    def translate(self, text: str, *, source: str, target: str) -> str | None:
        if (text, source, target) in self.QUERIES:
            return self.QUERIES[(text, source, target)]
        if len(text) > 60:
            return f"[{source}->{target}] {text}"
        return text

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("reporter")
    articles = root / "articles.jsonl"
    articles.write_text(
        "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in ARTICLES), encoding="utf-8"
    )
    encoder = FakeEncoder(dimension=1024)  # few hash collisions: unrelated words ~ 0
    build_fake_index([articles], root / "index", encoder=encoder)
    engine = SearchEngine(
        root / "index",
        options=EngineOptions(meaning_floor=FLOOR),
        translator=StubTranslator(),
        encoder=encoder,
    )
    with TestClient(create_app(engine, reload_seconds=0)) as test_client:
        yield test_client


def search(client: TestClient, **params: object) -> dict:  # type: ignore[type-arg]
    response = client.get("/api/search", params=params)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    return response.json()


def ids(results: list[dict]) -> list[str]:  # type: ignore[type-arg]
    return [r["article_id"] for r in results]


def test_nothing_matches_so_the_closest_passages_stand_apart(client: TestClient) -> None:
    body = search(client, q="volcanic eruption Iceland")
    assert body["total"] == 0 and body["results"] == []
    assert body["meaning_floor"] == FLOOR
    assert body["closest"], "the nearest passages are still offered"
    for result in body["closest"]:
        assert result["match"] is None and result["lexical"] is None
        assert result["semantic"]["score"] < FLOOR
        assert "snippet_html" in result
    assert body["facets"] == {"lang": [], "source": [], "year": []}
    lexical = search(client, q="volcanic eruption Iceland", mode="lexical")
    assert lexical["closest"] == [] and lexical["meaning_floor"] is None


def test_every_result_says_why_it_matched(client: TestClient) -> None:
    body = search(client, q="attack", mode="hybrid", limit=20)
    assert body["translations"] == {"es": "atentado"}
    kinds = {(r["article_id"], r["lang"]): r["match"] for r in body["results"]}
    assert kinds[("harfuch-quote", "en")] == "keyword"  # "the attack", as typed
    assert kinds[("atentado-harfuch", "es")] == "translated_keyword"  # "atentado"
    assert body["total"] == len(body["results"]) and body["closest"] == []
    for result in body["results"]:
        if result["match"] == "meaning":
            assert result["lexical"] is None and result["semantic"]["score"] >= FLOOR
        else:
            assert result["lexical"] is not None
    untranslated = search(client, q="attack", translate="false", limit=20)
    assert "atentado-harfuch" not in ids(untranslated["results"])


def test_facets_count_every_match_not_only_the_page(client: TestClient) -> None:
    body = search(client, q="flooding", mode="lexical", limit=1)
    assert body["total"] == 3 and len(body["results"]) == 1
    assert body["facets"]["lang"] == [{"value": "en", "count": 3}]
    # "reuters" and "Reuters" are one source, shown in its most frequent spelling
    assert body["facets"]["source"] == [
        {"value": "El Universal", "count": 1},
        {"value": "Reuters", "count": 1},
        {"value": None, "count": 1},
    ]
    assert body["facets"]["year"] == [
        {"value": "2024", "count": 1},
        {"value": "2023", "count": 1},
        {"value": None, "count": 1},
    ]


def test_sort_by_date_puts_undated_articles_last(client: TestClient) -> None:
    relevance = ids(search(client, q="flooding", mode="lexical")["results"])
    newest = ids(search(client, q="flooding", mode="lexical", sort="date_desc")["results"])
    oldest = ids(search(client, q="flooding", mode="lexical", sort="date_asc")["results"])
    assert newest == ["flood-2024", "formula", "flood-undated"]
    assert oldest == ["formula", "flood-2024", "flood-undated"]
    assert sorted(relevance) == sorted(newest)
    paged = search(client, q="flooding", mode="lexical", sort="date_desc", limit=1, offset=1)
    assert ids(paged["results"]) == ["formula"] and paged["total"] == 3


@pytest.mark.parametrize("spelling", ["reuters", "REUTERS", "Reuters", " reuters "])
def test_the_source_filter_ignores_case(client: TestClient, spelling: str) -> None:
    for mode in ("lexical", "semantic", "hybrid"):
        body = search(client, q="flooding Harfuch", mode=mode, source=spelling, limit=20)
        assert set(ids(body["results"]) + ids(body["closest"])) <= {"flood-2024", "harfuch-quote"}
    lexical = search(client, q="flooding Harfuch", mode="lexical", source=spelling)
    assert set(ids(lexical["results"])) == {"flood-2024", "harfuch-quote"}
    assert lexical["notes"] == []


def test_an_unknown_source_says_so(client: TestClient) -> None:
    body = search(client, q="flooding", source="Nope")
    assert body["total"] == 0 and body["closest"] == []
    assert "source 'Nope' is not a source of this index" in body["notes"]


def test_sources_lists_each_source_once_with_its_articles(client: TestClient) -> None:
    body = client.get("/api/sources").json()
    assert body["sources"] == [
        {"value": "El Universal", "count": 2},
        {"value": "Reuters", "count": 2},
    ]
    assert body["unsourced"] == 1 and body["generation"]
    assert client.head("/api/sources").status_code == 200


@pytest.mark.parametrize("mode", ["lexical", "semantic", "hybrid"])
def test_the_language_filter_is_the_articles_language_by_default(
    client: TestClient, mode: str
) -> None:
    def passages(**params: object) -> set[tuple[str, str, str]]:
        body = search(client, q="atentado", mode=mode, limit=20, **params)
        found = body["results"] + body["closest"]  # the filter holds for both
        return {(r["article_id"], r["lang"], r["article_lang"]) for r in found}

    spanish = passages(lang="es")
    assert ("atentado-harfuch", "es", "es") in spanish
    assert all(article_lang == "es" for _, _, article_lang in spanish)
    assert ("harfuch-quote", "es", "en") in passages(lang="en"), "a quote keeps its article's"
    by_passage = passages(lang="es", lang_scope="passage")
    assert {("atentado-harfuch", "es", "es"), ("harfuch-quote", "es", "en")} <= by_passage
    assert all(lang == "es" for _, lang, _ in by_passage)


def test_language_facets_follow_the_scope(client: TestClient) -> None:
    article = search(client, q="atentado", mode="lexical")["facets"]["lang"]
    passage = search(client, q="atentado", mode="lexical", lang_scope="passage")["facets"]["lang"]
    assert article == [{"value": "en", "count": 1}, {"value": "es", "count": 1}]
    assert passage == [{"value": "es", "count": 2}]


@pytest.mark.parametrize(
    ("query", "suggested", "corrections"),
    [
        ("Harfuch atentdo", "Harfuch atentado", [("atentdo", "atentado")]),
        ("flodding", "flooding", [("flodding", "flooding")]),
        ("Harfuch ATENTDO", "Harfuch atentado", [("ATENTDO", "atentado")]),
    ],
)
def test_did_you_mean_suggests_words_of_the_index(
    client: TestClient, query: str, suggested: str, corrections: list[tuple[str, str]]
) -> None:
    suggestion = search(client, q=query)["did_you_mean"]
    assert suggestion["query"] == suggested
    assert [(c["word"], c["suggestion"]) for c in suggestion["corrections"]] == corrections


@pytest.mark.parametrize(
    "query", ["Garcia Harfuch", "flooding", "the attack", "zzz", "ataque contra Harfuch"]
)
def test_no_suggestion_for_words_that_match_or_have_no_neighbour(
    client: TestClient, query: str
) -> None:
    assert search(client, q=query)["did_you_mean"] is None


def test_each_translation_of_the_query_can_be_left_out(client: TestClient) -> None:
    both = search(client, q="CJNG cartel")
    assert both["translations"] == {"en": "CJNG Poster", "es": "CJNG cártel"}
    spanish_only = search(client, q="CJNG cartel", skip_translation="en")
    assert spanish_only["translations"] == {"es": "CJNG cártel"}
    assert search(client, q="CJNG cartel", skip_translation="en,es")["translations"] == {}
    assert search(client, q="CJNG cartel", translate="false")["translations"] == {}


def test_export_csv_cites_every_result(client: TestClient) -> None:
    response = client.get(
        "/api/search", params={"q": "flooding", "mode": "lexical", "format": "csv"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="search-flooding.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["rank"] for r in rows] == ["1", "2", "3"]
    assert set(rows[0]) == {
        "rank", "title", "source", "date", "url", "article_link", "passage",
        "passage_lang", "article_lang", "match", "score",
    }  # fmt: skip
    formula = next(r for r in rows if "HYPERLINK" in r["title"])
    assert formula["title"].startswith("'="), "a formula-like cell is defused"
    flood = next(r for r in rows if r["title"] == "Flood warning in the north")
    assert flood["source"] == "reuters" and flood["date"] == "2024-05-01"
    assert flood["article_link"] == (
        "http://testserver/articles/flood-2024?passage=flood-2024%230&q=flooding#passage"
    )
    assert flood["passage"].startswith("Heavy flooding hit") and flood["match"] == "keyword"
    page = client.get("/", params={"q": "flooding", "mode": "lexical", "format": "csv"})
    assert page.status_code == 200 and page.text == response.text


def test_export_markdown_quotes_and_links(client: TestClient) -> None:
    response = client.get("/api/search", params={"q": "Harfuch", "format": "markdown"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    assert 'filename="search-harfuch.md"' in response.headers["content-disposition"]
    text = response.text
    assert text.startswith("# Search results: “Harfuch”\n")
    assert "1. **Harfuch speaks after the attack** — Reuters, 2020-07-14" in text
    assert "   - Original: <https://example.org/harfuch-speaks>" in text
    assert "   - In the archive: <http://testserver/articles/harfuch-quote?passage=" in text
    assert "   > Harfuch speaks after the attack" in text
    empty = client.get("/api/search", params={"q": "volcanic", "format": "markdown"}).text
    assert "No passage matched." in empty


def test_a_passage_is_machine_translated_on_demand(client: TestClient) -> None:
    plain = client.get("/api/articles/atentado-harfuch").json()
    [passage] = plain["passages"]
    assert passage["translation"] is None and passage["translatable_to"] == "en"
    translated = client.get("/api/articles/atentado-harfuch", params={"mt": "1"}).json()
    translation = translated["passages"][0]["translation"]
    assert translation["source_lang"] == "es" and translation["target_lang"] == "en"
    assert translation["text"].startswith("[es->en] El atentado contra García Harfuch")
    assert (translation["start"], translation["end"]) == (0, passage["own_end"])
    every = client.get("/api/articles/harfuch-quote", params={"mt": "all"}).json()
    assert [p["translation"]["target_lang"] for p in every["passages"]] == ["es", "en", "es"]
    page_json = client.get("/articles/harfuch-quote", params={"mt": "all", "format": "json"})
    assert page_json.json() == every


def test_docs_are_served_from_bundled_assets(client: TestClient) -> None:
    for path, script in (
        ("/docs", "/static-docs/swagger-ui-bundle.js"),
        ("/redoc", "/static-docs/redoc.standalone.js"),
    ):
        page = client.get(path)
        assert page.status_code == 200 and script in page.text
        assert "cdn" not in page.text.lower() and "<script>" not in page.text
        policy = page.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "unsafe-eval" not in policy
        assert client.get(script).status_code == 200
    assert client.get("/static-docs/swagger-ui.css").status_code == 200


def test_openapi_documents_the_new_parameters_and_fields(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
    parameters = {p["name"]: p for p in schema["paths"]["/api/search"]["get"]["parameters"]}
    assert parameters["sort"]["schema"]["enum"] == ["relevance", "date_desc", "date_asc"]
    assert parameters["lang_scope"]["schema"]["enum"] == ["article", "passage"]
    assert parameters["format"]["schema"]["enum"] == ["json", "csv", "markdown"]
    assert parameters["skip_translation"]["schema"]["type"] == "array"
    content = schema["paths"]["/api/search"]["get"]["responses"]["200"]["content"]
    assert {"application/json", "text/csv", "text/markdown"} <= set(content)
    body = schema["components"]["schemas"]["SearchBody"]["properties"]
    assert {"facets", "closest", "did_you_mean", "meaning_floor"} <= set(body)
    assert "/api/sources" in schema["paths"]


def test_the_page_lists_facet_values_beyond_the_first_behind_more(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import search.search_page

    monkeypatch.setattr(search.search_page, "_FACET_VALUES_SHOWN", 1)
    html = client.get("/", params={"q": "flooding", "mode": "lexical"}).text
    source = html[html.index('class="facet facet-source"') :]
    source = source[: source.index("</section>")]
    assert source.count('<details class="facet-more"><summary>2 more</summary>') == 1
    assert 'href="/?q=flooding&amp;mode=lexical&amp;source=Reuters"' in source
    assert '<span class="fv muted">No source</span>' in source


@pytest.mark.fast
@pytest.mark.parametrize("query", ["Ā", "búsqueda de café", "東京 flooding", 'x"; y'])
def test_export_filenames_survive_any_query(query: str) -> None:
    """Found by schemathesis: a non-Latin-1 query in the download name was a 500."""
    from urllib.parse import unquote

    from search.export import content_disposition

    header = content_disposition(f"search-{query}.csv")
    header.encode("latin-1")  # what an HTTP header must be
    fallback = header.split('filename="')[1].split('"')[0]
    assert fallback and '"' not in fallback
    assert unquote(header.split("filename*=UTF-8''")[1]) == f"search-{query}.csv"
