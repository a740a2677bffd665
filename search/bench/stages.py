"""Where a hybrid query's time goes, and the two pure steps timed on their own.

`stage_breakdown` runs real `engine.search` calls with each stage's function
wrapped in a timer for the duration (the engine itself is not touched): query
translation, query encoding, the tantivy leg, the vector leg, fusion, building
results with their highlights and snippet windows, and the did-you-mean
suggestion. An English-looking query is translated on a helper thread while the
search's own thread encodes it, so the remainder is the total less the stages
timed on the search's own thread: what the engine does between them (parsing,
the plan, demotion, grouping, facets) and its wait for the translation. The JSON
body (`search_json`, as the API writes it) is timed after each search,
outside the engine.

`result_building_ms` replays the result builds those searches made, in groups of
ten (a page of results); `fusion_ms` fuses two synthetic legs of 100 candidates.
Both are pure functions, timed by the thread's CPU clock (the least of a few
runs per sample), in ms: on a shared machine wall time would add the waits for a
core.
"""

from __future__ import annotations

import importlib
import itertools
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from search.bench.stats import Summary, summarise
from search.errors import BadQueryError
from search.fusion import fuse_legs
from search.json_body import encoded_json_response
from search.models import DEFAULT_RRF_K, Hit, Mode, SearchRequest
from search.rendering import search_json

if TYPE_CHECKING:
    from search.engine import SearchEngine

__all__ = ["STAGES", "Breakdown", "fusion_ms", "result_building_ms", "stage_breakdown"]

# (stage, module, class or None for a module function, attribute)
STAGES = (
    ("query translation", "search.query_translation", "QueryTranslator", "translate"),
    ("query encoding", "search.query_embedding", "QueryEmbedder", "embed"),
    ("tantivy (lexical leg)", "search.lexical", "LexicalRetriever", "search"),
    ("vector scan (semantic leg)", "search.semantic", "SemanticRetriever", "search"),
    ("fusion", "search.fusion", None, "fuse"),
    ("results + snippets", "search.results", "ResultBuilder", "build_all"),
    ("did you mean", "search.suggest", "Suggester", "suggest"),
)
_REPLAYED = "results + snippets"

Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


@dataclass(slots=True)
class _Clock:
    """Seconds per stage for the current query, and the result builds seen."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    builds: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # seconds in stages on the thread that called `engine.search`
    own_thread_seconds: float = 0.0
    own_thread: int | None = None

    def timed(self, stage: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                took = time.perf_counter() - started
                with self.lock:
                    self.seconds[stage] += took
                    if threading.get_ident() == self.own_thread:
                        self.own_thread_seconds += took
                    if stage == _REPLAYED:
                        self.builds.append((original, args, kwargs))

        return wrapper


@contextmanager
def _installed(clock: _Clock) -> Iterator[None]:
    replaced: list[tuple[Any, str, Any]] = []
    try:
        for stage, module_name, class_name, attribute in STAGES:
            owner: Any = importlib.import_module(module_name)
            if class_name is not None:
                owner = getattr(owner, class_name)
            original = getattr(owner, attribute)
            setattr(owner, attribute, clock.timed(stage, original))
            replaced.append((owner, attribute, original))
        yield
    finally:
        for owner, attribute, original in reversed(replaced):
            setattr(owner, attribute, original)


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Per stage, milliseconds per query; `builds`: the result builds, for replay."""

    stages: dict[str, Summary]
    builds: list[Call]


def stage_breakdown(engine: SearchEngine, queries: Sequence[str], *, mode: Mode) -> Breakdown:
    """Cold queries (caches cleared before each), one at a time, stages timed."""
    clock = _Clock()
    per_stage: dict[str, list[float]] = defaultdict(list)
    engine.search(SearchRequest(query="warm up", mode=mode))
    with _installed(clock):
        clock.own_thread = threading.get_ident()
        for text in queries:
            engine.clear_caches()
            clock.seconds.clear()
            clock.own_thread_seconds = 0.0
            started = time.perf_counter()
            try:
                response = engine.search(SearchRequest(query=text[:1000], mode=mode))
            except BadQueryError:
                continue
            total = time.perf_counter() - started
            begun = time.perf_counter()
            encoded_json_response(search_json(response))
            body = time.perf_counter() - begun
            for stage, _, _, _ in STAGES:
                per_stage[stage].append(clock.seconds.get(stage, 0.0) * 1000)
            remainder = total - clock.own_thread_seconds
            per_stage["the rest (parse, plan, group, facets, wait)"].append(remainder * 1000)
            per_stage["engine.search, total"].append(total * 1000)
            per_stage["JSON body (search_json)"].append(body * 1000)
    return Breakdown({stage: summarise(v) for stage, v in per_stage.items()}, clock.builds)


def _fastest_ms(call: Callable[[], object], *, repeats: int) -> float:
    """The least CPU time of `repeats` runs, in ms, counted by this thread's CPU
    clock: a pure function's own time, without the waits for a core that other
    users of a shared machine add to wall time."""
    fastest = float("inf")
    for _ in range(repeats):
        started = time.thread_time()
        call()
        fastest = min(fastest, time.thread_time() - started)
    return fastest * 1000


def result_building_ms(builds: Sequence[Call], *, page: int = 10, repeats: int = 5) -> Summary:
    """CPU milliseconds to build `page` results (the store read, highlights, snippet
    window), replayed from real searches' calls, one sample per page.

    The engine builds a search's results in one call (`ResultBuilder.build_all`,
    one store read for all of them); a replayed page of `page` results takes
    them in order across searches, with one call, and one read, per search it
    draws from: never fewer reads than the engine made for them."""
    # (which recorded call, one of its hits); args are (builder, snapshot, hits, plan)
    units = [(call, hit) for call, (_, args, _) in enumerate(builds) for hit in args[2]]

    def build_page(group: Sequence[tuple[int, Any]]) -> None:
        for call, run in itertools.groupby(group, key=lambda unit: unit[0]):
            function, (builder, snapshot, _, *rest), kwargs = builds[call]
            function(builder, snapshot, [hit for _, hit in run], *rest, **kwargs)

    pages = [units[start : start + page] for start in range(0, len(units) - page + 1, page)]
    return summarise([_fastest_ms(partial(build_page, group), repeats=repeats) for group in pages])


def fusion_ms(*, candidates: int = 100, samples: int = 100, repeats: int = 5) -> dict[str, Summary]:
    """CPU milliseconds to fuse two legs of `candidates` hits each (half the passages
    in both legs, as hybrid queries typically give), per fusion method."""
    generator = random.Random(0)
    pool = range(candidates * 3 // 2)
    lexical, semantic = generator.sample(pool, candidates), generator.sample(pool, candidates)
    runs = {
        "lexical": [Hit(key, 30.0 - rank / 10) for rank, key in enumerate(lexical)],
        "semantic": [Hit(key, 0.9 - rank / 500) for rank, key in enumerate(semantic)],
    }
    timings = {}
    for method in ("rrf", "weighted"):
        call = partial(fuse_legs, runs, method=method, rrf_k=DEFAULT_RRF_K, alpha=None)
        timings[method] = summarise([_fastest_ms(call, repeats=repeats) for _ in range(samples)])
    return timings
