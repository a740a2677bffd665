"""What `/api/health` reports, built from the served generation's manifest."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from indexer.manifest import Manifest, OnnxInfo
from indexer.onnx_encoder import EXPORT_VERSION

__all__ = ["Health", "HealthModel", "HealthTranslation", "health_report"]

# What each export version (`indexer.onnx_encoder.EXPORT_VERSION`) brings over the
# one before, and the precision it concerns (None: any): what a rebuild gives an
# index whose export is older.
_EXPORT_GAINS = {
    3: ("~12% faster per query", None),
    4: ("int8 products that no longer saturate on CPUs without VNNI (7-bit weights)", "int8"),
}


@dataclass(frozen=True, slots=True)
class HealthModel:
    name: str
    dimension: int
    multilingual: bool


@dataclass(frozen=True, slots=True)
class HealthTranslation:
    query: bool  # queries are translated now
    index: bool  # the index holds passage translations
    embedding_pivot: str | None  # language other passages were embedded through


@dataclass(frozen=True, slots=True)
class Health:
    """What `/api/health` reports; `degraded` lists everything running below par,
    `warming` what start-up left to background threads (still answering meanwhile)."""

    status: Literal["ok", "degraded"]
    generation: str
    built_at: str
    articles: int
    passages: int
    passages_by_language: dict[str, int]
    model: HealthModel
    translation: HealthTranslation
    degraded: list[str]
    warming: list[str] = field(default_factory=list)


def health_report(
    manifest: Manifest,
    *,
    problems: list[str],
    query_translation: bool,
    warming: list[str] | None = None,
) -> Health:
    """`problems`: why a newer generation is not served (see `search.generation`)."""
    degraded = list(problems)
    if not query_translation:
        degraded.append("query translation off: Apertium unavailable or disabled")
    if not manifest.translation.enabled:
        degraded.append(f"index built without translation ({manifest.translation.reason})")
    onnx = manifest.onnx
    if onnx is not None and onnx.exported and (gains := _rebuild_gains(onnx)):
        degraded.append(
            f"query encoder from an older ONNX export (v{onnx.export_version or '2 or older'}; "
            f"this version writes v{EXPORT_VERSION}: {gains}): rebuild the index to "
            "re-export it (`make rebuild`, or `python -m indexer build`)"
        )
    return Health(
        status="degraded" if degraded else "ok",
        generation=manifest.generation,
        built_at=manifest.created_at,
        articles=manifest.articles,
        passages=manifest.passages,
        passages_by_language=dict(manifest.passages_by_language),
        model=HealthModel(
            name=manifest.model.name,
            dimension=manifest.model.dimension,
            multilingual=manifest.model.multilingual,
        ),
        translation=HealthTranslation(
            query=query_translation,
            index=manifest.translation.enabled,
            embedding_pivot=manifest.translation.embedding_pivot,
        ),
        degraded=degraded,
        warming=list(warming or ()),
    )


def _rebuild_gains(onnx: OnnxInfo) -> str:
    """What a newer export would bring this index ("" for nothing): the gains of
    every version after its own that concern a precision it uses."""
    used = {onnx.precision, onnx.passage_precision}
    return "; ".join(
        gain
        for version, (gain, precision) in _EXPORT_GAINS.items()
        if version > onnx.export_version and (precision is None or precision in used)
    )
