"""The query's embedding, through the pivot language when the index used one.

With a pivot ("en": Spanish passages were embedded through their English
translation, because the default model is English-only), the query's English
translation joins the original: the mean of both unit vectors, renormalised. An
English query's "translation" is dropped as untranslated, so it is embedded as
typed. Paging through results repeats a query, so vectors are cached (~10 ms each).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from search.generation import QueryEncoder
from search.lru import LruCache

__all__ = ["QueryEmbedder"]


class QueryEmbedder:
    def __init__(self, *, capacity: int = 2048) -> None:
        self._cache: LruCache[tuple[str, ...], npt.NDArray[np.float32]] = LruCache(capacity)

    def embed(
        self,
        encoder: QueryEncoder,
        text: str,
        *,
        translations: Mapping[str, str],
        pivot: str | None,
    ) -> npt.NDArray[np.float32]:
        """A unit-length float32 vector for `text` (plus its pivot translation)."""
        texts = [text]
        if pivot and pivot in translations:
            texts.append(translations[pivot])
        key = (encoder.model_ref, *texts)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        mean = encoder.encode(texts).mean(axis=0)
        norm = float(np.linalg.norm(mean))
        vector: npt.NDArray[np.float32] = (mean / norm if norm > 0 else mean).astype(np.float32)
        self._cache.put(key, vector)
        return vector

    def clear_cache(self) -> None:
        self._cache.clear()
