"""`python -m search.bench --corpus DIR`: a BEIR-style folder indexed by the real
`python -m indexer build` into a scratch directory, measured, and the scratch
removed; a folder without `corpus.jsonl` is refused with the reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

_DOCS = [
    {"_id": "en-1", "title": "Storm", "text": "The storm made landfall near the port at dawn."},
    {"_id": "en-2", "text": "Farmers in the north waited for rain after a long drought."},
    {"_id": "es-1", "text": "La tormenta tocó tierra cerca del puerto al amanecer."},
    {"_id": "es-2", "text": "Los agricultores del norte esperaban la lluvia tras la sequía."},
]
_QUERIES = ["where did the storm make landfall?", "¿qué esperaban los agricultores?"]


def _bench(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "search.bench", *arguments],
        cwd=REPO_ROOT,
        env={**os.environ, "TMPDIR": str(scratch)},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_corpus_is_indexed_measured_and_its_scratch_removed(tmp_path: Path) -> None:
    corpus = tmp_path / "beir"
    corpus.mkdir()
    (corpus / "corpus.jsonl").write_text(
        "".join(json.dumps(doc, ensure_ascii=False) + "\n" for doc in _DOCS), encoding="utf-8"
    )
    queries = tmp_path / "queries.jsonl"
    queries.write_text("".join(json.dumps({"text": q}) + "\n" for q in _QUERIES), "utf-8")
    result = _bench(
        tmp_path, "--corpus", str(corpus), "--queries", str(queries), "--count", "4", "--no-http"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"indexing {corpus} with python -m indexer build" in result.stdout
    assert ": 4 passages, generation " in result.stdout
    assert "engine.search, total" in result.stdout and "(n=4)" in result.stdout
    # the scratch index is gone (torch and others leave their own caches there)
    assert list((tmp_path / "tmp").glob("bench-corpus-*")) == []


def test_a_folder_without_a_corpus_is_refused(tmp_path: Path) -> None:
    result = _bench(tmp_path, "--corpus", str(tmp_path), "--no-http")
    assert result.returncode == 2
    assert f"--corpus {tmp_path}: no corpus.jsonl there (a BEIR-style folder)." in result.stderr
