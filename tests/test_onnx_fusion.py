"""Graph fusion at export (`indexer.onnx_fusion`): kept only where it agrees.

The default model's fused export is checked in `test_onnx_encoder` (it must match
sentence-transformers); here, the guard around the optimizer, on small real ONNX
graphs run by ONNX Runtime.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from indexer import onnx_fusion
from indexer.onnx_encoder import inference_session
from indexer.onnx_fusion import fuse_graph

FEEDS = {
    "input_ids": np.array([[101, 7592, 102, 0], [101, 2088, 2003, 102]], dtype=np.int64),
    "attention_mask": np.array([[1, 1, 1, 0], [1, 1, 1, 1]], dtype=np.int64),
}


def _graph(path: Path, *, swapped: bool = False) -> Path:
    """A stand-in encoder: token "embeddings" [id, mask] per token, shape (batch, seq, 2);
    `swapped` gives [mask, id], which pools to other sentence vectors."""
    nodes = [
        helper.make_node("Cast", ["input_ids"], ["ids"], to=TensorProto.FLOAT),
        helper.make_node("Cast", ["attention_mask"], ["mask"], to=TensorProto.FLOAT),
        helper.make_node("Constant", [], ["axis"], value=helper.make_tensor("a", 7, [1], [2])),
        helper.make_node("Unsqueeze", ["ids", "axis"], ["ids3"]),
        helper.make_node("Unsqueeze", ["mask", "axis"], ["mask3"]),
        helper.make_node(
            "Concat", ["mask3", "ids3"] if swapped else ["ids3", "mask3"], ["out"], axis=2
        ),
    ]
    inputs = [
        helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])
        for name in FEEDS
    ]
    output = helper.make_tensor_value_info("out", TensorProto.FLOAT, ["batch", "sequence", 2])
    model = helper.make_model(
        helper.make_graph(nodes, "stand-in", inputs, [output]),
        opset_imports=[helper.make_opsetid("", 17)],
    )
    onnx.save(model, path)
    return path


def test_a_graph_the_optimizer_cannot_fuse_is_kept_as_exported(tmp_path: Path) -> None:
    source = _graph(tmp_path / "exported.onnx")
    expected = source.read_bytes()
    target = tmp_path / "model.onnx"
    outcome = fuse_graph(source, target, num_heads=2, hidden_size=2, check_feeds=FEEDS)
    assert not outcome.fused
    assert "fused nothing" in outcome.note
    assert outcome.operators == {}
    assert target.read_bytes() == expected
    assert not source.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]


def test_a_fused_graph_that_disagrees_is_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The optimizer is replaced by one writing a graph that computes something else
    (a wrong fusion); the comparison itself runs both graphs in ONNX Runtime."""
    source = _graph(tmp_path / "exported.onnx")
    expected = source.read_bytes()

    def wrong_fusion(_: Path, target: Path, **__: int) -> dict[str, int]:
        _graph(target, swapped=True)
        return {"Attention": 1}

    monkeypatch.setattr(onnx_fusion, "_optimise", wrong_fusion)
    target = tmp_path / "model.onnx"
    outcome = fuse_graph(source, target, num_heads=2, hidden_size=2, check_feeds=FEEDS)
    assert not outcome.fused
    assert "disagreed" in outcome.note
    assert target.read_bytes() == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]


def test_a_fused_graph_that_agrees_replaces_the_exported_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _graph(tmp_path / "exported.onnx")

    def same_graph(_: Path, target: Path, **__: int) -> dict[str, int]:
        _graph(target)
        onnx.save(onnx.load(target), target)  # another file, the same computation
        return {"LayerNormalization": 2}

    monkeypatch.setattr(onnx_fusion, "_optimise", same_graph)
    target = tmp_path / "model.onnx"
    outcome = fuse_graph(source, target, num_heads=2, hidden_size=2, check_feeds=FEEDS)
    assert outcome.fused
    assert outcome.note == "fused: LayerNormalization x2"
    assert outcome.operators == {"LayerNormalization": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]


def test_a_failing_optimizer_keeps_the_exported_graph(tmp_path: Path) -> None:
    source = tmp_path / "exported.onnx"
    source.write_bytes(b"not an ONNX model")
    target = tmp_path / "model.onnx"
    outcome = fuse_graph(source, target, num_heads=2, hidden_size=2, check_feeds=FEEDS)
    assert not outcome.fused
    assert outcome.note.startswith("fusion failed: ")
    assert target.read_bytes() == b"not an ONNX model"


def test_sessions_leave_a_residual_and_its_layernorm_as_two_operators(tmp_path: Path) -> None:
    """ONNX Runtime accepts any name in `disabled_optimizers`, a misspelt one too, so
    the sessions' settings are checked by their effect: a session `inference_session`
    opens (as the encoder and the build's check do) keeps Add + LayerNormalization (the
    faster pair here); a plain session joins them into one SkipLayerNormalization."""
    import onnxruntime

    hidden = 8
    nodes = [
        helper.make_node("Add", ["x", "residual"], ["sum"]),
        helper.make_node("LayerNormalization", ["sum", "gamma", "beta"], ["y"], axis=-1),
    ]
    values = [
        helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, "sequence", hidden])
        for name in ("x", "residual", "y")
    ]
    weights = [
        helper.make_tensor(name, TensorProto.FLOAT, [hidden], [1.0] * hidden)
        for name in ("gamma", "beta")
    ]
    model = helper.make_model(
        helper.make_graph(nodes, "residual", values[:2], values[2:], weights),
        opset_imports=[helper.make_opsetid("", 17)],
    )

    def operators_run(open_session: Callable[[bytes, Any], object]) -> list[str]:
        options = onnxruntime.SessionOptions()
        options.optimized_model_filepath = str(tmp_path / "as-run.onnx")
        open_session(model.SerializeToString(), options)
        return [node.op_type for node in onnx.load(tmp_path / "as-run.onnx").graph.node]

    def plain_session(serialised: bytes, options: Any) -> object:
        return onnxruntime.InferenceSession(serialised, options, providers=["CPUExecutionProvider"])

    assert operators_run(plain_session) == ["SkipLayerNormalization"]
    assert operators_run(inference_session) == ["Add", "LayerNormalization"]
