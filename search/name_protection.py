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
    given and gave back, names left out: whether it translated anything is judged
    on those (`search.query_translation`)."""

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
    unmasked = TranslatedQuery(
        text=plain,
        given_words=tuple(word.group(0).lower() for word in words),
        returned_words=tuple(word.lower() for word in WORD.findall(plain)),
    )
    if vocabulary is None or not words or could_hold_placeholder(text):
        return unmasked
    forms = [word.group(0) for word in words]
    names = name_positions(forms, vocabulary, source=source, target=target)
    kept_by_apertium = set(unmasked.returned_words)
    spans = []
    for start, end in name_runs(text, words, names):
        run = text[start:end]
        if all(word.lower() in kept_by_apertium for word in WORD.findall(run)):
            continue  # Apertium keeps it anyway, and may know it better in context
        alone = translate(run)
        if alone is None or keeps_name(run, alone, vocabulary, target=target):
            spans.append((start, end))
    if not spans:
        return unmasked
    masked = mask_spans(text, spans)
    translated = translate(masked.text)
    if translated is None:
        return None
    return TranslatedQuery(
        text=masked.restore(translated),
        given_words=masked.translatable_words,
        returned_words=tuple(masked.translated_words(translated)),
    )
