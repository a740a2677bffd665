"""BM25 retriever over the per-language fields of the tantivy index.

Short queries' language cannot be detected reliably, so the query is never bet on
one language: every word is analyzed as English (for `text_en`), as Spanish (for
`text_es`) and with plain folding (for `text_other`), and a passage matches through
the field of its own language. Queries are built programmatically from the parsed
query, never through tantivy's query syntax, so nothing a user types can reach a
field (`lang:es`), match everything (`*`) or raise a parse error. The only use of
the parser is for quoted phrases (in `constraints`), with quotes and backslashes
removed from their content, because it keeps the positions of removed stop words
right.

Cross-lingual matching (the plan's `translations`) adds, at a lower boost,
the query's machine translation against the target language's field, and the
original query against `*_mt` fields (passages' translations, if built).
Where the query's language is known, its stop words are searched in no field;
where it is not, a stop word of either language only adds to the score of a
passage that holds another word of the query (`search.function_words`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import cast

import tantivy

from indexer.analysis import FIELD_BY_LANGUAGE, OTHER_FIELD, TRANSLATED_FIELD_BY_LANGUAGE
from search.errors import IndexCorruptError, tantivy_panics_as_corruption
from search.function_words import content_words, split_stop_words
from search.models import Hit
from search.plan import QueryPlan, RowConstraints
from search.query_parser import ParsedQuery
from search.snapshot import IndexSnapshot

__all__ = ["ORIGINAL_FIELDS", "LexicalRetriever"]

ORIGINAL_FIELDS = (FIELD_BY_LANGUAGE["en"], FIELD_BY_LANGUAGE["es"], OTHER_FIELD)
_TRANSLATED_FIELDS = tuple(TRANSLATED_FIELD_BY_LANGUAGE.values())


class LexicalRetriever:
    """BM25 over one snapshot's tantivy index; `search(plan, k)` like every leg."""

    name = "lexical"

    def __init__(self, snapshot: IndexSnapshot) -> None:
        self._snapshot = snapshot
        self._schema = snapshot.tantivy_index.schema

    def search(self, plan: QueryPlan, k: int) -> list[Hit]:
        built = self.build_query(plan)
        if built is None or k <= 0:
            return []
        searcher = self._snapshot.searcher
        with tantivy_panics_as_corruption(str(self._snapshot.paths.tantivy)):
            result = searcher.search(built, limit=k, count=False)
            # the `row` fast field, one call for every hit, not a stored document each
            # (a block decompressed and a Document built per hit: 0.3 ms of a search
            # on the XQuAD index)
            rows = searcher.fast_field_values("row", [address for _, address in result.hits])
        if None in rows:
            raise IndexCorruptError(
                f"{self._snapshot.paths.tantivy}: a passage without its row fast field. "
                "Rebuild with: python -m indexer build"
            )
        # the `row` field is a u64: every value is an int once None is ruled out
        return self._snapshot.ranked(cast("list[int]", rows), [score for score, _ in result.hits])

    def matching_rows(self, plan: QueryPlan, rows: Iterable[int]) -> frozenset[int]:
        """Which of `rows` the lexical query matches: one tantivy query over them (the
        semantic-only mode asks, to tell keyword matches from meaning ones)."""
        built = self.build_query(plan)
        wanted = sorted(set(rows))
        if built is None or not wanted:
            return frozenset()
        query = tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, built), (tantivy.Occur.Must, self._rows(frozenset(wanted)))]
        )
        return self._all_rows(query, at_most=len(wanted))

    def constraints(
        self,
        parsed: ParsedQuery,
        phrase_translations: Mapping[str, Mapping[str, str]] | None = None,
    ) -> RowConstraints:
        """The rows quoted phrases require and -exclusions forbid, read once per query.

        A passage holds a phrase when its text does, when its machine translation
        does (`*_mt`), or when its text holds the phrase's translation into its
        language (`phrase_translations`: phrase -> language -> translation): a
        quoted title must not rule out every passage in the other language.
        Each is one tantivy query whose matching rows come from the `row` fast field
        (ordering by it makes tantivy hand back its value): no stored-document fetch
        per hit. Both legs then use the row sets, so phrases are never evaluated twice.
        """
        if not parsed.phrases and not parsed.excluded_terms and not parsed.excluded_phrases:
            return RowConstraints()
        required: frozenset[int] | None = None
        translations = phrase_translations or {}
        phrases = [self._phrase_anywhere(p, translations.get(p, {})) for p in parsed.phrases]
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
        excluded = self._all_rows(_any_of(excluded_clauses)) if excluded_clauses else frozenset()
        return RowConstraints(required=required, excluded=excluded)

    def _phrase_anywhere(
        self, phrase: str, translations: Mapping[str, str]
    ) -> tantivy.Query | None:
        """The phrase in an original field; else its words in a translated field, or
        its translation's words in the field of the translation's language (machine
        translation moves words around: "monumental Polish theatre" may come back as
        "teatro monumental polaco"). None if nothing to match."""
        alternatives = [
            self._phrase(phrase, ORIGINAL_FIELDS),
            self._phrase(phrase, _TRANSLATED_FIELDS, in_order=False),
        ]
        alternatives += [
            self._phrase(translation, (FIELD_BY_LANGUAGE[language],), in_order=False)
            for language, translation in translations.items()
            if language in FIELD_BY_LANGUAGE
        ]
        present = [query for query in alternatives if query is not None]
        return _any_of(present) if present else None

    def _all_rows(self, query: tantivy.Query, *, at_most: int | None = None) -> frozenset[int]:
        """The rows `query` matches; `at_most`: how many it can match, when known. Ask
        no more: tantivy's top-docs collector sizes its buffers by the limit, so a limit
        of the whole index cost 7 ms a query at 100k passages for 10-100 candidate rows."""
        searcher = self._snapshot.searcher
        limit = max(1, searcher.num_docs if at_most is None else min(at_most, searcher.num_docs))
        with tantivy_panics_as_corruption(str(self._snapshot.paths.tantivy)):
            result = searcher.search(query, limit=limit, count=False, order_by_field="row")
        return frozenset(int(row) for row, _ in result.hits)

    def build_query(self, plan: QueryPlan) -> tantivy.Query | None:
        """The tantivy query, or None when nothing searchable is left after analysis.

        Words (and the words of quoted phrases) rank by BM25; the plan's row
        constraints and filters are MUST / MUST_NOT clauses, so a phrase is matched
        once per request (in `constraints`) and scored here by its words.
        """
        words, scoring_words = self._words(plan)
        should: list[tantivy.Query] = []
        should.extend(self._terms(words, ORIGINAL_FIELDS, boost=1.0))
        scoring_only = self._terms(scoring_words, ORIGINAL_FIELDS, boost=1.0)
        if plan.use_passage_translations:
            translated_fields = TRANSLATED_FIELD_BY_LANGUAGE.values()
            should.extend(self._terms(words, translated_fields, plan.translated_boost))
            scoring_only.extend(
                self._terms(scoring_words, translated_fields, plan.translated_boost)
            )
        for language, translation in plan.translations.items():
            target = FIELD_BY_LANGUAGE.get(language)
            if target:
                should.extend(self._terms(translation.split(), (target,), plan.translated_boost))
        constraints = plan.constraints
        if constraints.required is not None and not constraints.required:
            return None  # a quoted phrase that occurs nowhere
        if not should and constraints.required is None:
            return None
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        if should:  # with phrases, words only rank; without, at least one must match
            occur = tantivy.Occur.Should if constraints.required is not None else tantivy.Occur.Must
            clauses.append((occur, _any_of(should)))
        if scoring_only:  # adds to the score of a passage that matched otherwise
            clauses.append((tantivy.Occur.Should, _any_of(scoring_only)))
        if constraints.required is not None:
            clauses.append((tantivy.Occur.Must, self._rows(constraints.required)))
        if constraints.excluded:
            clauses.append((tantivy.Occur.MustNot, self._rows(constraints.excluded)))
        clauses.extend(
            (tantivy.Occur.Must, clause) for clause in plan.filters.tantivy_clauses(self._schema)
        )
        return tantivy.Query.boolean_query(clauses)

    def _words(self, plan: QueryPlan) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(the query's words that may match a passage, its words that only score).

        The query's language known: its stop words are dropped, none only scores.
        Unknown: a stop word of English or Spanish only scores, unless the query
        has no other word (`search.function_words`)."""
        parsed, analyzers = plan.parsed, self._snapshot.analyzers
        typed = (*parsed.terms, *parsed.phrases)
        if plan.query_language is not None:
            return content_words(typed, plan.query_language, analyzers), ()
        words, stops = split_stop_words(typed, FIELD_BY_LANGUAGE, analyzers)
        return (words, stops) if words else (typed, ())

    def _rows(self, rows: frozenset[int]) -> tantivy.Query:
        return tantivy.Query.term_set_query(self._schema, "row", sorted(rows))

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

    def _phrase(
        self, phrase: str, fields: Iterable[str], *, in_order: bool = True
    ) -> tantivy.Query | None:
        """Matches if the phrase occurs in any of the fields (`in_order=False`: all its
        words, anywhere in the passage); None if nothing to match."""
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
            if not in_order:
                alternatives.append(self._all_tokens(field_name, tokens))
                continue
            try:
                alternatives.append(
                    self._snapshot.tantivy_index.parse_query(f'"{cleaned}"', [field_name])
                )
            except ValueError:  # defensive: fall back to all words required
                alternatives.append(self._all_tokens(field_name, tokens))
        return _any_of(alternatives) if alternatives else None

    def _all_tokens(self, field_name: str, tokens: list[str]) -> tantivy.Query:
        return tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Must, tantivy.Query.term_query(self._schema, field_name, token))
                for token in tokens
            ]
        )


def _any_of(queries: list[tantivy.Query]) -> tantivy.Query:
    if len(queries) == 1:
        return queries[0]
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in queries])
