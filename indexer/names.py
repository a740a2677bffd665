"""How often a text writes each word capitalised, and how often in lower case.

Query translation keeps names untranslated (Apertium turns "Sonora" into
"Audible" and "Lobo" into "Wolf"); to tell a name from a word it needs the
index's own evidence: a word the index mostly writes capitalised where nothing
forces a capital is a name there. A capital at the start of a sentence (or of a
line, or after a colon) says nothing, so those words are not counted; nor are
the words of a short headline-case line ("Drought Hits Sonora Farmers"), where
every word is capitalised.

The counts of one text are a plain dict, so an index can keep per-language
totals and update them per article added or removed (add or subtract), without
reading the rest of the corpus again.
"""

from __future__ import annotations

import re
from collections import Counter

__all__ = ["WORD", "CaseCounts", "case_counts"]

# lowercased word -> (times written capitalised, not at a sentence start;
#                     times written in lower case)
CaseCounts = dict[str, tuple[int, int]]

# A word: letters and digits. Apostrophes and hyphens split ("Hermosillo's" ->
# "Hermosillo", "s"); name protection splits queries with the same pattern.
WORD = re.compile(r"[^\W_]+")
# The first word of the text, of a line, or after what ends a sentence (or
# otherwise licenses a capital: a colon, a semicolon), past quotes and brackets.
_SENTENCE_FIRST_WORD = re.compile(r"(?:^|[.!?:;…])[\W_]*?([^\W_]+)", re.MULTILINE)
# Only lines this short are checked for headline case; prose paragraphs are longer.
_HEADLINE_MAX_CHARS = 200
# A headline-case line: at least this share of its words of four letters or more
# are capitalised, and it has at least `_HEADLINE_MIN_WORDS` of them.
_HEADLINE_SHARE = 0.75
_HEADLINE_MIN_WORDS = 3
_LONG_WORD = re.compile(r"[^\W\d_]{4,}")


def case_counts(text: str) -> CaseCounts:
    """(capitalised, lower-case) occurrences of each lowercased word of `text`.

    A word starting with a digit is neither. Words at a sentence start are
    skipped, and so are headline-case lines. Cost: two regex passes over the
    text and one Python step per distinct word form (about 1 s per million words).
    """
    forms = Counter(WORD.findall(text))
    forms.subtract(_SENTENCE_FIRST_WORD.findall(text))
    for line in text.splitlines():
        if len(line) <= _HEADLINE_MAX_CHARS and _is_headline_case(line):
            forms.subtract(WORD.findall(line))
            forms.update(_SENTENCE_FIRST_WORD.findall(line))  # subtracted twice otherwise
    counts: dict[str, list[int]] = {}
    for form, times in forms.items():
        if times <= 0:
            continue
        first = form[0]
        if first.isupper():
            counts.setdefault(form.lower(), [0, 0])[0] += times
        elif first.islower():
            counts.setdefault(form.lower(), [0, 0])[1] += times
    return {word: (capitalised, lower) for word, (capitalised, lower) in counts.items()}


def _is_headline_case(line: str) -> bool:
    long_words = _LONG_WORD.findall(line)
    if len(long_words) < _HEADLINE_MIN_WORDS:
        return False
    capitalised = sum(1 for word in long_words if word[0].isupper())
    return capitalised >= _HEADLINE_SHARE * len(long_words)
