"""Service settings: read once from the environment, validated at start-up, frozen.

This is the only module of `search` that reads environment variables. Command line
flags override them. The embedding model is *not* a service setting: the service
always uses the model recorded in the index manifest.

Variables:
    SEARCH_INDEX_DIR        index directory (default: ./index)
    SEARCH_HOST, SEARCH_PORT   where `serve` listens (default 127.0.0.1:8000)
    SEARCH_RELOAD_SECONDS   how often to look for a new index generation (default 2)
    SEARCH_QUERY_TRANSLATION   auto | off: translate queries with Apertium (default auto)
    SEARCH_DEPTH            candidates per retriever before fusion (default 100)
    SEARCH_RRF_K            reciprocal rank fusion constant (default 20, see models.py)
    SEARCH_WORKERS          requests served at once (default 4; threads)
    SEARCH_QUEUE            requests allowed to wait for a worker before 503 (default 32)
    SEARCH_TRANSLATORS      Apertium translators in the query pool (default 2)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from indexer.errors import SettingsError
from search.models import DEFAULT_DEPTH, DEFAULT_RRF_K

__all__ = ["ServiceSettings"]


def _number(
    env: Mapping[str, str], name: str, default: float, low: float, high: float, *, kind: type
) -> Any:
    """Parse `name` as `kind` (int or float) within [low, high], or fail naming the fix."""
    raw = env.get(name, str(default))
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        noun = "an integer" if kind is int else "a number"
        raise SettingsError(f"{name}={raw!r} is not {noun} in {low}..{high}; try {default}.")
    return value


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    index_dir: Path
    host: str
    port: int
    reload_seconds: float
    query_translation: bool
    depth: int
    rrf_k: int
    workers: int = 4
    queue: int = 32
    translators: int = 2

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServiceSettings:
        env = os.environ if env is None else env
        translation = env.get("SEARCH_QUERY_TRANSLATION", "auto").strip().lower()
        if translation not in ("auto", "off"):
            raise SettingsError(
                f"SEARCH_QUERY_TRANSLATION={translation!r} is not one of auto, off."
            )
        return cls(
            index_dir=Path(env.get("SEARCH_INDEX_DIR", "index")),
            host=env.get("SEARCH_HOST", "127.0.0.1"),
            port=_number(env, "SEARCH_PORT", 8000, 0, 65535, kind=int),
            reload_seconds=_number(env, "SEARCH_RELOAD_SECONDS", 2.0, 0.0, 3600.0, kind=float),
            query_translation=translation == "auto",
            depth=_number(env, "SEARCH_DEPTH", DEFAULT_DEPTH, 10, 1000, kind=int),
            rrf_k=_number(env, "SEARCH_RRF_K", DEFAULT_RRF_K, 1, 10000, kind=int),
            workers=_number(env, "SEARCH_WORKERS", 4, 1, 64, kind=int),
            queue=_number(env, "SEARCH_QUEUE", 32, 0, 10000, kind=int),
            translators=_number(env, "SEARCH_TRANSLATORS", 2, 1, 8, kind=int),
        )
