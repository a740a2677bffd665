"""`make eval` through the service's own query encoder, and the fp32/int8 comparison.

The comparison's arithmetic and verdict are pure (fast tests); the harness is run
for real on a tiny set: a real build exporting the real model, and an engine that
opens the query encoder the manifest names, as `serve` does.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.encoder import Encoder
from search.evaluation.beir import load_beir
from search.evaluation.harness import EvalOptions, evaluate_data_set
from search.evaluation.precision import (
    Change,
    Precisions,
    changes,
    check_measured,
    comparison_markdown,
    main,
    parse_precisions,
)
from search.evaluation.report import to_json, to_markdown
from search.evaluation.variants import parse_variants

CORPUS = [
    {"_id": "en-0", "text": "The harbour froze in January and ships waited outside."},
    {"_id": "es-0", "text": "El puerto se congeló en enero y los barcos esperaron fuera."},
    {"_id": "en-1", "text": "The orchestra played Mahler's second symphony on Sunday."},
    {"_id": "es-1", "text": "La orquesta tocó la segunda sinfonía de Mahler el domingo."},
]
QUERIES = [
    {"_id": "en:1", "text": "When did the harbour freeze?", "lang": "en"},
    {"_id": "es:1", "text": "¿Qué sinfonía tocó la orquesta?", "lang": "es"},
]
QRELS = "query-id\tcorpus-id\tscore\nen:1\ten-0\t1\nen:1\tes-0\t1\nes:1\tes-1\t1\nes:1\ten-1\t1\n"


def _tiny_set(directory: Path) -> Path:
    directory.mkdir(parents=True)
    for name, records in (("corpus", CORPUS), ("queries", QUERIES)):
        lines = [json.dumps(record, ensure_ascii=False) for record in records]
        (directory / f"{name}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (directory / "qrels.tsv").write_text(QRELS, encoding="utf-8")
    return directory


# -- pure parts ---------------------------------------------------------------------


@pytest.mark.fast
def test_precision_pairs_parse_and_name_the_fix() -> None:
    assert parse_precisions("int8/int8") == Precisions(queries="int8", passages="int8")
    assert parse_precisions("torch/fp32") == Precisions(queries=None, passages="fp32")
    assert str(Precisions(queries=None, passages="fp32")) == "torch/fp32"
    for bad in ("int8", "fp16/int8", "int8/torch", "int8/"):
        with pytest.raises(ValueError, match="QUERIES/PASSAGES"):
            parse_precisions(bad)


@pytest.mark.fast
def test_the_comparison_says_where_the_candidate_falls_beyond_the_tolerance() -> None:
    baseline = {
        "lexical": {"all": 0.88, "en": 0.87, "es": 0.89},
        "semantic": {"all": 0.90, "en": 0.92, "es": 0.88},
    }
    candidate = {
        "lexical": {"all": 0.88, "en": 0.87, "es": 0.89},
        "semantic": {"all": 0.897, "en": 0.921, "es": 0.872},  # es falls 0.008
        "hybrid": {"all": 0.95, "en": 0.96, "es": 0.94},  # not in the baseline: skipped
    }
    rows = changes("xquad", baseline, candidate)
    assert [row.mode for row in rows] == ["lexical", "semantic"]
    semantic = rows[1]
    assert semantic.largest == pytest.approx(-0.008)
    assert semantic.worst == pytest.approx(-0.008)
    fp32, int8 = parse_precisions("fp32/fp32"), parse_precisions("int8/int8")
    table = comparison_markdown(rows, baseline=fp32, candidate=int8)
    assert "| xquad | lexical | 0.8800 / 0.8700 / 0.8900 | = | 0 |" in table
    assert (
        "| xquad | semantic | 0.9000 / 0.9200 / 0.8800 | 0.8970 / 0.9210 / 0.8720 | -0.0080 |"
        in (table)
    )
    assert "int8/int8 falls more than 0.005 below fp32/fp32 in: xquad semantic (-0.0080)" in table
    within = comparison_markdown(rows, baseline=fp32, candidate=int8, tolerance=0.01)
    assert "stays within 0.01 of fp32/fp32 in every mode and query language" in within
    assert "largest fall -0.0080, xquad semantic" in within


@pytest.mark.fast
def test_a_gain_is_never_a_fall() -> None:
    row = Change("news", "semantic", {"all": 0.93, "en": 0.94}, {"all": 0.95, "en": 0.94})
    assert row.largest == pytest.approx(0.02)
    assert row.worst == 0.0
    table = comparison_markdown(
        [row], baseline=parse_precisions("fp32/fp32"), candidate=parse_precisions("int8/int8")
    )
    assert "stays within 0.005" in table and "+0.0200" in table


@pytest.mark.fast
def test_the_command_refuses_bad_pairs_before_loading_anything(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--baseline", "fp16/fp32"]) == 2
    assert "'fp16/fp32' is not QUERIES/PASSAGES" in capsys.readouterr().err
    assert main(["--baseline", "int8/int8", "--candidate", "int8/int8"]) == 2
    assert "both int8/int8: nothing to compare" in capsys.readouterr().err


@pytest.mark.fast
def test_the_harness_refuses_an_unknown_precision(tmp_path: Path) -> None:
    data_set = load_beir(_tiny_set(tmp_path / "set"))
    for options in (
        EvalOptions(model_ref="unused", query_precision="fp16"),
        EvalOptions(model_ref="unused", passage_precision="bf16"),
    ):
        with pytest.raises(ValueError, match="is not one of fp32, int8"):
            evaluate_data_set(data_set, options)


# -- the harness, for real ----------------------------------------------------------


def test_the_harness_embeds_queries_as_the_service_does(tmp_path: Path, encoder: Encoder) -> None:
    """query_precision int8: the engine opens the manifest's int8 export, not the
    harness's sentence-transformers model; None keeps the harness's model."""
    data_set = load_beir(_tiny_set(tmp_path / "set"))
    base = EvalOptions(model_ref=encoder.model_ref, variants=parse_variants("semantic"))
    service = evaluate_data_set(
        data_set,
        Precisions(queries="int8", passages="int8").options(base),
        encoder=encoder,
    )
    assert service.query_encoder == "onnx-int8"
    assert service.manifest.onnx is not None
    assert (service.manifest.onnx.precision, service.manifest.onnx.passage_precision) == (
        "int8",
        "int8",
    )
    assert "Queries embedded by onnx-int8, passages by onnx-int8." in to_markdown(service)
    assert to_json(service)["settings"]["embedding"]["queries"] == "onnx-int8"

    harness = evaluate_data_set(
        data_set, Precisions(queries=None, passages="fp32").options(base), encoder=encoder
    )
    assert harness.query_encoder == "sentence-transformers"
    assert harness.manifest.onnx is not None and harness.manifest.onnx.passage_precision == "fp32"
    assert "Queries embedded by sentence-transformers, passages by onnx-fp32." in (
        to_markdown(harness)
    )
    # the comparison checks that each run measured what it was asked to
    check_measured(service, Precisions(queries="int8", passages="int8"))
    check_measured(harness, Precisions(queries=None, passages="fp32"))
    with pytest.raises(ValueError, match="queries were to be embedded by sentence-transformers"):
        check_measured(service, Precisions(queries=None, passages="int8"))
    with pytest.raises(ValueError, match="passages were to be embedded by onnx-int8"):
        check_measured(harness, Precisions(queries=None, passages="int8"))
    # each query found its own-language article first, whichever encoder embedded it
    for result in (service, harness):
        assert result.variants[0].metrics.overall["ndcg@10"] > 0.5
