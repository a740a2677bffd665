"""Filters applied inside both retrievers, before fusion (never after: a filter
applied after fusion would leave pages short and totals wrong).

Language filters by the passage's own language (`langs`) or by its article's
(`article_langs`, the default of the API): the index has a per-passage `lang`
field, and the few passages in another language than their article (quotes) are
added or removed by row (`search.article_facts.LanguageRows`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import numpy as np
import numpy.typing as npt
import tantivy

from search.article_facts import LanguageRows
from search.snapshot import IndexSnapshot

__all__ = ["SearchFilters"]


# tantivy stores dates as i64 nanoseconds (1677-09-21 .. 2262-04-11), and the
# indexer only stores dates in these years (`indexer.titles.in_index_range`): an
# open end of a range becomes the first or last day tantivy can hold.
_FIRST_DAY = date(1678, 1, 1)
_LAST_DAY = date(2261, 12, 31)


def _clamp(day: date) -> date:
    return min(max(day, _FIRST_DAY), _LAST_DAY)


@dataclass(frozen=True, slots=True)
class SearchFilters:
    langs: tuple[str, ...] = ()  # passage languages
    sources: tuple[str, ...] = ()  # exact stored names
    date_from: date | None = None  # inclusive
    date_to: date | None = None  # inclusive
    article_langs: LanguageRows | None = None  # article languages

    @property
    def active(self) -> bool:
        return self.article_langs is not None or bool(
            self.langs or self.sources or self.date_from or self.date_to
        )

    def tantivy_clauses(self, schema: tantivy.Schema) -> list[tantivy.Query]:
        """MUST clauses for the lexical leg."""
        clauses: list[tantivy.Query] = []
        for field, values in (("lang", self.langs), ("source", self.sources)):
            if values:
                clauses.append(
                    tantivy.Query.boolean_query(
                        [
                            (tantivy.Occur.Should, tantivy.Query.term_query(schema, field, value))
                            for value in values
                        ]
                    )
                )
        if self.article_langs is not None:
            clauses.append(_article_language_clause(schema, self.article_langs))
        if self.date_from or self.date_to:
            low = datetime.combine(_clamp(self.date_from or _FIRST_DAY), time.min, tzinfo=UTC)
            high = datetime.combine(_clamp(self.date_to or _LAST_DAY), time.max, tzinfo=UTC)
            clauses.append(
                tantivy.Query.range_query(schema, "date", tantivy.FieldType.Date, low, high)
            )
        return clauses

    def row_mask(self, snapshot: IndexSnapshot) -> npt.NDArray[np.bool_] | None:
        """Boolean mask over passage rows for the semantic leg; None when unfiltered."""
        if not self.active:
            return None
        store = snapshot.store
        mask = np.array(store.row_live, dtype=bool)
        if self.langs:
            mask &= np.isin(store.row_lang, store.lang_codes(self.langs))
        if self.article_langs is not None:
            mask &= self.article_langs.mask
        if self.sources:
            mask &= np.isin(store.row_source, store.source_ids(self.sources))
        if self.date_from:
            mask &= store.row_date >= self.date_from.toordinal()
        if self.date_to:
            mask &= (store.row_date <= self.date_to.toordinal()) & (store.row_date >= 0)
        return mask


def _article_language_clause(schema: tantivy.Schema, rows: LanguageRows) -> tantivy.Query:
    """Passages whose *article* is in `rows.langs`: the passage-language terms, minus
    the foreign quotes, plus the article's passages in other languages."""
    by_passage: tantivy.Query = tantivy.Query.boolean_query(
        [
            (tantivy.Occur.Should, tantivy.Query.term_query(schema, "lang", lang))
            for lang in rows.langs
        ]
    )
    if rows.foreign_rows:
        by_passage = tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Must, by_passage),
                (
                    tantivy.Occur.MustNot,
                    tantivy.Query.term_set_query(schema, "row", list(rows.foreign_rows)),
                ),
            ]
        )
    if not rows.extra_rows:
        return by_passage
    extra = tantivy.Query.term_set_query(schema, "row", list(rows.extra_rows))
    return tantivy.Query.boolean_query(
        [(tantivy.Occur.Should, by_passage), (tantivy.Occur.Should, extra)]
    )
