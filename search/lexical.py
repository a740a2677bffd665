"""BM25 retriever over the per-language fields of the tantivy index.

Short queries' language cannot be detected reliably, so the query is never bet on
one language: every word is analyzed as English (for `text_en`), as Spanish (for
`text_es`) and with plain folding (for `text_other`), and a passage matches through
the field of its own language. Queries are built programmatically from the parsed
query, never through tantivy's query syntax, so nothing a user types can reach a
field (`lang:es`), match everything (`*`) or raise a parse error. The only use of
the parser is for quoted phrases, with quotes and backslashes removed from their
content, because it keeps the positions of removed stop words right.

Cross-lingual matching (see `LexicalQuery.translations`) adds, at a lower boost,
the query's machine translation against the target language's field, and the
original query against `*_mt` fields (passages' translations, if built).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import tantivy

from indexer.analysis import FIELD_BY_LANGUAGE, OTHER_FIELD, TRANSLATED_FIELD_BY_LANGUAGE
from search.filters import SearchFilters
from search.fusion import Hit
from search.query_parser import ParsedQuery
from search.snapshot import IndexSnapshot

__all__ = ["DEFAULT_TRANSLATED_BOOST", "ORIGINAL_FIELDS", "LexicalQuery", "LexicalRetriever"]

ORIGINAL_FIELDS = (FIELD_BY_LANGUAGE["en"], FIELD_BY_LANGUAGE["es"], OTHER_FIELD)
# Weight of a match through translation relative to an original-language match:
# best lexical nDCG@10 of 0.3/0.5/0.7/1.0 on an XQuAD sample, and below 1 so that
# original-language matches stay first (README, "What we learned").
DEFAULT_TRANSLATED_BOOST = 0.7


@dataclass(frozen=True, slots=True)
class LexicalQuery:
    parsed: ParsedQuery
    # target language -> the query's translation into it ("en" -> English text)
    translations: Mapping[str, str] = field(default_factory=dict)
    # weight of matches through translation, relative to original-language matches
    translated_boost: float = DEFAULT_TRANSLATED_BOOST
    # also search passages' own translations (*_mt fields) with the original query
    use_passage_translations: bool = True


class LexicalRetriever:
    def __init__(self, snapshot: IndexSnapshot) -> None:
        self._snapshot = snapshot
        self._schema = snapshot.tantivy_index.schema

    def search(self, query: LexicalQuery, *, k: int, filters: SearchFilters) -> list[Hit]:
        built = self.build_query(query, filters)
        if built is None or k <= 0:
            return []
        searcher = self._snapshot.searcher
        result = searcher.search(built, limit=k, count=False)
        hits = []
        for score, address in result.hits:
            row = searcher.doc(address)["row"][0]
            hits.append(Hit(key=int(row), score=float(score)))
        return hits

    def constrained_rows(self, parsed: ParsedQuery) -> tuple[set[int] | None, set[int]]:
        """What quoted phrases and -exclusions mean for the other retriever.

        Returns (rows containing every phrase, or None when there is no phrase;
        rows containing an excluded word or phrase). The semantic leg keeps only
        the former and drops the latter, so "quoted" and -excluded hold in every
        mode, not only for keyword matches.
        """
        required: set[int] | None = None
        phrases = [self._phrase(p, ORIGINAL_FIELDS) for p in parsed.phrases]
        present = [clause for clause in phrases if clause is not None]
        if present:
            query = tantivy.Query.boolean_query([(tantivy.Occur.Must, c) for c in present])
            required = self._all_rows(query)
        excluded_clauses = self._terms(parsed.excluded_terms, ORIGINAL_FIELDS, 1.0)
        excluded_clauses += [
            clause
            for clause in (self._phrase(p, ORIGINAL_FIELDS) for p in parsed.excluded_phrases)
            if clause is not None
        ]
        excluded = self._all_rows(_any_of(excluded_clauses)) if excluded_clauses else set()
        return required, excluded

    def _all_rows(self, query: tantivy.Query) -> set[int]:
        """Every matching row, read from the `row` fast field (ordering by it makes
        tantivy hand back its value): no stored-document fetch per hit."""
        searcher = self._snapshot.searcher
        limit = max(1, searcher.num_docs)
        result = searcher.search(query, limit=limit, count=False, order_by_field="row")
        return {int(row) for row, _ in result.hits}

    def build_query(self, query: LexicalQuery, filters: SearchFilters) -> tantivy.Query | None:
        """The tantivy query, or None when nothing searchable is left after analysis."""
        parsed = query.parsed
        should: list[tantivy.Query] = []
        should.extend(self._terms(parsed.terms, ORIGINAL_FIELDS, boost=1.0))
        if query.use_passage_translations:
            should.extend(
                self._terms(
                    parsed.terms, TRANSLATED_FIELD_BY_LANGUAGE.values(), query.translated_boost
                )
            )
        for language, translation in query.translations.items():
            target = FIELD_BY_LANGUAGE.get(language)
            if target:
                should.extend(self._terms(translation.split(), (target,), query.translated_boost))
        must = [
            clause
            for clause in (self._phrase(phrase, ORIGINAL_FIELDS) for phrase in parsed.phrases)
            if clause is not None
        ]
        if not should and not must:
            return None
        must_not = list(self._terms(parsed.excluded_terms, ORIGINAL_FIELDS, 1.0))
        for phrase in parsed.excluded_phrases:
            clause = self._phrase(phrase, ORIGINAL_FIELDS)
            if clause is not None:
                must_not.append(clause)
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        if should:  # with phrases, words only rank; without, at least one must match
            clauses.append((tantivy.Occur.Should if must else tantivy.Occur.Must, _any_of(should)))
        clauses.extend((tantivy.Occur.Must, clause) for clause in must)
        clauses.extend((tantivy.Occur.MustNot, clause) for clause in must_not)
        clauses.extend(
            (tantivy.Occur.Must, clause) for clause in filters.tantivy_clauses(self._schema)
        )
        return tantivy.Query.boolean_query(clauses)

    def _terms(
        self, words: Iterable[str], fields: Iterable[str], boost: float
    ) -> list[tantivy.Query]:
        analyzers = self._snapshot.analyzers
        queries = []
        fields = tuple(fields)
        for word in words:
            for field_name in fields:
                for token in analyzers.analyze(field_name, word):
                    term = tantivy.Query.term_query(self._schema, field_name, token)
                    queries.append(term if boost == 1.0 else tantivy.Query.boost_query(term, boost))
        return queries

    def _phrase(self, phrase: str, fields: Iterable[str]) -> tantivy.Query | None:
        """Matches if the phrase occurs in any of the fields; None if nothing to match."""
        analyzers = self._snapshot.analyzers
        alternatives = []
        cleaned = phrase.replace('"', " ").replace("\\", " ")
        for field_name in fields:
            tokens = analyzers.analyze(field_name, cleaned)
            if not tokens:
                continue
            if len(tokens) == 1:
                alternatives.append(tantivy.Query.term_query(self._schema, field_name, tokens[0]))
                continue
            try:
                alternatives.append(
                    self._snapshot.tantivy_index.parse_query(f'"{cleaned}"', [field_name])
                )
            except ValueError:  # defensive: fall back to all words required
                alternatives.append(
                    tantivy.Query.boolean_query(
                        [
                            (
                                tantivy.Occur.Must,
                                tantivy.Query.term_query(self._schema, field_name, token),
                            )
                            for token in tokens
                        ]
                    )
                )
        return _any_of(alternatives) if alternatives else None


def _any_of(queries: list[tantivy.Query]) -> tantivy.Query:
    if len(queries) == 1:
        return queries[0]
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in queries])
