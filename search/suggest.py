""" "Did you mean": close words from the index's own vocabulary for words that match nothing.

A query word is *unmatched* when none of its analyzed forms occurs in any text
field of the index (English, Spanish, other, and the passages' machine
translations), so a word found only through translation is not "misspelt". For
each unmatched word the closest word of the vocabulary (the words of the articles
themselves, in whatever language they are written) within a small edit distance
is suggested, the more frequent on a tie. Words are compared lowercased and
without accents, and suggested as written in the articles ("atentdo" ->
"atentado", "extorsion" stays: it matches "extorsión").

The vocabulary is read from the articles once per generation, on the first query
that needs it: from all of them up to `VOCABULARY_CHARACTERS` of text, else from
articles drawn at random until that much is read. Reading every article made the
first "did you mean" cost 2.2 s at 25k passages and grow with the archive (about
0.2 s per million characters on a busy 2-core machine: minutes at a million
passages, with every text held in a list); the sample bounds it, at the price of
rare words (a name in a handful of articles) being missed in a large archive.
Counts, used only to break ties, are the sample's. The vocabulary holds the
originals only: on a corpus in one language, words of the other language are not
suggested (their translations are indexed as stems, which are no words to show).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from indexer.analysis import FIELD_BY_LANGUAGE, OTHER_FIELD, TRANSLATED_FIELD_BY_LANGUAGE
from search.lru import LruCache
from search.models import Correction, Suggestion
from search.query_parser import ParsedQuery
from search.snapshot import IndexSnapshot

__all__ = ["VOCABULARY_CHARACTERS", "Suggester", "Vocabulary", "without_known_words"]

# Article text read to learn the vocabulary: the whole of a small archive; in a large
# one, about 1,000 news articles of 5,000 characters (~1 s on 2 busy cores).
VOCABULARY_CHARACTERS = 5_000_000

_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)  # letters only, three or more
_TERM_WORD = re.compile(r"\w+", re.UNICODE)
_FIELDS = (*FIELD_BY_LANGUAGE.values(), OTHER_FIELD, *TRANSLATED_FIELD_BY_LANGUAGE.values())
_CANDIDATES = 12
_WORDS_REMEMBERED = 16_384  # (generation, word) pairs: ~2 MB at most


def _fold(word: str) -> str:
    """Lowercase without accents: "Atentádo" -> "atentado"."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _max_edits(word: str) -> int:
    return 1 if len(word) <= 5 else 2


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Folded word -> (its most frequent written form, how often it occurs)."""

    words: dict[str, tuple[str, int]]

    @classmethod
    def of(cls, texts: Iterable[str]) -> Vocabulary:
        written: Counter[str] = Counter()
        for text in texts:
            written.update(word.casefold() for word in _WORD.findall(text))
        words: dict[str, tuple[str, int]] = {}
        # most frequent form first; equal counts by the form, whatever the reading order
        for form, count in sorted(written.items(), key=lambda item: (-item[1], item[0])):
            folded = _fold(form)
            known = words.get(folded)
            words[folded] = (known[0], known[1] + count) if known else (form, count)
        return cls(words)

    def closest(self, word: str) -> str | None:
        folded = _fold(word)
        limit = _max_edits(folded)
        found = process.extract(
            folded,
            self.words.keys(),
            scorer=Levenshtein.distance,
            score_cutoff=limit,
            limit=_CANDIDATES,
        )
        candidates = [(distance, -self.words[k][1], k) for k, distance, _ in found if k != folded]
        if not candidates:
            return None
        return self.words[min(candidates)[2]][0]


class Suggester:
    def __init__(self) -> None:
        self._vocabularies: LruCache[str, Vocabulary] = LruCache(2)
        self._lock = threading.Lock()
        # (generation, word) -> its correction, "" for none: a published generation
        # never changes, and a query's words are mostly ones earlier queries had
        # (finding one is an analysis per field, term lookups and, for a word the
        # index lacks, a fuzzy search of the vocabulary: ~0.1-0.6 ms)
        self._corrections: LruCache[tuple[str, str], str] = LruCache(_WORDS_REMEMBERED)

    def suggest(
        self, snapshot: IndexSnapshot, parsed: ParsedQuery, query: str
    ) -> Suggestion | None:
        """`query` with each unmatched word replaced by its closest vocabulary word, or
        None when every word matches or nothing close exists."""
        corrections = []
        # a term's words, as the analyzer splits them: "elecion?" is the word "elecion"
        words = (word for term in parsed.terms for word in _TERM_WORD.findall(term))
        for word in dict.fromkeys(words):
            replacement = self._correction(snapshot, word)
            if replacement:
                corrections.append(Correction(word=word, suggestion=replacement))
        return _suggestion(query, corrections)

    def _correction(self, snapshot: IndexSnapshot, word: str) -> str:
        """The vocabulary word closest to `word` when the index lacks `word`, else ""."""
        key = (snapshot.generation, word)
        known = self._corrections.get(key)
        if known is None:
            known = ""
            if _unmatched(snapshot, word):
                known = self._vocabulary(snapshot).closest(word) or ""
            self._corrections.put(key, known)
        return known

    def _vocabulary(self, snapshot: IndexSnapshot) -> Vocabulary:
        vocabulary = self._vocabularies.get(snapshot.generation)
        if vocabulary is None:
            with self._lock:
                vocabulary = self._vocabularies.get(snapshot.generation)
                if vocabulary is None:
                    texts = snapshot.store.article_text_sample(VOCABULARY_CHARACTERS)
                    vocabulary = Vocabulary.of(texts)
                    self._vocabularies.put(snapshot.generation, vocabulary)
        return vocabulary


def without_known_words(
    suggestion: Suggestion | None, query: str, translations: Mapping[str, str]
) -> Suggestion | None:
    """`suggestion` less its corrections of words that the query's translations
    changed. Apertium passes a word it does not know through unchanged ("atentdo
    contra Harfuch" -> "atentdo Against Harfuch"), so a word missing from its
    output is one it knew: a word of the query's language that the archive lacks,
    not a misspelling. On the seeds (no article about coffee), "cosecha de café"
    ("Harvest of coffee") was answered "did you mean: cosecha de case".
    A known word that translates to itself ("hotel") still gets its correction,
    as before; so does every word when nothing was translated."""
    if suggestion is None or not translations:
        return suggestion
    returned = {_fold(word) for text in translations.values() for word in _TERM_WORD.findall(text)}
    kept = [c for c in suggestion.corrections if _fold(c.word) in returned]
    if len(kept) == len(suggestion.corrections):
        return suggestion
    return _suggestion(query, kept)


def _suggestion(query: str, corrections: list[Correction]) -> Suggestion | None:
    """`query` with each correction's word replaced, once; None without corrections."""
    if not corrections:
        return None
    corrected = query
    for correction in corrections:
        pattern = re.compile(rf"(?<!\w){re.escape(correction.word)}(?!\w)", re.IGNORECASE)
        literal = correction.suggestion.replace("\\", "\\\\")  # literal in re.sub
        corrected = pattern.sub(literal, corrected, count=1)
    return Suggestion(query=corrected, corrections=corrections)


def _unmatched(snapshot: IndexSnapshot, word: str) -> bool:
    """No analyzed form of `word` occurs in any text field. A stop word of either
    language ("contra", "the") is never unmatched: the index drops it on purpose."""
    if not _WORD.fullmatch(word):
        return False  # numbers, codes, one- and two-letter words: nothing to correct
    for field in _FIELDS:
        tokens = snapshot.analyzers.analyze(field, word)
        if not tokens and field != OTHER_FIELD:
            return False  # a stop word in this field's language
        if any(snapshot.searcher.doc_freq(field, token) > 0 for token in tokens):
            return False
    return True
