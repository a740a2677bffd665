"""`make bench`'s side-by-side rounds: every side times the same fresh questions,
each once, and the side that goes first turns each round."""

from __future__ import annotations

import itertools

import pytest

from search.bench.rounds import Side, timed_rounds

pytestmark = pytest.mark.fast


def _recording(name: str, calls: list[tuple[str, list[str]]]) -> Side:
    """A side whose "milliseconds" are the questions' lengths, and which notes
    what it was given, in the order the sides were called."""

    def timed(texts: list[str]) -> list[float]:
        calls.append((name, list(texts)))
        return [float(len(text)) for text in texts]

    return name, timed


def test_every_side_times_the_same_questions_once_in_turned_order() -> None:
    calls: list[tuple[str, list[str]]] = []
    sides = [_recording(name, calls) for name in ("http", "control", "encoder")]
    questions = (f"question {number}" for number in itertools.count())

    samples = timed_rounds(sides, questions, rounds=4, per_round=3)

    assert len(calls) == 12
    rounds = [calls[start : start + 3] for start in range(0, 12, 3)]
    for number, called in enumerate(rounds):
        texts = [f"question {3 * number + offset}" for offset in range(3)]
        assert all(given == texts for _, given in called)  # the same questions on every side
        first = ("http", "control", "encoder")[number % 3]
        assert called[0][0] == first  # the first side turns by one each round
        assert sorted(name for name, _ in called) == ["control", "encoder", "http"]
    for name in ("http", "control", "encoder"):
        given = [text for side, texts in calls if side == name for text in texts]
        assert len(given) == len(set(given)) == 12  # never a question twice
        assert samples[name] == [float(len(text)) for text in given]


def test_a_side_may_leave_a_question_out() -> None:
    def answers_short_ones(texts: list[str]) -> list[float]:
        return [1.0 for text in texts if len(text) < 4]

    samples = timed_rounds(
        [("http", answers_short_ones)], iter(["abc", "abcdef", "xy"]), rounds=1, per_round=3
    )
    assert samples == {"http": [1.0, 1.0]}


def test_rounds_end_when_the_questions_do() -> None:
    calls: list[tuple[str, list[str]]] = []
    samples = timed_rounds(
        [_recording("encoder", calls)], iter(["a", "b", "c"]), rounds=5, per_round=2
    )
    assert calls == [("encoder", ["a", "b"]), ("encoder", ["c"])]
    assert samples == {"encoder": [1.0, 1.0, 1.0]}
