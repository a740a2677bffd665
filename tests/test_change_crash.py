"""`kill -9` of a change at any moment leaves the previous generation live and
loadable, and the next change cleans up after it: the real `python -m indexer add`
(ONNX encoder from the index, Apertium off) on a real index."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexer.layout import IndexLayout, read_vectors
from indexer.metadata_store import read_passages_store
from search.engine import SearchEngine
from search.models import SearchRequest
from tests.conftest import BuildFn
from tests.corpus import write_corpus

REPO = Path(__file__).resolve().parents[1]
WORD = "quetzalcoatlus"  # in no fixture article


def add(index_dir: Path, source: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "indexer", "add", str(source), "--index", str(index_dir)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def found(index_dir: Path, encoder: object) -> bool:
    engine = SearchEngine(index_dir, encoder=encoder)  # type: ignore[arg-type]
    response = engine.search(SearchRequest(query=WORD, mode="lexical"))
    return any(r.article_id == "crash-test" for r in response.results)


@pytest.mark.slow
def test_kill_9_at_any_moment_of_a_change_keeps_a_loadable_index(
    tmp_path: Path, build: BuildFn, encoder: object
) -> None:
    index_dir = tmp_path / "index"
    build([write_corpus(tmp_path / "corpus")], index_dir, translation="off")
    source = tmp_path / "new.jsonl"
    paragraphs = [f"Paragraph {n} on the {WORD} fossils found in the desert." for n in range(200)]
    source.write_text(json.dumps({"id": "crash-test", "text": "\n\n".join(paragraphs)}) + "\n")
    layout = IndexLayout(index_dir)
    before = layout.live_generation_id()
    outcomes = []
    for delay in (0.2, 0.8, 1.5, 2.5, 4.0, 6.0):
        process = add(index_dir, source)
        time.sleep(delay)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
        live = layout.live_generation_id()
        outcomes.append(live == before)
        # whatever happened, the live generation loads and answers, old or new
        assert found(index_dir, encoder) == (live != before)
        vectors = read_vectors(layout.live_generation())
        assert len(vectors) >= len(read_passages_store(layout.live_generation()))
        if live != before:  # it finished in time: start again from the old state
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "indexer",
                    "remove",
                    "crash-test",
                    "--index",
                    str(index_dir),
                ],
                cwd=REPO,
                check=True,
                capture_output=True,
            )
            before = layout.live_generation_id()
    assert any(outcomes), "every change finished before the kill: kill earlier"
    final = add(index_dir, source)
    assert final.wait() == 0  # cleans up the leftovers of the killed ones
    assert not list(layout.generations_dir.glob("*.partial"))
    assert found(index_dir, encoder)
