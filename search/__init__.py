"""The query side: load the index, run the legs, fuse, serve the API and the page.

The public names below are imported lazily, so `import search.engine` does not
pull in the web framework and `import search` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "ArticleView",
    "EngineOptions",
    "Health",
    "SearchEngine",
    "SearchError",
    "SearchRequest",
    "SearchResponse",
    "SearchResult",
    "ServiceSettings",
    "build_engine",
    "create_app",
]

_HOMES = {
    "ArticleView": "search.models",
    "EngineOptions": "search.engine",
    "Health": "search.models",
    "SearchEngine": "search.engine",
    "SearchError": "search.errors",
    "SearchRequest": "search.models",
    "SearchResponse": "search.models",
    "SearchResult": "search.models",
    "ServiceSettings": "search.settings",
    "build_engine": "search.wiring",
    "create_app": "search.app",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'search' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
