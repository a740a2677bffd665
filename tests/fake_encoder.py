"""A deterministic stand-in for the embedding model, for the fast test loop only.

Hashing bag of words: each lowercased word adds +1 or -1 to one of `dimension`
buckets (both from a stable hash), and the vector is L2-normalised, so passages
sharing words with the query have a positive cosine and the semantic leg ranks
something sensible. It loads in microseconds and never touches torch. The full
suite uses the real model; `make test-fast` uses this one (`-m fast`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from indexer.build import BuildOptions, BuildReport, build_index

_WORD = re.compile(r"\w+", re.UNICODE)


class FakeEncoder:
    def __init__(self, dimension: int = 64) -> None:
        self.dimension = dimension
        self.model_ref = f"fake-hashing-{dimension}"
        self.name = self.model_ref
        self.max_seq_length = 256

    @property
    def max_passage_tokens(self) -> int:
        return self.max_seq_length - 2

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(_WORD.findall(text)) for text in texts]

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> npt.NDArray[np.float32]:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % self.dimension
                vectors[row, bucket] += 1.0 if digest[4] & 1 else -1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def build_fake_index(
    sources: Sequence[Path], index_dir: Path, *, encoder: FakeEncoder | None = None
) -> BuildReport:
    """A real build (reading, chunking, tantivy, atomic publish) embedding with the fake
    encoder instead of the model; translation off, so no Apertium is needed."""
    encoder = encoder or FakeEncoder()
    options = BuildOptions(
        sources=tuple(sources), index_dir=index_dir, model_ref=encoder.model_ref, translation="off"
    )
    return build_index(options, encoder=encoder)  # type: ignore[arg-type]
