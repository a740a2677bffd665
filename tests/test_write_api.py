"""The write API through the real app and a real index on disk (hashing stand-in
encoder): a write is searchable when it answers, bad requests get a 4xx in the one
error shape, and the start-up rule keeps an open address from taking writes
without a token.

`reload_seconds=0` everywhere: no background reload, so a change seen by the next
search was made live by the write itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from indexer.layout import IndexLayout
from indexer.manifest import Manifest
from indexer.update import apply_change
from search.app import create_app
from search.background_server import serve
from search.cli import main
from search.engine import SearchEngine
from search.settings import ServiceSettings
from search.write_api import WriteAccess
from tests.conftest import REPO_ROOT
from tests.corpus import write_corpus
from tests.fake_encoder import FakeEncoder, build_fake_index

pytestmark = pytest.mark.fast

TOKEN = "a-test-token-of-32-characters-xx"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
VOLCANO = {
    "title": "Volcano wakes up",
    "text": "The volcano erupted at dawn and covered the villages in grey ash.",
    "date": "2024-03-01",
    "source": "Island Herald",
    "url": "https://example.org/volcano",
}


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    build_fake_index([write_corpus(tmp_path / "corpus")], tmp_path / "index")
    return tmp_path / "index"


def writable_app(index_dir: Path, **access: Any) -> Any:
    engine = SearchEngine(index_dir, encoder=FakeEncoder())  # type: ignore[arg-type]
    return create_app(engine, reload_seconds=0, writes=WriteAccess(**{"token": TOKEN, **access}))


@pytest.fixture
def client(index_dir: Path):  # type: ignore[no-untyped-def]
    with TestClient(writable_app(index_dir)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def unchanged(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One app for the requests that must change nothing (each test checks it)."""
    root = tmp_path_factory.mktemp("unchanged")
    build_fake_index([write_corpus(root / "corpus")], root / "index")
    with TestClient(writable_app(root / "index")) as test_client:
        yield test_client


def found_ids(client: TestClient, query: str) -> list[str]:
    response = client.get("/api/search", params={"q": query, "mode": "lexical", "limit": 50})
    assert response.status_code == 200, response.text
    return [result["article_id"] for result in response.json()["results"]]


def served_generation(client: TestClient) -> str:
    return str(client.get("/api/health").json()["generation"])


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"status", "code", "parameter", "message"}
    assert error["status"] == status and error["code"] == code and error["message"]
    return error


# -- writes are live when they answer ----------------------------------------------


def test_a_new_article_is_searchable_when_the_put_answers(client: TestClient) -> None:
    before = served_generation(client)
    assert found_ids(client, "volcano erupted") == []
    response = client.put("/api/articles/news/volcano-1", json=VOLCANO, headers=AUTH)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["article_id"] == "news/volcano-1" and body["added"] == ["news/volcano-1"]
    assert body["replaced"] == [] and body["removed"] == []
    assert body["passages"] >= 1 and body["generation"] != before
    assert served_generation(client) == body["generation"]
    assert found_ids(client, "volcano erupted") == ["news/volcano-1"]
    article = client.get("/api/articles/news/volcano-1").json()
    assert article["title"] == "Volcano wakes up" and article["source"] == "Island Herald"
    assert article["date"] == "2024-03-01" and article["url"] == VOLCANO["url"]
    live = IndexLayout(client.app.state.engine.index_dir).live_generation()  # type: ignore[attr-defined]
    assert Manifest.read(live.manifest).change["kind"] == "api"


def test_a_put_with_the_same_id_replaces_the_article(client: TestClient) -> None:
    first = client.put("/api/articles/volcano", json=VOLCANO, headers=AUTH)
    assert first.status_code == 201
    changed = {"title": "Volcano calms", "text": "Lava stopped flowing; the glacier is quiet."}
    second = client.put("/api/articles/volcano", json=changed, headers=AUTH)
    assert second.status_code == 200, second.text
    assert second.json()["replaced"] == ["volcano"] and second.json()["added"] == []
    assert found_ids(client, "erupted") == []
    assert found_ids(client, "glacier") == ["volcano"]
    assert client.get("/api/articles/volcano").json()["title"] == "Volcano calms"


def test_delete_removes_the_article_and_then_answers_404(client: TestClient) -> None:
    assert "en/hurricane.txt" in found_ids(client, "Acapulco")
    response = client.delete("/api/articles/en/hurricane.txt", headers=AUTH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["removed"] == ["en/hurricane.txt"] and body["passages"] == 0
    assert "en/hurricane.txt" not in found_ids(client, "Acapulco")
    assert client.get("/api/articles/en/hurricane.txt").status_code == 404
    again = client.delete("/api/articles/en/hurricane.txt", headers=AUTH)
    assert assert_error(again, 404, "article_not_found")["parameter"] == "article_id"
    assert served_generation(client) == body["generation"]


def test_an_integer_body_id_equal_to_the_url_is_accepted(client: TestClient) -> None:
    response = client.put(
        "/api/articles/42", json={"id": 42, "text": "Solar eclipse"}, headers=AUTH
    )
    assert response.status_code == 201, response.text
    assert found_ids(client, "eclipse") == ["42"]
    assert client.get("/api/articles/42").json()["title"] == "Solar eclipse"  # derived


def test_a_sync_of_folders_never_removes_an_article_written_through_the_api(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its origin names no file: made absolute it would lie under the folder synced
    from the working directory, and the sync would remove it as a file gone."""
    from indexer.articles import SizeLimit
    from indexer.sync import plan_sync

    assert client.put("/api/articles/volcano", json=VOLCANO, headers=AUTH).status_code == 201
    monkeypatch.chdir(tmp_path / "corpus")
    report = apply_change(
        client.app.state.engine.index_dir,  # type: ignore[attr-defined]
        lambda stored: plan_sync([Path(".")], stored, size_limit=SizeLimit()),
        encoder=FakeEncoder(),  # type: ignore[arg-type]
    )
    assert "volcano" not in report.removed
    client.app.state.engine.reload_now()  # type: ignore[attr-defined]
    assert found_ids(client, "volcano erupted") == ["volcano"]


# -- who may write -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "unauthorized"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401, "unauthorized"),
        ({"Authorization": "Bearer"}, 401, "unauthorized"),
        ({"Authorization": "Bearer wrong-token-of-enough-length"}, 403, "forbidden"),
        ({"Authorization": f"Bearer {TOKEN}x"}, 403, "forbidden"),
        ({"Authorization": "Bearer tökén".encode()}, 403, "forbidden"),
    ],
)
def test_writes_need_the_token(
    unchanged: TestClient, headers: dict[str, Any], status: int, code: str
) -> None:
    client = unchanged
    before = served_generation(client)
    for response in (
        client.put("/api/articles/volcano", json=VOLCANO, headers=headers),
        client.delete("/api/articles/en/hurricane.txt", headers=headers),
    ):
        assert_error(response, status, code)
        if status == 401:
            assert response.headers["www-authenticate"] == "Bearer"
    assert served_generation(client) == before
    assert "en/hurricane.txt" in found_ids(client, "Acapulco")


def test_without_write_access_the_routes_are_absent(index_dir: Path) -> None:
    engine = SearchEngine(index_dir, encoder=FakeEncoder())  # type: ignore[arg-type]
    with TestClient(create_app(engine, reload_seconds=0)) as read_only:
        for method in ("PUT", "DELETE"):
            response = read_only.request(method, "/api/articles/en/hurricane.txt", headers=AUTH)
            assert_error(response, 405, "method_not_allowed")
            assert response.headers["allow"] == "GET, HEAD"
        paths = read_only.get("/openapi.json").json()["paths"]
        assert set(paths["/api/articles/{article_id}"]) == {"get", "head"}
        assert "en/hurricane.txt" in found_ids(read_only, "Acapulco")


def test_the_openapi_document_describes_the_writes(unchanged: TestClient) -> None:
    client = unchanged
    document = client.get("/openapi.json").json()
    operations = document["paths"]["/api/articles/{article_id}"]
    assert set(operations) == {"get", "head", "put", "delete"}
    put = operations["put"]
    schema = put["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["text"] and "date" in schema["properties"]
    assert {"200", "201", "400", "401", "403", "413", "422", "503"} <= set(put["responses"])
    assert {"200", "401", "403", "404", "503"} <= set(operations["delete"]["responses"])
    assert put["security"] == operations["delete"]["security"] == [{"HTTPBearer": []}]
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "security" not in operations["get"]


def test_without_a_token_only_a_loopback_host_may_write(index_dir: Path) -> None:
    """The loopback mode (no token): a page on a name that resolves to 127.0.0.1
    (DNS rebinding) sends that name as Host, and is refused."""
    app = writable_app(index_dir, token=None)
    with TestClient(app, base_url="http://localhost:8000") as local:
        assert local.put("/api/articles/volcano", json=VOLCANO).status_code == 201
        assert local.put("/api/articles/v2", json=VOLCANO, headers=AUTH).status_code == 201
        refused = local.put(
            "/api/articles/volcano", json=VOLCANO, headers={"Host": "evil.example:8000"}
        )
        assert "loopback" in assert_error(refused, 403, "forbidden")["message"]
        operations = local.get("/openapi.json").json()["paths"]["/api/articles/{article_id}"]
        assert "security" not in operations["put"]
    with TestClient(app, base_url="http://127.0.0.1") as numeric:
        assert numeric.delete("/api/articles/volcano").status_code == 200


# -- bad requests ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "status", "code", "parameter"),
    [
        ("volcano", b"{not json", 400, "bad_parameter", "body"),
        ("volcano", b"", 400, "bad_parameter", "body"),
        ("volcano", b"\xff\xfe{}", 400, "bad_parameter", "body"),
        ("volcano", b"[" * 100_000, 400, "bad_parameter", "body"),
        ("volcano", b'{"text": 1' + b"0" * 5000 + b"}", 400, "bad_parameter", "body"),
        ("volcano", b'["a", "b"]', 422, "invalid_article", None),
        ("volcano", b'"just text"', 422, "invalid_article", None),
        ("volcano", b'{"title": "No text"}', 422, "invalid_article", None),
        ("volcano", b'{"text": "   "}', 422, "invalid_article", None),
        ("volcano", b'{"text": ["a"]}', 422, "invalid_article", None),
        ("volcano", b'{"text": "x", "title": 7}', 422, "invalid_article", None),
        ("volcano", b'{"text": "x", "date": "yesterday"}', 422, "invalid_article", None),
        ("volcano", b'{"text": "x", "date": "1500-01-01"}', 422, "invalid_article", None),
        ("volcano", b'{"text": "x \\ud800"}', 422, "invalid_article", None),
        ("volcano", b'{"text": "x", "titel": "typo"}', 422, "invalid_article", "titel"),
        ("volcano", b'{"text": "x", "id": "other"}', 400, "bad_parameter", "id"),
        ("volcano", b'{"text": "x", "id": true}', 400, "bad_parameter", "id"),
        ("%20volcano", b'{"text": "x"}', 400, "bad_parameter", "article_id"),
        ("", b'{"text": "x"}', 400, "bad_parameter", "article_id"),
    ],
)
def test_bad_bodies_get_a_4xx_that_says_why_and_change_nothing(
    unchanged: TestClient, path: str, body: bytes, status: int, code: str, parameter: str | None
) -> None:
    client = unchanged
    before = served_generation(client)
    headers = {**AUTH, "Content-Type": "application/json"}
    response = client.put(f"/api/articles/{path}", content=body, headers=headers)
    assert assert_error(response, status, code)["parameter"] == parameter
    assert served_generation(client) == before


def test_messages_name_the_rule_broken(unchanged: TestClient) -> None:
    client = unchanged

    def message(body: dict[str, Any], path: str = "volcano") -> str:
        response = client.put(f"/api/articles/{path}", json=body, headers=AUTH)
        return str(response.json()["error"]["message"])

    assert "'text'" in message({"title": "t"})
    assert "'date' 'yesterday' is not an ISO 8601 date" in message(
        {"text": "x", "date": "yesterday"}
    )
    assert "ignored" not in message({"text": "x", "date": "yesterday"})
    assert "'title' must be a string, not int" in message({"text": "x", "title": 7})
    assert "'titel'" in message({"text": "x", "titel": "t"})
    assert "'other'" in message({"text": "x", "id": "other"})


def test_size_limits_answer_413(index_dir: Path) -> None:
    with TestClient(writable_app(index_dir, max_article_mb=0.001)) as small:  # 1,000 bytes
        before = served_generation(small)
        long_text = {"text": "lava " * 300}  # 1,500 bytes: the body is within its allowance
        response = small.put("/api/articles/long", json=long_text, headers=AUTH)
        assert assert_error(response, 413, "article_too_large")["parameter"] == "text"
        huge = {"text": "lava " * 20_000}  # 100 kB: refused from the body's size
        assert_error(
            small.put("/api/articles/huge", json=huge, headers=AUTH), 413, "payload_too_large"
        )
        assert (
            small.put("/api/articles/ok", json={"text": "lava " * 100}, headers=AUTH).status_code
            == 201
        )
        assert served_generation(small) != before


def test_a_busy_writer_answers_503_with_retry_after(client: TestClient) -> None:
    before = served_generation(client)
    index_dir = client.app.state.engine.index_dir  # type: ignore[attr-defined]
    with IndexLayout(index_dir).build_lock():  # a build or `indexer sync` in another process
        response = client.put("/api/articles/volcano", json=VOLCANO, headers=AUTH)
        error = assert_error(response, 503, "writer_busy")
        assert "Another build is running" in error["message"]
        assert int(response.headers["retry-after"]) > 0
        assert_error(
            client.delete("/api/articles/en/hurricane.txt", headers=AUTH), 503, "writer_busy"
        )
    assert served_generation(client) == before
    assert client.put("/api/articles/volcano", json=VOLCANO, headers=AUTH).status_code == 201


# -- concurrency over real HTTP ----------------------------------------------------


def test_concurrent_writes_are_serialised_and_searches_go_on(index_dir: Path) -> None:
    ids = [f"wave/{n}" for n in range(6)]
    statuses: list[int] = []
    generations: list[str] = []
    search_failures: list[str] = []
    stop = threading.Event()

    def put(base_url: str, article_id: str) -> None:
        body = {"title": f"Wave {article_id}", "text": f"Tsunami wave number {article_id}."}
        response = httpx.put(
            f"{base_url}/api/articles/{article_id}", json=body, headers=AUTH, timeout=60
        )
        statuses.append(response.status_code)
        generations.append(response.json().get("generation", ""))

    def search(base_url: str) -> None:
        while not stop.is_set():
            response = httpx.get(f"{base_url}/api/search", params={"q": "hurricane"}, timeout=60)
            if response.status_code != 200:
                search_failures.append(response.text)

    with serve(writable_app(index_dir)) as base_url:
        reader = threading.Thread(target=search, args=(base_url,))
        reader.start()
        writers = [threading.Thread(target=put, args=(base_url, i)) for i in ids]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(timeout=120)
        stop.set()
        reader.join(timeout=60)
        found = httpx.get(
            f"{base_url}/api/search", params={"q": "tsunami", "mode": "lexical", "limit": 50}
        ).json()
    assert statuses == [201] * len(ids)
    assert sorted(r["article_id"] for r in found["results"]) == sorted(ids)
    assert not search_failures, search_failures[:2]
    assert len(set(generations)) == len(ids)  # one after another, each its own


# -- the start-up rule -------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1", True), ("127.8.9.1", True), ("localhost", True), ("::1", True),
        ("[::1]", True), ("0.0.0.0", False), ("::", False), ("192.168.1.20", False),
        ("search.example.org", False),
    ],
)  # fmt: skip
def test_writes_without_a_token_are_allowed_on_loopback_only(host: str, allowed: bool) -> None:
    from indexer.errors import SettingsError

    settings = ServiceSettings.from_env({"SEARCH_WRITES": "on", "SEARCH_HOST": host})
    if allowed:
        settings.check_writes()
    else:
        with pytest.raises(SettingsError, match="SEARCH_WRITE_TOKEN"):
            settings.check_writes()
    with_token = ServiceSettings.from_env(
        {"SEARCH_WRITES": "on", "SEARCH_HOST": host, "SEARCH_WRITE_TOKEN": TOKEN}
    )
    with_token.check_writes()
    assert TOKEN not in repr(with_token)
    ServiceSettings.from_env({"SEARCH_HOST": host}).check_writes()  # writes off: no rule


@pytest.mark.parametrize(
    ("argv", "env", "named"),
    [
        (["--host", "0.0.0.0", "--allow-writes"], {}, "SEARCH_WRITE_TOKEN"),
        (["--host", "0.0.0.0"], {"SEARCH_WRITES": "on"}, "SEARCH_WRITE_TOKEN"),
        (["--allow-writes"], {"SEARCH_HOST": "::"}, "SEARCH_WRITE_TOKEN"),
        ([], {"SEARCH_WRITE_TOKEN": "short"}, "SEARCH_WRITE_TOKEN is 5 characters"),
        ([], {"SEARCH_WRITE_TOKEN": "sixteen chars but spaces"}, "without spaces"),
        ([], {"SEARCH_WRITES": "sometimes"}, "SEARCH_WRITES='sometimes'"),
    ],
)
def test_serve_refuses_to_start_with_unsafe_or_bad_write_settings(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    env: dict[str, str],
    named: str,
) -> None:
    """Through the command line's main, before any index is read (there is none)."""
    for name in ("SEARCH_WRITES", "SEARCH_WRITE_TOKEN", "SEARCH_HOST"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main(["serve", "--index", str(tmp_path / "none"), "--port", "0", *argv])
    error = capsys.readouterr().err
    assert code == 2 and error.startswith("error: ") and named in error
    assert "Traceback" not in error
    assert env.get("SEARCH_WRITE_TOKEN", "no token") not in error  # a secret is never echoed


def test_serve_on_all_addresses_with_writes_and_no_token_exits_2(tmp_path: Path) -> None:
    """The real command, as a pipeline's operator would type it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEARCH_WRITE")}
    result = subprocess.run(
        [sys.executable, "-m", "search", "serve", "--host", "0.0.0.0", "--allow-writes",
         "--index", str(tmp_path / "none"), "--port", "0"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False, env=env,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "0.0.0.0" in result.stderr and "SEARCH_WRITE_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr
