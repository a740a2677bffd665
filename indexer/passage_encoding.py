"""Translations and embeddings of new passages, from the cache where it has them.

Translation runs in Apertium's own processes, so a thread feeding it overlaps
with encoding. With a pivot ("en", for an English-only model), a Spanish passage
is embedded through its English translation (translate-test): the model then sees
English, and a Spanish query (also pivoted) meets it there. Whatever is computed
is added to `indexer.encoding_cache`, so the next build or change reuses it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from indexer.encoding_cache import EncodingCache
from indexer.progress import Progress
from indexer.query_encoder import TextEncoder

if TYPE_CHECKING:
    from indexer.translation import ApertiumTranslator

__all__ = ["EncodedPassages", "PassageText", "translate_and_embed"]

_ENCODE_CHUNK = 256  # passages per progress step and per cache write
_DIRECTIONS = (("es", "en"), ("en", "es"))  # es->en first: the pivot embeddings wait for it


class PassageText(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def lang(self) -> str: ...


class EncodedPassages:
    """Row i: the vector and the translation (into the other primary language, or
    None) of passage i."""

    def __init__(
        self, vectors: npt.NDArray[np.float32], translations: list[str | None], computed: int
    ) -> None:
        self.vectors = vectors
        self.translations = translations
        self.encoded = computed  # vectors not found in the cache

    @property
    def translated(self) -> int:
        return sum(1 for t in self.translations if t)


def translate_and_embed(
    passages: Sequence[PassageText],
    *,
    encoder: TextEncoder,
    translator: ApertiumTranslator | None,
    pivot: str | None,
    cache: EncodingCache,
    batch_size: int,
    progress: Progress,
    stages: dict[str, float],
) -> EncodedPassages:
    """Vectors (unit rows, float32) and translations of `passages`, in order."""
    translations: list[str | None] = [None] * len(passages)
    rows_by_language: dict[str, list[int]] = {"en": [], "es": []}
    for row, passage in enumerate(passages):
        rows_by_language.get(passage.lang, []).append(row)

    def translate(source: str, target: str) -> None:
        assert translator is not None
        mark = time.perf_counter()
        rows = rows_by_language[source]
        texts = [passages[row].text for row in rows]
        cached = cache.translations(texts, source=source, target=target)
        missing = [n for n in range(len(rows)) if n not in cached]
        fresh = translator.translate_many([texts[n] for n in missing], source=source, target=target)
        cache.put_translations([texts[n] for n in missing], fresh, source=source, target=target)
        found: dict[int, str | None] = {**cached, **dict(zip(missing, fresh, strict=True))}
        for n, row in enumerate(rows):
            text = found.get(n)
            translations[row] = text if text and text.strip() else None
        stages[f"translate_{source}_{target}"] = time.perf_counter() - mark

    vectors = np.zeros((len(passages), encoder.dimension), dtype=np.float32)
    mark = time.perf_counter()
    computed = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="translate") as pool:
        jobs: dict[str, Future[None]] = (
            {source: pool.submit(translate, source, target) for source, target in _DIRECTIONS}
            if translator is not None
            else {}
        )
        try:
            pivot_rows = rows_by_language["es"] if pivot == "en" and translator is not None else []
            pivot_set = set(pivot_rows)
            direct = [row for row in range(len(passages)) if row not in pivot_set]
            progress.stage("embedding", len(passages))
            texts = [p.text for p in passages]
            computed += _embed(vectors, direct, texts, encoder, cache, batch_size, progress)
            if "es" in jobs:
                jobs["es"].result()
            if pivot_rows:
                pivot_texts = [t or p.text for t, p in zip(translations, passages, strict=True)]
                computed += _embed(
                    vectors, pivot_rows, pivot_texts, encoder, cache, batch_size, progress
                )
            if "en" in jobs:
                jobs["en"].result()
        except BaseException:
            # Leaving the pool waits for the translation job: a closed translator
            # answers its remaining batches at once instead of minutes later.
            if translator is not None:
                translator.close()
            raise
    stages["translate_and_embed"] = time.perf_counter() - mark
    return EncodedPassages(vectors, translations, computed)


def _embed(
    vectors: npt.NDArray[np.float32],
    rows: list[int],
    texts: list[str],
    encoder: TextEncoder,
    cache: EncodingCache,
    batch_size: int,
    progress: Progress,
) -> int:
    """Fill `vectors[rows]` with the vectors of `texts[row]`; returns how many were
    encoded (the rest came from the cache)."""
    computed = 0
    for at in range(0, len(rows), _ENCODE_CHUNK):
        chunk = rows[at : at + _ENCODE_CHUNK]
        chunk_texts = [texts[row] for row in chunk]
        cached = cache.vectors(chunk_texts)
        missing = [n for n in range(len(chunk)) if n not in cached]
        if missing:
            fresh = encoder.encode([chunk_texts[n] for n in missing], batch_size=batch_size)
            cache.put_vectors([chunk_texts[n] for n in missing], fresh)
            for n, vector in zip(missing, fresh, strict=True):
                cached[n] = vector
            computed += len(missing)
        vectors[chunk] = np.stack([cached[n] for n in range(len(chunk))])
        progress.advance(len(chunk))
    return computed
