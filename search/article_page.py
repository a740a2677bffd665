"""The article page's view: the text, the opened passage, and machine translations.

The text is shown as the author wrote it, cut into the passages' own pieces
(passages overlap; each piece runs to where the next passage starts). After each
piece in English or Spanish a small link asks for its machine translation: the
link adds `mt=<number>` to the URL and the server renders the translation under
the piece, labelled as machine translation, so it works without JavaScript and
the URL says what is open. `mt=all` opens every one.
"""

from __future__ import annotations

import gettext
import re
from typing import Any

from markupsafe import Markup, escape

from search.i18n import UiLanguage
from search.models import ArticlePassage, ArticleView, TextWindow, split_by_highlights
from search.page_urls import PageUrl
from search.rendering import marked_html
from search.result_view import language_names, readable_date

__all__ = ["article_context"]

_TRAILING_SPACE = re.compile(r"\s*\Z")


def article_context(
    article: ArticleView,
    url: PageUrl,
    *,
    ui: UiLanguage,
    catalog: gettext.NullTranslations,
) -> dict[str, Any]:
    _ = catalog.gettext
    names = language_names(_)
    passage_id = url.values("passage")[0] if url.values("passage") else ""
    translatable = any(p.translatable_to for p in article.passages)
    opened = any(p.translation for p in article.passages)
    clean = url.with_({"format": None})
    return {
        "article": article,
        "language_name": names.get(article.lang, article.lang),
        "date_label": readable_date(article.date, ui),
        "original_url": _safe_url(article.url),
        "json_url": str(url.with_({"format": "json"})),
        "text_html": _text_html(article, passage_id, clean, _, names, ui.code),
        "translate_all_url": str(clean.with_({"mt": "all"})) if translatable else None,
        "hide_all_url": str(clean.with_({"mt": None})) if opened else None,
        "notes": [_("A machine translation failed; try again.")] if article.notes else [],
    }


def _text_html(
    article: ArticleView,
    passage_id: str,
    url: PageUrl,
    _: Any,
    names: dict[str, str],
    ui: str,
) -> Markup:
    text = article.text
    target = article.passage(passage_id)
    html = []
    cursor = 0
    opened = {n for n, p in enumerate(article.passages, start=1) if p.translation is not None}
    for number, passage in enumerate(article.passages, start=1):
        if passage.start > cursor:  # text no passage holds (should not happen): plain
            html.append(escape(text[cursor : passage.start]))
        end = max(passage.own_end, passage.start)
        body = text[passage.start : end]
        space = _TRAILING_SPACE.search(body)
        content_end = passage.start + (space.start() if space else len(body))
        if passage.lang != article.lang:
            note = _("quote in %(language)s") % {"language": names.get(passage.lang, passage.lang)}
            html.append(Markup('<span class="quote-tag" lang="%s">%s</span> ') % (ui, note))
        html.append(
            Markup('<span class="seg" id="p%d" lang="%s">%s</span>')
            % (number, passage.lang, _pieces(text, passage.start, content_end, target))
        )
        html.append(_toggle(passage, number, url.with_({"mt": None}), opened, _, names))
        if passage.translation is not None:  # a block: its margin stands for the blank line
            html.append(_translation_block(passage, _, names))
        else:
            html.append(_pieces(text, content_end, end, target))
        cursor = max(cursor, end)
    if cursor < len(text):
        html.append(_pieces(text, cursor, len(text), target))
    return Markup("").join(html)


def _pieces(text: str, start: int, end: int, target: ArticlePassage | None) -> Markup:
    """`text[start:end]`; the part inside the opened passage marked, with its highlights."""
    if start >= end:
        return Markup("")
    if target is None or target.end <= start or target.start >= end:
        return escape(text[start:end])
    inner_start, inner_end = max(start, target.start), min(end, target.end)
    if not text[inner_start:inner_end].strip() and inner_start != target.start:
        return escape(text[start:end])  # only the blank lines after it: nothing to mark
    window = TextWindow(inner_start, inner_end)
    marked = marked_html(split_by_highlights(text, target.highlights, window))
    anchor = ' id="passage" tabindex="-1"' if inner_start == target.start else ""
    return (
        escape(text[start:inner_start])
        + Markup('<span class="passage"%s>%s</span>') % (Markup(anchor), marked)
        + escape(text[inner_end:end])
    )


def _toggle(
    passage: ArticlePassage,
    number: int,
    url: PageUrl,
    opened: set[int],
    _: Any,
    names: dict[str, str],
) -> Markup:
    """A link to this page with the passage's translation opened or closed (`url`
    has no `mt`; `opened` are the numbers open now)."""
    if passage.translatable_to is None:
        return Markup("")
    target_name = names.get(passage.translatable_to, passage.translatable_to)
    if number in opened:
        after = sorted(opened - {number})
        label, title = _("Hide translation"), _("Hide the machine translation")
    else:
        after = sorted(opened | {number})
        label = _("Translate")
        title = _("Show a machine translation into %(language)s") % {"language": target_name}
    changed = url.with_({"mt": ",".join(map(str, after)) or None})
    href = f"{changed}#p{number}"
    return Markup(' <a class="mt-toggle" href="%s" title="%s" rel="nofollow">%s</a>') % (
        href,
        title,
        label,
    )


def _translation_block(passage: ArticlePassage, _: Any, names: dict[str, str]) -> Markup:
    assert passage.translation is not None
    translation = passage.translation
    label = _("Machine translation (Apertium), %(source)s → %(target)s") % {
        "source": names.get(translation.source_lang, translation.source_lang),
        "target": names.get(translation.target_lang, translation.target_lang),
    }
    return Markup(
        '<span class="mt-block" role="note" lang="%s"><span class="mt-label">%s</span>%s</span>'
    ) % (translation.target_lang, label, translation.text.strip())


def _safe_url(url: str | None) -> str | None:
    """Only http(s) links: a `javascript:` URL from the data must never become an href."""
    if url and url.lower().startswith(("http://", "https://")):
        return url
    return None
