"""A tantivy document without its `row` fast field: the lexical leg's guard.

The lexical leg reads each hit's passage row from the `row` fast field in one
call (`Searcher.fast_field_values`). A document written without it (a foreign
writer, a half-repaired index) gives None there, which would otherwise reach
the store as a row number. Such a hit must be reported as a corrupt index, a
JSON 500 naming the fix, while queries that never reach that document still work.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import tantivy
from fastapi.testclient import TestClient

from indexer.analysis import register_analyzers
from indexer.layout import IndexLayout
from search.app import create_app
from search.engine import SearchEngine
from search.errors import IndexCorruptError
from search.models import SearchRequest
from tests.corpus import ARTICLES, write_corpus
from tests.fake_encoder import FakeEncoder, build_fake_index

pytestmark = pytest.mark.fast
ENCODER = FakeEncoder()
_ORPHAN_WORD = "zyxwvutsrq"  # in no article of the test corpus


def _replace_a_document_with_one_without_row(index_dir: Path) -> None:
    """Passage row 0's document deleted and one English document with a word of its
    own and no `row` added, committed by tantivy's own writer into the live
    generation: as many documents as passages, so the snapshot opens it."""
    index = tantivy.Index.open(str(IndexLayout(index_dir).live_generation().tantivy))
    register_analyzers(index)
    writer = index.writer(heap_size=15_000_000, num_threads=1)
    writer.delete_documents_by_query(tantivy.Query.term_query(index.schema, "row", 0))
    writer.add_document(tantivy.Document(text_en=[f"{_ORPHAN_WORD} volcano"]))
    writer.commit()
    writer.wait_merging_threads()


def test_a_hit_without_its_row_is_a_corrupt_index_not_a_wrong_passage(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build_fake_index([write_corpus(tmp_path / "corpus", ARTICLES)], index_dir, encoder=ENCODER)
    _replace_a_document_with_one_without_row(index_dir)
    engine = SearchEngine(index_dir, encoder=ENCODER)
    with pytest.raises(IndexCorruptError, match="without its row fast field"):
        engine.search(SearchRequest(query=_ORPHAN_WORD, mode="lexical"))
    with TestClient(create_app(engine, reload_seconds=0)) as client:
        response = client.get("/api/search", params={"q": _ORPHAN_WORD, "mode": "lexical"})
        assert response.status_code == 500
        error = response.json()["error"]
        assert error["code"] == "index_corrupt"
        assert "python -m indexer build" in error["message"]
        # a query that never reaches the document is answered as before
        fine = client.get("/api/search", params={"q": "hurricane", "mode": "lexical"})
        assert fine.status_code == 200 and fine.json()["results"]
