"""Every in-page link of the README leads to one of its headings.

The README grows by a section a session, and a link written against a heading
that was later reworded leads nowhere (one did, to "Speed", for a day)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.fast

README = Path(__file__).resolve().parent.parent / "README.md"


def github_anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lowercased, punctuation other than hyphens and
    underscores dropped, each space a hyphen."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_github_anchor_of_a_heading_with_code_and_punctuation() -> None:
    heading = "Speed: `make bench`, int8 queries (2026-11-22, later)"
    assert github_anchor(heading) == "speed-make-bench-int8-queries-2026-11-22-later"


def test_every_in_page_link_has_its_heading() -> None:
    text = README.read_text(encoding="utf-8")
    outside_code = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)
    headings = re.findall(r"^#+\s+(.+)$", outside_code, flags=re.MULTILINE)
    anchors = {github_anchor(heading) for heading in headings}
    links = re.findall(r"\]\(#([^)]+)\)", text)
    assert links, "the README links to its own sections"
    assert [link for link in links if link not in anchors] == []
