"""The ONNX encoder: pooling by hand, then the real model exported and compared with
sentence-transformers on real XQuAD passages (fp32 faithful, int8 close)."""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from indexer.encoder import Encoder
from indexer.errors import SettingsError
from indexer.onnx_encoder import OnnxEncoder, OnnxModelConfig, pool
from indexer.onnx_export import ExportedModel, UnsupportedModelError, describe_model, export_model
from indexer.settings import IndexerSettings
from tests.conftest import XQUAD

# Two texts, three positions of 2 dimensions; the first text has one padding position
# whose (huge) values must never show.
TOKENS = np.array(
    [[[1, 2], [3, 4], [100, 100]], [[5, 6], [7, 8], [9, 10]]], dtype=np.float32
)  # fmt: skip
MASK = np.array([[1, 1, 0], [1, 1, 1]], dtype=np.int64)


@pytest.mark.parametrize(
    ("modes", "expected"),
    [
        (["mean"], [[2, 3], [7, 8]]),
        (["cls"], [[1, 2], [5, 6]]),
        (["max"], [[3, 4], [9, 10]]),
        (["lasttoken"], [[3, 4], [9, 10]]),
        (
            ["mean_sqrt_len_tokens"],
            [[4 / math.sqrt(2), 6 / math.sqrt(2)], [21 / 3**0.5, 8 * 3**0.5]],
        ),
        (["weightedmean"], [[7 / 3, 10 / 3], [46 / 6, 52 / 6]]),
        (["cls", "mean"], [[1, 2, 2, 3], [5, 6, 7, 8]]),
    ],
)
def test_pooling_matches_sentence_transformers_definitions(
    modes: list[str], expected: list[list[float]]
) -> None:
    np.testing.assert_allclose(pool(TOKENS, MASK, modes), expected, rtol=1e-6)


def test_unknown_pooling_mode_is_named() -> None:
    with pytest.raises(ValueError, match="'median'"):
        pool(TOKENS, MASK, ["median"])


def test_config_round_trips(tmp_path: Path) -> None:
    config = OnnxModelConfig(("input_ids", "attention_mask"), ("cls", "max"), True, 128, 768)
    config.write(tmp_path / "encoder.json")
    assert OnnxModelConfig.read(tmp_path / "encoder.json") == config


def test_precision_setting_defaults_to_int8_and_rejects_others() -> None:
    assert IndexerSettings.from_env({}).onnx_precision == "int8"
    assert IndexerSettings.from_env({"SEARCH_ONNX_PRECISION": "fp32"}).onnx_precision == "fp32"
    assert IndexerSettings.from_env({"SEARCH_ONNX_PRECISION": "INT8"}).onnx_precision == "int8"
    with pytest.raises(SettingsError, match=r"SEARCH_ONNX_PRECISION='fp16'.*fp32, int8"):
        IndexerSettings.from_env({"SEARCH_ONNX_PRECISION": "fp16"})
    assert IndexerSettings.from_env({}).passage_precision == "int8"
    passages = IndexerSettings.from_env({"SEARCH_PASSAGE_PRECISION": "FP32"})
    assert passages.passage_precision == "fp32"
    with pytest.raises(SettingsError, match=r"SEARCH_PASSAGE_PRECISION='int4'.*fp32, int8"):
        IndexerSettings.from_env({"SEARCH_PASSAGE_PRECISION": "int4"})


# -- the real model ------------------------------------------------------------------


@pytest.fixture(scope="module")
def export(encoder: Encoder, tmp_path_factory: pytest.TempPathFactory) -> ExportedModel:
    return export_model(encoder, tmp_path_factory.mktemp("models"), precision="int8")


@pytest.fixture(scope="module")
def sample() -> list[str]:
    """200 XQuAD paragraphs, 100 English and 100 Spanish; many exceed 256 tokens."""
    lines = (XQUAD / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    english = [r["text"] for r in rows if r["_id"].startswith("en")][:100]
    spanish = [r["text"] for r in rows if r["_id"].startswith("es")][:100]
    return english + spanish


@pytest.fixture(scope="module")
def reference(encoder: Encoder, sample: list[str]) -> np.ndarray:
    return encoder.encode(sample)


def _encoder(export: ExportedModel, encoder: Encoder, precision: str) -> OnnxEncoder:
    return OnnxEncoder(
        export.directory,
        model_ref=encoder.model_ref,
        precision=precision,
        expected_sha256=export.sha256[precision],
    )


def test_the_default_models_export_is_fused_and_its_int8_file_runs_fused_attention(
    export: ExportedModel,
) -> None:
    """`indexer.onnx_fusion` on the real model: one Attention per layer (6), the
    embeddings fused, each residual + LayerNorm left as Add + LayerNormalization
    (two per layer; `SkipLayerNormalization` was slower); dynamic quantisation keeps
    the attention fused (QAttention), which is where a short query's time goes down."""
    import onnx

    assert export.graph.startswith("fused: ")
    assert "Attention x6" in export.graph
    assert "EmbedLayerNormalization x1" in export.graph
    record = json.loads((export.directory / "export.json").read_text(encoding="utf-8"))
    assert record["graph"] == export.graph
    operators = [
        node.op_type for node in onnx.load(export.directory / "model.int8.onnx").graph.node
    ]
    assert operators.count("QAttention") == 6
    assert "Softmax" not in operators  # no attention left unfused
    assert operators.count("LayerNormalization") == 12
    assert "SkipLayerNormalization" not in operators
    assert not list(export.directory.glob(".*"))  # no unfused leftover


def test_int8_weights_fit_in_7_bits_so_no_cpu_saturates_their_products(
    export: ExportedModel,
) -> None:
    """Every weight a quantised matrix product reads (MatMulInteger's and
    QAttention's second input) lies in [-64, 64]: two uint8 x int8 products then
    add to at most 32,640, within the 16 bits `vpmaddubsw` adds them in on CPUs
    without VNNI (`indexer.onnx_export._quantize`). Full 8-bit weights reach 127."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(export.directory / "model.int8.onnx").graph
    weights = {
        node.input[1] for node in graph.node if node.op_type in ("MatMulInteger", "QAttention")
    }
    ranges = {
        tensor.name: (int(values.min()), int(values.max()))
        for tensor in graph.initializer
        if tensor.name in weights
        for values in [numpy_helper.to_array(tensor)]
    }
    assert len(ranges) == 24  # 18 MatMulInteger + 6 QAttention, all constant weights
    assert all(low >= -64 and high <= 64 for low, high in ranges.values()), ranges
    assert max(high for _, high in ranges.values()) == 64  # the scale uses the 7 bits


def test_fp32_matches_sentence_transformers(
    export: ExportedModel, encoder: Encoder, sample: list[str], reference: np.ndarray
) -> None:
    onnx = _encoder(export, encoder, "fp32")
    vectors = onnx.encode(sample, batch_size=16)
    assert vectors.shape == (200, encoder.dimension) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.sum(vectors * reference, axis=1).min() >= 0.999
    assert export.min_cosine["fp32"] >= 0.999


def test_int8_stays_close(
    export: ExportedModel, encoder: Encoder, sample: list[str], reference: np.ndarray
) -> None:
    cosines = np.sum(_encoder(export, encoder, "int8").encode(sample) * reference, axis=1)
    assert cosines.mean() >= 0.98
    assert cosines.min() >= 0.95


def test_batching_by_length_keeps_the_input_order(
    export: ExportedModel, encoder: Encoder, sample: list[str]
) -> None:
    onnx = _encoder(export, encoder, "fp32")
    texts = [sample[0], "short", "", sample[150], "¿Dónde?"]
    one_by_one = np.stack([onnx.encode([text])[0] for text in texts])
    np.testing.assert_allclose(onnx.encode(texts, batch_size=2), one_by_one, atol=1e-5)
    assert onnx.encode([]).shape == (0, encoder.dimension)


def test_batches_side_by_side_give_the_rows_of_one_at_a_time_in_input_order(
    export: ExportedModel, encoder: Encoder, sample: list[str]
) -> None:
    bulk = OnnxEncoder(export.directory, model_ref=encoder.model_ref, threads=3)
    texts = [sample[0], "short", "", *sample[140:150], "¿Dónde?", *sample[:5]]
    one_by_one = np.stack([bulk.encode([text])[0] for text in texts])
    np.testing.assert_allclose(bulk.encode(texts, batch_size=3), one_by_one, atol=1e-5)
    sequential = OnnxEncoder(export.directory, model_ref=encoder.model_ref, threads=1)
    np.testing.assert_allclose(
        bulk.encode(sample, batch_size=16), sequential.encode(sample, batch_size=16), atol=1e-5
    )


def test_token_counts_are_the_models_and_untruncated(
    export: ExportedModel, encoder: Encoder, sample: list[str]
) -> None:
    onnx = _encoder(export, encoder, "int8")
    texts = ["short", "", "¿Dónde?", *sample[:20]]
    counts = onnx.count_tokens(texts)
    assert counts == encoder.count_tokens(texts)
    assert max(counts) > onnx.max_passage_tokens  # counting never truncates...
    assert onnx.encode(sample[:20]).shape == (20, encoder.dimension)  # ...embedding does
    assert onnx.count_tokens(texts) == counts  # the counter, read once, is kept


def test_concurrent_calls_share_one_session(
    export: ExportedModel, encoder: Encoder, sample: list[str]
) -> None:
    onnx = _encoder(export, encoder, "fp32")
    texts = [text[:200] for text in sample[:32]]
    expected = onnx.encode(texts)
    with ThreadPoolExecutor(max_workers=4) as pool_:
        got = list(pool_.map(lambda text: onnx.encode([text])[0], texts))
    np.testing.assert_allclose(np.stack(got), expected, atol=1e-5)


def test_a_model_with_a_dense_layer_is_refused(encoder: Encoder) -> None:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Dense

    model = encoder.sentence_transformer
    with_dense = SentenceTransformer(modules=[model[0], model[1], Dense(384, 64)], device="cpu")
    with pytest.raises(UnsupportedModelError, match="Transformer -> Pooling -> Dense"):
        describe_model(with_dense, dimension=64)
