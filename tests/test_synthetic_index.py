"""The synthetic index of `make bench-scale`: written by the real writers from a
reference index, it loads, every mode finds passages, and its vectors go through
the HNSW graph. Behaviour only; the figures are the benchmark's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from indexer.ann_recall import GenerationVectors, exact_answers, graph_recall
from indexer.layout import IndexLayout
from indexer.metadata_store import MetadataStore
from indexer.synthetic_index import ReferenceCorpus, SyntheticOptions, build_synthetic_index
from search.case_vocabulary import StoredCaseVocabulary
from search.engine import EngineOptions, SearchEngine
from search.models import SearchRequest
from tests.conftest import SEEDS
from tests.fake_encoder import FakeEncoder, build_fake_index

pytestmark = pytest.mark.fast

PASSAGES = 300


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index_dir = tmp_path_factory.mktemp("reference")
    build_fake_index([SEEDS], index_dir)
    return index_dir


@pytest.fixture(scope="module")
def synthetic(reference: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 passages tiled from the seeds' 23, a graph from 100 rows."""
    index_dir = tmp_path_factory.mktemp("synthetic")
    options = SyntheticOptions(passages=PASSAGES, vector_threshold=100)
    build_synthetic_index(ReferenceCorpus.read(reference), index_dir, options)
    return index_dir


def _store(index_dir: Path) -> MetadataStore:
    return MetadataStore.open(IndexLayout(index_dir).live_generation().root)


def test_it_holds_n_passages_of_distinctly_named_copies(reference: Path, synthetic: Path) -> None:
    corpus = ReferenceCorpus.read(reference)
    store = _store(synthetic)
    try:
        articles = list(store.articles())
        passages = list(store.passages())
        assert len(passages) == store.count == PASSAGES
        ids = [article.id for article in articles]
        assert len(set(ids)) == len(ids) > len(corpus.articles)
        original = corpus.articles[0]
        copy = store.article(f"{original.record.id}~2")
        assert copy is not None and copy.text == original.record.text
        assert copy.date is not None and copy.source is not None
        rows = [p.row for p in store.passages_of(copy.id)]
        assert [store.passage_text(row) for row in rows] == list(original.texts)
    finally:
        store.close()


def test_copies_have_unit_vectors_near_their_originals(reference: Path, synthetic: Path) -> None:
    corpus = ReferenceCorpus.read(reference)
    generation = GenerationVectors.live(synthetic)
    vectors = np.asarray(generation.vectors)
    first_copy = vectors[: corpus.passage_count]
    second_copy = vectors[corpus.passage_count : 2 * corpus.passage_count]
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(first_copy, corpus.vectors, rtol=1e-6)  # copy 0 is the original
    cosines = np.einsum("ij,ij->i", second_copy, corpus.vectors)
    assert np.all(cosines < 0.9999) and np.all(cosines > 0)


def test_it_loads_and_every_mode_finds_passages(synthetic: Path) -> None:
    engine = SearchEngine(
        synthetic,
        options=EngineOptions(query_translation=False),
        encoder=FakeEncoder(),  # type: ignore[arg-type]
    )
    assert engine.snapshot.vectors.info.kind == "ivf"
    # name evidence comes from the store's table, written with the generation
    assert isinstance(engine._generation.current.vocabulary, StoredCaseVocabulary)
    assert engine.health().warming == []
    for mode in ("lexical", "semantic", "hybrid"):
        response = engine.search(SearchRequest(query="security chief attack", mode=mode))
        assert response.results, mode
        assert all(result.source for result in response.results)


def test_the_graph_is_measured_against_the_exact_scan(synthetic: Path) -> None:
    generation = GenerationVectors.live(synthetic)
    queries = FakeEncoder().encode(["security chief attack", "huracán Acapulco", "elecciones"])
    exact_searcher = generation.searcher(generation.exact_info())
    exact = exact_answers(exact_searcher, queries)
    assert all(len(rows) == 100 for rows in exact.rows)
    against_itself = graph_recall(exact_searcher, queries, exact)
    assert against_itself.recall_at_10 == against_itself.recall_at_depth == 1.0
    assert against_itself.tenth_gap == 0.0
    graph = graph_recall(generation.searcher(), queries, exact)
    assert 0.0 < graph.recall_at_10 <= 1.0
    assert graph.tenth_gap >= -1e-6  # never a 10th better than the exact one (float noise aside)
