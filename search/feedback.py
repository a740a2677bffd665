"""Cross-lingual feedback: the best match's twins in the other language, fused third.

Pseudo-relevance feedback takes the top result as judged relevant without asking
(Rocchio, 1971, moved the query toward judged documents; Li et al., "Pseudo
Relevance Feedback with Deep Language Models and Dense Retrievers: Successes and
Pitfalls", ACM TOIS 2023, do it with dense vectors). Here it is aimed at one
weakness: a passage in the other language than the query reaches the legs only
through machine translation (the query's, for the keyword leg; the passage's,
through the English pivot, for the meaning leg), so it ranks below passages of the
query's own language that say less. Yet the same story told in the other language
is nearly one vector with the best match: through the pivot, a Spanish paragraph
and its English original have a median cosine of 0.84 (XQuAD).

So after fusion, `feedback_run` ranks the best passage and those candidates *in
another language than it* whose cosine to it is at least `TWIN_FLOOR`, by that
cosine, and the engine fuses this ranking as a third leg, `FEEDBACK_LEG`, by
reciprocal rank fusion. It adds no candidate (it reorders what the query's words
or meaning found, so every result still passes `search.matching` as before), and
it never touches passages of the best match's own language: on the seeds, where
every article tells one story, a vote for "like the best match" in the same
language put general passages about the attack above the ones answering the
question (passage nDCG@10 0.925 -> 0.890).

`TWIN_FLOOR` is calibrated for the default model (all-MiniLM-L6-v2, Spanish
through its English translation) by `python -m search.evaluation.calibrate_floor`:
on XQuAD, 96% of the 240 translation pairs clear 0.6 and 95% of the 960 pairs of
different paragraphs of one article fall below it. Another model needs its own.

Measured on saved leg runs, RRF k = 10 (search/evaluation/relevance-analysis.md,
(d)): XQuAD hybrid nDCG@10 0.941 -> 0.955, the news set 0.986 -> 0.988, the seeds
0.925 -> 0.924. Cost: the candidates' vectors (at most 2 x 100 rows) and one small
product; no second search.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from search.fusion import FusedHit
from search.models import Hit

__all__ = ["FEEDBACK_LEG", "TWIN_FLOOR", "feedback_run"]

FEEDBACK_LEG = "feedback"

# Cosine to the best match from which an other-language passage counts as its twin.
TWIN_FLOOR = 0.6

VectorsOf = Callable[[npt.NDArray[np.int64]], npt.NDArray[np.float32]]


def feedback_run(
    fused: Sequence[FusedHit],
    runs: Mapping[str, Sequence[Hit]],
    *,
    vectors_of: VectorsOf,
    row_lang: npt.NDArray[np.integer],
    floor: float = TWIN_FLOOR,
) -> list[Hit]:
    """The best fused passage, then the passages of `runs` in another language whose
    cosine to it is at least `floor`, by that cosine (-1..1), best first; ties by row.
    Empty when nothing was fused. `vectors_of(rows)`: the rows' unit vectors, in the
    order asked; `row_lang`: each row's language code (the store's column)."""
    if not fused:
        return []
    seed = fused[0].key
    found = np.fromiter(sorted({hit.key for hits in runs.values() for hit in hits}), np.int64)
    others = found[np.asarray(row_lang)[found] != row_lang[seed]]
    vectors = vectors_of(np.concatenate([np.array([seed], dtype=np.int64), others]))
    scores = vectors[1:] @ vectors[0]
    keep = scores >= floor
    others, scores = others[keep], scores[keep]
    order = np.lexsort((others, -scores))
    twins = [Hit(key=int(others[i]), score=float(scores[i])) for i in order]
    return [Hit(key=seed, score=float(vectors[0] @ vectors[0])), *twins]
