"""The query side runs without torch: the build exports the model to ONNX, and the
service encodes queries with ONNX Runtime and the model's own tokenizer."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.corpus import write_corpus

HEAVY = ("torch", "transformers", "sentence_transformers", "sklearn")


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory, build) -> Path:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("torch-free")
    report = build([write_corpus(root / "corpus")], root / "index", translation="off")
    assert report.manifest.onnx is not None and report.manifest.onnx.exported
    return root / "index"


def _env() -> dict[str, str]:
    return {**os.environ, "SEARCH_QUERY_TRANSLATION": "off", "PYTHONPATH": str(REPO_ROOT)}


def test_the_real_app_serves_a_hybrid_query_without_torch(index_dir: Path) -> None:
    script = f"""
import sys
from pathlib import Path
from fastapi.testclient import TestClient
from search.app import create_app
from search.settings import ServiceSettings
from search.wiring import build_engine

engine = build_engine(ServiceSettings.from_env({{"SEARCH_QUERY_TRANSLATION": "off"}}),
                      Path({str(index_dir)!r}))
with TestClient(create_app(engine, reload_seconds=0)) as client:
    body = client.get("/api/search", params={{"q": "hurricane landfall"}}).json()
assert body["results"][0]["article_id"] == "en/hurricane.txt", body
assert body["results"][0]["semantic"] is not None
print(type(engine.query_encoder).__name__)
print(sorted(m for m in {HEAVY!r} if m in sys.modules))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, env=_env(), capture_output=True,
        text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["OnnxEncoder", "[]"]


def test_the_query_command_imports_no_torch(index_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "search", "query", "hurricane",
         "--index", str(index_dir)],
        cwd=REPO_ROOT, env=_env(), capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "en/hurricane.txt" in result.stdout
    imported = set(re.findall(r"\|\s+(\S+)$", result.stderr, flags=re.MULTILINE))
    assert "onnxruntime" in imported
    assert sorted(m for m in HEAVY if m in imported) == []
