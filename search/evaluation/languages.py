"""Which language each corpus document is in, for the per-direction cross-lingual numbers.

A `lang` field in corpus.jsonl wins. Otherwise the language comes from the document
id through a regular expression with a named group `lang`: the XQuAD set's ids are
`en-000-00` / `es-000-00`, so the default takes the prefix before the first "-".
A document neither gives is of unknown language and left out of the cross-lingual
(and same-language) qrels; it still counts everywhere else.

These languages are what the data set says, never what the engine's detector thinks:
the evaluation must not depend on the thing it evaluates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from search.evaluation.beir import CorpusDoc

__all__ = ["DEFAULT_DOC_LANG_PATTERN", "compile_doc_lang_pattern", "document_languages"]

DEFAULT_DOC_LANG_PATTERN = r"^(?P<lang>[a-z]{2,3})-"


def compile_doc_lang_pattern(pattern: str) -> re.Pattern[str]:
    """The compiled pattern; `ValueError` naming the fix if it is invalid or has no `lang` group."""
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise ValueError(
            f"--doc-lang {pattern!r} is not a valid regular expression: {error}."
        ) from error
    if "lang" not in compiled.groupindex:
        raise ValueError(
            f"--doc-lang {pattern!r} has no named group 'lang'; write e.g. "
            f"{DEFAULT_DOC_LANG_PATTERN!r}."
        )
    return compiled


def document_languages(docs: Iterable[CorpusDoc], pattern: re.Pattern[str]) -> dict[str, str]:
    """Document id -> language code (lower case) for every document whose language is known."""
    languages: dict[str, str] = {}
    for doc in docs:
        if doc.lang:
            languages[doc.id] = doc.lang.lower()
            continue
        match = pattern.search(doc.id)
        if match and match.group("lang"):
            languages[doc.id] = match.group("lang").lower()
    return languages
