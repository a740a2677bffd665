"""The bundled news evaluation set loads and is consistent; the CLI takes several sets."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from indexer.boilerplate import find_boilerplate
from search.evaluation.beir import load_beir
from search.evaluation.cli import DEFAULT_DATA_DIRS, NEWS_DATA_DIR, main
from search.evaluation.report import summary_markdown


@pytest.fixture(scope="module")
def news() -> Any:
    return load_beir(NEWS_DATA_DIR)


def test_news_set_loads_with_both_languages(news: Any) -> None:
    documents = Counter(doc.lang for doc in news.corpus)
    queries = Counter(query.lang for query in news.queries)
    assert documents == {"en": 25, "es": 25}
    assert queries["en"] == queries["es"] >= 30
    assert NEWS_DATA_DIR in DEFAULT_DATA_DIRS


def test_every_judgement_names_a_real_document_and_query(news: Any) -> None:
    corpus_ids = {doc.id for doc in news.corpus}
    query_ids = {query.id for query in news.queries}
    assert set(news.qrels) == query_ids  # every query is judged
    for query_id, judged in news.qrels.items():
        assert set(judged) <= corpus_ids, query_id
        assert set(judged.values()) <= {1, 2}, query_id
        assert 2 in judged.values(), f"{query_id} has no document that answers it"


def test_ids_dates_and_languages_agree(news: Any) -> None:
    for doc in news.corpus:
        assert doc.id.split("-")[0] == doc.lang and doc.title and doc.source
        assert doc.date and re.fullmatch(r"\d{4}-\d{2}-\d{2}", doc.date)
        assert 3 <= doc.text.count("\n\n") <= 9, doc.id  # a headline and 3-8 paragraphs
    for query in news.queries:
        assert query.id.split(":")[0] == query.lang


def test_some_needs_are_only_met_in_the_other_language(news: Any) -> None:
    languages = {doc.id: doc.lang for doc in news.corpus}
    one_sided = [
        query.id
        for query in news.queries
        if {languages[doc] for doc, grade in news.qrels[query.id].items() if grade == 2}
        == {"es" if query.lang == "en" else "en"}
    ]
    assert len(one_sided) >= 6


def test_the_corpus_carries_realistic_noise(news: Any) -> None:
    rules = Counter(span.rule for doc in news.corpus for span in find_boilerplate(doc.text))
    for rule in ("photo_credit", "byline", "author_bio", "follow_us", "tweet_embed"):
        assert rules[rule] >= 2, rule
    columns = [doc.id for doc in news.corpus if "column" in doc.text or "columna" in doc.text]
    assert "en-cjng-column" in columns


# -- several sets on the command line -----------------------------------------------


def _copy_set(source: Path, target: Path) -> Path:
    target.mkdir(parents=True)
    for name in ("corpus.jsonl", "queries.jsonl", "qrels.tsv"):
        (target / name).write_bytes((source / name).read_bytes())
    return target


def test_cli_checks_every_set_before_indexing_any(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _copy_set(NEWS_DATA_DIR, tmp_path / "sets" / "news")
    assert main(["--data", str(good), str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["--data", str(good), "--data", str(good)]) == 2
    assert "sets-news more than once" in capsys.readouterr().err


def test_summary_has_a_column_per_set_and_language() -> None:
    def result(name: str, scores: dict[str, dict[str, float]]) -> Any:
        variants = [
            SimpleNamespace(
                variant=SimpleNamespace(name=mode),
                metrics=SimpleNamespace(
                    by_language={lang: {"ndcg@10": value} for lang, value in by_lang.items()}
                ),
            )
            for mode, by_lang in scores.items()
        ]
        return SimpleNamespace(data_set=SimpleNamespace(name=name), variants=variants)

    table = summary_markdown(
        [
            result("xquad", {"lexical": {"en": 0.9, "es": 0.8}, "hybrid": {"en": 0.95, "es": 0.9}}),
            result("news", {"hybrid": {"en": 0.97, "es": 0.96}}),
        ]
    )
    assert "| mode | xquad en | xquad es | news en | news es |" in table
    assert "| lexical | 0.900 | 0.800 | – | – |" in table
    assert "| hybrid | 0.950 | 0.900 | 0.970 | 0.960 |" in table


def test_news_corpus_is_plain_json_lines() -> None:
    for name in ("corpus.jsonl", "queries.jsonl"):
        for line in (NEWS_DATA_DIR / name).read_text(encoding="utf-8").splitlines():
            assert isinstance(json.loads(line), dict)
