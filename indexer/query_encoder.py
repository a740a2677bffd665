"""The query side's encoder: ONNX Runtime when the index recorded an export, else torch.

`open_query_encoder(index_dir, manifest)` is what the search service calls. With a
usable ONNX export in the manifest it returns an `OnnxEncoder` (no torch,
transformers or scikit-learn in the process: faster start, smaller RSS, no lock);
otherwise it logs why and returns the sentence-transformers `Encoder`. Both
embed with the model that built the index, so queries meet passages in one space.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from indexer.errors import ModelLoadError
from indexer.manifest import Manifest
from indexer.onnx_encoder import OnnxEncoder

__all__ = ["TextEncoder", "open_query_encoder"]

log = logging.getLogger(__name__)


class TextEncoder(Protocol):
    """What the search side and the build need from an encoder."""

    model_ref: str  # the manifest's model ref: vectors are comparable between equal refs
    dimension: int
    backend: str  # "onnx-fp32", "onnx-int8" or "sentence-transformers"

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> npt.NDArray[np.float32]:
        """Shape (len(texts), dimension), float32, unit-length rows."""
        ...


def open_query_encoder(index_dir: Path, manifest: Manifest, *, threads: int = 1) -> TextEncoder:
    """The encoder for queries against the index that `manifest` describes.

    `threads`: intra-op threads (1 suits one query at a time per request thread).
    Raises `ModelLoadError` only when the sentence-transformers fallback fails too.
    """
    onnx = manifest.onnx
    if onnx is None:
        reason = "the index was built before ONNX export existed"
    elif not onnx.exported or onnx.path is None or onnx.precision is None:
        reason = onnx.reason
    else:
        model_path = index_dir / onnx.path
        try:
            encoder = OnnxEncoder(
                model_path.parent,
                model_ref=manifest.model.ref,
                precision=onnx.precision,
                threads=threads,
                expected_sha256=onnx.sha256,
            )
        except (ModelLoadError, ImportError, OSError) as error:
            reason = str(error)
        else:
            if encoder.dimension == manifest.model.dimension:
                return encoder
            reason = (
                f"{model_path} gives {encoder.dimension} dimensions, the index has "
                f"{manifest.model.dimension}"
            )
    log.warning(
        "query encoder: sentence-transformers on torch (slower start, more memory), "
        "not ONNX: %s. Rebuilding the index exports the model (python -m indexer build).",
        reason,
    )
    from indexer.encoder import Encoder

    return Encoder(manifest.model.ref, threads=threads)
