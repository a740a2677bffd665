"""Which legs run for a request, and what each returns.

The lexical and semantic modes run their one leg; hybrid runs both, except for a
query made only of names (every word one the index mostly writes capitalised,
`search.name_evidence.only_names`): all-MiniLM-L6-v2 knows nothing of "Rosa
Blanca Navarro", so its ranking is noise, and reciprocal rank fusion gives that
noise a full vote (relevance-analysis.md, (a) 1: the answer was lexical #1,
semantic #19, and a football report beat it in hybrid). Such a query is answered
by the passages that hold its names; the semantic leg runs only when none does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from concurrent.futures import Executor
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from indexer.names import WORD
from search.models import Hit, Mode
from search.name_evidence import only_names
from search.plan import QueryPlan

if TYPE_CHECKING:
    from search.generation import LoadedGeneration

__all__ = ["run_legs"]


def run_legs(
    mode: Mode,
    plan: QueryPlan,
    k: int,
    *,
    loaded: LoadedGeneration,
    encode: Callable[[], npt.NDArray[np.float32]] | None = None,
    helpers: Executor | None = None,
) -> dict[str, list[Hit]]:
    """Leg name -> its best `k` passages, for the legs `mode` runs on this query.

    `encode`: gives the query vector where the plan has none yet. In hybrid mode,
    with `helpers`, the lexical leg then runs on a helper thread while this one
    encodes: this thread enters ONNX Runtime at once, which lets go of the GIL, so
    the lexical leg's Python runs during the encoding (the other way round, the
    helper waited for the GIL until the lexical leg's Python let go of it)."""
    lexical, semantic = loaded.lexical, loaded.semantic
    runs: dict[str, list[Hit]] = {}
    if mode == "hybrid" and encode is not None and helpers is not None:
        pending = helpers.submit(lexical.search, plan, k)
        plan = dataclasses.replace(plan, vector=encode())
        runs[lexical.name] = pending.result()
    elif mode in ("hybrid", "lexical"):
        runs[lexical.name] = lexical.search(plan, k)
    if mode == "semantic" or (mode == "hybrid" and not _names_found(plan, runs, loaded)):
        if plan.vector is None and encode is not None:
            plan = dataclasses.replace(plan, vector=encode())
        runs[semantic.name] = semantic.search(plan, k)
    return runs


def _names_found(plan: QueryPlan, runs: dict[str, list[Hit]], loaded: LoadedGeneration) -> bool:
    """The query is only names, and the lexical leg found passages holding them."""
    if not runs.get(loaded.lexical.name):
        return False
    words = [word.lower() for word in WORD.findall(plan.parsed.positive_text())]
    languages = sorted(loaded.snapshot.languages)
    return only_names(words, loaded.vocabulary, languages=languages)
