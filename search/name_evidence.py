"""Which query words are names to keep untranslated: what the index's texts say.

Apertium translates names that are also words: "sequía en Sonora" became
"Drought in Audible", "comisario Lobo" "Commissioner Wolf", "Tierra Caliente"
"Hot earth". A query word is a name for the direction source -> target when the
target language's texts mostly write it capitalised (more often capitalised
than in lower case, sentence starts not counted; `search.case_vocabulary`): the
target's own texts use the word as it is, so keeping it is a correct
translation. Varsovia -> Warsaw still translates (the English texts never write
"Varsovia"), and so do Estados Unidos and Reino Unido. Then:

- A query that mixes capitals and lower case is taken at its word: a
  capitalised word is a name, a lower-case one is not ("acuerdo de paz en
  Oaxaca": "paz" is peace, though the texts only name Mario Paz; "Who sang the
  national anthem?").
- Otherwise (a query all in lower case or all in capitals), and for a
  capitalised first word, the source language's texts decide: a name there is
  written capitalised at least as often as in lower case, or never seen
  ("sequía en sonora").

Word-level counts cannot tell a name from a name's translation, so
`keeps_name` then asks whether Apertium's translation of the name is itself a
name the target's texts use more ("Polonia" -> "Poland" in English texts
about Poland); a translation into an ordinary word ("Audible", "Wolf",
"Deep" for Honda) never wins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from indexer.names import WORD
from search.case_vocabulary import CaseVocabulary

__all__ = ["keeps_name", "name_positions", "only_names"]


def name_positions(
    forms: Sequence[str], vocabulary: CaseVocabulary, *, source: str, target: str
) -> frozenset[int]:
    """Positions in `forms` (the query's words as typed) of the names to keep."""
    words = [form.lower() for form in forms]
    unique = sorted(set(words))
    in_source = vocabulary.case_counts(unique, lang=source)
    in_target = vocabulary.case_counts(unique, lang=target)
    uses_capitals = any(form[0].isupper() for form in forms) and any(
        form[0].islower() for form in forms
    )
    return frozenset(
        position
        for position, (form, word) in enumerate(zip(forms, words, strict=True))
        if _is_name(
            word,
            typed_capitalised=_typed_capitalised(form, position, uses_capitals),
            in_source=in_source,
            in_target=in_target,
        )
    )


def keeps_name(name: str, translation: str, vocabulary: CaseVocabulary, *, target: str) -> bool:
    """Keep `name` rather than Apertium's `translation` of it (both as typed, one word
    or a few)? Unless every word of the translation is a name in the target's texts
    and they write it capitalised more often than the name itself."""
    name_words = [word.lower() for word in WORD.findall(name)]
    translated_words = [word.lower() for word in WORD.findall(translation)]
    if not translated_words or translated_words == name_words:
        return True
    counts = vocabulary.case_counts(sorted({*name_words, *translated_words}), lang=target)
    translated = [counts.get(word, (0, 0)) for word in translated_words]
    if not all(capitalised > lower for capitalised, lower in translated):
        return True  # a name turned into a word, or into something the texts never write
    as_name = min(counts.get(word, (0, 0))[0] for word in name_words)
    return as_name >= min(capitalised for capitalised, _ in translated)


def only_names(
    words: Sequence[str], vocabulary: CaseVocabulary, *, languages: Sequence[str]
) -> bool:
    """Every one of `words` (lowercased) is one the texts of `languages`, taken
    together, write capitalised more often than in lower case."""
    if not words:
        return False
    totals = dict.fromkeys(words, (0, 0))
    for language in languages:
        for word, (capitalised, lower) in vocabulary.case_counts(words, lang=language).items():
            seen_capitalised, seen_lower = totals[word]
            totals[word] = (seen_capitalised + capitalised, seen_lower + lower)
    return all(capitalised > lower for capitalised, lower in totals.values())


def _typed_capitalised(form: str, position: int, uses_capitals: bool) -> bool | None:
    """Whether the query wrote the word as a name; None when its casing tells nothing
    (a query all in one case, or its first word capitalised)."""
    if not uses_capitals or (position == 0 and form[0].isupper()):
        return None
    return form[0].isupper()


def _is_name(
    word: str,
    *,
    typed_capitalised: bool | None,
    in_source: Mapping[str, tuple[int, int]],
    in_target: Mapping[str, tuple[int, int]],
) -> bool:
    capitalised_in_target, lower_in_target = in_target.get(word, (0, 0))
    if capitalised_in_target <= lower_in_target:
        return False
    if typed_capitalised is not None:
        return typed_capitalised
    capitalised_in_source, lower_in_source = in_source.get(word, (0, 0))
    return capitalised_in_source >= lower_in_source
