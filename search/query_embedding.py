"""The query's embedding, through the pivot language when the index used one.

With a pivot ("en": Spanish passages were embedded through their English
translation, because the default model is English-only), a query that reads as
Spanish is embedded through its English translation *alone*. It reads as Spanish
when Apertium's es->en changed it and en->es did not (`search.query_translation`
drops a "translation" that mostly repeats its input). Every other query is
embedded as typed, never averaged with an es->en output: the English-only model's
embedding of Spanish text is close to noise, and Apertium's es->en of an English
query is garbage ("cartel" -> "Poster").

Measured (search/evaluation/relevance-analysis.md, (c) "A"): against the earlier
mean(original, translation), XQuAD Spanish-query hybrid nDCG@10 +0.010 and
es->en recall@10 +0.014, English unchanged; seeds Spanish +0.045; news +0.002.
Paging through results repeats a query, so vectors are cached (~10 ms each).
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
        self._cache: LruCache[tuple[str, str], npt.NDArray[np.float32]] = LruCache(capacity)

    def embed(
        self,
        encoder: QueryEncoder,
        text: str,
        *,
        translations: Mapping[str, str],
        pivot: str | None,
    ) -> npt.NDArray[np.float32]:
        """A unit-length float32 vector for `text`, or for its pivot translation."""
        key = _key(encoder, text, translations, pivot)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        embedded = encoder.encode([key[1]])[0]
        norm = float(np.linalg.norm(embedded))
        vector: npt.NDArray[np.float32] = (embedded / norm if norm > 0 else embedded).astype(
            np.float32
        )
        self._cache.put(key, vector)
        return vector

    def cached(
        self,
        encoder: QueryEncoder,
        text: str,
        *,
        translations: Mapping[str, str],
        pivot: str | None,
    ) -> npt.NDArray[np.float32] | None:
        """`embed`'s vector if it is cached, else None (and nothing is encoded)."""
        return self._cache.get(_key(encoder, text, translations, pivot))

    def clear_cache(self) -> None:
        self._cache.clear()


def _key(
    encoder: QueryEncoder, text: str, translations: Mapping[str, str], pivot: str | None
) -> tuple[str, str]:
    """(model, the text embedded): `text`, or its pivot translation where it reads as
    the other language."""
    if pivot and pivot in translations and _reads_as_other_language(pivot, translations):
        return (encoder.model_ref, translations[pivot])
    return (encoder.model_ref, text)


def _reads_as_other_language(pivot: str, translations: Mapping[str, str]) -> bool:
    """Not translated into the other language (en->es left it alone): not the pivot's."""
    return not any(language in translations for language in {"en", "es"} - {pivot})
