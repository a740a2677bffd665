"""A real build on disk: the lexical index, the dense index, the manifest, bad inputs.

One small English + Spanish corpus (written here, distinct topics) is built once for
the module with the session's model; tests open what the build wrote the way the
search service does: tantivy with our analyzers registered, embeddings by mmap.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import tantivy

from indexer.analysis import (
    FIELD_BY_LANGUAGE,
    OTHER_FIELD,
    Analyzers,
    register_analyzers,
)
from indexer.build import BuildReport
from indexer.encoder import Encoder
from indexer.errors import IndexerError, InputProblemsError
from indexer.layout import GenerationPaths, IndexLayout, read_vectors
from indexer.manifest import SCHEMA_VERSION, Manifest
from indexer.metadata_store import read_articles_store, read_passages_store
from indexer.onnx_encoder import OnnxEncoder
from tests.conftest import BuildFn
from tests.test_articles import write_bad_corpus

ARTICLES = {
    "en/convoy.txt": (
        "Gunmen ambush the security chief's convoy\n\n"
        "Gunmen attacked the armoured convoy of Omar García Harfuch on a busy avenue at "
        "dawn. Two bodyguards were killed and the chief was wounded in the shoulder. "
        "Investigators said the gunmen had waited for hours in a rented truck.\n"
    ),
    "en/bakery.txt": (
        "Small bakery wins national bread prize\n\n"
        "A family bakery on Elm Street won the national prize for its sourdough loaf. "
        "The judges praised the crust and the open crumb. The owners said they bake "
        "every night in a wood-fired oven built by their grandfather.\n"
    ),
    "es/extorsion.txt": (
        "Comerciantes denuncian cobros de piso\n\n"
        "Los comerciantes del mercado de Tepito denunciaron que los carteles les cobran "
        "cuotas de extorsión cada semana. Quienes se niegan a pagar reciben amenazas por "
        "teléfono y en redes sociales. El fiscal Ernesto García dijo que ya hay más de "
        "cien denuncias.\n"
    ),
    "es/futbol.txt": (
        "Monterrey gana el campeonato\n\n"
        "El equipo de fútbol de Monterrey ganó el campeonato nacional tras vencer a "
        "Toluca en la final. Miles de aficionados celebraron en la Macroplaza hasta la "
        "madrugada, con banderas y tambores.\n"
    ),
}
JSONL_RECORD = {
    "id": "wire-1",
    "text": (
        "Volcano Popocatépetl spewed ash over Puebla on Sunday, and the airport "
        "suspended flights for several hours while crews cleaned the runway."
    ),
    "title": "Popocatépetl eruption closes airport",
    "date": "2024-05-20T08:30:00Z",
    "source": "Wire Service",
    "url": "https://example.com/volcano",
}


def row_of(searcher: tantivy.Searcher, address: tantivy.DocAddress) -> int:
    """The stored `row` of a hit: its line number in passages.jsonl."""
    row = searcher.doc(address).get_first("row")
    assert isinstance(row, int)
    return row


def _write_corpus(folder: Path) -> Path:
    for name, text in ARTICLES.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, build: BuildFn) -> BuildReport:
    root = tmp_path_factory.mktemp("bilingual")
    corpus = _write_corpus(root / "corpus")
    jsonl = root / "wire.jsonl"
    jsonl.write_text(json.dumps(JSONL_RECORD) + "\n", encoding="utf-8")
    return build([corpus, jsonl], root / "index", translation="off")


@pytest.fixture(scope="module")
def generation(built: BuildReport) -> GenerationPaths:
    return GenerationPaths(built.generation_dir)


@pytest.fixture(scope="module")
def index(generation: GenerationPaths) -> tantivy.Index:
    opened = tantivy.Index.open(str(generation.tantivy))
    register_analyzers(opened)
    return opened


def article_ids_for(
    index: tantivy.Index, generation: GenerationPaths, field: str, word: str
) -> set[str]:
    """Articles whose passages match `word` in `field`, analyzed as a query would be."""
    tokens = Analyzers.create().analyze(field, word)
    assert len(tokens) == 1, (word, tokens)
    return set(rows_to_articles(index, generation, field, tokens[0]))


def rows_to_articles(
    index: tantivy.Index, generation: GenerationPaths, field: str, token: str
) -> list[str]:
    passages = read_passages_store(generation)
    searcher = index.searcher()
    query = tantivy.Query.term_query(index.schema, field, token)
    hits = searcher.search(query, 50).hits
    rows = [row_of(searcher, address) for _, address in hits]
    return [passages[row].article_id for row in rows]


def has_word(text: str, word: str) -> bool:
    return re.search(rf"\b{re.escape(word)}\b", text, flags=re.IGNORECASE) is not None


# --- the lexical index ---------------------------------------------------------------


def test_passage_languages_of_the_fixture(built: BuildReport, generation: GenerationPaths) -> None:
    languages = {p.article_id: p.lang for p in read_passages_store(generation)}
    assert languages == {
        "en/convoy.txt": "en",
        "en/bakery.txt": "en",
        "es/extorsion.txt": "es",
        "es/futbol.txt": "es",
        "wire-1": "en",
    }


@pytest.mark.parametrize(
    ("language", "query", "in_text", "article"),
    [
        # accent folding
        ("es", "Garcia", "García", "es/extorsion.txt"),
        ("en", "Garcia", "García", "en/convoy.txt"),
        ("es", "extorsion", "extorsión", "es/extorsion.txt"),
        ("es", "futbol", "fútbol", "es/futbol.txt"),
        ("en", "Popocatepetl", "Popocatépetl", "wire-1"),
        # stemming, English
        ("en", "attacks", "attacked", "en/convoy.txt"),
        ("en", "attacking", "attacked", "en/convoy.txt"),
        ("en", "judge", "judges", "en/bakery.txt"),
        # stemming, Spanish (and folding before stemming)
        ("es", "cártel", "carteles", "es/extorsion.txt"),
        ("es", "cartel", "carteles", "es/extorsion.txt"),
        ("es", "amenaza", "amenazas", "es/extorsion.txt"),
        ("es", "aficionado", "aficionados", "es/futbol.txt"),
        ("es", "celebrar", "celebraron", "es/futbol.txt"),
    ],
)
def test_query_form_finds_the_indexed_form(
    index: tantivy.Index,
    generation: GenerationPaths,
    language: str,
    query: str,
    in_text: str,
    article: str,
) -> None:
    text = {**ARTICLES, "wire-1": JSONL_RECORD["text"]}[article]
    assert has_word(text, in_text)
    assert not has_word(text, query), "the query word itself is not in the article"
    field = FIELD_BY_LANGUAGE[language]
    assert article_ids_for(index, generation, field, query) == {article}


def test_hits_carry_the_row_of_their_passage(
    index: tantivy.Index, generation: GenerationPaths
) -> None:
    passages = read_passages_store(generation)
    articles = {a.id: a for a in read_articles_store(generation)}
    (token,) = Analyzers.create().analyze("text_en", "sourdough")
    searcher = index.searcher()
    query = tantivy.Query.term_query(index.schema, "text_en", token)
    hits = searcher.search(query, 10).hits
    assert len(hits) == 1
    row = row_of(searcher, hits[0][1])
    passage = passages[row]
    assert passage.row == row
    assert "sourdough" in articles[passage.article_id].text[passage.start : passage.end]


@pytest.mark.parametrize(
    ("field", "stop_word", "present_in"),
    [
        ("text_en", "the", "en/bakery.txt"),
        ("text_en", "and", "en/convoy.txt"),
        ("text_es", "los", "es/extorsion.txt"),
        ("text_es", "de", "es/futbol.txt"),
        ("text_es", "más", "es/extorsion.txt"),
    ],
)
def test_stop_words_are_not_indexed(
    index: tantivy.Index, generation: GenerationPaths, field: str, stop_word: str, present_in: str
) -> None:
    assert has_word(ARTICLES[present_in], stop_word)
    assert Analyzers.create().analyze(field, stop_word) == []
    for raw_token in {stop_word, stop_word.replace("á", "a")}:  # "más" folded would be "mas"
        assert rows_to_articles(index, generation, field, raw_token) == []


def test_languages_stay_in_their_own_field(
    index: tantivy.Index, generation: GenerationPaths
) -> None:
    assert article_ids_for(index, generation, "text_es", "bakery") == set()
    assert article_ids_for(index, generation, "text_en", "comerciantes") == set()
    assert article_ids_for(index, generation, OTHER_FIELD, "bakery") == set()


def test_without_our_analyzers_the_index_cannot_parse_queries(
    generation: GenerationPaths,
) -> None:
    """tantivy does not persist custom analyzers: every open must register them."""
    bare = tantivy.Index.open(str(generation.tantivy))
    with pytest.raises(ValueError, match="bi_es"):
        bare.parse_query("extorsion", ["text_es"])
    registered = tantivy.Index.open(str(generation.tantivy))
    register_analyzers(registered)
    query = registered.parse_query("Extorsion", ["text_es"])
    assert len(registered.searcher().search(query, 10).hits) == 1


def test_source_and_date_fields_are_indexed(index: tantivy.Index) -> None:
    searcher = index.searcher()
    by_source = tantivy.Query.term_query(index.schema, "source", "Wire Service")
    assert len(searcher.search(by_source, 10).hits) == 1
    in_may = index.parse_query("date:[2024-05-01T00:00:00Z TO 2024-06-01T00:00:00Z]")
    assert len(searcher.search(in_may, 10).hits) == 1


# --- the stores and the dense index -----------------------------------------------------


def test_articles_store_keeps_metadata(generation: GenerationPaths) -> None:
    articles = {a.id: a for a in read_articles_store(generation)}
    assert set(articles) == {*ARTICLES, "wire-1"}
    wire = articles["wire-1"]
    assert (wire.title, wire.date, wire.source, wire.url, wire.lang) == (
        "Popocatépetl eruption closes airport",
        "2024-05-20",
        "Wire Service",
        "https://example.com/volcano",
        "en",
    )
    assert articles["es/futbol.txt"].title == "Monterrey gana el campeonato"
    for article_id, text in ARTICLES.items():
        assert articles[article_id].text == text


def test_passages_cover_their_articles(generation: GenerationPaths) -> None:
    articles = {a.id: a for a in read_articles_store(generation)}
    passages = read_passages_store(generation)
    assert [p.row for p in passages] == list(range(len(passages)))
    for article_id, article in articles.items():
        mine = [p for p in passages if p.article_id == article_id]
        assert mine[0].start == 0
        assert mine[-1].end == len(article.text)
        assert [p.passage_id for p in mine] == [f"{article_id}#{n}" for n in range(len(mine))]


def test_embeddings_are_unit_float32_rows_aligned_with_passages(
    generation: GenerationPaths, encoder: Encoder
) -> None:
    vectors = read_vectors(generation)
    assert isinstance(vectors, np.memmap)
    passages = read_passages_store(generation)
    assert vectors.shape == (len(passages), 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)

    articles = {a.id: a for a in read_articles_store(generation)}
    texts = [articles[p.article_id].text[p.start : p.end] for p in passages]
    expected = encoder.encode(texts)
    cosines = np.sum(np.asarray(vectors) * expected, axis=1)
    assert cosines.min() > 0.9999, "row i of embeddings.npy is the vector of passage i"


def test_dense_query_finds_the_right_article(generation: GenerationPaths, encoder: Encoder) -> None:
    vectors = read_vectors(generation)
    passages = read_passages_store(generation)
    best = int(np.argmax(vectors @ encoder.encode_query("award for the best bread")))
    assert passages[best].article_id == "en/bakery.txt"


def test_manifest_describes_the_build(
    built: BuildReport, generation: GenerationPaths, encoder: Encoder
) -> None:
    manifest = Manifest.read(generation.manifest)
    assert manifest == built.manifest
    assert manifest.schema_version == SCHEMA_VERSION == 2
    assert manifest.generation == generation.root.name
    live = IndexLayout(generation.root.parent.parent).live_generation()
    assert live.root == generation.root
    assert manifest.model.name == "sentence-transformers/all-MiniLM-L6-v2"
    assert manifest.model.ref == encoder.model_ref
    assert (manifest.model.dimension, manifest.model.max_seq_length) == (384, 256)
    assert manifest.model.multilingual is False
    assert manifest.translation.enabled is False
    assert manifest.translation.reason == "off by setting"
    assert manifest.chunking == {"max_tokens": 192, "overlap_tokens": 48}
    passages = read_passages_store(generation)
    assert manifest.articles == 5
    assert manifest.passages == len(passages)
    assert manifest.passages_by_language == {
        "en": sum(p.lang == "en" for p in passages),
        "es": sum(p.lang == "es" for p in passages),
    }
    assert sum(manifest.passages_by_language.values()) == manifest.passages
    assert [Path(s).name for s in manifest.sources] == ["corpus", "wire.jsonl"]
    assert datetime.fromisoformat(manifest.created_at).tzinfo is not None
    assert manifest.build_seconds > 0
    assert (manifest.skipped_inputs, manifest.warnings) == (0, 0)
    assert manifest.analyzers == {"en": "bi_en", "es": "bi_es", "other": "bi_fold"}


# --- bad inputs, strict, generations ---------------------------------------------------


def test_bad_inputs_are_skipped_and_counted_and_the_rest_indexed(
    tmp_path: Path, build: BuildFn
) -> None:
    corpus = write_bad_corpus(tmp_path)
    report = build(corpus.sources, tmp_path / "index", translation="off", allow_missing=True)
    assert report.manifest.articles == len(corpus.good_ids)
    assert report.manifest.skipped_inputs == len(corpus.skipped_locations)
    assert report.manifest.warnings == len(corpus.warning_locations)
    assert {p.location for p in report.problems} == (
        corpus.skipped_locations | corpus.warning_locations
    )
    generation = GenerationPaths(report.generation_dir)
    assert {a.id for a in read_articles_store(generation)} == corpus.good_ids
    assert {p.article_id for p in read_passages_store(generation)} == corpus.good_ids


def test_strict_stops_before_the_live_index_is_touched(tmp_path: Path, build: BuildFn) -> None:
    index_dir = tmp_path / "index"
    first = build([_write_corpus(tmp_path / "good")], index_dir, translation="off")
    layout = IndexLayout(index_dir)
    before = (os.readlink(layout.current_link), sorted(os.listdir(layout.generations_dir)))

    corpus = write_bad_corpus(tmp_path / "bad")
    with pytest.raises(InputProblemsError) as raised:
        build(corpus.sources, index_dir, translation="off", strict=True, allow_missing=True)
    problems = raised.value.problems
    assert len(problems) == len(corpus.skipped_locations) + len(corpus.warning_locations)
    assert f"{corpus.jsonl}:2: malformed JSON" in str(raised.value)
    assert "live index was not touched" in str(raised.value)

    after = (os.readlink(layout.current_link), sorted(os.listdir(layout.generations_dir)))
    assert after == before
    assert layout.live_generation().root == first.generation_dir


def test_no_articles_at_all_never_replaces_the_live_index(tmp_path: Path, build: BuildFn) -> None:
    index_dir = tmp_path / "index"
    first = build([_write_corpus(tmp_path / "good")], index_dir, translation="off")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(IndexerError, match="No articles found"):
        build([empty], index_dir, translation="off")
    assert IndexLayout(index_dir).live_generation().root == first.generation_dir


def test_strict_with_clean_inputs_builds(tmp_path: Path, build: BuildFn) -> None:
    report = build(
        [_write_corpus(tmp_path / "good")], tmp_path / "index", strict=True, translation="off"
    )
    assert report.manifest.articles == len(ARTICLES)


def test_rebuilds_switch_current_and_prune_to_two_generations(
    tmp_path: Path, build: BuildFn
) -> None:
    corpus = tmp_path / "one"
    corpus.mkdir()
    (corpus / "a.txt").write_text(ARTICLES["en/bakery.txt"], encoding="utf-8")
    index_dir = tmp_path / "index"
    layout = IndexLayout(index_dir)
    ids = []
    for _ in range(3):
        report = build([corpus], index_dir, translation="off")
        ids.append(report.manifest.generation)
        assert layout.live_generation_id() == report.manifest.generation
        assert report.generation_dir == layout.live_generation().root
    assert len(set(ids)) == 3
    kept = os.listdir(layout.generations_dir)
    assert len(kept) == 2
    assert ids[-1] in kept


def test_pruning_keeps_the_predecessor(tmp_path: Path) -> None:
    layout = IndexLayout(tmp_path / "index")
    names = ["20250101T000001-f0000000", "20250101T000002-00000000", "20250101T000003-80000000"]
    for name in names:
        layout.publish(layout.new_partial(name))
    assert layout.live_generation_id() == names[-1]
    assert sorted(os.listdir(layout.generations_dir)) == names[1:]


def test_pruning_keeps_the_predecessor_within_one_second(tmp_path: Path) -> None:
    layout = IndexLayout(tmp_path / "index")
    # Names build.py can give three builds in the same second (random suffixes).
    names = ["20250101T000000-f0000000", "20250101T000000-00000000", "20250101T000000-80000000"]
    for name in names:
        layout.publish(layout.new_partial(name))
    assert layout.live_generation_id() == names[-1]
    assert sorted(os.listdir(layout.generations_dir)) == sorted(names[1:])


def test_a_second_concurrent_build_is_refused(tmp_path: Path, build: BuildFn) -> None:
    corpus = tmp_path / "one"
    corpus.mkdir()
    (corpus / "a.txt").write_text(ARTICLES["en/bakery.txt"], encoding="utf-8")
    index_dir = tmp_path / "index"
    with IndexLayout(index_dir).build_lock(), pytest.raises(IndexerError, match="Another build"):
        build([corpus], index_dir, translation="off")
    assert not (index_dir / "current").exists()


@pytest.mark.parametrize("bad_date", ["0001-01-01T00:00:00Z", "1492-10-12", "9999-12-31"])
def test_date_outside_the_index_range_does_not_crash_the_build(
    tmp_path: Path, build: BuildFn, bad_date: str
) -> None:
    path = tmp_path / "in.jsonl"
    records = [
        {
            "id": "old",
            "text": "The old stone bridge over the river was built long ago.",
            "date": bad_date,
        },
        {
            "id": "new",
            "text": "The town fair gave a prize to the largest pumpkin this year.",
            "date": "2024-10-01",
        },
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    report = build([path], tmp_path / "index", translation="off")
    assert report.manifest.articles == 2
    assert any("date" in p.reason and p.location == f"{path}:1" for p in report.problems)


def test_a_link_out_of_the_folder_never_reaches_the_index(tmp_path: Path, build: BuildFn) -> None:
    corpus = _write_corpus(tmp_path / "corpus")
    (corpus / "passwd.txt").symlink_to("/etc/passwd")
    report = build([corpus], tmp_path / "index", translation="off")
    assert [str(p) for p in report.problems] == [
        f"{corpus / 'passwd.txt'}: symbolic link to /etc/passwd, outside the source folder; "
        "not followed (skipped)"
    ]
    assert report.manifest.skipped_inputs == 1
    generation = GenerationPaths(report.generation_dir)
    assert {a.id for a in read_articles_store(generation)} == set(ARTICLES)
    index = tantivy.Index.open(str(generation.tantivy))
    register_analyzers(index)
    searcher = index.searcher()
    for field in (*FIELD_BY_LANGUAGE.values(), OTHER_FIELD):
        for token in ("root", "bin", "nologin"):
            query = tantivy.Query.term_query(index.schema, field, token)
            assert searcher.search(query, 1).hits == [], (field, token)


def test_bad_lines_never_abort_the_build(tmp_path: Path, build: BuildFn) -> None:
    """Once a RecursionError and a TypeError from the tokenizer ended the whole build."""
    path = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"id": "first", "text": ARTICLES["en/bakery.txt"]}),
        "[" * 2000,
        json.dumps({"id": "surrogate", "text": "Lone \ud800 half. " + ARTICLES["es/futbol.txt"]}),
        json.dumps({"id": "last", "text": ARTICLES["en/convoy.txt"]}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = build([path], tmp_path / "index", translation="off")
    generation = GenerationPaths(report.generation_dir)
    assert [a.id for a in read_articles_store(generation)] == ["first", "last"]
    assert [(p.location, p.skipped) for p in report.problems] == [
        (f"{path}:2", True),
        (f"{path}:3", True),
    ]
    assert (report.manifest.skipped_inputs, report.manifest.warnings) == (2, 0)


def test_an_article_that_fails_to_chunk_is_skipped_alone(
    tmp_path: Path, build: BuildFn, encoder: Encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = _write_corpus(tmp_path / "corpus")
    (corpus / "cursed.txt").write_text("This one says KABOOM to the tokenizer.\n")
    real_count_tokens = OnnxEncoder.count_tokens  # chunking counts with the ONNX export's

    def count_tokens(self: OnnxEncoder, texts: list[str]) -> list[int]:
        if any("KABOOM" in text for text in texts):
            raise ValueError("tokenizer exploded")
        return real_count_tokens(self, texts)

    monkeypatch.setattr(OnnxEncoder, "count_tokens", count_tokens)
    report = build([corpus], tmp_path / "index", translation="off")
    assert [str(p) for p in report.problems] == [
        f"{corpus / 'cursed.txt'}: could not be chunked: ValueError: tokenizer exploded (skipped)"
    ]
    assert report.manifest.articles == len(ARTICLES)
    assert report.manifest.skipped_inputs == 1
    with pytest.raises(InputProblemsError, match="could not be chunked"):
        build([corpus], tmp_path / "index", translation="off", strict=True)
    assert IndexLayout(tmp_path / "index").live_generation().root == report.generation_dir
