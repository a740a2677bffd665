"""YAML front matter: the block of metadata at the top of a folder file.

A file whose very first line is `---` (three or more dashes) and that has another
such line later opens with front matter, as Jekyll, Hugo, Pandoc and
python-frontmatter read it. The block is metadata, never text: its `title`,
`date`, `source`, `url` and `lang` are read by the rules of
`indexer.article_fields`, any other key is ignored, and the article's text starts
after the closing line.

A broken block never costs the article, and its keys never leak into the text:

- YAML that does not parse: one warning at the line where YAML found the fault;
  none of its fields are read, and the text after the block is indexed;
- a field of the wrong type or a date that is not a date: one warning at that
  field's line; the other fields are read. Dates are read as text rather than by
  YAML's own timestamp rule, so `date: 2024-02-30` is one bad field, not a broken
  block;
- a block with none of those five keys: one warning (it may be a paragraph that
  happens to read as `key: value`), and it is not indexed either;
- a block that parses to something other than keys and values (a bare sentence or
  a list, as when a Markdown file opens with a thematic break): not front matter
  at all. The whole file is text, with a warning in case front matter was meant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml
from frontmatter.default_handlers import YAMLHandler

from indexer.article_fields import FIELD_NAMES, ArticleFields, read_fields
from indexer.problems import InputProblem

__all__ = ["FrontMatter", "split_front_matter"]

_HANDLER = YAMLHandler()


class _DatesAsText(yaml.SafeLoader):  # type: ignore[misc, unused-ignore]  # PyYAML has no types
    """YAML's safe loader, except that a timestamp stays the text it was written
    as: `indexer.article_fields` reads dates one way for every format, and an
    impossible day is then one bad field rather than a block that fails to load."""


_DatesAsText.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)


@dataclass(frozen=True, slots=True)
class FrontMatter:
    fields: ArticleFields  # empty where the file has no front matter
    body: str  # the text after the closing line (from its line break); all of it if none
    problems: tuple[InputProblem, ...] = ()  # warnings: the article is kept
    found: bool = True  # False: the file has no front matter, `body` is all of it


def split_front_matter(text: str, *, location: str) -> FrontMatter:
    """The front matter of `text` (a file's contents), read as metadata, and the
    text that follows it. `location` is the file's path, for warnings."""
    boundary = _HANDLER.FM_BOUNDARY  # a `---` line, as python-frontmatter splits on it
    if boundary is None or not _HANDLER.detect(text):
        return FrontMatter(ArticleFields(), text, found=False)
    boundaries = boundary.finditer(text)
    opening = next(boundaries)
    closing = next(boundaries, None)
    if closing is None:  # a lone rule at the top, not a block
        return FrontMatter(ArticleFields(), text, found=False)
    block = text[opening.end() : closing.start()]
    first_line = text.count("\n", 0, opening.end()) + 1  # the file line of the block's line 0
    body = text[closing.end() :]
    metadata = _load(block, first_line=first_line, location=location)
    if isinstance(metadata, InputProblem):
        return FrontMatter(ArticleFields(), body, (metadata,))
    if metadata is None:  # an empty block, or only comments
        return FrontMatter(ArticleFields(), body)
    if not isinstance(metadata, dict):
        kind = "a list" if isinstance(metadata, list) else "plain text"
        warning = InputProblem(
            f"{location}:1",
            f"the '---' block at the top is {kind}, not front matter (key: value lines); "
            "read as text",
            skipped=False,
        )
        return FrontMatter(ArticleFields(), text, (warning,), found=False)
    if metadata and not any(name in metadata for name in FIELD_NAMES):
        return FrontMatter(ArticleFields(), body, (_unknown_keys(f"{location}:1", metadata),))
    lines = block.split("\n")
    fields, problems = read_fields(
        metadata,
        location_of=lambda key: f"{location}:{first_line + _line_of_key(lines, key)}",
    )
    return FrontMatter(fields, body, tuple(problems))


def _load(block: str, *, first_line: int, location: str) -> object:
    """The YAML of `block`, or a warning at the file line where it breaks."""
    try:
        return _HANDLER.load(block, Loader=_DatesAsText)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = first_line + (mark.line if mark is not None else 0)
        return _broken(f"{location}:{line}", error.problem or error.context or "unreadable")
    except (yaml.YAMLError, ValueError) as error:  # a control character; `!!int abc`
        return _broken(f"{location}:1", str(error).split("\n", 1)[0])
    except RecursionError:
        return _broken(f"{location}:1", "nested too deeply to read")


def _line_of_key(lines: list[str], key: str) -> int:
    """The block line (from 0) where the top-level `key` is written; 0 if not found."""
    pattern = re.compile(rf"""["']?{re.escape(key)}["']?\s*:""")
    return next((number for number, line in enumerate(lines) if pattern.match(line)), 0)


def _unknown_keys(location: str, metadata: dict[object, object]) -> InputProblem:
    """A block with none of our keys may be text that happens to read as `key: value`
    (a first paragraph between two rules, "Mexico City: the mayor said..."): say so."""
    shown = ", ".join(repr(key)[:40] for key in list(metadata)[:3])
    message = (
        f"front matter has none of the keys {', '.join(FIELD_NAMES)} (it has {shown}); "
        "it is not indexed"
    )
    return InputProblem(location, message, skipped=False)


def _broken(location: str, reason: str) -> InputProblem:
    message = f"front matter is not valid YAML ({reason}); none of its fields were read"
    return InputProblem(location, message, skipped=False)
