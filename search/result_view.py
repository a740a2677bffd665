"""How one result reads on the page: its link, badge, snippet and why it matched.

The badge is the *article's* language; a passage in another language (a quoted
Spanish tweet in an English article) says so beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote, urlencode

from babel.dates import format_date
from markupsafe import Markup

from search.i18n import UiLanguage
from search.models import SearchResult
from search.rendering import snippet_html

__all__ = ["ResultView", "language_names", "readable_date", "result_view"]

Gettext = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class ResultView:
    result: SearchResult
    href: str
    snippet: Markup
    badge: str  # the article's language code, upper case
    language_name: str  # the article's language, in the interface language
    quote_note: str | None  # "quote in Spanish" when the passage's language differs
    match_label: str | None  # "keyword match", "meaning match", ...
    why: str  # "keyword #2 · meaning #5"
    scores: str  # the raw numbers, for a tooltip
    date_label: str | None


def language_names(_: Gettext) -> dict[str, str]:
    return {
        "en": _("English"),
        "es": _("Spanish"),
        "fr": _("French"),
        "de": _("German"),
        "it": _("Italian"),
        "pt": _("Portuguese"),
    }


def readable_date(iso: str | None, ui: UiLanguage) -> str | None:
    if not iso:
        return None
    try:
        return format_date(date.fromisoformat(iso), "medium", locale=ui.code)
    except ValueError:
        return iso


def result_view(
    result: SearchResult, query: str, *, ui: UiLanguage, gettext: Gettext
) -> ResultView:
    _ = gettext
    names = language_names(_)
    why = []
    scores = []
    if result.lexical:
        why.append(_("keyword #%(rank)s") % {"rank": result.lexical.rank})
        scores.append(f"BM25 {result.lexical.score:.2f}")
    if result.semantic:
        why.append(_("meaning #%(rank)s") % {"rank": result.semantic.rank})
        scores.append(f"cosine {result.semantic.score:.3f}")
    if result.feedback and result.feedback.rank > 1:  # #1 is the best match itself
        why.append(_("like the best match, in another language"))
    if result.lexical and result.semantic:
        scores.append(f"fused score {result.score:.4f}")
    labels = {
        "keyword": _("Contains your words"),
        "translated_keyword": _("Contains a translation of your words"),
        "meaning": _("Close in meaning"),
    }
    article_lang = result.article_lang or result.lang
    quote_note = None
    if result.lang != article_lang:
        quote_note = _("quote in %(language)s") % {"language": names.get(result.lang, result.lang)}
    params = {"passage": result.passage_id, "q": query}
    if ui.explicit:
        params["ui"] = ui.code
    return ResultView(
        result=result,
        href=f"/articles/{quote(result.article_id, safe='')}?{urlencode(params)}#passage",
        snippet=snippet_html(result),
        badge=article_lang.upper(),
        language_name=names.get(article_lang, article_lang),
        quote_note=quote_note,
        match_label=labels[result.match] if result.match else None,
        why=" · ".join(why),
        scores=" · ".join(scores),
        date_label=readable_date(result.date, ui),
    )
