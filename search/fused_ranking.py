"""The fused candidates of one search, as columns: `FusedRanking`.

Fusion ranks every candidate the legs returned (~170 passages for a hybrid query
at depth 100), and every step after it (demotion, the feedback leg, one article's
passages capped, matches split from the rest, the date order) reads or reorders
all of them, while a page shows ten. Held as a Python object per passage, with a
mapping of `LegRank`s each, those steps cost ~2 ms of a search's GIL-held time on
2 cores (`make bench`, sixteenth session); as numpy columns each step is a few
array operations, and `FusedHit`s are made only for the passages shown.

A `FusedRanking` is an immutable sequence of `FusedHit`s, best first: indexing,
iterating and `hits(start, stop)` build them from the columns on demand.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import overload

import numpy as np
import numpy.typing as npt

from search.models import LegRank

__all__ = ["FusedHit", "FusedRanking"]

Rows = npt.NDArray[np.int64]
# positions in the order wanted, or a mask of the rows kept
Positions = npt.NDArray[np.int64] | npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class FusedHit:
    """A passage after fusion.

    `score` is the fused score (RRF: a sum of 1/(k + rank), at most
    len(runs)/(k + 1); weighted: a weighted sum of [0, 1] scores). `legs` maps each
    leg that returned the passage to its rank and score there, which is what the
    page and the JSON shows to explain a result; legs that missed it are absent.
    """

    key: int
    score: float
    legs: Mapping[str, LegRank] = field(hash=False)


@dataclass(frozen=True, slots=True, eq=False)
class FusedRanking(Sequence[FusedHit]):
    """Fused candidates best first, as aligned columns: row `keys`, fused `scores`,
    and one row per leg (`leg_names[i]`) of `leg_ranks` (1-based, 0 where that leg
    did not return the passage) and `leg_scores` (the leg's own score, BM25 >= 0
    or cosine -1..1; 0.0 where its rank is 0). One 2-D array per kind keeps a
    reorder at four numpy operations whatever the number of legs. Build one with
    `search.fusion`; reorder or subset it with `take`. Equal to another ranking
    with the same rows, scores and legs (a leg that returned nothing is absent)."""

    keys: Rows
    scores: npt.NDArray[np.float64]
    leg_names: tuple[str, ...]
    leg_ranks: npt.NDArray[np.int64]  # (legs, rows)
    leg_scores: npt.NDArray[np.float64]  # (legs, rows)

    @classmethod
    def empty(cls) -> FusedRanking:
        return cls(
            np.zeros(0, np.int64),
            np.zeros(0, np.float64),
            (),
            np.zeros((0, 0), np.int64),
            np.zeros((0, 0), np.float64),
        )

    def __len__(self) -> int:
        return len(self.keys)

    @overload
    def __getitem__(self, index: int) -> FusedHit: ...

    @overload
    def __getitem__(self, index: slice) -> FusedRanking: ...

    def __getitem__(self, index: int | slice) -> FusedHit | FusedRanking:
        if isinstance(index, slice):
            return self.take(np.arange(len(self.keys))[index])
        position = range(len(self.keys))[index]  # IndexError past either end
        return self.hits(position, position + 1)[0]

    def __iter__(self) -> Iterator[FusedHit]:
        return iter(self.hits(0, len(self.keys)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FusedRanking):
            return NotImplemented
        return (
            np.array_equal(self.keys, other.keys)
            and np.array_equal(self.scores, other.scores)
            and self._present_legs() == other._present_legs()
        )

    __hash__ = None  # type: ignore[assignment]

    def _present_legs(self) -> dict[str, tuple[list[int], list[float]]]:
        return {
            name: (ranks.tolist(), np.where(ranks > 0, scores, 0.0).tolist())
            for name, ranks, scores in zip(
                self.leg_names, self.leg_ranks, self.leg_scores, strict=True
            )
            if ranks.any()
        }

    def leg(self, name: str) -> tuple[Rows, npt.NDArray[np.float64]] | None:
        """(ranks, scores) of the leg `name` over every row; None if it did not run."""
        if name not in self.leg_names:
            return None
        index = self.leg_names.index(name)
        return self.leg_ranks[index], self.leg_scores[index]

    def take(self, positions: Positions) -> FusedRanking:
        """The rows at `positions` (indices in the order wanted, or a mask)."""
        return FusedRanking(
            self.keys[positions],
            self.scores[positions],
            self.leg_names,
            self.leg_ranks[:, positions],
            self.leg_scores[:, positions],
        )

    def with_scores(self, scores: npt.NDArray[np.float64]) -> FusedRanking:
        return FusedRanking(self.keys, scores, self.leg_names, self.leg_ranks, self.leg_scores)

    def hits(self, start: int, stop: int) -> list[FusedHit]:
        """`FusedHit`s for positions start..stop-1 (clipped to the ranking)."""
        keys = self.keys[start:stop].tolist()
        scores = self.scores[start:stop].tolist()
        ranks = self.leg_ranks[:, start:stop].T.tolist()
        leg_scores = self.leg_scores[:, start:stop].T.tolist()
        names = self.leg_names
        return [
            FusedHit(
                key,
                score,
                {
                    name: LegRank(rank, leg_score)
                    for name, rank, leg_score in zip(names, row_ranks, row_scores, strict=True)
                    if rank
                },
            )
            for key, score, row_ranks, row_scores in zip(
                keys, scores, ranks, leg_scores, strict=True
            )
        ]

    def best_ranks(self, names: Sequence[str] | None = None) -> npt.NDArray[np.int64]:
        """Each row's best (least) rank among the legs `names` (every leg: None);
        `NO_RANK`, above any rank, where none of them returned it."""
        ranks = self.leg_ranks
        if names is not None:
            ranks = ranks[[i for i, name in enumerate(self.leg_names) if name in names]]
        if not len(ranks):
            return np.full(len(self.keys), NO_RANK, np.int64)
        best: npt.NDArray[np.int64] = np.where(ranks > 0, ranks, NO_RANK).min(axis=0)
        return best


# stands for "not ranked" where the least rank is taken
NO_RANK = np.iinfo(np.int64).max
