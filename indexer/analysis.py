"""Text analysis and the tantivy schema: the contract between indexer and search.

Each passage's text goes into the field of its detected language: `text_en` with
English stemming, `text_es` with Spanish stemming, `text_other` (any other
language, or none) with plain folding. All are lowercased and accent-folded, so
"Garcia" finds "García" and "extorsion" finds "extorsión". Filter order matters:
lowercase first (stop lists are lowercase), stop words before folding (the
Spanish list holds accented words such as "más" and "él"), folding before
stemming so that typed-without-accents queries stem the same way.

`text_en_mt` / `text_es_mt` hold machine translations of passages written in the
other language (Apertium, when enabled at build time), analyzed like their target
language: the lexical half of cross-lingual search.

Tokenizers are registered under names of our own (`bi_en`, `bi_es`, `bi_fold`) on
every open: tantivy does not persist custom analyzers (an index opened without them
cannot parse queries on these fields), and names of our own can never be confused
with tantivy's built-in `default`/`en_stem`, which do no accent folding.
"""

from __future__ import annotations

from dataclasses import dataclass

import tantivy

__all__ = [
    "ANALYZER_BY_LANGUAGE",
    "FIELD_BY_LANGUAGE",
    "OTHER_FIELD",
    "TRANSLATED_FIELD_BY_LANGUAGE",
    "Analyzers",
    "build_schema",
    "field_for_language",
    "register_analyzers",
]

_MAX_TOKEN_CHARS = 40

FIELD_BY_LANGUAGE = {"en": "text_en", "es": "text_es"}
TRANSLATED_FIELD_BY_LANGUAGE = {"en": "text_en_mt", "es": "text_es_mt"}
OTHER_FIELD = "text_other"
ANALYZER_BY_LANGUAGE = {"en": "bi_en", "es": "bi_es", "other": "bi_fold"}
_ANALYZER_BY_FIELD = {
    "text_en": "bi_en",
    "text_es": "bi_es",
    "text_en_mt": "bi_en",
    "text_es_mt": "bi_es",
    OTHER_FIELD: "bi_fold",
}


def field_for_language(language: str) -> str:
    return FIELD_BY_LANGUAGE.get(language, OTHER_FIELD)


def _stemmed(language: str) -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(_MAX_TOKEN_CHARS))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.stopword(language))
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stemmer(language))
        .build()
    )


def _folding() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(_MAX_TOKEN_CHARS))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


@dataclass(frozen=True, slots=True)
class Analyzers:
    """The three analyzers, by our own tokenizer names; also used on the query side."""

    by_name: dict[str, tantivy.TextAnalyzer]

    @classmethod
    def create(cls) -> Analyzers:
        return cls(
            {"bi_en": _stemmed("english"), "bi_es": _stemmed("spanish"), "bi_fold": _folding()}
        )

    def for_field(self, field_name: str) -> tantivy.TextAnalyzer:
        return self.by_name[_ANALYZER_BY_FIELD[field_name]]

    def analyze(self, field_name: str, text: str) -> list[str]:
        return list(self.for_field(field_name).analyze(text))


def register_analyzers(index: tantivy.Index, analyzers: Analyzers | None = None) -> None:
    """Must run on every `tantivy.Index(...)` / `Index.open(...)` before use."""
    analyzers = analyzers or Analyzers.create()
    for name, analyzer in analyzers.by_name.items():
        index.register_tokenizer(name, analyzer)


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("row", stored=True, indexed=True, fast=True)
    for name in ("article_id", "lang", "source"):
        builder.add_text_field(name, stored=False, tokenizer_name="raw", fast=True)
    builder.add_date_field("date", stored=False, indexed=True, fast=True)
    for field_name, analyzer in _ANALYZER_BY_FIELD.items():
        builder.add_text_field(
            field_name, stored=False, tokenizer_name=analyzer, index_option="position"
        )
    return builder.build()
