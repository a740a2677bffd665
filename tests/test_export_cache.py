"""The export cache: a build whose model export is cached loads no torch and writes
the same index as one that loaded the model; a changed, missing or damaged entry
is a miss, never a failed build."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from indexer.build import BuildOptions, BuildReport, build_index
from indexer.encoder import Encoder
from indexer.errors import SettingsError
from indexer.export_cache import (
    ModelFacts,
    find_cached_export,
    model_source_digest,
    prune_export_cache,
    remember_export,
)
from indexer.layout import IndexLayout, read_vectors
from indexer.manifest import Manifest
from indexer.metadata_store import read_passages_store
from indexer.settings import IndexerSettings
from tests.conftest import REPO_ROOT, SEEDS

HEAVY = ("torch", "transformers", "sentence_transformers", "sklearn")


def _model_dir(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "weights.bin").write_bytes(b"\x00\x01" * 1000)
    (root / "sub" / "config.json").write_text('{"a": 1}')
    return root


@pytest.mark.fast
def test_the_digest_follows_every_file_of_the_model_directory(tmp_path: Path) -> None:
    model = _model_dir(tmp_path / "model")
    first = model_source_digest(str(model))
    assert first is not None and first == model_source_digest(str(model))
    (model / "weights.bin").write_bytes(b"\x00\x02" * 1000)  # same size, other bytes
    changed = model_source_digest(str(model))
    assert changed != first
    (model / "sub" / "config.json").rename(model / "sub" / "other.json")
    assert model_source_digest(str(model)) not in (first, changed)
    assert model_source_digest("sentence-transformers/all-MiniLM-L6-v2") is None  # a hub name
    assert model_source_digest(str(model / "weights.bin")) is None  # not a directory


@pytest.mark.fast
def test_missing_incomplete_or_garbled_entries_are_misses(tmp_path: Path) -> None:
    model, cache = _model_dir(tmp_path / "model"), tmp_path / "cache"
    assert find_cached_export(cache, str(model), "int8") is None  # no cache at all
    export = tmp_path / "export-abc"
    export.mkdir()
    for name in ("model.onnx", "model.int8.onnx", "tokenizer.json", "encoder.json"):
        (export / name).write_text(name)
    (export / "export.json").write_text(json.dumps({"sha256": {"fp32": "x", "int8": "y"}}))
    facts = ModelFacts("a/model", str(model), 8, 32)
    remember_export(cache, str(model), "int8", facts, export)
    found = find_cached_export(cache, str(model), "int8")
    assert found is not None
    assert (found.facts, found.export_name) == (facts, "export-abc")
    assert find_cached_export(cache, str(model), "fp32") is None  # another precision
    (found.export_dir / "model.int8.onnx").unlink()
    assert find_cached_export(cache, str(model), "int8") is None  # incomplete
    (found.export_dir / "model.json").write_text("{not json")
    assert find_cached_export(cache, str(model), "int8") is None  # garbled
    (model / "weights.bin").write_bytes(b"changed")
    assert find_cached_export(cache, str(model), "int8") is None  # another model


def _fake_export(root: Path) -> Path:
    root.mkdir(parents=True)
    for name in ("model.onnx", "model.int8.onnx", "tokenizer.json", "encoder.json"):
        (root / name).write_text(name)
    (root / "export.json").write_text(json.dumps({"sha256": {"fp32": "x", "int8": "y"}}))
    return root


@pytest.mark.fast
def test_the_cache_keeps_the_entries_used_last_and_drops_the_rest(tmp_path: Path) -> None:
    model, cache = _model_dir(tmp_path / "model"), tmp_path / "cache"
    export = _fake_export(tmp_path / "export-abc")
    facts = ModelFacts("a/model", str(model), 8, 32)
    now = time.time()
    hours_ago = {"d1": 240, "d2": 216, "d3": 192, "d4": 168, "d5": 1, "d6": 2, "d8": 5, "d9": 6}
    for digest in hours_ago:  # stored now: each store prunes, but none is old yet
        remember_export(cache, str(model), "int8", facts, export, digest=digest)
    for digest, hours in hours_ago.items():
        os.utime(cache / f"{digest}-int8", (now - hours * 3600, now - hours * 3600))
    (cache / ".d0-int8.1.partial").mkdir()  # a build killed two hours ago
    os.utime(cache / ".d0-int8.1.partial", (now - 7200, now - 7200))
    (cache / ".d7-int8.2.partial").mkdir()  # a build storing now
    (cache / "notes.txt").write_text("not an entry")

    # a hit is a use: the oldest entry is kept from now on
    assert find_cached_export(cache, str(model), "int8", digest="d1") is not None
    remember_export(cache, str(model), "int8", facts, export, digest="d7")  # stores, prunes

    # kept: the 4 used last (d7 now, d1 at the hit, d5, d6) and d8, d9 (used today);
    # removed: d2, d3, d4 (a week and more) and the killed build's leftover
    left = sorted(path.name for path in cache.iterdir())
    kept = [f"{digest}-int8" for digest in ("d1", "d5", "d6", "d7", "d8", "d9")]
    assert left == sorted([*kept, ".d7-int8.2.partial", "notes.txt"])
    for digest in ("d1", "d7", "d9"):
        assert find_cached_export(cache, str(model), "int8", digest=digest) is not None
    assert find_cached_export(cache, str(model), "int8", digest="d2") is None
    assert export.is_dir() and (export / "model.onnx").read_text() == "model.onnx"
    assert prune_export_cache(tmp_path / "no-such-cache") == []


@pytest.mark.fast
def test_the_setting_names_a_directory_or_off(tmp_path: Path) -> None:
    def cache(value: str) -> Path | None:
        return IndexerSettings.from_env({"SEARCH_EXPORT_CACHE": value}).export_cache

    assert cache("off") is None
    assert cache(str(tmp_path / "c")) == tmp_path / "c"
    assert cache("").parts[-2:] == ("bilingual-search", "onnx")  # type: ignore[union-attr]
    (tmp_path / "file").write_text("x")
    with pytest.raises(SettingsError, match=r"SEARCH_EXPORT_CACHE=.*not a directory"):
        cache(str(tmp_path / "file"))


def _seeds_build(index_dir: Path, model_ref: str, cache: Path, *, precision: str) -> BuildOptions:
    return BuildOptions(
        sources=(SEEDS,),
        index_dir=index_dir,
        model_ref=model_ref,
        translation="off",
        onnx_precision=precision,
        passage_precision=precision,  # one precision: the entry is keyed by it
        export_cache=cache,
    )


def test_a_build_from_the_cache_loads_no_torch_and_writes_the_same_index(
    encoder: Encoder, tmp_path: Path
) -> None:
    cache = tmp_path / "export-cache"
    options = _seeds_build(tmp_path / "first", encoder.model_ref, cache, precision="int8")
    first = build_index(options, encoder=encoder)  # the model is loaded: the torch path
    assert "load_model" in first.manifest.stage_seconds
    assert find_cached_export(cache, encoder.model_ref, "int8") is not None

    script = f"""
import sys
from dataclasses import replace
from pathlib import Path
from indexer.build import BuildOptions, build_index
report = build_index(BuildOptions(
    sources=(Path({str(SEEDS)!r}),), index_dir=Path({str(tmp_path / "second")!r}),
    model_ref={encoder.model_ref!r}, translation="off", onnx_precision="int8",
    export_cache=Path({str(cache)!r})))
print(sorted(m for m in {HEAVY!r} if m in sys.modules))
print(sorted(report.manifest.stage_seconds))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=600, check=False, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    imported, stages = result.stdout.strip().split("\n")
    assert imported == "[]"
    assert "find_export" in stages and "load_model" not in stages

    second_root = tmp_path / "second"
    second = IndexLayout(second_root).live_generation()
    first_paths = IndexLayout(tmp_path / "first").live_generation()
    second_manifest = Manifest.read(second.manifest)
    assert second_manifest.model == first.manifest.model
    assert second_manifest.onnx == first.manifest.onnx
    assert (second_root / second_manifest.onnx.path).is_file()  # type: ignore[union-attr,operator]
    assert second_manifest.passages == first.manifest.passages
    assert read_vectors(first_paths).tobytes() == read_vectors(second).tobytes()
    assert [(p.passage_id, p.start, p.end) for p in read_passages_store(first_paths)] == [
        (p.passage_id, p.start, p.end) for p in read_passages_store(second)
    ]


def test_a_damaged_entry_falls_back_to_loading_the_model(encoder: Encoder, tmp_path: Path) -> None:
    cache = tmp_path / "export-cache"
    options = _seeds_build(tmp_path / "first", encoder.model_ref, cache, precision="fp32")
    build_index(options, encoder=encoder)
    found = find_cached_export(cache, encoder.model_ref, "fp32")
    assert found is not None
    record = found.export_dir / "export.json"
    record.unlink()  # a new file: the old one is hard-linked into the first index too
    record.write_text("{broken")
    report: BuildReport = build_index(replace(options, index_dir=tmp_path / "second"))
    assert report.manifest.onnx is not None and report.manifest.onnx.exported
    assert "load_model" in report.manifest.stage_seconds
    assert find_cached_export(cache, encoder.model_ref, "fp32") is not None  # replaced
