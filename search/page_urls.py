"""Links between states of a page: the URL is the page's only state.

Every control (a facet, a chip's ×, a sort, a page, the language switch) is a
plain link to the same page with some parameters changed, so the back button,
bookmarks and shared links restore exactly what was seen, with or without
JavaScript.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlencode

__all__ = ["PageUrl"]


class PageUrl:
    """A path and its query string; `with_` and `without` give changed copies."""

    def __init__(self, path: str, items: Iterable[tuple[str, str]]) -> None:
        self.path = path
        self.items = [(name, value) for name, value in items]

    def __str__(self) -> str:
        return self.path + ("?" + urlencode(self.items) if self.items else "")

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.items if key == name and value.strip()]

    def with_(self, changes: Mapping[str, str | Iterable[str] | None]) -> PageUrl:
        """Each named parameter replaced by the given value(s); None removes it."""
        kept = [(k, v) for k, v in self.items if k not in changes]
        for name, value in changes.items():
            if isinstance(value, str):
                kept.append((name, value))
            elif value is not None:
                kept.extend((name, v) for v in value)
        return PageUrl(self.path, kept)

    def without(self, name: str, value: str | None = None) -> PageUrl:
        """`name` removed, or only its `value` (also inside comma-separated values)."""
        kept = []
        for key, raw in self.items:
            if key != name:
                kept.append((key, raw))
            elif value is not None:
                rest = [part for part in raw.split(",") if part.strip() and part.strip() != value]
                if rest:
                    kept.append((key, ",".join(rest)))
        return PageUrl(self.path, kept)

    def adding(self, name: str, value: str) -> PageUrl:
        return PageUrl(self.path, [*self.items, (name, value)])
