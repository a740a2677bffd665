"""A cheap guess, before any translation, that a query may be Spanish.

The engine embeds an English-looking query while Apertium translates it (on 2
cores the two overlap: the encoder is one ONNX thread, Apertium its own
processes). A query that turns out Spanish is embedded through its English
translation instead (`search.query_embedding`), so embedding it ahead would be
wasted work that delays the embedding that counts. This guess only decides
whether to start early: a wrong guess costs time, never a different result.

Spanish shows itself in accents, inverted marks and function words that are not
English words; a query with none of them (most English queries, and names) is
embedded ahead.
"""

from __future__ import annotations

import re

__all__ = ["may_be_spanish"]

_SPANISH_LETTERS = frozenset("áéíóúüñ¿¡")
# Frequent Spanish function words and question words that are not English words.
_SPANISH_WORDS = frozenset({
    "de", "del", "la", "las", "el", "los", "que", "y", "en", "un", "una", "unos", "unas",
    "por", "para", "con", "es", "se", "su", "sus", "al", "lo", "como", "cual", "cuál",
    "cuales", "cuáles", "cuando", "cuándo", "donde", "dónde", "quien", "quién", "quienes",
    "cuanto", "cuánto", "cuantos", "cuántos", "cuantas", "cuántas", "qué", "más", "fue",
    "son",
})  # fmt: skip
_WORD = re.compile(r"\w+")


def may_be_spanish(text: str) -> bool:
    """True when `text` has a Spanish letter or a Spanish function word."""
    lowered = text.lower()
    if any(char in _SPANISH_LETTERS for char in lowered):
        return True
    return any(word in _SPANISH_WORDS for word in _WORD.findall(lowered))
