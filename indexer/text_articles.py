"""A .txt or .md file's contents as an article: metadata, title and text apart.

- Front matter, in either kind of file, is metadata and never text
  (`indexer.front_matter`).
- In a .md file, a first line that is a heading is the title and the text starts
  after it; without one, the title is the first heading anywhere, else derived
  from the text (`indexer.titles`).
- In a .txt file a '#' line is text like any other: plain text has no markup, and
  the title is derived from the text.
- A front matter `title` wins over the heading; a front matter `date` over a
  leading `date YYYY-MM-DD` marker.

A file with neither front matter nor a leading heading keeps its text exactly as
written, so what existing indexes hold for it (text, offsets, title) is unchanged.
"""

from __future__ import annotations

from indexer.article_fields import ArticleFields, ParsedArticle
from indexer.front_matter import split_front_matter
from indexer.problems import InputProblem
from indexer.titles import derive_title, leading_date, leading_heading, skip_blank_lines

__all__ = ["read_text_article"]


def read_text_article(
    content: str, *, markdown: bool, location: str
) -> tuple[ParsedArticle | None, list[InputProblem]]:
    """The article in `content` (None if there is no text to index), and the
    problems found in it: warnings, and the reason it was skipped if it was."""
    if not content.strip():
        return None, [InputProblem(location, "empty article")]
    front = split_front_matter(content, location=location)
    problems = list(front.problems)
    text, removed = front.body, "the front matter" if front.found else None
    heading = leading_heading(text) if markdown else None
    if heading is not None:
        text, removed = text[heading[1] :], "the title"
    if removed is not None:
        text = text[skip_blank_lines(text) :]
        if not text.strip():
            return None, [*problems, InputProblem(location, f"no text after {removed}")]
    title = front.fields.title or (heading[0] if heading else derive_title(text, markdown=markdown))
    marker = leading_date(text)
    fields = front.fields.with_defaults(ArticleFields(date=marker.isoformat() if marker else None))
    return ParsedArticle(title=title, text=text, fields=fields), problems
