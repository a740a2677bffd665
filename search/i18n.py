"""The pages in English or Spanish: gettext catalogues, chosen per request.

Messages are written in English in the templates (`{% trans %}`, `_()`) and the
Python of the pages (`_()`), extracted with Babel into `locale/messages.pot` and
translated in `locale/es/LC_MESSAGES/messages.po` (README, "The page"). The `.po`
files are compiled in memory when the app starts, so there is no build step and a
broken catalogue fails at start, not on a request.

The language is the page's `ui` parameter when it names one (the visible switch
sets it, so it stays in every link), else the browser's `Accept-Language`, else
English. The API answers in English.
"""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from search.errors import BadQueryError

__all__ = [
    "CORE_NOTES",
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "N_",
    "UiLanguage",
    "choose_language",
    "load_catalogs",
    "translate_error",
]

LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"
_LOCALE_DIR = Path(__file__).resolve().parent / "locale"
_DOMAIN = "messages"


def N_(message: str) -> str:
    """Marks a message for extraction without translating it here (gettext's N_)."""
    return message


# Notes the engine may attach to a response, shown on the page in its language.
CORE_NOTES = (
    N_("translation unavailable: results match the query's own language only"),
    N_("translation es->en failed; searched without it"),
    N_("translation en->es failed; searched without it"),
)


@dataclass(frozen=True, slots=True)
class UiLanguage:
    code: str  # "en" or "es"
    explicit: bool  # chosen by the page's `ui` parameter (links must carry it on)


def load_catalogs(locale_dir: Path = _LOCALE_DIR) -> dict[str, gettext.NullTranslations]:
    """Language -> compiled catalogue. English is the source language: no catalogue."""
    catalogs: dict[str, gettext.NullTranslations] = {DEFAULT_LANGUAGE: gettext.NullTranslations()}
    for language in LANGUAGES:
        if language == DEFAULT_LANGUAGE:
            continue
        path = locale_dir / language / "LC_MESSAGES" / f"{_DOMAIN}.po"
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language, domain=_DOMAIN)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)  # fuzzy entries are left out, as msgfmt does
        compiled.seek(0)
        catalogs[language] = gettext.GNUTranslations(compiled)
    return catalogs


def choose_language(ui: str | None, accept_language: str | None) -> UiLanguage:
    """`ui` if it names a language; else the best of Accept-Language (RFC 9110
    weights, "es-MX" counts as "es"); else English."""
    if ui and ui.strip().lower() in LANGUAGES:
        return UiLanguage(ui.strip().lower(), explicit=True)
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if tag and weight > 0:
            ranked.append((-weight, position, tag.split("-")[0].strip().lower()))
    for _, _, language in sorted(ranked):
        if language in LANGUAGES:
            return UiLanguage(language, explicit=False)
    return UiLanguage(DEFAULT_LANGUAGE, explicit=False)


def translate_error(error: BadQueryError, catalog: gettext.NullTranslations) -> str:
    """The error's message in the catalogue's language (its template, translated)."""
    if error.template is None:
        return catalog.gettext(error.message)
    return catalog.gettext(error.template).format(**error.values)
