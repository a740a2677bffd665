"""Build a `SearchEngine` from the service settings (shared by `serve`, `query`, bench)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from search.engine import EngineOptions, SearchEngine
from search.query_translation import Translator, TranslatorPool
from search.settings import ServiceSettings

if TYPE_CHECKING:
    from indexer.translation import ApertiumTranslator

__all__ = ["build_engine"]

# A query translates in ~1 ms; a second means the pipeline is stuck, not busy.
_QUERY_TRANSLATION_TIMEOUT_S = 1.0


def build_engine(settings: ServiceSettings, index_dir: Path | None = None) -> SearchEngine:
    """The engine over `index_dir` (default: the settings'), with query translation
    when Apertium is installed and the settings allow it."""
    from indexer.translation import open_translator, pipeline_cores

    setting = "auto" if settings.query_translation else "off"
    opened = [
        open_translator(
            setting, timeout_s=_QUERY_TRANSLATION_TIMEOUT_S, pipeline_cpus=pipeline_cores(index)
        )
        for index in range(settings.translators)
    ]
    translators = [t for t in opened if t is not None]
    translator: Translator | None = None
    warming: list[threading.Thread] = []
    pool: TranslatorPool | None = None
    if translators:
        warming = _start_pipelines(translators[0])
        translator = translators[0]
        if len(translators) > 1:
            translator = pool = TranslatorPool(translators[:1])
    options = EngineOptions(
        depth=settings.depth,
        rrf_k=settings.rrf_k,
        query_translation=settings.query_translation,
    )
    try:
        engine = SearchEngine(
            index_dir or settings.index_dir, options=options, translator=translator
        )
    except BaseException:
        if translator is not None:  # no Apertium processes left behind
            translator.close()
        for spare in translators[1:]:
            spare.close()
        raise
    finally:
        for thread in warming:
            thread.join()
    if pool is not None:  # after the loading, which they would only slow down
        threading.Thread(
            target=_add_when_started, args=(pool, translators[1:]), name="warm-spares", daemon=True
        ).start()
    return engine


def _start_pipelines(translator: ApertiumTranslator) -> list[threading.Thread]:
    """Start both of the translator's pipelines in the background: each takes
    ~0.25 s (a dozen processes loading dictionaries), which overlaps the index and
    model loading instead of delaying the first query. The caller joins them before
    the first query, whose wait for a starting pipeline would count against its
    translation timeout."""
    threads = [
        threading.Thread(
            target=translator.translate,
            args=("warm up",),
            kwargs={"source": source, "target": target},
            name=f"warm-{source}-{target}",
            daemon=True,
        )
        for source, target in (("es", "en"), ("en", "es"))
    ]
    for thread in threads:
        thread.start()
    return threads


def _add_when_started(pool: TranslatorPool, spares: list[ApertiumTranslator]) -> None:
    """The pool's other translators join it once their pipelines run, started after
    the engine has loaded: on two cores, starting them all with the first slowed
    start-up (0.6 s for two translators against 0.4 s for one), and until
    concurrent queries come the first one suffices."""
    for spare in spares:
        for thread in _start_pipelines(spare):
            thread.join()
        pool.add(spare)
