"""The JSON bodies' dataclass conversion gives what `dataclasses.asdict` gives."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import pytest

from search.rendering import plain_data

pytestmark = pytest.mark.fast


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    translated: bool = False


@dataclass
class Result:
    title: str
    score: float
    spans: tuple[Span, ...]
    legs: dict[str, Span] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    date: str | None = None


@dataclass
class Body:
    query: str
    results: list[Result]
    facets: dict[str, dict[str, int]]
    nested: list[tuple[int, list[Span]]]


def test_plain_data_equals_asdict() -> None:
    body = Body(
        query="ataque",
        results=[
            Result("A", 0.5, (Span(0, 3), Span(5, 9, True)), {"lexical": Span(1, 2)}, ["x"]),
            Result("B", -1.0, (), date="2026-01-02"),
        ],
        facets={"lang": {"en": 2, "es": 1}},
        nested=[(1, [Span(2, 3)])],
    )
    assert plain_data(body) == asdict(body)
    assert json.dumps(plain_data(body)) == json.dumps(asdict(body))
    assert type(plain_data(body)["results"][0]["spans"]) is tuple


def test_leaves_and_containers_pass_through() -> None:
    assert plain_data([1, "a", None, 2.5, True, {"k": (1, 2)}]) == [
        1,
        "a",
        None,
        2.5,
        True,
        {"k": (1, 2)},
    ]
