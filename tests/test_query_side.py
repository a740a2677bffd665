"""The query side's own pieces: which text the pivot embeds, and the translator pool."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest

from indexer.translation import ApertiumTranslator
from search.query_embedding import QueryEmbedder
from search.query_translation import TranslatorPool
from tests.fake_encoder import FakeEncoder


class RecordingEncoder(FakeEncoder):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[list[str]] = []

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> npt.NDArray[np.float32]:
        self.seen.append(list(texts))
        return super().encode(texts, batch_size=batch_size)


@pytest.mark.fast
@pytest.mark.parametrize(
    ("translations", "embedded"),
    [
        ({"en": "drought in Sonora"}, "drought in Sonora"),  # reads as Spanish: translation
        ({"en": "CJNG Poster", "es": "cártel CJNG"}, "sequía"),  # both changed: as typed
        ({"es": "sequía"}, "sequía"),  # only en->es changed it: English, as typed
        ({}, "sequía"),
    ],
)
def test_the_pivot_embeds_a_spanish_looking_query_through_its_translation_alone(
    translations: dict[str, str], embedded: str
) -> None:
    encoder = RecordingEncoder()
    vector = QueryEmbedder().embed(encoder, "sequía", translations=translations, pivot="en")
    assert encoder.seen == [[embedded]]
    assert np.allclose(vector, encoder.encode([embedded])[0])


@pytest.mark.fast
def test_without_a_pivot_the_query_is_embedded_as_typed() -> None:
    encoder = RecordingEncoder()
    QueryEmbedder().embed(encoder, "sequía", translations={"en": "drought"}, pivot=None)
    assert encoder.seen == [["sequía"]]


@pytest.mark.skipif(not ApertiumTranslator.is_available(), reason="Apertium not installed")
def test_a_pool_of_real_translators_serves_concurrent_queries() -> None:
    translators = [ApertiumTranslator(), ApertiumTranslator()]
    pool = TranslatorPool(translators)
    answers: list[str | None] = []
    lock = threading.Lock()

    def ask() -> None:
        for _ in range(5):
            answer = pool.translate("el libro", source="es", target="en")
            with lock:
                answers.append(answer)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert answers == ["The book"] * 20
    used = [t for t in translators if t._pipelines["spa-eng"] is not None]
    assert len(used) == 2  # both pipelines did work
    pool.close()
    assert all(t._pipelines["spa-eng"] is None for t in translators)
