"""Language detection: deterministic, right on short en/es texts, and per passage.

The last tests build real indexes: an English article quoting a Spanish tweet gets
a Spanish passage, a German article is indexed in `text_other`, and a JSONL `lang`
hint does not overrule a clear detection.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tantivy

from indexer.analysis import OTHER_FIELD, Analyzers, register_analyzers
from indexer.build import BuildReport
from indexer.language import UNDETERMINED, LanguageDetector
from indexer.layout import GenerationPaths
from indexer.metadata_store import read_articles_store, read_passages_store
from tests.conftest import BuildFn

SHORT_TEXTS = {
    "The police arrested three men": "en",
    "Storm floods coastal towns": "en",
    "Voters head to the polls": "en",
    "La policía detuvo a tres hombres": "es",
    "Detienen a tres por extorsión": "es",
    "Un huracán azota la costa": "es",
    "¿Dónde está el presidente?": "es",
}

PARAGRAPHS = {
    "fr": (
        "Le gouvernement français a annoncé mardi une nouvelle réforme des retraites qui "
        "suscite une forte opposition des syndicats dans tout le pays."
    ),
    "de": (
        "Die Bundesregierung hat am Dienstag ein neues Gesetz zur Förderung erneuerbarer "
        "Energien beschlossen, das von den Umweltverbänden begrüßt wurde."
    ),
    "en": (
        "The government announced on Tuesday a new pension reform that has met strong "
        "opposition from the unions across the country."
    ),
    "es": (
        "El gobierno anunció el martes una nueva reforma de las pensiones que ha provocado "
        "una fuerte oposición de los sindicatos en todo el país."
    ),
}

MIXED_ARTICLE = (
    "Residents criticise the flood response\n\n"
    "The mayor of the coastal town said on Monday that the storm had damaged dozens of "
    "houses and that emergency crews were working through the night to restore power.\n\n"
    "\u201cHoy vimos cómo el agua entraba en las casas de nuestros vecinos y nadie vino a "
    "ayudarnos durante horas; exigimos respuestas del gobierno municipal\u201d, escribió "
    "una vecina en Twitter.\n\n"
    "Officials promised an inquiry into the response and said a full report would be "
    "published before the end of the month, once engineers had assessed the damage.\n"
)
GERMAN_ARTICLE = (
    "Die Bundesregierung hat am Dienstag ein neues Gesetz zur Förderung erneuerbarer "
    "Energien beschlossen. Windkraftanlagen sollen künftig schneller genehmigt werden, "
    "und die Umweltverbände haben die Entscheidung begrüßt.\n"
)


def row_of(searcher: tantivy.Searcher, address: tantivy.DocAddress) -> int:
    """The stored `row` of a hit: its line number in passages.jsonl."""
    row = searcher.doc(address).get_first("row")
    assert isinstance(row, int)
    return row


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


@pytest.mark.parametrize(("text", "expected"), sorted(SHORT_TEXTS.items()))
def test_short_english_and_spanish(detector: LanguageDetector, text: str, expected: str) -> None:
    assert detector.detect(text) == expected


@pytest.mark.parametrize(("expected", "text"), sorted(PARAGRAPHS.items()))
def test_paragraph_gets_its_language_code(
    detector: LanguageDetector, expected: str, text: str
) -> None:
    assert detector.detect(text) == expected


def test_deterministic_across_calls_and_instances(detector: LanguageDetector) -> None:
    texts = [*SHORT_TEXTS, *PARAGRAPHS.values(), "Hola, thanks!", "OK", "taco"]
    first = [detector.detect(t) for t in texts]
    assert [detector.detect(t) for t in texts] == first
    assert [LanguageDetector().detect(t) for t in texts] == first
    assert [LanguageDetector(seed=0).detect(t) for t in texts] == first


@pytest.mark.parametrize("text", ["", "   ", "12345 67890", "!!! --- ???", "🙂🙂 2024"])
def test_text_without_letters_is_undetermined(detector: LanguageDetector, text: str) -> None:
    assert detector.detect(text) == UNDETERMINED
    assert detector.detect(text, hint="es") == UNDETERMINED


def test_hint_does_not_override_a_clear_detection(detector: LanguageDetector) -> None:
    assert detector.detect(PARAGRAPHS["en"], hint="es") == "en"
    assert detector.detect(PARAGRAPHS["es"], hint="en") == "es"
    assert detector.detect(PARAGRAPHS["de"], hint="en") == "de"


@pytest.fixture
def langdetect_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts langdetect itself was run on (each run samples n-grams: slow)."""
    from langdetect.detector import Detector

    runs: list[str] = []
    real = Detector.get_probabilities

    def counting(self: Detector) -> list[object]:
        runs.append(self.text)
        return real(self)  # type: ignore[no-any-return]

    monkeypatch.setattr(Detector, "get_probabilities", counting)
    return runs


@pytest.mark.parametrize("previous", ["en", "es", "de"])
@pytest.mark.parametrize(("expected", "text"), sorted(PARAGRAPHS.items()))
def test_previous_language_never_changes_the_answer(
    detector: LanguageDetector, expected: str, text: str, previous: str
) -> None:
    assert detector.detect(text, previous=previous) == expected


@pytest.mark.parametrize(("text", "expected"), sorted(SHORT_TEXTS.items()))
def test_previous_language_never_changes_a_short_answer(
    detector: LanguageDetector, text: str, expected: str
) -> None:
    assert detector.detect(text, previous="en") == expected
    assert detector.detect(text, previous="es") == expected


def test_a_clear_previous_language_skips_langdetect(
    detector: LanguageDetector, langdetect_runs: list[str]
) -> None:
    assert detector.detect(PARAGRAPHS["es"], previous="es") == "es"
    assert langdetect_runs == []
    assert detector.detect(PARAGRAPHS["es"], previous="en") == "es"
    assert len(langdetect_runs) == 2  # a change: the six-language run, then en/es


# --- per passage, in a real build ---------------------------------------------------


def _generation(report: BuildReport) -> GenerationPaths:
    return GenerationPaths(report.generation_dir)


def test_mixed_article_passage_languages(tmp_path: Path, build: BuildFn) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "flood.txt").write_text(MIXED_ARTICLE, encoding="utf-8")
    report = build([corpus], tmp_path / "index", translation="off")
    generation = _generation(report)

    passages = read_passages_store(generation)
    texts = [MIXED_ARTICLE[p.start : p.end] for p in passages]
    languages = [p.lang for p in passages]
    assert languages == ["en", "es", "en"], list(zip(languages, texts, strict=True))
    assert texts[1].lstrip().startswith("\u201cHoy vimos")
    assert "Twitter" in texts[1]
    assert "vimos" not in texts[0] + texts[2]
    assert read_articles_store(generation)[0].lang == "en"
    assert report.manifest.passages_by_language == {"en": 2, "es": 1}


def test_third_language_passage_is_indexed_in_text_other(tmp_path: Path, build: BuildFn) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "energie.txt").write_text(GERMAN_ARTICLE, encoding="utf-8")
    (corpus / "pensions.txt").write_text(PARAGRAPHS["en"], encoding="utf-8")
    report = build([corpus], tmp_path / "index", translation="off")
    generation = _generation(report)
    passages = read_passages_store(generation)
    german_rows = [p.row for p in passages if p.article_id == "energie.txt"]
    assert german_rows
    assert {passages[row].lang for row in german_rows} == {"de"}
    assert report.manifest.passages_by_language["de"] == len(german_rows)

    index = tantivy.Index.open(str(generation.tantivy))
    register_analyzers(index)
    analyzers = Analyzers.create()
    searcher = index.searcher()
    for word in ("Windkraftanlagen", "Forderung", "begrusst"):  # typed without umlauts
        (token,) = analyzers.analyze(OTHER_FIELD, word)
        query = tantivy.Query.term_query(index.schema, OTHER_FIELD, token)
        hits = searcher.search(query, 10).hits
        rows = {row_of(searcher, address) for _, address in hits}
        assert rows and rows <= set(german_rows), word
    # The English article is not in text_other, and German is not in text_en.
    (token,) = analyzers.analyze(OTHER_FIELD, "pension")
    query = tantivy.Query.term_query(index.schema, OTHER_FIELD, token)
    assert searcher.search(query, 10).hits == []


def test_jsonl_lang_hint_does_not_override_a_clear_detection(
    tmp_path: Path, build: BuildFn
) -> None:
    path = tmp_path / "in.jsonl"
    records = [
        {"id": "wrong-es", "lang": "es", "text": PARAGRAPHS["en"]},
        {"id": "wrong-en", "lang": "en", "text": PARAGRAPHS["es"]},
        {"id": "right-es", "lang": "es", "text": PARAGRAPHS["es"]},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    report = build([path], tmp_path / "index", translation="off")
    generation = _generation(report)
    article_languages = {a.id: a.lang for a in read_articles_store(generation)}
    assert article_languages == {"wrong-es": "en", "wrong-en": "es", "right-es": "es"}
    passage_languages = {p.article_id: p.lang for p in read_passages_store(generation)}
    assert passage_languages == article_languages
