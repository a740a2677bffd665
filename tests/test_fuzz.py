"""Property-based fuzzing: the API from its own OpenAPI schema, and the query path.

Bounded so `make test` stays fast; the properties are "no 5xx" and "no exception".
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import positive_data_acceptance

from search.app import create_app
from search.engine import SearchEngine
from search.errors import BadQueryError
from search.filters import SearchFilters
from search.lexical import LexicalRetriever
from search.models import Mode, SearchRequest
from search.plan import QueryPlan
from search.query_parser import parse_query
from search.rendering import snippet_html
from tests.corpus import write_corpus


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, build, encoder, translator) -> SearchEngine:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("fuzz")
    build([write_corpus(root / "corpus")], root / "index", translation="off")
    return SearchEngine(root / "index", encoder=encoder, translator=translator)


@pytest.fixture(scope="module")
def app(engine: SearchEngine):  # type: ignore[no-untyped-def]
    return create_app(engine, reload_seconds=0)


# `FUZZ_SCALE=8 pytest tests/test_fuzz.py` runs eight times as many cases (the
# closing-note figure); the default keeps `make test` short.
FUZZ_SCALE = int(os.environ.get("FUZZ_SCALE", "1"))


@pytest.mark.parametrize(
    ("path", "method", "max_examples"),
    [
        ("/api/search", "GET", 150),
        ("/api/search", "HEAD", 20),
        ("/api/articles/{article_id}", "GET", 30),
        ("/api/health", "GET", 5),
    ],
)
def test_api_answers_as_its_schema_says(app, path: str, method: str, max_examples: int) -> None:  # type: ignore[no-untyped-def]
    """Cases generated from the app's own OpenAPI schema by schemathesis; every
    response is checked against the documented status codes, content types and
    bodies (schemathesis' default checks), and none is a 5xx."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operation = schema[path][method]
    client = TestClient(app)
    statuses: list[int] = []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=max_examples * FUZZ_SCALE,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case) -> None:  # type: ignore[no-untyped-def]
        response = case.call(session=client)
        statuses.append(response.status_code)
        assert response.status_code < 500, (case.path, case.query, response.text[:500])
        # Excluded: "a schema-valid request is accepted". OpenAPI cannot state our
        # cross-parameter rules (alpha needs fusion=weighted, date_from <= date_to,
        # lang must be a language of the index), so those 400s are right.
        case.validate_response(response, excluded_checks=[positive_data_acceptance])
        if response.status_code >= 400 and method == "GET":
            error = response.json()["error"]
            assert error["status"] == response.status_code and error["message"]

    check()
    print(f"\n{method} {path}: {len(statuses)} requests, statuses {sorted(set(statuses))}")


_hostile = st.one_of(
    st.text(max_size=200),
    st.lists(
        st.sampled_from(
            [
                '"',
                "-",
                "*",
                "AND",
                "OR",
                "NOT",
                "(",
                ")",
                ":",
                "lang:es",
                "title:",
                "\\",
                "http://a.b/c?d=e",
                "^2",
                "~1",
                "[a TO b]",
                "García",
                "extorsión",
                "\x00",
                "«",
                "»",
                "+",
                "' OR 1=1 --",
                "<script>",
                "𝔘𝔫𝔦",
                "ﬁ",
            ]
        ),
        max_size=12,
    ).map(" ".join),
)


@given(text=_hostile)
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
def test_lexical_query_building_never_raises(engine: SearchEngine, text: str) -> None:
    lexical = LexicalRetriever(engine.snapshot)
    parsed = parse_query(text)
    constraints = lexical.constraints(parsed)
    lexical.build_query(QueryPlan(parsed, constraints=constraints))
    lexical.search(
        QueryPlan(parsed, constraints=constraints, filters=SearchFilters(langs=("es",))), 10
    )


@given(text=_hostile, mode=st.sampled_from(["lexical", "hybrid"]))
@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
def test_engine_search_raises_only_bad_query(engine: SearchEngine, text: str, mode: Mode) -> None:
    try:
        response = engine.search(SearchRequest(query=text, mode=mode, limit=5, translate=False))
    except BadQueryError as error:
        assert error.parameter == "q"
        return
    for result in response.results:
        assert "<script>" not in str(snippet_html(result))
        assert all(0 <= h.start < h.end <= len(result.text) for h in result.highlights)
