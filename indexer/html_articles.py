"""A saved web page (.html/.htm in a source folder) as an article, read by trafilatura.

trafilatura finds the page's main text, leaving out navigation, footers and reader
comments, and its title, site name and URL (the canonical link or `og:url`). It
sees only the file's bytes and fetches nothing, so a build stays offline; the
file's own `<meta charset>` (or a UTF-16 byte-order mark) decides how they decode.
A file with NUL bytes and no UTF-16 mark is binary, whatever its name.

A date is taken only where the page declares one in its markup (meta tags,
structured data): htmldate's extensive search would also guess one from the words,
and took a footer's "(c) 2024" for 2024-01-01.

What the page says is the fallback: front matter at the top of the file (as in .md
files, `indexer.front_matter`) wins field by field; the site name is the `source`.
The text's first line is dropped when it only repeats the title (the page's
<h1>), and paragraphs are separated by a blank line, as in a .txt file. A page with
no text to extract is reported and skipped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from indexer.article_fields import ArticleFields, ParsedArticle, read_fields
from indexer.front_matter import FrontMatter, split_front_matter
from indexer.problems import InputProblem
from indexer.titles import derive_title

if TYPE_CHECKING:
    from trafilatura.settings import Document

__all__ = ["HTML_SUFFIXES", "read_html_article"]

HTML_SUFFIXES = (".html", ".htm")
_DECLARED_DATES_ONLY = {"extensive_search": False, "original_date": True}
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # a page saved as UTF-16 is full of NUL bytes
_NO_TEXT = "no text could be extracted from the HTML"


def read_html_article(
    raw: bytes, *, location: str
) -> tuple[ParsedArticle | None, list[InputProblem]]:
    """The article in the page `raw` (None if it has no text), and the problems found:
    warnings, and the reason it was skipped if it was."""
    if b"\x00" in raw and not raw.startswith(_UTF16_BOMS):  # trafilatura reads on regardless
        return None, [InputProblem(location, "binary file (contains NUL bytes)")]
    front, page = _front_matter(raw, location=location)
    problems = list(front.problems)
    document = _extract(page)
    if document is None:
        return None, [*problems, InputProblem(location, _NO_TEXT)]
    text = _paragraphs(document.text)
    first, _, rest = text.partition("\n\n")
    if document.title and _same(first, document.title):
        text = rest
    if not text:
        return None, [*problems, InputProblem(location, _NO_TEXT)]
    found = {
        "title": document.title,
        "date": document.date,
        "source": document.sitename,
        "url": document.url,
    }
    guessed, warnings = read_fields(found, location_of=lambda _key: location)
    fields = front.fields.with_defaults(guessed)
    title = fields.title or derive_title(text, markdown=False)
    return ParsedArticle(title=title, text=text, fields=fields), [*problems, *warnings]


def _front_matter(raw: bytes, *, location: str) -> tuple[FrontMatter, bytes | str]:
    """Front matter, and the page after it. A page without front matter stays bytes,
    for trafilatura to decode by its declared charset."""
    no_front_matter = FrontMatter(ArticleFields(), "", found=False)
    if not raw.removeprefix(b"\xef\xbb\xbf").startswith(b"---"):
        return no_front_matter, raw
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:  # not UTF-8, so not front matter we wrote
        return no_front_matter, raw
    front = split_front_matter(text, location=location)
    return front, front.body if front.found else raw


def _extract(page: bytes | str) -> Document | None:
    """trafilatura's document for the page (text and metadata), or None if it found
    no text. Imported here: it takes a quarter of a second, and only HTML needs it."""
    import trafilatura
    from trafilatura.settings import Document

    document = trafilatura.bare_extraction(
        page,
        with_metadata=True,
        include_comments=False,  # they are never indexed: spare the work
        date_extraction_params=_DECLARED_DATES_ONLY,
    )
    return document if isinstance(document, Document) else None


def _paragraphs(text: str | None) -> str:
    """trafilatura's lines (one a paragraph) as paragraphs apart by a blank line."""
    if not text:
        return ""
    return "\n\n".join(line.strip() for line in text.splitlines() if line.strip())


def _same(line: str, title: str) -> bool:
    return " ".join(line.split()).casefold() == " ".join(title.split()).casefold()
