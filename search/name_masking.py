"""Names hidden from Apertium behind placeholders, and put back after translation.

Each run of adjacent names becomes one placeholder (`Zqxa`, `Zqxb`, ...): a
made-up capitalised word that both Apertium directions pass through unchanged,
in place, like any unknown proper noun ("sequía en Zqxa" -> "Drought in Zqxa";
checked with the real `apertium en-es` and `es-en` in tests/test_name_protection.py).
"""

from __future__ import annotations

import re
import string
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from indexer.names import WORD

__all__ = ["MaskedQuery", "could_hold_placeholder", "mask_spans", "name_runs"]

_PLACEHOLDER_STEM = "Zqx"
_PLACEHOLDERS = tuple(_PLACEHOLDER_STEM + letter for letter in string.ascii_lowercase)
_PLACEHOLDER = re.compile(rf"\b{_PLACEHOLDER_STEM}([a-z])\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class MaskedQuery:
    """A query ready for Apertium: `text` with names swapped for placeholders.

    `names` maps each placeholder to the text it hides; `translatable_words`
    are the lowercased words left for Apertium (what a translation is compared
    with to tell whether it translated anything).
    """

    text: str
    names: Mapping[str, str]
    translatable_words: tuple[str, ...]

    def restore(self, translated: str) -> str:
        """`translated` with every placeholder replaced by its name.

        A name whose placeholder Apertium dropped is appended, so the
        translation still carries it.
        """
        seen: set[str] = set()

        def name_of(match: re.Match[str]) -> str:
            placeholder = _PLACEHOLDER_STEM + match.group(1).lower()
            if placeholder not in self.names:
                return match.group(0)
            seen.add(placeholder)
            return self.names[placeholder]

        restored = _PLACEHOLDER.sub(name_of, translated)
        missing = [name for placeholder, name in self.names.items() if placeholder not in seen]
        return " ".join([restored, *missing]) if missing else restored

    def translated_words(self, translated: str) -> list[str]:
        """The lowercased words of Apertium's output, placeholders left out."""
        return [word.lower() for word in WORD.findall(_PLACEHOLDER.sub(" ", translated))]


def could_hold_placeholder(text: str) -> bool:
    """A query that already contains something like a placeholder is not masked."""
    return _PLACEHOLDER_STEM.lower() in text.lower()


def name_runs(
    text: str, words: Sequence[re.Match[str]], positions: Collection[int]
) -> list[tuple[int, int]]:
    """(start, end) character spans of runs of the `words` at `positions` that only
    whitespace separates ("Tierra Caliente" is one run, "Loret de Mola" two)."""
    spans: list[tuple[int, int]] = []
    previous = -2
    for position in sorted(positions):
        word = words[position]
        joined = position == previous + 1 and not text[spans[-1][1] : word.start()].strip()
        if spans and joined:
            spans[-1] = (spans[-1][0], word.end())
        else:
            spans.append((word.start(), word.end()))
        previous = position
    return spans


def mask_spans(text: str, spans: Sequence[tuple[int, int]]) -> MaskedQuery:
    """`text` with each span (sorted, not overlapping) behind its own placeholder;
    spans beyond the 26 placeholders stay in the text, to be translated."""
    pieces: list[str] = []
    names: dict[str, str] = {}
    translatable: list[str] = []
    end_of_previous = 0
    for (start, end), placeholder in zip(spans, _PLACEHOLDERS, strict=False):
        translatable += WORD.findall(text, end_of_previous, start)
        pieces += [text[end_of_previous:start], placeholder]
        names[placeholder] = text[start:end]
        end_of_previous = end
    translatable += WORD.findall(text, end_of_previous)
    pieces.append(text[end_of_previous:])
    return MaskedQuery(
        text="".join(pieces),
        names=names,
        translatable_words=tuple(word.lower() for word in translatable),
    )
