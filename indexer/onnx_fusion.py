"""Build time: fuse an exported encoder's ONNX graph with ONNX Runtime's transformer
optimizer (`onnxruntime.transformers.optimizer`), kept only where it agrees.

A query is 8-24 tokens. At that length a BERT-style encoder spends less time in
its matrix products than in the few hundred small operators around them
(reshapes, transposes, the attention mask, and in the int8 graph a quantisation
per product). The optimizer replaces each layer's attention subgraph with one
`Attention` operator (dynamic quantisation then makes it `QAttention`), the
embeddings with `EmbedLayerNormalization`, and each bias + GELU with one
operator. For all-MiniLM-L6-v2 int8 on one core:
- the operators run per query fell from 311 to 52;
- a 14-token query took 2.98 ms instead of 3.34, a batch of 32 x 256 tokens
  1.38 s instead of 1.78;
- the session held 36 MB instead of 48.
Each residual + LayerNorm stays an `Add` and a `LayerNormalization` (64
operators a query): the one `SkipLayerNormalization` the optimizer would make of
them was the slower (`indexer.onnx_encoder.SESSION_DISABLED_OPTIMIZERS`).

ONNX Runtime's own session-time fusions had already done the LayerNorm and GELU
parts, not the attention: its attention fusion matches the eager attention
graph, not PyTorch's `scaled_dot_product_attention`, which is why
`indexer.onnx_export` exports with eager attention.

The optimizer only rewrites patterns it recognises; a model it does not know
keeps its graph. Either way the result is checked: the fused graph must give the
unfused one's sentence vectors (mean-pooled, cosine >= `MIN_COSINE` on a padded
batch) or the unfused graph is kept. A failure here never fails the export.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from indexer.onnx_encoder import inference_session

__all__ = ["MIN_COSINE", "GraphFusion", "fuse_graph"]

log = logging.getLogger(__name__)

# fp32 fused and unfused graphs compute the same sums in another order: they agree
# to ~1e-7 (measured 1.000000 on 300 XQuAD queries); anything less is a wrong fusion.
MIN_COSINE = 0.99999


@dataclass(frozen=True, slots=True)
class GraphFusion:
    """What `fuse_graph` did. `operators`: fused operator -> how many (none if not fused)."""

    fused: bool
    note: str
    operators: dict[str, int] = field(default_factory=dict)


def fuse_graph(
    source: Path,
    target: Path,
    *,
    num_heads: int,
    hidden_size: int,
    check_feeds: Mapping[str, npt.NDArray[np.int64]],
) -> GraphFusion:
    """Write `source`'s fused graph to `target`, or `source`'s own graph where fusion
    fails, fuses nothing or disagrees. `check_feeds`: a padded token batch (the
    graph's inputs by name, `attention_mask` among them) to compare the two on."""
    partial = target.with_name(f".{target.name}.fusing")
    try:
        operators = _optimise(source, partial, num_heads=num_heads, hidden_size=hidden_size)
        if not operators:
            outcome = GraphFusion(False, "ONNX Runtime's optimizer fused nothing in this model")
        else:
            cosine = _agreement(source, partial, check_feeds)
            if cosine >= MIN_COSINE:
                os.replace(partial, target)
                source.unlink()
                listed = ", ".join(f"{name} x{count}" for name, count in sorted(operators.items()))
                return GraphFusion(True, f"fused: {listed}", operators)
            outcome = GraphFusion(
                False, f"the fused graph disagreed with the unfused one (cosine {cosine:.6f})"
            )
    except Exception as error:  # the optimizer and ONNX Runtime raise their own kinds
        outcome = GraphFusion(False, f"fusion failed: {type(error).__name__}: {error}")
    finally:
        partial.unlink(missing_ok=True)
    log.info("ONNX graph left unfused: %s", outcome.note)
    os.replace(source, target)
    return outcome


def _optimise(source: Path, target: Path, *, num_heads: int, hidden_size: int) -> dict[str, int]:
    """Run the optimizer (graph rewrites only, `opt_level=0`: the file stays portable,
    and the session applies its own optimisations when it loads); fused counts."""
    import onnx
    from onnxruntime.transformers.optimizer import optimize_model

    # loaded here: the optimizer's own load fails after it has made a temporary
    # directory, which it then leaves to the garbage collector
    graph = onnx.load(source)
    quiet = _optimizer_loggers()
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.ERROR)  # it logs each pattern it did not find
    try:
        model = optimize_model(
            graph,
            model_type="bert",
            num_heads=num_heads,
            hidden_size=hidden_size,
            optimization_options=_fusion_options(),
            opt_level=0,
        )
        statistics = model.get_fused_operator_statistics()
        operators = {str(name): int(count) for name, count in statistics.items() if count}
        if operators:
            model.save_model_to_file(str(target))
        return operators
    finally:
        for logger, level in zip(quiet, levels, strict=True):
            logger.setLevel(level)


def _fusion_options() -> Any:
    """The optimizer's BERT fusions, less residual + LayerNorm into one
    `SkipLayerNormalization`: slower than the two operators it replaces
    (`indexer.onnx_encoder.SESSION_DISABLED_OPTIMIZERS`, which keeps ONNX Runtime's
    sessions from making the same fusion when they load the file)."""
    from onnxruntime.transformers.fusion_options import FusionOptions

    options = FusionOptions("bert")
    options.enable_skip_layer_norm = False
    options.enable_bias_skip_layer_norm = False
    return options


def _optimizer_loggers() -> list[logging.Logger]:
    """The optimizer's loggers: its modules import one another as top-level modules
    (`fusion_attention`, ...), so they are found by file, not by a name prefix."""
    import onnxruntime.transformers

    package = Path(onnxruntime.transformers.__file__).parent
    names = [
        name
        for name, module in list(sys.modules.items())
        if (file := getattr(module, "__file__", None)) and Path(file).is_relative_to(package)
    ]
    return [logging.getLogger(name) for name in names]


def _agreement(unfused: Path, fused: Path, feeds: Mapping[str, npt.NDArray[np.int64]]) -> float:
    """Lowest cosine between the two graphs' mean-pooled outputs over the batch."""
    mask = feeds["attention_mask"][:, :, None].astype(np.float32)
    pooled = []
    for path in (unfused, fused):
        (hidden,) = _session(path).run(None, dict(feeds))
        pooled.append((hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None))
    a, b = (p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-12) for p in pooled)
    return float(np.min(np.sum(a * b, axis=1)))


def _session(path: Path) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    return inference_session(str(path), options)
