"""A real uvicorn server: HTTP end to end, hot reload, refusal to start without an index."""

from __future__ import annotations

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
            found = body["results"][0]["article_id"] == "en/volcano.txt"
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
        (index_dir / "current" / "embeddings.npy").write_bytes(b"not numpy")
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
