"""Tests for capping passages per article (pure, fast)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from search.grouping import limit_per_article

pytestmark = pytest.mark.fast


def _kept(articles: list[str], per_article: int) -> list[int]:
    keep = limit_per_article(np.array(articles), per_article=per_article)
    return np.flatnonzero(keep).tolist()


def test_keeps_order_and_caps_each_article() -> None:
    articles = ["a", "b", "a", "a", "c", "b", "a"]
    assert _kept(articles, per_article=2) == [0, 1, 2, 4, 5]


def test_per_article_one_keeps_best_of_each() -> None:
    assert _kept(["a", "a", "b", "b"], per_article=1) == [0, 2]


def test_large_cap_keeps_everything_and_does_not_mutate() -> None:
    articles = np.array([3, 3, 1])
    assert limit_per_article(articles, per_article=10).tolist() == [True, True, True]
    assert articles.tolist() == [3, 3, 1]


def test_empty_input() -> None:
    assert _kept([], per_article=3) == []


@pytest.mark.parametrize("per_article", [0, -1])
def test_per_article_below_one_raises(per_article: int) -> None:
    with pytest.raises(ValueError, match="per_article"):
        limit_per_article(np.array([1]), per_article=per_article)


@given(st.lists(st.integers(min_value=0, max_value=6), max_size=40), st.integers(1, 4))
def test_same_as_counting_one_by_one(articles: list[int], per_article: int) -> None:
    seen: dict[int, int] = {}
    expected = []
    for position, article in enumerate(articles):
        seen[article] = seen.get(article, 0) + 1
        if seen[article] <= per_article:
            expected.append(position)
    keep = limit_per_article(np.array(articles, dtype=np.int64), per_article=per_article)
    assert np.flatnonzero(keep).tolist() == expected
