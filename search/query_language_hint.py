"""Cheap guesses, before any translation, at a query's language.

Two decisions rest on them, and neither needs certainty about every query:

- `may_be_spanish`: whether to embed the query while Apertium translates it. The
  engine embeds an English-looking query on its own thread meanwhile (on 2 cores
  the two overlap: the encoder is one ONNX thread, Apertium its own processes). A
  query that turns out Spanish is embedded through its English translation instead
  (`search.query_embedding`), so embedding it ahead would be wasted work that
  delays the embedding that counts. A wrong guess costs time, never a different
  result.
- `evident_language`: whether the query can skip one of its two translations.
  The language of a short query is not detected (langdetect is unreliable on a
  few words), so a query is translated both ways and a "translation" that mostly
  repeats its input is dropped (`search.query_translation`). Each direction costs
  ~3.3 ms of CPU over Apertium's eleven processes, a fifth of a hybrid query's
  CPU. A query whose language is evident from its function words only needs the
  direction out of it. Measured on the XQuAD questions (2,380) and the news set
  (82): no query was given the wrong language; 97.9% of XQuAD's and 59% of the
  news set's queries had an evident one (keyword queries often have none and keep
  both directions); 6 XQuAD queries lost a kept translation, each a Spanish
  question's English name put into Spanish word by word ("Sky Movies" ->
  "Películas de cielo").
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = ["evident_language", "may_be_spanish"]

_SPANISH_LETTERS = frozenset("áéíóúüñ¿¡")
_SPANISH_MARKS = frozenset("¿¡")
# Frequent Spanish function words and question words that are not English words.
_SPANISH_WORDS = frozenset({
    "de", "del", "la", "las", "el", "los", "que", "y", "en", "un", "una", "unos", "unas",
    "por", "para", "con", "es", "se", "su", "sus", "al", "lo", "como", "cual", "cuál",
    "cuales", "cuáles", "cuando", "cuándo", "donde", "dónde", "quien", "quién", "quienes",
    "cuanto", "cuánto", "cuantos", "cuántos", "cuantas", "cuántas", "qué", "más", "fue",
    "son",
})  # fmt: skip
# Frequent English function words that are not Spanish words ("a", "no", "he", "me",
# "has", "son" are both, and left out).
_ENGLISH_WORDS = frozenset({
    "the", "of", "and", "to", "is", "are", "was", "were", "what", "which", "who", "whom",
    "whose", "when", "where", "why", "how", "did", "does", "do", "in", "on", "at", "for",
    "with", "from", "by", "that", "this", "these", "those", "it", "its", "be", "been",
    "being", "have", "had", "an", "many", "much", "after", "before", "during", "about",
    "into", "than", "they", "their", "there", "his", "her", "she", "we", "you", "not",
    "or", "but", "if", "would", "could", "should", "will", "can", "may", "might",
    "other", "most", "more", "first",
})  # fmt: skip
_WORD = re.compile(r"\w+")


def may_be_spanish(text: str) -> bool:
    """True when `text` has a Spanish letter or a Spanish function word."""
    lowered = text.lower()
    if any(char in _SPANISH_LETTERS for char in lowered):
        return True
    return any(word in _SPANISH_WORDS for word in _WORD.findall(lowered))


def evident_language(text: str) -> Literal["en", "es"] | None:
    """ "en" or "es" when `text`'s function words say so plainly, else None.

    English: an English function word, and no Spanish letter, mark or function word
    (an accent marks a Spanish name too often: "the exile of José Martí" keeps both
    directions). Spanish: no English function word, and an inverted mark, two
    Spanish function words, or one with a Spanish letter ("Los Angeles wildfires"
    has one, and stays undecided).
    """
    lowered = text.lower()
    words = _WORD.findall(lowered)
    english = sum(1 for word in words if word in _ENGLISH_WORDS)
    spanish = sum(1 for word in words if word in _SPANISH_WORDS)
    accented = any(char in _SPANISH_LETTERS for char in lowered)
    if english:
        return "en" if not spanish and not accented else None
    marked = any(char in _SPANISH_MARKS for char in lowered)
    if marked or spanish >= 2 or (spanish and accented):
        return "es"
    return None
