"""The message catalogue: complete, consistent, up to date; the language negotiation.

The page's words are extracted from the templates and the Python with Babel (the
command is in the README); these tests fail when a new message is not in the
catalogue yet, when a Spanish translation is missing, fuzzy or loses a
placeholder, and when the language choice goes wrong.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from search.errors import bad_parameter
from search.i18n import choose_language, load_catalogs, translate_error

pytestmark = pytest.mark.fast

REPO = Path(__file__).resolve().parent.parent
LOCALE = REPO / "search" / "locale"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "bad_parameter": (2,), "N_": None}
_PLACEHOLDERS = re.compile(r"%\(\w+\)s|\{\w+(?:![rs])?\}|<[^>]+>")


def _extracted() -> set[str]:
    messages: set[str] = set()
    for folder, method in (("search", "python"), ("search/templates", "jinja2")):
        pattern = "**.py" if method == "python" else "**.html"
        found = extract_from_dir(
            REPO / folder,
            method_map=[(pattern, method)],
            options_map={pattern: {"extensions": "jinja2.ext.i18n"}} if method == "jinja2" else {},
            keywords=KEYWORDS,
        )
        for _, _, message, _, _ in found:
            messages.add(message if isinstance(message, str) else message[0])
    return messages


def _spanish() -> dict[str, Any]:
    with (LOCALE / "es" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    return {str(m.id): m for m in catalog if m.id}


def test_every_message_of_the_pages_is_in_the_spanish_catalogue() -> None:
    missing = _extracted() - set(_spanish())
    assert not missing, f"run the extraction and translate (README, 'The page'): {missing}"


def test_every_spanish_translation_is_there_and_keeps_its_placeholders() -> None:
    for msgid, message in _spanish().items():
        assert isinstance(msgid, str)
        assert message.string, f"no translation for {msgid!r}"
        assert "fuzzy" not in message.flags, f"fuzzy translation for {msgid!r}"
        assert sorted(_PLACEHOLDERS.findall(msgid)) == sorted(
            _PLACEHOLDERS.findall(message.string)
        ), msgid


def test_the_catalogues_compile_and_translate() -> None:
    catalogs = load_catalogs()
    assert catalogs["es"].gettext("Search") == "Buscar"
    assert catalogs["en"].gettext("Search") == "Search"
    error = bad_parameter(
        "limit",
        "{name}={value} is out of range; use {low}..{high}.",
        name="limit",
        value=0,
        low=1,
        high=100,
    )
    assert error.message == "limit=0 is out of range; use 1..100."
    assert translate_error(error, catalogs["es"]) == "limit=0 está fuera de rango; use 1..100."


@pytest.mark.parametrize(
    ("ui", "header", "expected"),
    [
        (None, None, ("en", False)),
        (None, "es-MX,es;q=0.9,en;q=0.8", ("es", False)),
        (None, "fr-FR, de;q=0.9, es;q=0.5, en;q=0.4", ("es", False)),
        (None, "en;q=0.2, es;q=0.9", ("es", False)),
        (None, "es;q=0, en", ("en", False)),
        (None, "*", ("en", False)),
        (None, "es;q=abc, en;q=0.1", ("en", False)),
        ("es", "en", ("es", True)),
        ("EN", "es", ("en", True)),
        ("fr", "es", ("es", False)),  # an unknown ui is ignored, not an error
    ],
)
def test_the_interface_language(
    ui: str | None, header: str | None, expected: tuple[str, bool]
) -> None:
    chosen = choose_language(ui, header)
    assert (chosen.code, chosen.explicit) == expected
