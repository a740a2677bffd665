"""Tests for capping passages per article (pure, fast)."""

from __future__ import annotations

import pytest

from search.grouping import limit_per_article

pytestmark = pytest.mark.fast


def _article(item: tuple[str, int]) -> str:
    return item[0]


def test_keeps_order_and_caps_each_article() -> None:
    items = [("a", 1), ("b", 2), ("a", 3), ("a", 4), ("c", 5), ("b", 6), ("a", 7)]
    kept = limit_per_article(items, article_of=_article, per_article=2)
    assert kept == [("a", 1), ("b", 2), ("a", 3), ("c", 5), ("b", 6)]


def test_per_article_one_keeps_best_of_each() -> None:
    items = [("a", 1), ("a", 2), ("b", 3), ("b", 4)]
    assert limit_per_article(items, article_of=_article, per_article=1) == [("a", 1), ("b", 3)]


def test_large_cap_keeps_everything_and_does_not_mutate() -> None:
    items = [("a", 1), ("a", 2), ("b", 3)]
    snapshot = list(items)
    assert limit_per_article(items, article_of=_article, per_article=10) == items
    assert items == snapshot


def test_empty_input() -> None:
    assert limit_per_article([], article_of=_article, per_article=3) == []


@pytest.mark.parametrize("per_article", [0, -1])
def test_per_article_below_one_raises(per_article: int) -> None:
    with pytest.raises(ValueError, match="per_article"):
        limit_per_article([("a", 1)], article_of=_article, per_article=per_article)
