"""The sentence-transformers encoder shared by the indexer and the query side.

One setting (`--model` / SEARCH_MODEL) takes any sentence-transformers model name
or local path. The index manifest records which model built it and the search
service loads that one, so queries and passages always live in the same space.

The hub is offline unless downloads are allowed: a name that is not a local path
and not in the local cache fails at once with a message saying how to fix it,
instead of after a minute of network retries.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from indexer.errors import ModelLoadError

__all__ = ["Encoder", "looks_multilingual"]

_MULTILINGUAL_MARKERS = ("multilingual", "labse", "xlm", "bge-m3", "-m3", "mult")


def looks_multilingual(model_name: str) -> bool:
    """Guess whether a model maps English and Spanish into one space, from its name."""
    lowered = model_name.lower()
    return any(marker in lowered for marker in _MULTILINGUAL_MARKERS)


class Encoder:
    """Embeds texts as L2-normalised float32 rows; counts tokens the model's way."""

    backend = "sentence-transformers"

    def __init__(
        self, model_ref: str, *, allow_downloads: bool = False, threads: int | None = None
    ) -> None:
        """`threads`: torch intra-op threads. The service uses 1: a short query gains
        nothing from two, and OpenMP spinning against a busy second core made a
        12 ms encoding take 200-500 ms in our measurements."""
        if not allow_downloads:
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        if threads is not None:
            import torch

            torch.set_num_threads(threads)
        self.model_ref = model_ref
        self._model = _load(model_ref, allow_downloads=allow_downloads)
        self._lock = threading.Lock()
        dimension = self._model.get_embedding_dimension()
        if not dimension:
            raise ModelLoadError(f"Model {model_ref!r} does not report an embedding dimension.")
        self.dimension = int(dimension)
        self.max_seq_length = int(self._model.max_seq_length or 512)
        self.name = _model_name(model_ref, self._model)

    @property
    def sentence_transformer(self) -> Any:
        """The loaded `SentenceTransformer`, for exporting it (see `indexer.onnx_export`)."""
        return self._model

    @property
    def max_passage_tokens(self) -> int:
        """Tokens a passage may have without truncation: [CLS] and [SEP] take two."""
        return self.max_seq_length - 2

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encoded = self._model.tokenizer(
            list(texts), add_special_tokens=False, return_attention_mask=False
        )
        return [len(ids) for ids in encoded["input_ids"]]

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> npt.NDArray[np.float32]:
        """Shape (len(texts), dimension), unit length, so a dot product is the cosine."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:  # torch on 2 cores: concurrent calls only thrash
            vectors = self._model.encode(
                list(texts),
                batch_size=batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> npt.NDArray[np.float32]:
        vector: npt.NDArray[np.float32] = self.encode([text])[0]
        return vector


def _load(model_ref: str, *, allow_downloads: bool) -> Any:
    from sentence_transformers import SentenceTransformer

    path = Path(model_ref).expanduser()
    looks_like_path = path.is_absolute() or model_ref.startswith((".", "~"))
    if looks_like_path and not path.exists():
        raise ModelLoadError(
            f"Model path {model_ref!r} does not exist. Pass an existing sentence-transformers "
            "model directory with --model or SEARCH_MODEL, or leave both unset for the "
            "bundled all-MiniLM-L6-v2."
        )
    try:
        return SentenceTransformer(
            str(path) if path.exists() else model_ref,
            device="cpu",
            local_files_only=not allow_downloads,
        )
    except Exception as error:  # sentence-transformers raises many kinds
        hint = (
            "Downloads are off (no network here): pass a local model directory with --model "
            "or SEARCH_MODEL, or set SEARCH_ALLOW_DOWNLOADS=1 on a machine with network."
            if not allow_downloads
            else "Check the model name and the network connection."
        )
        raise ModelLoadError(
            f"Could not load the embedding model {model_ref!r}: {error}. {hint}"
        ) from error


def _model_name(model_ref: str, model: Any) -> str:
    """A readable name: the hub id when the model card config knows it, else the ref."""
    path = Path(model_ref)
    if path.exists():
        readme = path / "README.md"
        if readme.exists():
            for line in readme.read_text(encoding="utf-8", errors="replace").splitlines()[:40]:
                if line.startswith("# ") and "/" not in line:
                    return f"sentence-transformers/{line[2:].strip()}"
        return path.name
    return model_ref
