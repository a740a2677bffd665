"""The search page's view: parse the URL, search, and build the template's context.

The URL is the only state (`search.page_urls`): filters, sort, removed
translations and the interface language are parameters, and every control on the
page is a link or a form that produces the next URL. Every word shown goes through
the request's message catalogue (`search.i18n`).
"""

from __future__ import annotations

import gettext
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from babel.dates import format_date
from markupsafe import Markup, escape
from starlette.datastructures import QueryParams

from search.engine import SearchEngine
from search.i18n import UiLanguage
from search.models import FacetValue, SearchRequest, SearchResponse, SearchResult
from search.page_urls import PageUrl
from search.params import parse_search_request
from search.result_view import ResultView, language_names, result_view

__all__ = ["PAGE_ONLY_PARAMETERS", "SearchPage", "page_search_request"]

# Read by the page itself, not by the search parser.
PAGE_ONLY_PARAMETERS = ("ui",)
# Query-string keys the form carries as visible controls; the rest ride along hidden.
_FORM_KEYS = frozenset({"q", "mode", "lang", "date_from", "date_to", "source", "offset", "format"})
_FACET_VALUES_SHOWN = 8


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    url: str
    current: bool = False


@dataclass(frozen=True, slots=True)
class FacetLink:
    label: str
    count: int
    url: str | None  # None: an unknown value, which cannot be filtered on
    active: bool


@dataclass(frozen=True, slots=True)
class FacetGroup:
    name: str  # lang, source, year
    title: str
    values: list[FacetLink]
    more: list[FacetLink]  # beyond the first few, behind a "more" toggle (<details>)


@dataclass(frozen=True, slots=True)
class TranslationLine:
    language: str  # its name, in the interface language
    text: str | None  # the translated query; None: left out
    url: str  # leaves it out, or puts it back


def page_search_request(params: QueryParams, *, require_query: bool = True) -> SearchRequest:
    """Query string -> `SearchRequest`, exactly as /api/search reads it."""
    return parse_search_request(
        params.multi_items(), require_query=require_query, also_accepted=PAGE_ONLY_PARAMETERS
    )


class SearchPage:
    def __init__(
        self,
        params: QueryParams,
        engine: SearchEngine,
        *,
        ui: UiLanguage,
        catalog: gettext.NullTranslations,
    ) -> None:
        self.params = params
        self.engine = engine
        self.ui = ui
        self._ = catalog.gettext
        self.url = PageUrl("/", params.multi_items())
        self.response: SearchResponse | None = None
        self.request: SearchRequest | None = None
        langs = [v.strip().lower() for v in params.getlist("lang") if v.strip()]
        self.lang = langs[0] if len(langs) == 1 else "all"
        self.mode = (params.get("mode") or "hybrid").strip().lower()
        self.names = language_names(self._)

    def run(self) -> None:
        request = page_search_request(self.params, require_query=False)
        self.request = request
        if request.query.strip():
            self.response = self.engine.search(request)
        else:  # an invitation, but a bad limit or lang still gets its message
            request.validate(known_langs=self.engine.snapshot.languages)

    def context(self, *, error: str | None) -> dict[str, Any]:
        _ = self._
        response = self.response if error is None else None
        query = self.params.get("q", "")
        sources = self.engine.sources()
        view = self._result_view
        return {
            "query": query,
            "mode": self.mode,
            "lang": self.lang,
            "modes": (
                ("hybrid", _("Hybrid")),
                ("lexical", _("Keyword")),
                ("semantic", _("Meaning")),
            ),
            "languages": (("all", _("All")), ("en", self.names["en"]), ("es", self.names["es"])),
            "date_from": self.params.get("date_from", ""),
            "date_to": self.params.get("date_to", ""),
            "source": (self.url.values("source") or [""])[0],
            "extra_sources": self.url.values("source")[1:],
            "sources": [(s.value, f"{s.value} ({s.count})") for s in sources.sources],
            "filters_open": bool(self.url.values("date_from") or self.url.values("date_to")),
            "hidden": [(k, v) for k, v in self.params.multi_items() if k not in _FORM_KEYS],
            "response": response,
            "results": [view(r) for r in response.results] if response else [],
            "closest": [view(r) for r in response.closest] if response else [],
            "error": error,
            "chips": self._chips({s.value for s in sources.sources if s.value}),
            "clear_url": str(self._fresh().with_(_FILTERS_CLEARED)),
            "translation_lines": self._translation_lines(response),
            "suggestion": self._suggestion(response),
            "facets": self._facets(response) if response and response.total else [],
            "sort_links": self._sort_links(),
            "exports": self._exports() if response and response.total else [],
            "previous_url": self._page_url(response, -1),
            "next_url": self._page_url(response, +1),
            "hints": self._hints(response) if response and not response.results else [],
            "json_url": str(self.url.with_({"format": "json"})) if response else None,
            "notes": [],  # the route adds the engine's notes worth showing
        }

    # -- pieces ------------------------------------------------------------------------

    def _result_view(self, result: SearchResult) -> ResultView:
        return result_view(result, self.params.get("q", ""), ui=self.ui, gettext=self._)

    def _fresh(self) -> PageUrl:
        """This URL for a changed search: back to the first page, as HTML."""
        return self.url.with_({"offset": None, "format": None})

    def _chips(self, known_sources: set[str]) -> list[Link]:
        """Active filters, each a link that removes it."""
        _, fresh, chips = self._, self._fresh(), []
        passage_scope = self.params.get("lang_scope", "").strip().lower() == "passage"
        for lang in (v.strip().lower() for raw in fresh.values("lang") for v in raw.split(",")):
            if lang and lang != "all":
                label = _("Passage language") if passage_scope else _("Language")
                name = self.names.get(lang, lang)
                chips.append(Link(f"{label}: {name}", str(fresh.without("lang", lang))))
        shown = {name.casefold(): name for name in known_sources}
        for raw in fresh.values("source"):
            for source in (part.strip() for part in raw.split(",") if part.strip()):
                name = shown.get(source.casefold(), f"{source} {_('(not in this index)')}")
                url = str(fresh.without("source", source))
                chips.append(Link(f"{_('Source')}: {name}", url))
        for name, label in (("date_from", _("From")), ("date_to", _("To"))):
            for value in fresh.values(name):
                chips.append(Link(f"{label}: {self._day(value)}", str(fresh.without(name))))
        return chips

    def _day(self, value: str) -> str:
        try:
            return format_date(date.fromisoformat(value.strip()), "medium", locale=self.ui.code)
        except ValueError:
            return value

    def _translation_lines(self, response: SearchResponse | None) -> list[TranslationLine]:
        if response is None or self.request is None or not self.request.translate:
            return []
        fresh = self._fresh()
        lines = [
            TranslationLine(
                self.names.get(lang, lang), text, str(fresh.adding("skip_translation", lang))
            )
            for lang, text in response.translations.items()
        ]
        lines += [
            TranslationLine(
                self.names.get(lang, lang), None, str(fresh.without("skip_translation", lang))
            )
            for lang in self.request.skip_translations
        ]
        return lines

    def _suggestion(self, response: SearchResponse | None) -> tuple[Markup, str] | None:
        """The corrected query with the corrected words in bold, and its URL."""
        if response is None or response.did_you_mean is None:
            return None
        suggestion = response.did_you_mean
        corrected = {c.suggestion.casefold() for c in suggestion.corrections}
        html = Markup("").join(
            Markup("<b>%s</b>") % piece if piece.casefold() in corrected else escape(piece)
            for piece in re.split(r"(\w+)", suggestion.query)
        )
        return html, str(self._fresh().with_({"q": suggestion.query}))

    def _facets(self, response: SearchResponse) -> list[FacetGroup]:
        _, fresh = self._, self._fresh()
        langs = set(self.url.values("lang"))
        sources = {s.casefold() for s in self.url.values("source")}
        spans = set(zip(self.url.values("date_from"), self.url.values("date_to"), strict=False))

        def lang_link(v: FacetValue) -> FacetLink:
            value = v.value or ""
            active = value in langs
            url = fresh.without("lang") if active else fresh.with_({"lang": value})
            return FacetLink(self.names.get(value, value), v.count, str(url), active)

        def source_link(v: FacetValue) -> FacetLink:
            if v.value is None:
                return FacetLink(_("No source"), v.count, None, False)
            active = v.value.casefold() in sources
            url = fresh.without("source") if active else fresh.with_({"source": v.value})
            return FacetLink(v.value, v.count, str(url), active)

        def year_link(v: FacetValue) -> FacetLink:
            if v.value is None:
                return FacetLink(_("Undated"), v.count, None, False)
            span = {"date_from": f"{v.value}-01-01", "date_to": f"{v.value}-12-31"}
            active = (span["date_from"], span["date_to"]) in spans
            url = fresh.with_(dict.fromkeys(span)) if active else fresh.with_(span)
            return FacetLink(v.value, v.count, str(url), active)

        groups = []
        for name, title, values, link in (
            ("lang", _("Language"), response.facets.lang, lang_link),
            ("source", _("Source"), response.facets.source, source_link),
            ("year", _("Year"), response.facets.year, year_link),
        ):
            links = [link(v) for v in values]
            if links:
                shown = _FACET_VALUES_SHOWN
                groups.append(FacetGroup(name, title, links[:shown], links[shown:]))
        return groups

    def _sort_links(self) -> list[Link]:
        _, fresh = self._, self._fresh()
        current = (self.params.get("sort") or "relevance").strip().lower()
        return [
            Link(
                label,
                str(fresh.with_({"sort": None if value == "relevance" else value})),
                value == current,
            )
            for value, label in (
                ("relevance", _("Relevance")),
                ("date_desc", _("Newest")),
                ("date_asc", _("Oldest")),
            )
        ]

    def _exports(self) -> list[Link]:
        return [
            Link(label, str(self.url.with_({"format": value})))
            for value, label in (("csv", "CSV"), ("markdown", "Markdown"))
        ]

    def _page_url(self, response: SearchResponse | None, step: int) -> str | None:
        """The previous (step -1) or next (+1) page, or None at either end."""
        if response is None or (step < 0 and response.offset == 0):
            return None
        offset = response.offset + step * response.limit
        if offset >= response.total:
            return None
        return str(self.url.with_({"offset": str(offset) if offset > 0 else None, "format": None}))

    def _hints(self, response: SearchResponse) -> list[Link]:
        """Other searches that may find something: another mode, fewer filters."""
        _, fresh, hints = self._, self._fresh(), []
        if response.offset > 0 and response.total > 0:
            hints.append(Link(_("the first page"), str(fresh)))
        for value, label in (
            ("hybrid", _("hybrid search")),
            ("lexical", _("keyword search")),
            ("semantic", _("meaning search")),
        ):
            if value != self.mode:
                hints.append(Link(label, str(fresh.with_({"mode": value}))))
        if self.lang != "all":
            hints.append(Link(_("all languages"), str(fresh.without("lang"))))
        if any(self.url.values(name) for name in ("source", "date_from", "date_to")):
            hints.append(Link(_("no filters"), str(fresh.with_(_FILTERS_CLEARED))))
        return hints


_FILTERS_CLEARED: dict[str, None] = dict.fromkeys(("lang", "source", "date_from", "date_to"))
