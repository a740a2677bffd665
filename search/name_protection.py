"""A query translated with its names kept: which to keep, how, and what changed.

`search.name_evidence` says which query words are names for a direction;
`search.name_masking` hides them from Apertium. Masking also hides a name from
Apertium's grammar and its multiword entries ("Los Ángeles" -> "Los Angeles",
"the Guadalajara police chief" -> "el jefe de policía del Guadalajara"), so a
name is only masked when Apertium, left alone, would change it, and when its
translation is not a name the target's texts prefer (`keeps_name`). That costs
one more Apertium call per changed name and one for the masked query, each a
millisecond or two, and cached by the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from indexer.names import WORD
from search.case_vocabulary import CaseVocabulary
from search.name_evidence import keeps_name, name_positions
from search.name_masking import could_hold_placeholder, mask_spans, name_runs

__all__ = ["TranslatedQuery", "translate_keeping_names"]


@dataclass(frozen=True, slots=True)
class TranslatedQuery:
    """The translation (names back in place) and the lowercased words Apertium was
    given and gave back, names left out (masked or kept by Apertium alike): whether
    it translated anything is judged on those (`search.query_translation`), so
    "Hurricane Valeria Acapulco" -> "Huracán Valeria Acapulco" counts as translated."""

    text: str
    given_words: tuple[str, ...]
    returned_words: tuple[str, ...]


def translate_keeping_names(
    text: str,
    translate: Callable[[str], str | None],
    vocabulary: CaseVocabulary | None,
    *,
    source: str,
    target: str,
) -> TranslatedQuery | None:
    """`text` through `translate` (one direction of Apertium), names kept; None
    when `translate` fails."""
    plain = translate(text)
    if plain is None:
        return None
    words = list(WORD.finditer(text))
    plain_words = tuple(word.lower() for word in WORD.findall(plain))
    given = tuple(word.group(0).lower() for word in words)
    if vocabulary is None or not words or could_hold_placeholder(text):
        return TranslatedQuery(text=plain, given_words=given, returned_words=plain_words)
    forms = [word.group(0) for word in words]
    names = name_positions(forms, vocabulary, source=source, target=target)
    kept: set[str] = set()  # the lowercased words of names left as they are
    spans = []
    for start, end in name_runs(text, words, names):
        run = [word.lower() for word in WORD.findall(text, start, end)]
        if all(word in plain_words for word in run):
            kept.update(run)  # Apertium keeps it anyway, and may know it better in context
            continue
        alone = translate(text[start:end])
        if alone is None or keeps_name(text[start:end], alone, vocabulary, target=target):
            kept.update(run)
            spans.append((start, end))
    if not spans:
        return TranslatedQuery(
            text=plain,
            given_words=tuple(word for word in given if word not in kept),
            returned_words=tuple(word for word in plain_words if word not in kept),
        )
    masked = mask_spans(text, spans)
    translated = translate(masked.text)
    if translated is None:
        return None
    return TranslatedQuery(
        text=masked.restore(translated),
        given_words=tuple(word for word in masked.translatable_words if word not in kept),
        returned_words=tuple(
            word for word in masked.translated_words(translated) if word not in kept
        ),
    )
