"""Side-by-side rounds: every side times the same fresh questions.

`make bench` compares medians of different systems (ours over HTTP, the control,
the encoder alone, txtai). Their ratios are only fair when every side answers
the same questions: on the XQuAD set an English question's search overlaps its
translation while a Spanish one's waits for it (about 3 ms apart), and the
encoder's time grows with the question's length, so two samples of different
questions differ by their mix as well as by the systems. Rounds keep a slow
phase of the shared host from falling on one side only: each round takes
fresh questions, and the side that goes first turns by one each round.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence

__all__ = ["Side", "timed_rounds"]

# A side: its name, and what times a list of questions (ms each, in order; a
# question it could not answer is left out).
Side = tuple[str, Callable[[list[str]], list[float]]]


def timed_rounds(
    sides: Sequence[Side], questions: Iterator[str], *, rounds: int, per_round: int
) -> dict[str, list[float]]:
    """Milliseconds per side over `rounds` rounds of `per_round` questions each,
    the same questions for every side within a round; no question is given to a
    side twice (as long as `questions` does not repeat)."""
    samples: dict[str, list[float]] = {name: [] for name, _ in sides}
    for round_number in range(rounds):
        texts = list(itertools.islice(questions, per_round))
        if not texts:
            break
        turn = round_number % len(sides) if sides else 0
        for name, timed in [*sides[turn:], *sides[:turn]]:
            samples[name].extend(timed(texts))
    return samples
