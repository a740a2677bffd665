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
    SEARCH_PROCESSES        server processes on the one port (default 1): each has its own
                            engine, translators and GIL, for concurrent clients on several
                            cores (`search.sibling_processes`); `serve --processes` too
    SEARCH_WRITES           on | off: accept PUT and DELETE /api/articles/{id} (default off;
                            `serve --allow-writes` turns it on)
    SEARCH_WRITE_TOKEN      the bearer token that writes must carry: at least 16 printable
                            ASCII characters, no spaces. Without one, writes are allowed
                            only on a loopback address (`check_writes`)
    SEARCH_MAX_ARTICLE_MB   the largest article a write takes, in MB of UTF-8 (default 5,
                            the indexer's own setting); a larger one is refused, not cut
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexer.errors import SettingsError
from indexer.settings import DEFAULT_MAX_ARTICLE_MB, parse_bool
from search.models import DEFAULT_DEPTH, DEFAULT_RRF_K

__all__ = ["MIN_WRITE_TOKEN_CHARS", "ServiceSettings", "is_loopback"]

# A bearer token shorter than this is guessable; `secrets.token_urlsafe(32)` gives 43.
MIN_WRITE_TOKEN_CHARS = 16


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
    processes: int = 1  # server processes sharing the listening socket
    writes: bool = False  # PUT and DELETE /api/articles/{id}
    write_token: str | None = field(default=None, repr=False)  # a secret: never logged
    max_article_mb: float = DEFAULT_MAX_ARTICLE_MB

    def check_writes(self) -> None:
        """Writes without a token are for a pipeline on this machine: on an address
        other machines reach, anyone could rewrite the archive. Like Redis's protected
        mode, such a start is refused (`SettingsError`) rather than served."""
        if self.writes and self.write_token is None and not is_loopback(self.host):
            raise SettingsError(
                f"Writes are on (--allow-writes or SEARCH_WRITES=on) and the service would "
                f"listen on {self.host}, which other machines can reach, without a token. "
                "Set SEARCH_WRITE_TOKEN (e.g. to the output of python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'), or listen on 127.0.0.1."
            )

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
            processes=_number(env, "SEARCH_PROCESSES", 1, 1, 64, kind=int),
            writes=parse_bool("SEARCH_WRITES", env.get("SEARCH_WRITES", "off")),
            write_token=_write_token(env.get("SEARCH_WRITE_TOKEN", "")),
            max_article_mb=_number(
                env, "SEARCH_MAX_ARTICLE_MB", DEFAULT_MAX_ARTICLE_MB, 0.001, 10_000.0, kind=float
            ),
        )


def _write_token(raw: str) -> str | None:
    """The token, or None if unset or empty; a weak or unsendable one fails naming
    the setting (never echoing the secret: its length is enough to see the fault)."""
    if raw == "":
        return None
    sendable = all("!" <= character <= "~" for character in raw)  # an HTTP header's token68
    if len(raw) < MIN_WRITE_TOKEN_CHARS or not sendable:
        raise SettingsError(
            f"SEARCH_WRITE_TOKEN is {len(raw)} characters"
            f"{'' if sendable else ' with spaces or non-ASCII ones'}; it must be at least "
            f"{MIN_WRITE_TOKEN_CHARS} printable ASCII characters without spaces. Generate one "
            "with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return raw


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach `host` (localhost, 127.0.0.0/8, ::1).
    0.0.0.0 and :: listen everywhere; any other name may resolve anywhere."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False
