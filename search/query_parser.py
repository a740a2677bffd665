"""Turn the text typed into the search box into a structured, syntax-free query.

The parser only decides which pieces of the text are plain words, which are
"quoted phrases" and which are excluded (`-word`, `-"a phrase"`). It never produces
tantivy query syntax: the lexical retriever runs every piece through the language
analyzers and builds its queries programmatically, so nothing a user types (`AND (`,
`title:`, `lang:es`, `*`, `~2`) can reach a field, a wildcard or a fuzzy operator, and
no input can make the parser fail. That is how a query's syntax never causes a 500.

Rules, in the order the scanner applies them:

* Control characters (Unicode category C*: Cc, Cf, Cs, Co, Cn) become spaces.
* `"a phrase"` is a phrase; typographic quotes work too (`“…”`, `„…“`, `«…»`), and the
  straight and curly double quotes close one another because phones and word
  processors mix them. Inner whitespace is collapsed to single spaces.
* A quote with no closing partner is ignored (read as a space), so the words after
  it are parsed as ordinary words: `"unclosed` searches for `unclosed`.
* `-` at the start of a token and followed by a non-space excludes that word or
  phrase; `+` there is dropped (every word is already wanted). A `-` elsewhere
  (`e-mail`, `covid-19`) is part of the word, and a lone `-` is punctuation.
* Everything else is a plain word kept exactly as typed (`AND`, `lang:es`,
  `http://x.com/a?b=c`); the analyzer splits it on punctuation later.
* Words and phrases with no letter or digit (`*`, `(`, `:`, `""`) are dropped: the
  analyzer could not make a single token of them.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from dataclasses import dataclass

__all__ = ["ParsedQuery", "parse_query"]

# Opening quote -> the characters that may close it. Straight and curly double quotes
# close one another; guillemets only close guillemets.
_DOUBLE_QUOTES = '"“”'
_CLOSERS: dict[str, str] = {
    '"': _DOUBLE_QUOTES,
    "“": _DOUBLE_QUOTES,
    "”": _DOUBLE_QUOTES,
    "„": _DOUBLE_QUOTES,
    "«": "»",
}
_QUOTES = frozenset(_CLOSERS) | frozenset("".join(_CLOSERS.values()))
_PREFIXES = "-+"


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """A search-box query split into wanted and excluded words and phrases.

    `terms` keep their surface form as typed (case, accents and inner punctuation
    untouched): lowercasing, accent folding and stemming belong to the analyzer of
    each language, which the parser does not know.
    """

    terms: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    excluded_terms: tuple[str, ...] = ()
    excluded_phrases: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when nothing positive is left to search for (e.g. the query `-foo`)."""
        return not self.terms and not self.phrases

    def positive_text(self) -> str:
        """Terms, then phrases, joined by spaces.

        This is the text the semantic leg embeds and the highlighter matches;
        exclusions are left out because embedding "-cartel" would pull results
        towards the very topic the user asked to avoid.
        """
        return " ".join((*self.terms, *self.phrases))


def parse_query(text: str) -> ParsedQuery:
    """Parse `text` by the rules in the module docstring; deterministic, never raises."""
    clean = _replace_control_chars(text)
    terms: list[str] = []
    phrases: list[str] = []
    excluded_terms: list[str] = []
    excluded_phrases: list[str] = []

    closer_positions = _closer_positions(clean)
    length = len(clean)
    i = 0
    while i < length:
        char = clean[i]
        if char.isspace():
            i += 1
            continue
        excluded = False
        start = i
        if char in _PREFIXES and i + 1 < length and not clean[i + 1].isspace():
            excluded = char == "-"
            start = i + 1

        if clean[start] in _QUOTES:
            close = _find_closer(clean, start, closer_positions)
            if close < 0:
                i = start + 1  # unclosed or stray quote: skip it, read on as words
                continue
            phrase = " ".join(clean[start + 1 : close].split())
            if _has_word_char(phrase):
                (excluded_phrases if excluded else phrases).append(phrase)
            i = close + 1
            continue

        end = start
        while end < length and not clean[end].isspace() and clean[end] not in _QUOTES:
            end += 1
        word = clean[start:end]
        if _has_word_char(word):
            (excluded_terms if excluded else terms).append(word)
        i = max(end, start + 1)

    return ParsedQuery(
        terms=tuple(terms),
        phrases=tuple(phrases),
        excluded_terms=tuple(excluded_terms),
        excluded_phrases=tuple(excluded_phrases),
    )


def _replace_control_chars(text: str) -> str:
    """Replace every Unicode C* character (controls, format, surrogates, unassigned) by a space.

    Tabs and newlines are C* too; as spaces they still separate words.
    """
    return "".join(" " if unicodedata.category(char)[0] == "C" else char for char in text)


def _closer_positions(text: str) -> dict[str, list[int]]:
    """For each set of closing quotes, the sorted indices in `text` where one occurs.

    Looking closers up by bisection keeps a query full of unclosed quotes linear-ish
    (n log n) instead of rescanning the rest of the text for every quote.
    """
    return {
        closers: [index for index, char in enumerate(text) if char in closers]
        for closers in set(_CLOSERS.values())
    }


def _find_closer(text: str, opening: int, closer_positions: dict[str, list[int]]) -> int:
    """Index of the quote closing the one at `opening`, or -1 when there is none."""
    closers = _CLOSERS.get(text[opening])
    if closers is None:
        return -1
    positions = closer_positions[closers]
    after = bisect_right(positions, opening)
    return positions[after] if after < len(positions) else -1


def _has_word_char(piece: str) -> bool:
    """True when `piece` has a letter or digit, i.e. the analyzer can make a token of it."""
    return any(char.isalnum() for char in piece)
