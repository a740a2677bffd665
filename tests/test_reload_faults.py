"""Faults of a new generation: a real tantivy index with a damaged segment.

The damage is what a failing disk leaves: eight bytes flipped inside a segment
file, its footer intact. tantivy then panics (a `BaseException` from pyo3) while
opening it, or only when a query reads the damaged postings.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from indexer.layout import IndexLayout
from search.app import create_app
from search.engine import SearchEngine
from search.errors import IndexCorruptError
from search.models import SearchRequest
from tests.conftest import REPO_ROOT
from tests.corpus import ARTICLES, write_corpus
from tests.fake_encoder import FakeEncoder, build_fake_index

pytestmark = pytest.mark.fast
ENCODER = FakeEncoder()


def _build(index_dir: Path, corpus: Path) -> str:
    return build_fake_index([corpus], index_dir, encoder=ENCODER).manifest.generation


def _flip_bytes(path: Path, *, from_end: int) -> None:
    data = bytearray(path.read_bytes())
    for i in range(len(data) - from_end, len(data) - from_end + 8):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def _damage_fast_field(index_dir: Path) -> None:
    """Makes tantivy panic while opening the segment (found by flipping bytes)."""
    segment = next(IndexLayout(index_dir).live_generation().tantivy.glob("*.fast"))
    _flip_bytes(segment, from_end=130)


def _point_current_at(index_dir: Path, generation: str) -> None:
    temporary = index_dir / "current.tmp"
    os.symlink(Path("generations") / generation, temporary)
    os.replace(temporary, index_dir / "current")


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    """A bounded wait for the watcher (it polls every 0.05 s); not a timing claim."""
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for: {what}"
        time.sleep(0.05)


def test_a_panicking_generation_never_stops_hot_reload(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    index_dir = tmp_path / "index"
    first = _build(index_dir, corpus)
    engine = SearchEngine(index_dir, encoder=ENCODER)
    broken = _build(index_dir, corpus)
    _damage_fast_field(index_dir)

    with TestClient(create_app(engine, reload_seconds=0.05)) as client:

        def health() -> dict:  # type: ignore[type-arg]
            return client.get("/api/health").json()

        def complaints() -> list[str]:
            return [d for d in health()["degraded"] if "could not be loaded" in d]

        _wait_for(lambda: bool(complaints()), "the damaged generation to be reported")
        [complaint] = complaints()
        assert f"generation {broken} could not be loaded" in complaint
        assert "tantivy panicked" in complaint
        assert health()["generation"] == first  # the old one still serves
        assert client.get("/api/search", params={"q": "hurricane"}).status_code == 200

        _point_current_at(index_dir, first)  # an operator rolls back
        _wait_for(lambda: not complaints(), "the report to clear after the rollback")
        assert health()["generation"] == first

        (corpus / "en" / "volcano.txt").write_text("Volcano erupts\n\nLava flows.", "utf-8")
        fixed = _build(index_dir, corpus)  # a later good generation is still picked up
        _wait_for(lambda: health()["generation"] == fixed, "the good generation")
        assert not complaints()
        results = client.get("/api/search", params={"q": "volcano lava"}).json()["results"]
        assert results[0]["article_id"] == "en/volcano.txt"


def test_a_query_that_reaches_damaged_postings_is_a_json_500(tmp_path: Path) -> None:
    """Flipped bytes in the middle of the postings: opening works, one word panics."""
    index_dir = tmp_path / "index"
    _build(index_dir, write_corpus(tmp_path / "corpus", ARTICLES))
    postings = next(IndexLayout(index_dir).live_generation().tantivy.glob("*.idx"))
    data = bytearray(postings.read_bytes())
    middle = (len(data) - 40) // 2
    for i in range(middle, middle + 16):
        data[i] ^= 0xFF
    postings.write_bytes(bytes(data))
    engine = SearchEngine(index_dir, encoder=ENCODER)
    statuses = {}
    with TestClient(create_app(engine, reload_seconds=0)) as client:
        for word in ("hurricane", "voters", "ataque", "huracán", "extorsión", "cartel"):
            response = client.get("/api/search", params={"q": word, "mode": "lexical"})
            statuses[word] = response.status_code
            if response.status_code == 500:
                error = response.json()["error"]
                assert error["code"] == "index_corrupt" and "tantivy panicked" in error["message"]
    assert 500 in statuses.values() and 200 in statuses.values(), statuses
    with pytest.raises(IndexCorruptError):
        word = next(w for w, status in statuses.items() if status == 500)
        engine.search(SearchRequest(query=word, mode="lexical"))


def test_serve_on_a_damaged_index_says_error_in_one_line(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    _build(index_dir, write_corpus(tmp_path / "corpus"))
    _damage_fast_field(index_dir)
    result = subprocess.run(
        [sys.executable, "-m", "search", "serve", "--index", str(index_dir), "--port", "0"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "error: The index in" in result.stderr and "tantivy panicked" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_reload_reads_article_facts_before_serving_the_new_generation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Facts (per-row language, source, date) are read once per generation: by
    `warm_up` in the background at start, by the reload itself afterwards, so no
    search pays for them (3.5 s at a million passages)."""
    from search.article_facts import ArticleFacts

    corpus = write_corpus(tmp_path / "corpus")
    index_dir = tmp_path / "index"
    _build(index_dir, corpus)
    engine = SearchEngine(index_dir, encoder=ENCODER)
    engine.warm_up()
    _wait_for(lambda: not engine.health().warming, "warm-up's background work")
    read_by: list[str] = []
    real_of = ArticleFacts.of

    def counting(snapshot):  # type: ignore[no-untyped-def]
        import threading

        read_by.append(threading.current_thread().name)
        return real_of(snapshot)

    monkeypatch.setattr(ArticleFacts, "of", staticmethod(counting))
    engine.search(SearchRequest(query="hurricane"))
    assert read_by == []  # warm-up read them

    (corpus / "en" / "volcano.txt").write_text("Volcano erupts\n\nLava flows.", "utf-8")
    _build(index_dir, corpus)
    assert engine.reload_if_changed()
    assert read_by == ["MainThread"]  # the reload, before the new generation served
    results = engine.search(SearchRequest(query="volcano lava")).results
    assert results[0].article_id == "en/volcano.txt"
    assert read_by == ["MainThread"]  # and the search did not read them again


def test_a_failed_load_waits_for_the_encoder_it_started(tmp_path: Path) -> None:
    """The encoder opens on another thread while the snapshot loads. When the load
    fails, the error waits for that thread: `serve` exits on it, and a process that
    exits during ONNX Runtime's session creation aborts (SIGABRT, not exit code 1)."""
    import threading

    from indexer.analysis import Analyzers
    from search.generation import EncoderPool, LiveGeneration

    index_dir = tmp_path / "index"
    _build(index_dir, write_corpus(tmp_path / "corpus"))
    (index_dir / "current" / "vectors.f32").write_bytes(b"short")  # rows missing
    started, finished = threading.Event(), threading.Event()

    def slow_load(index_dir: Path, manifest):  # type: ignore[no-untyped-def]
        started.set()
        time.sleep(0.5)  # a model load, slower than the failing snapshot
        finished.set()
        return ENCODER

    with pytest.raises(IndexCorruptError):
        LiveGeneration(index_dir, analyzers=Analyzers.create(), encoders=EncoderPool(slow_load))
    assert started.is_set() and finished.is_set()


def _generation_mappings(generation: str) -> list[str]:
    maps = Path("/proc/self/maps").read_text(encoding="utf-8").splitlines()
    return [line for line in maps if f"/generations/{generation}/" in line]


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads Linux's /proc")
def test_the_start_up_generation_is_let_go_after_two_reloads(tmp_path: Path) -> None:
    """Nothing keeps the generation `serve` started on once two newer ones have
    replaced it: its files are no longer mapped, so a deleted generation's disk
    space comes back. (Warm-up's Future kept its article facts, and with them a
    view of its row_live.npy, for as long as the engine lived.)"""
    import gc

    corpus = write_corpus(tmp_path / "corpus")
    index_dir = tmp_path / "index"
    first = _build(index_dir, corpus)
    engine = SearchEngine(index_dir, encoder=ENCODER)
    engine.warm_up()
    _wait_for(lambda: not engine.health().warming, "warm-up's background work")
    engine.search(SearchRequest(query="hurricane"))
    assert _generation_mappings(first)  # served, so mapped
    for name in ("volcano", "glacier"):
        (corpus / "en" / f"{name}.txt").write_text(f"{name.title()} news\n\nIt moved.", "utf-8")
        _build(index_dir, corpus)
        assert engine.reload_if_changed()
        engine.search(SearchRequest(query=name))
    gc.collect()
    assert _generation_mappings(first) == []


def test_a_failed_background_read_of_the_facts_is_logged_and_ends_the_warming(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from search.article_facts import ArticleFacts

    corpus = write_corpus(tmp_path / "corpus")
    index_dir = tmp_path / "index"
    _build(index_dir, corpus)
    engine = SearchEngine(index_dir, encoder=ENCODER)
    real_of = ArticleFacts.of
    failing = {"left": 1}

    def fails_once(snapshot):  # type: ignore[no-untyped-def]
        if failing["left"]:
            failing["left"] -= 1
            raise OSError("disk went away for a moment")
        return real_of(snapshot)

    monkeypatch.setattr(ArticleFacts, "of", staticmethod(fails_once))
    with caplog.at_level("WARNING", logger="search.engine"):
        engine.warm_up()
        _wait_for(lambda: not engine.health().warming, "the failed background read")
    assert "disk went away for a moment" in caplog.text
    results = engine.search(SearchRequest(query="hurricane")).results  # reads them itself
    assert results
