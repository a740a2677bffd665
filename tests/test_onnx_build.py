"""The build exports the model once per content, records it in the manifest, embeds
passages through it; the query side opens it without torch, or falls back and says so."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from indexer.build import BuildOptions, BuildReport, build_index
from indexer.encoder import Encoder
from indexer.layout import IndexLayout, read_vectors
from indexer.manifest import Manifest
from indexer.metadata_store import read_articles_store, read_passages_store
from indexer.onnx_encoder import EXPORT_VERSION, OnnxEncoder, file_sha256
from indexer.query_encoder import open_query_encoder
from indexer.settings import IndexerSettings
from search.health import health_report
from tests.conftest import REPO_ROOT, SEEDS, BuildFn

FORBIDDEN = ("torch", "transformers", "sentence_transformers", "sklearn")


@pytest.fixture(scope="module")
def built(build: BuildFn, tmp_path_factory: pytest.TempPathFactory) -> BuildReport:
    return build([SEEDS], tmp_path_factory.mktemp("onnx") / "index", translation="off")


def _index_dir(report: BuildReport) -> Path:
    return report.generation_dir.parent.parent


def test_manifest_records_the_export(built: BuildReport) -> None:
    onnx = built.manifest.onnx
    assert onnx is not None and onnx.exported, onnx
    assert onnx.path is not None and onnx.path.startswith("models/")
    assert onnx.path.endswith("/model.onnx") and onnx.precision == "fp32"
    model_file = _index_dir(built) / onnx.path
    assert file_sha256(model_file) == onnx.sha256
    assert (model_file.parent / "tokenizer.json").is_file()
    assert (onnx.pooling, onnx.normalize, onnx.max_seq_length, onnx.dimension) == (
        "mean",
        True,
        256,
        384,
    )
    assert onnx.passage_backend.startswith("onnx-fp32")
    assert onnx.export_version == EXPORT_VERSION
    assert "onnx_export" in built.manifest.stage_seconds
    reread = Manifest.read(IndexLayout(_index_dir(built)).live_generation().manifest)
    assert reread.onnx == onnx


def test_int8_passages_are_recorded_and_later_changes_embed_with_them(
    build: BuildFn, tmp_path: Path
) -> None:
    """SEARCH_PASSAGE_PRECISION=int8: the build embeds passages with the int8 file and
    records it; `open_passage_encoder` (what `indexer add`/`sync` and the write API
    embed with) opens that file, so a change's vectors share the build's space. A
    manifest written before the field existed reads as fp32."""
    from indexer.update import encoder_space, open_passage_encoder

    report = build([SEEDS], tmp_path / "index", translation="off", passage_precision="int8")
    onnx = report.manifest.onnx
    assert onnx is not None and onnx.exported
    assert (onnx.passage_precision, onnx.precision) == ("int8", "fp32")
    assert onnx.passage_backend.startswith("onnx-int8")
    index_dir = _index_dir(report)
    later = open_passage_encoder(index_dir, report.manifest)
    assert isinstance(later, OnnxEncoder) and later.precision == "int8"
    assert encoder_space(later).startswith("onnx-int8")
    generation = IndexLayout(index_dir).live_generation()
    articles = {a.id: a.text for a in read_articles_store(generation)}
    texts = [articles[p.article_id][p.start : p.end] for p in read_passages_store(generation)]
    vectors = read_vectors(generation)
    assert np.allclose(vectors, later.encode(texts), atol=1e-5)
    fp32 = OnnxEncoder(later.directory, model_ref=later.model_ref, precision="fp32")
    assert not np.allclose(vectors, fp32.encode(texts), atol=1e-4)  # int8 truly used

    data = json.loads(report.manifest.to_json())
    del data["onnx"]["passage_precision"]
    older = tmp_path / "older.json"
    older.write_text(json.dumps(data), encoding="utf-8")
    assert Manifest.read(older).onnx.passage_precision == "fp32"  # type: ignore[union-attr]


def test_an_int8_file_that_agrees_too_little_is_used_for_neither(
    built: BuildReport, caplog: pytest.LogCaptureFixture
) -> None:
    from indexer.onnx_export import ExportedModel, _onnx_encoding

    onnx = built.manifest.onnx
    assert onnx is not None and onnx.path is not None and onnx.sha256 is not None
    index_dir = _index_dir(built)
    export = ExportedModel(
        (index_dir / onnx.path).parent,
        sha256={"fp32": onnx.sha256, "int8": "not used"},
        min_cosine={"fp32": 0.9999, "int8": 0.5},  # under int8's 0.95
    )
    with caplog.at_level(logging.WARNING, logger="indexer.onnx_export"):
        encoding = _onnx_encoding(export, index_dir, built.manifest.model.ref, "int8", "int8")
    assert not isinstance(encoding, str)
    assert (encoding.info.precision, encoding.info.passage_precision) == ("fp32", "fp32")
    assert encoding.info.passage_backend.startswith("onnx-fp32")
    assert "queries use fp32" in caplog.text and "passages use fp32" in caplog.text


def test_passage_embeddings_agree_with_sentence_transformers(
    built: BuildReport, encoder: Encoder
) -> None:
    generation = IndexLayout(_index_dir(built)).live_generation()
    articles = {a.id: a.text for a in read_articles_store(generation)}
    texts = [articles[p.article_id][p.start : p.end] for p in read_passages_store(generation)]
    stored = read_vectors(generation)
    assert np.sum(stored * encoder.encode(texts), axis=1).min() >= 0.999


def test_a_manifest_without_onnx_still_reads(built: BuildReport, tmp_path: Path) -> None:
    data = json.loads(built.manifest.to_json())
    del data["onnx"]
    (tmp_path / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    assert Manifest.read(tmp_path / "manifest.json").onnx is None


def test_health_names_an_export_older_than_this_versions(
    built: BuildReport, tmp_path: Path
) -> None:
    """An index keeps its export across changes; one written before the version was
    recorded (v2 and older, with the slower SkipLayerNormalization graph) or before
    the 7-bit int8 weights (v3) is served as it is, and /api/health says what a
    rebuild brings: for v3, only where the index uses int8 (this one is fp32)."""
    current = health_report(built.manifest, problems=[], query_translation=True)
    assert not [line for line in current.degraded if "ONNX export" in line]
    data = json.loads(built.manifest.to_json())
    del data["onnx"]["export_version"]
    (tmp_path / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    old = Manifest.read(tmp_path / "manifest.json")
    assert old.onnx is not None and old.onnx.export_version == 0
    health = health_report(old, problems=[], query_translation=True)
    assert health.status == "degraded"
    assert [line for line in health.degraded if "ONNX export" in line] == [
        f"query encoder from an older ONNX export (v2 or older; this version writes "
        f"v{EXPORT_VERSION}: ~12% faster per query): rebuild the index to re-export it "
        "(`make rebuild`, or `python -m indexer build`)"
    ]
    data["onnx"]["export_version"] = 3  # an fp32 index: v4 changed only int8 files
    (tmp_path / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    v3 = health_report(
        Manifest.read(tmp_path / "manifest.json"), problems=[], query_translation=True
    )
    assert not [line for line in v3.degraded if "ONNX export" in line]
    data["onnx"]["passage_precision"] = "int8"
    (tmp_path / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    v3 = health_report(
        Manifest.read(tmp_path / "manifest.json"), problems=[], query_translation=True
    )
    assert [line for line in v3.degraded if "ONNX export" in line] == [
        f"query encoder from an older ONNX export (v3; this version writes v{EXPORT_VERSION}: "
        "int8 products that no longer saturate on CPUs without VNNI (7-bit weights)): "
        "rebuild the index to re-export it (`make rebuild`, or `python -m indexer build`)"
    ]


def test_the_query_side_opens_onnx(built: BuildReport, encoder: Encoder) -> None:
    query_encoder = open_query_encoder(_index_dir(built), built.manifest)
    assert isinstance(query_encoder, OnnxEncoder) and query_encoder.backend == "onnx-fp32"
    assert query_encoder.model_ref == built.manifest.model.ref
    query = "¿quién atacó al secretario de seguridad?"
    vector = query_encoder.encode([query])
    assert float(vector[0] @ encoder.encode([query])[0]) >= 0.999


def test_querying_imports_no_torch_transformers_or_sklearn(built: BuildReport) -> None:
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from indexer.layout import IndexLayout
        from indexer.manifest import Manifest
        from indexer.query_encoder import open_query_encoder

        index = Path({str(_index_dir(built))!r})
        manifest = Manifest.read(IndexLayout(index).live_generation().manifest)
        vectors = open_query_encoder(index, manifest).encode(["one query", "otra consulta"])
        assert vectors.shape == (2, 384), vectors.shape
        print(sorted(m for m in sys.modules if m.split(".")[0] in {FORBIDDEN!r}))
    """)
    command = [sys.executable, "-c", script]
    output = subprocess.check_output(command, cwd=REPO_ROOT, text=True, timeout=120)
    assert output.strip() == "[]", output


def test_rebuilds_and_other_indexes_reuse_the_export(
    built: BuildReport, build: BuildFn, tmp_path: Path
) -> None:
    index_dir = _index_dir(built)
    again = build([SEEDS], index_dir, translation="off")
    assert again.manifest.onnx == built.manifest.onnx
    assert len(list((index_dir / "models").iterdir())) == 1
    other = build([SEEDS], tmp_path / "index", translation="off", onnx_precision="int8")
    assert IndexerSettings.from_env({}).onnx_precision == "int8"  # the default
    onnx = other.manifest.onnx
    assert onnx is not None and onnx.precision == "int8" and onnx.path is not None
    assert onnx.path.endswith("/model.int8.onnx")
    assert file_sha256(tmp_path / "index" / onnx.path) == onnx.sha256
    assert open_query_encoder(tmp_path / "index", other.manifest).backend == "onnx-int8"


def test_a_damaged_export_falls_back_to_sentence_transformers(
    built: BuildReport, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(_index_dir(built), index_dir, symlinks=True)
    onnx = built.manifest.onnx
    assert onnx is not None and onnx.path is not None
    (index_dir / onnx.path).write_bytes(b"not a model")
    with caplog.at_level(logging.WARNING, logger="indexer.query_encoder"):
        fallback = open_query_encoder(index_dir, built.manifest)
    assert fallback.backend == "sentence-transformers"
    assert "does not match the sha256" in caplog.text and "sentence-transformers" in caplog.text


def test_a_model_onnx_cannot_reproduce_is_recorded_and_served_by_torch(
    encoder: Encoder, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Dense

    model = encoder.sentence_transformer
    SentenceTransformer(modules=[model[0], model[1], Dense(384, 64)], device="cpu").save(
        str(tmp_path / "dense-model")
    )
    dense = Encoder(str(tmp_path / "dense-model"), threads=1)
    options = BuildOptions(
        sources=(SEEDS,), index_dir=tmp_path / "index", model_ref=dense.model_ref, translation="off"
    )
    report = build_index(options, encoder=dense)
    onnx = report.manifest.onnx
    assert onnx is not None and not onnx.exported and "Dense" in onnx.reason
    assert onnx.passage_backend == "sentence-transformers"
    assert report.manifest.model.dimension == 64
    with caplog.at_level(logging.WARNING, logger="indexer.query_encoder"):
        fallback = open_query_encoder(tmp_path / "index", report.manifest)
    assert fallback.backend == "sentence-transformers" and fallback.dimension == 64
    assert "Dense" in caplog.text
