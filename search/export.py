"""The current page of results as a file to keep: CSV or Markdown, with citations.

Each row or item cites the article (title, source, date, the original URL), quotes
the whole passage (the original text, never a translation) and links to the
passage in this archive, so a reporter can paste it into notes and find it again.
Served by `/api/search?format=…` and `/?format=…` alike.

CSV cells that a spreadsheet would run as a formula (starting with =, +, -, @) get
a leading apostrophe (OWASP, "CSV Injection").
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from fastapi.responses import Response

from search.models import SearchResponse, SearchResult

__all__ = ["Export", "article_link", "export_file", "export_response"]

_CSV_COLUMNS = (
    "rank", "title", "source", "date", "url", "article_link", "passage",
    "passage_lang", "article_lang", "match", "score",
)  # fmt: skip
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_URL_SAFE = ":/?#[]@!$&'()*+,;=%~"  # a URL's own syntax; anything else is escaped
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


@dataclass(frozen=True, slots=True)
class Export:
    body: str
    media_type: str
    filename: str


def export_file(response: SearchResponse, export_format: str, *, base_url: str) -> Export:
    """`export_format`: "csv" or "markdown"; `base_url`: this service, for article links."""
    stem = "search-" + (re.sub(r"[^\w]+", "-", response.query.lower()).strip("-")[:40] or "results")
    if export_format == "csv":
        return Export(_csv(response, base_url), "text/csv; charset=utf-8", f"{stem}.csv")
    return Export(_markdown(response, base_url), "text/markdown; charset=utf-8", f"{stem}.md")


def export_response(export: Export) -> Response:
    return Response(
        export.body,
        media_type=export.media_type,
        headers={"Content-Disposition": content_disposition(export.filename)},
    )


def content_disposition(filename: str) -> str:
    """An attachment header any client reads (RFC 6266): headers are Latin-1, so the
    plain `filename` is an ASCII fallback ("búsqueda" -> "busqueda", other scripts
    dropped) and `filename*` carries the real name, UTF-8 percent-encoded (RFC 5987)."""
    folded = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    fallback = re.sub(r"[^A-Za-z0-9._-]+", "-", folded).strip("-") or "results"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def article_link(base_url: str, result: SearchResult, query: str) -> str:
    link = urlencode({"passage": result.passage_id, "q": query})
    return f"{base_url}/articles/{quote(result.article_id, safe='')}?{link}#passage"


def _csv(response: SearchResponse, base_url: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(_CSV_COLUMNS)
    for rank, result in enumerate(response.results, start=response.offset + 1):
        row = (
            rank,
            result.title,
            result.source or "",
            result.date or "",
            result.url or "",
            article_link(base_url, result, response.query),
            result.text,
            result.lang,
            result.article_lang,
            result.match or "",
            f"{result.score:.6g}",
        )
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _markdown(response: SearchResponse, base_url: str) -> str:
    shown = len(response.results)
    first = response.offset + 1
    lines = [
        f"# Search results: “{_md(response.query)}”",
        "",
        f"{response.total} matches; {first}–{response.offset + shown} below. "
        f"Exported {datetime.now(UTC):%Y-%m-%d %H:%M} UTC from index generation "
        f"{response.generation}.",
    ]
    for lang, text in response.translations.items():
        lines.append(f"Also searched as a machine translation ({lang}): “{_md(text)}”.")
    if not shown:
        lines += ["", "No passage matched."]
    for rank, result in enumerate(response.results, start=first):
        cited = ", ".join(_md(part) for part in (result.source, result.date) if part)
        lines += ["", f"{rank}. **{_md(result.title)}**" + (f" — {cited}" if cited else "")]
        if result.url and result.url.lower().startswith(("http://", "https://")):
            lines.append(f"   - Original: <{quote(result.url, safe=_URL_SAFE)}>")
        lines.append(f"   - In the archive: <{article_link(base_url, result, response.query)}>")
        lines.append(
            f"   - Language: {result.lang} (article: {result.article_lang}); "
            f"match: {(result.match or 'none').replace('_', ' ')}"
        )
        lines.append("")
        lines += [
            f"   > {_md(line)}" if line.strip() else "   >" for line in result.text.split("\n")
        ]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)
