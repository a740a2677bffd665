"""A real uvicorn server: HTTP end to end, hot reload, refusal to start without an index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from search.app import create_app
from search.background_server import serve
from search.engine import SearchEngine
from search.errors import IndexNotFoundError
from tests.conftest import REPO_ROOT
from tests.corpus import write_corpus


def test_search_over_real_http(tmp_path: Path, build, encoder) -> None:  # type: ignore[no-untyped-def]
    build([write_corpus(tmp_path / "corpus")], tmp_path / "index", translation="off")
    engine = SearchEngine(tmp_path / "index", encoder=encoder)
    with serve(create_app(engine, reload_seconds=0)) as base_url:
        response = httpx.get(f"{base_url}/api/search", params={"q": "huracán Acapulco"})
        assert response.status_code == 200
        assert response.json()["results"][0]["article_id"] in {"es/huracan.txt", "en/hurricane.txt"}
        bad = httpx.get(f"{base_url}/api/search", params={"q": "x", "limit": 500})
        assert bad.status_code == 400 and bad.json()["error"]["parameter"] == "limit"
        assert httpx.get(f"{base_url}/api/health").json()["passages"] > 0


def test_hot_reload_without_failed_or_mixed_requests(tmp_path: Path, build, encoder) -> None:  # type: ignore[no-untyped-def]
    corpus = write_corpus(tmp_path / "corpus")
    index_dir = tmp_path / "index"
    build([corpus], index_dir, translation="off")
    engine = SearchEngine(index_dir, encoder=encoder)
    first_generation = engine.snapshot.generation
    failures: list[str] = []
    seen_generations: set[str] = set()
    stop = threading.Event()

    def hammer(base_url: str) -> None:
        with httpx.Client(base_url=base_url, timeout=30) as http:
            while not stop.is_set():
                response = http.get("/api/search", params={"q": "volcano eruption", "limit": 20})
                if response.status_code != 200:
                    failures.append(response.text)
                    continue
                body = response.json()
                seen_generations.add(body["generation"])
                ids = {r["article_id"] for r in body["results"]}
                # a request sees one generation: the new article only in the new one
                if body["generation"] == first_generation and "en/volcano.txt" in ids:
                    failures.append("old generation returned an article it does not have")

    with serve(create_app(engine, reload_seconds=0.2)) as base_url:
        worker = threading.Thread(target=hammer, args=(base_url,))
        worker.start()
        (corpus / "en" / "volcano.txt").write_text(
            "Volcano erupts\n\nThe volcano erupted at dawn, covering villages in ash.",
            encoding="utf-8",
        )
        build([corpus], index_dir, translation="off")
        deadline = time.monotonic() + 15
        found = False
        while time.monotonic() < deadline and not found:
            body = httpx.get(f"{base_url}/api/search", params={"q": "volcano erupted"}).json()
            # before the new generation nothing matches: no results at all
            found = [r["article_id"] for r in body["results"][:1]] == ["en/volcano.txt"]
            time.sleep(0.1)
        time.sleep(0.5)
        stop.set()
        worker.join(timeout=30)
    assert found, "the new generation was not served within 15 s"
    assert not failures, failures[:3]
    assert first_generation in seen_generations and len(seen_generations) == 2


def test_engine_refuses_missing_index(tmp_path: Path, encoder) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IndexNotFoundError) as caught:
        SearchEngine(tmp_path / "nothing", encoder=encoder)
    message = str(caught.value)
    assert str(tmp_path / "nothing") in message and "python -m indexer build" in message


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_serve_refuses_to_start_without_a_good_index(tmp_path: Path, build, damage: str) -> None:  # type: ignore[no-untyped-def]
    index_dir = tmp_path / "index"
    if damage == "corrupt":
        build([write_corpus(tmp_path / "corpus")], index_dir, translation="off")
        (index_dir / "current" / "vectors.f32").write_bytes(b"short")  # rows missing
    env = {**os.environ, "SEARCH_QUERY_TRANSLATION": "off"}
    result = subprocess.run(
        [sys.executable, "-m", "search", "serve", "--index", str(index_dir), "--port", "0"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert str(index_dir) in result.stderr
    assert "python -m indexer build" in result.stderr
    assert "Traceback" not in result.stderr


def _raw_request(base_url: str, request_line: str) -> bytes:
    """Send one request over a plain socket (httpx refuses URLs over 64 kB); the reply."""
    import socket

    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(f"{request_line}\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk
    return reply


@pytest.mark.parametrize("size", [20_000, 150_000, 900_000])
def test_a_huge_query_string_gets_a_414_with_the_json_error(fake_server: str, size: int) -> None:
    reply = _raw_request(fake_server, f"GET /api/search?q={'a' * size} HTTP/1.1")
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 414"), head[:200]
    error = json.loads(body)["error"]
    assert error["code"] == "uri_too_long" and "the limit is 16384" in error["message"]


def test_a_head_over_a_mebibyte_is_refused_and_the_server_goes_on(fake_server: str) -> None:
    import socket

    host, port = fake_server.removeprefix("http://").split(":")
    head = f"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: {'a' * (2 << 20)}\r\n\r\n"
    reply = b""
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        try:
            connection.sendall(head.encode())
            while chunk := connection.recv(65536):
                reply += chunk
        except ConnectionError:  # closed while we still sent: the kernel resets
            pass
    if reply:  # the 431 arrived before any reset
        status, _, body = reply.partition(b"\r\n\r\n")
        assert status.startswith(b"HTTP/1.1 431"), status[:200]
        assert json.loads(body)["error"]["code"] == "head_too_large"
    assert httpx.get(fake_server + "/api/health").status_code == 200


def test_heads_are_bounded_per_request_not_per_connection(fake_server: str) -> None:
    # 40 requests of 40 kB heads on one connection: 1.6 MB in all, each well in bounds
    with httpx.Client(base_url=fake_server) as client:
        for _ in range(40):
            response = client.get("/api/health", headers={"x-padding": "a" * 40_000})
            assert response.status_code == 200


@pytest.mark.parametrize("path", ["/api/search?q=hurricane", "/?q=hurricane", "/api/health",
                                  "/articles/en/hurricane.txt", "/static/app.css"])  # fmt: skip
def test_head_answers_like_get_without_a_body(fake_server: str, path: str) -> None:
    got = httpx.get(fake_server + path)
    head = httpx.head(fake_server + path)
    assert got.status_code == head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]


@pytest.mark.parametrize("path", ["/api/search?q=a", "/", "/api/health", "/articles/x"])
def test_every_405_says_what_is_allowed(fake_server: str, path: str) -> None:
    response = httpx.post(fake_server + path)
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}
    assert response.json()["error"]["status"] == 405


def test_serve_fails_at_once_when_the_port_is_taken(tmp_path: Path) -> None:
    """Before loading any index or model: the index directory does not even exist."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "search", "serve", "--index", str(tmp_path / "none"),
             "--port", str(port)],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert result.returncode == 1
    assert f"error: Cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_query_cli_exits_quietly_when_its_reader_leaves(tmp_path: Path, build) -> None:  # type: ignore[no-untyped-def]
    """`python -m search query ... | head -c 10`: no BrokenPipeError traceback. The
    output (100 results) is far larger than a pipe's buffer, so the writer must
    meet the closed pipe."""
    storms = {
        f"storm-{n}.txt": f"Storm report {n}\n\n" + "The hurricane brought rain and wind. " * 40
        for n in range(100)
    }
    build([write_corpus(tmp_path / "corpus", storms)], tmp_path / "index", translation="off")
    command = (
        f"{sys.executable} -m search query hurricane --limit 100 --json "
        f"--index {tmp_path / 'index'} | head -c 10"
    )
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], cwd=REPO_ROOT, capture_output=True,
        text=True, timeout=300, check=False,
        env={**os.environ, "SEARCH_QUERY_TRANSLATION": "off"},
    )  # fmt: skip
    assert result.stdout == '{\n  "query'
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr
    assert result.returncode == 0


def test_overload_is_answered_503_at_once_and_the_rest_are_served(tmp_path: Path) -> None:
    """One worker and no queue: a second search is refused with 503 and Retry-After
    while the first is held inside the encoder; health still answers."""
    from tests.fake_encoder import FakeEncoder, build_fake_index

    class GatedEncoder(FakeEncoder):
        """Encodes only once the test opens the gate (queries only; the build is done)."""

        def __init__(self) -> None:
            super().__init__()
            self.gate = threading.Event()
            self.entered = threading.Event()

        def encode(self, texts, *, batch_size: int = 32):  # type: ignore[no-untyped-def]
            self.entered.set()
            self.gate.wait(timeout=60)
            return super().encode(texts, batch_size=batch_size)

    encoder = GatedEncoder()
    build_fake_index([write_corpus(tmp_path / "corpus")], tmp_path / "index")  # ungated
    engine = SearchEngine(tmp_path / "index", encoder=encoder)
    statuses: dict[str, int] = {}

    def ask(base_url: str, query: str) -> None:
        statuses[query] = httpx.get(
            f"{base_url}/api/search", params={"q": query}, timeout=60
        ).status_code

    with serve(create_app(engine, reload_seconds=0, workers=1, queue=0)) as base_url:
        first = threading.Thread(target=ask, args=(base_url, "hurricane"))
        first.start()
        assert encoder.entered.wait(timeout=60)  # the first request holds the only worker
        refused = httpx.get(f"{base_url}/api/search", params={"q": "voters"}, timeout=60)
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["error"]["code"] == "overloaded"
        assert httpx.get(f"{base_url}/api/health").status_code == 200  # never refused
        encoder.gate.set()
        first.join(timeout=60)
        ask(base_url, "voters")  # capacity is back
    assert statuses == {"hurricane": 200, "voters": 200}
