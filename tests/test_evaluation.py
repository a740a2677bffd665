"""Fast unit tests of the evaluation's pure parts: loading, languages, slices, ranx."""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from indexer.articles import Article, read_articles
from search.evaluation.beir import CorpusDoc, DataSetError, Query, load_beir
from search.evaluation.calibrate_floor import choose_twin_floor, twin_report
from search.evaluation.cli import main
from search.evaluation.languages import (
    DEFAULT_DOC_LANG_PATTERN,
    compile_doc_lang_pattern,
    document_languages,
)
from search.evaluation.metrics import (
    cross_lingual_qrels,
    evaluate_rankings,
    evaluate_splits,
    monolingual_view,
)
from search.evaluation.run import article_ranking, latency_summary, write_articles
from search.evaluation.sampling import select_queries
from search.evaluation.variants import DEFAULT_VARIANTS, Variant, parse_variant, parse_variants

REPO_ROOT = Path(__file__).resolve().parent.parent

# -- a tiny BEIR set on disk --------------------------------------------------------

CORPUS = [
    {"_id": "en-0", "text": "The cat sat on the mat.", "title": "Cats"},
    {"_id": "es-0", "text": "El gato se sentó en la alfombra."},
    {"_id": "doc-9", "text": "Sin prefijo.", "lang": "ES"},
]
QUERIES = [
    {"_id": "en:1", "text": "Where did the cat sit?", "lang": "en"},
    {"_id": "es:1", "text": "¿Dónde se sentó el gato?", "lang": "es"},
    {"_id": "en:2", "text": "Unjudged question", "lang": "en"},
]
QRELS = "query-id\tcorpus-id\tscore\nen:1\ten-0\t1\nen:1\tes-0\t1\nes:1\tes-0\t2\nes:1\ten-0\t0\n"


def _write_set(
    directory: Path,
    *,
    corpus: list[object] | None = None,
    queries: list[object] | None = None,
    qrels: str = QRELS,
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, records in (("corpus", corpus or CORPUS), ("queries", queries or QUERIES)):
        lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
        (directory / f"{name}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (directory / "qrels.tsv").write_text(qrels, encoding="utf-8")
    return directory


def test_load_beir_reads_all_three_files(tmp_path: Path) -> None:
    data = load_beir(_write_set(tmp_path / "xquad" / "tiny"))
    assert data.name == "xquad-tiny"
    assert [doc.id for doc in data.corpus] == ["en-0", "es-0", "doc-9"]
    assert data.corpus[0].title == "Cats" and data.corpus[1].title is None
    assert data.corpus[2].lang == "ES"
    assert [query.lang for query in data.queries] == ["en", "es", "en"]
    # score 0 is "not relevant" and dropped; graded scores are kept as they are
    assert data.qrels == {"en:1": {"en-0": 1, "es-0": 1}, "es:1": {"es-0": 2}}
    assert [query.id for query in data.judged_queries()] == ["en:1", "es:1"]


def test_load_beir_accepts_the_beir_download_layout(tmp_path: Path) -> None:
    directory = _write_set(tmp_path / "set")
    (directory / "qrels").mkdir()
    (directory / "qrels.tsv").rename(directory / "qrels" / "test.tsv")
    assert load_beir(directory).qrels["en:1"] == {"en-0": 1, "es-0": 1}


@pytest.mark.parametrize(
    ("corpus", "queries", "qrels", "message"),
    [
        (['{"_id": "a", "text": '], None, QRELS, "corpus.jsonl:1: malformed JSON"),
        ([*CORPUS, "[1, 2]"], None, QRELS, "corpus.jsonl:4: a line must be a JSON object"),
        ([{"text": "no id"}], None, QRELS, "corpus.jsonl:1: missing or empty '_id'"),
        ([{"_id": "a", "text": 5}], None, QRELS, "corpus.jsonl:1: missing or non-string 'text'"),
        ([{"_id": "a", "text": "x", "title": 3}], None, QRELS, "'title' must be a string"),
        ([CORPUS[0], CORPUS[0]], None, QRELS, "duplicate _id 'en-0'"),
        (None, [{"_id": "q", "text": "x", "lang": ["en"]}], QRELS, "'lang' must be a string"),
        (None, None, "qid\tdid\tscore\n", "the first line must be the header"),
        (None, None, "query-id\tcorpus-id\tscore\nen:1\ten-0\n", "qrels.tsv:2: expected 3"),
        (None, None, "query-id\tcorpus-id\tscore\nen:1\ten-0\thigh\n", "'high' is not a number"),
        (None, None, "query-id\tcorpus-id\tscore\n", "must all be non-empty"),
    ],
)
def test_load_beir_names_the_malformed_line(
    tmp_path: Path,
    corpus: list[object] | None,
    queries: list[object] | None,
    qrels: str,
    message: str,
) -> None:
    directory = _write_set(tmp_path / "bad", corpus=corpus, queries=queries, qrels=qrels)
    with pytest.raises(DataSetError, match=re.escape(message)):
        load_beir(directory)


def test_load_beir_skips_blank_lines(tmp_path: Path) -> None:
    directory = _write_set(tmp_path / "set", corpus=[CORPUS[0], "", "   ", CORPUS[1]])
    assert len(load_beir(directory).corpus) == 2


def test_load_beir_missing_directory_and_files(tmp_path: Path) -> None:
    with pytest.raises(DataSetError, match="does not exist"):
        load_beir(tmp_path / "nowhere")
    directory = _write_set(tmp_path / "set")
    (directory / "qrels.tsv").unlink()
    with pytest.raises(DataSetError, match=r"no qrels\.tsv"):
        load_beir(directory)
    (directory / "queries.jsonl").unlink()
    with pytest.raises(DataSetError, match=r"queries\.jsonl is missing"):
        load_beir(directory)


def test_cli_exits_2_on_a_missing_or_malformed_data_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err
    bad = _write_set(tmp_path / "bad", corpus=["{nope"])
    assert main(["--data", str(bad)]) == 2
    assert "corpus.jsonl:1: malformed JSON" in capsys.readouterr().err
    assert main(["--data", str(bad), "--modes", "fuzzy"]) == 2
    assert "Unknown mode 'fuzzy'" in capsys.readouterr().err


# -- document languages -------------------------------------------------------------


def test_document_languages_from_id_prefix_and_corpus_field() -> None:
    docs = [
        CorpusDoc("en-000-00", "x"),
        CorpusDoc("es-000-00", "x"),
        CorpusDoc("es-1", "x", lang="EN"),  # the field wins over the id
        CorpusDoc("plain", "x"),  # neither: unknown, left out
    ]
    languages = document_languages(docs, compile_doc_lang_pattern(DEFAULT_DOC_LANG_PATTERN))
    assert languages == {"en-000-00": "en", "es-000-00": "es", "es-1": "en"}


def test_document_languages_custom_pattern() -> None:
    pattern = compile_doc_lang_pattern(r"_(?P<lang>[a-z]{2})$")
    languages = document_languages([CorpusDoc("doc7_es", "x"), CorpusDoc("doc8", "x")], pattern)
    assert languages == {"doc7_es": "es"}


@pytest.mark.parametrize(
    ("pattern", "message"),
    [("^([a-z]+)-", "no named group 'lang'"), ("(?P<lang>", "not a valid regular")],
)
def test_doc_lang_pattern_errors_say_how_to_fix(pattern: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compile_doc_lang_pattern(pattern)


# -- qrels restrictions -------------------------------------------------------------

QUERY_LANGS = {"en:1": "en", "es:1": "es", "es:2": "es"}
DOC_LANGS = {"en-0": "en", "es-0": "es", "en-1": "en", "es-1": "es"}
BILINGUAL_QRELS = {
    "en:1": {"en-0": 1, "es-0": 1},
    "es:1": {"es-0": 1, "en-0": 1},
    "es:2": {"es-1": 1},  # no English relevant document
}


def test_cross_lingual_qrels_keep_other_language_documents_only() -> None:
    es_to_en = cross_lingual_qrels(
        BILINGUAL_QRELS,
        query_languages=QUERY_LANGS,
        doc_languages=DOC_LANGS,
        source="es",
        target="en",
    )
    assert es_to_en == {"es:1": {"en-0": 1}}  # es:2 has no English document to find
    en_to_es = cross_lingual_qrels(
        BILINGUAL_QRELS,
        query_languages=QUERY_LANGS,
        doc_languages=DOC_LANGS,
        source="en",
        target="es",
    )
    assert en_to_es == {"en:1": {"es-0": 1}}
    with pytest.raises(ValueError, match="two languages"):
        cross_lingual_qrels({}, query_languages={}, doc_languages={}, source="en", target="en")


def test_monolingual_view_filters_rankings_to_the_query_language() -> None:
    rankings = {"en:1": ["es-0", "en-1", "en-0"], "es:1": ["en-0", "es-0"], "es:2": []}
    view_qrels, view_rankings = monolingual_view(
        BILINGUAL_QRELS, rankings, query_languages=QUERY_LANGS, doc_languages=DOC_LANGS
    )
    assert view_qrels == {"en:1": {"en-0": 1}, "es:1": {"es-0": 1}, "es:2": {"es-1": 1}}
    assert view_rankings == {"en:1": ["en-1", "en-0"], "es:1": ["es-0"], "es:2": []}


# -- ranx, checked by hand ----------------------------------------------------------


def test_evaluate_rankings_matches_hand_computed_values() -> None:
    qrels = {"q1": {"a": 1, "b": 1}, "q2": {"c": 1}, "q3": {"x": 1}}
    # q1: a at 1, b at 3; q2: c at 2; q3: no results at all; q9 is not judged
    rankings = {"q1": ["a", "z", "b"], "q2": ["z", "c"], "q9": ["a"]}
    scores = evaluate_rankings(qrels, rankings)
    ideal_q1 = 1 + 1 / 1.584962500721156  # 1/log2(2) + 1/log2(3)
    ndcg_q1 = (1 + 1 / 2) / ideal_q1  # b at rank 3: 1/log2(4)
    ndcg_q2 = 1 / 1.584962500721156
    assert scores["ndcg@10"] == pytest.approx((ndcg_q1 + ndcg_q2 + 0) / 3)
    assert scores["recall@10"] == pytest.approx((1 + 1 + 0) / 3)
    assert scores["recall@100"] == pytest.approx(2 / 3)
    assert scores["mrr@10"] == pytest.approx((1 + 1 / 2 + 0) / 3)
    assert evaluate_rankings(qrels, rankings, ("recall@10",)) == {"recall@10": pytest.approx(2 / 3)}


def test_recall_at_10_ignores_documents_below_rank_10() -> None:
    ranking = [f"n{i}" for i in range(10)] + ["a"]
    assert evaluate_rankings({"q": {"a": 1}}, {"q": ranking})["recall@10"] == 0.0
    assert evaluate_rankings({"q": {"a": 1}}, {"q": ranking})["recall@100"] == 1.0


def test_evaluate_splits_by_language_cross_lingual_and_monolingual() -> None:
    rankings = {
        "en:1": ["en-0", "en-1", "es-0"],  # both found, Spanish one at 3
        "es:1": ["es-0"] + [f"x{i}" for i in range(10)] + ["en-0"],  # English one at 12
        "es:2": ["en-1", "es-1"],
    }
    splits = evaluate_splits(
        BILINGUAL_QRELS, rankings, query_languages=QUERY_LANGS, doc_languages=DOC_LANGS
    )
    assert set(splits.by_language) == {"en", "es"}
    assert splits.by_language["en"]["recall@10"] == 1.0
    assert splits.by_language["es"]["recall@10"] == pytest.approx((0.5 + 1.0) / 2)
    assert splits.overall["recall@10"] == pytest.approx((1.0 + 0.5 + 1.0) / 3)
    assert splits.cross_lingual == {
        "en->es": {"recall@10": 1.0, "queries": 1.0},
        "es->en": {"recall@10": 0.0, "queries": 1.0},  # es:2 has no English document
    }
    # monolingual view: en-1 is dropped from es:2's ranking, so es-1 is first
    assert splits.monolingual["es"] == {"ndcg@10": 1.0, "recall@10": 1.0, "queries": 2.0}
    assert splits.monolingual["en"]["ndcg@10"] == 1.0


# -- query slices -------------------------------------------------------------------


def _queries(count: int) -> list[Query]:
    english = [Query(f"en:{i}", f"question {i}", "en") for i in range(count)]
    spanish = [Query(f"es:{i}", f"pregunta {i}", "es") for i in range(count)]
    return english + spanish


def test_select_queries_is_even_per_language_and_deterministic() -> None:
    queries = _queries(100)
    chosen = select_queries(queries, 10)
    assert chosen == select_queries(list(queries), 10)
    assert [q.id for q in chosen] == [f"en:{i}" for i in range(0, 100, 20)] + [
        f"es:{i}" for i in range(0, 100, 20)
    ]


def test_select_queries_with_uneven_languages_and_limits() -> None:
    queries = _queries(3) + [Query(f"en:x{i}", "more", "en") for i in range(50)]
    chosen = select_queries(queries, 7)  # 3 per language; 7 // 2
    assert sum(q.lang == "en" for q in chosen) == 3
    assert [q.id for q in chosen if q.lang == "es"] == ["es:0", "es:1", "es:2"]
    assert select_queries(queries, None) == queries
    assert select_queries(queries, 10_000) == queries
    with pytest.raises(ValueError, match="max_queries must be >= 1"):
        select_queries(queries, 0)


def test_select_queries_without_language_is_one_group() -> None:
    queries = [Query(str(i), "q") for i in range(9)]
    assert [q.id for q in select_queries(queries, 3)] == ["0", "3", "6"]


# -- engine output to document rankings ---------------------------------------------


@dataclass(frozen=True)
class _Result:
    article_id: str


def test_article_ranking_keeps_each_article_once_at_its_best_rank() -> None:
    results = [_Result("b"), _Result("a"), _Result("b"), _Result("c"), _Result("a")]
    assert article_ranking(results) == ["b", "a", "c"]
    assert article_ranking([]) == []


def test_write_articles_gives_the_indexer_its_jsonl_format(tmp_path: Path) -> None:
    docs = [CorpusDoc("en-0", "Text one.", title="T"), CorpusDoc("es-0", "Texto.", lang="es")]
    path = tmp_path / "articles.jsonl"
    assert write_articles(docs, path) == 2
    articles = [item for item in read_articles([path]) if isinstance(item, Article)]
    assert [(a.id, a.title, a.text, a.lang_hint) for a in articles] == [
        ("en-0", "T", "Text one.", None),
        ("es-0", articles[1].title, "Texto.", "es"),
    ]


def test_latency_summary() -> None:
    summary = latency_summary([float(ms) for ms in range(1, 101)])
    assert summary == {"median": 50.5, "p95": 95.05, "mean": 50.5}
    assert latency_summary([]) == {"median": 0.0, "p95": 0.0, "mean": 0.0}


# -- variants -----------------------------------------------------------------------


def test_parse_variants() -> None:
    assert parse_variants("all") == DEFAULT_VARIANTS
    assert parse_variants("lexical, hybrid-rrf10,hybrid-w0.3") == (
        Variant("lexical", "lexical"),
        Variant("hybrid-rrf10", "hybrid", rrf_k=10),
        Variant("hybrid-w0.3", "hybrid", fusion="weighted", alpha=0.3),
    )
    assert parse_variants("hybrid-nofeedback,hybrid-rrf20-nofeedback") == (
        Variant("hybrid-nofeedback", "hybrid", feedback=False),
        Variant("hybrid-rrf20-nofeedback", "hybrid", rrf_k=20, feedback=False),
    )
    assert not parse_variant("hybrid-nofeedback").request("q", limit=10, translate=True).feedback
    for bad in (
        "hybrid-w1.5",
        "hybrid-rrf0",
        "bm25",
        "hybrid-w0.3-nofeedback",
        "lexical-nofeedback",
    ):
        with pytest.raises(ValueError, match="Unknown mode"):
            parse_variant(bad)
    with pytest.raises(ValueError, match="more than once"):
        parse_variants("hybrid,hybrid")


def test_variant_requests_are_valid_engine_requests() -> None:
    for variant in DEFAULT_VARIANTS:
        request = variant.request("q", limit=100, translate=True)
        request.validate(known_langs=frozenset({"en", "es"}))
        assert request.per_article == 1 and request.limit == 100


# -- the product never imports the evaluation ---------------------------------------


def test_nothing_outside_the_evaluation_imports_it() -> None:
    offenders = []
    for package in ("search", "indexer"):
        for path in (REPO_ROOT / package).rglob("*.py"):
            if "evaluation" in path.relative_to(REPO_ROOT).parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                if any(name.startswith("search.evaluation") for name in names):
                    offenders.append(str(path.relative_to(REPO_ROOT)))
    assert offenders == []


def test_the_twin_floor_keeps_95_percent_of_same_article_pairs_below_it() -> None:
    same_article = [step / 100 for step in range(100)]  # 0.00 .. 0.99
    assert choose_twin_floor(same_article) == 0.95  # the 95th value, rounded up
    assert choose_twin_floor([0.5961] * 20) == 0.6
    report = twin_report({"twins": [0.55, 0.7, 0.96, 0.99], "same_article": same_article})
    assert (report["floor"], report["twins_kept"], report["same_article_rejected"]) == (
        0.95,
        0.5,
        0.95,
    )
