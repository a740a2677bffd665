"""The manifest: how a generation was built, so the service can serve it faithfully.

The service reads the model reference from here (never from its own settings), so
queries are embedded by the model that embedded the passages.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from indexer.errors import IndexCorruptError

__all__ = ["SCHEMA_VERSION", "Manifest", "ModelInfo", "OnnxInfo", "TranslationInfo"]

# 2: the metadata store, the shared vectors file and lexical segments (incremental
# changes); 1 held articles.jsonl, passages.jsonl and embeddings.npy.
SCHEMA_VERSION = 2


@dataclass(frozen=True, slots=True)
class ModelInfo:
    name: str  # readable, e.g. sentence-transformers/all-MiniLM-L6-v2
    ref: str  # what to load: a local path or a hub name
    dimension: int
    max_seq_length: int
    multilingual: bool  # True: English and Spanish share one space, no pivot needed


@dataclass(frozen=True, slots=True)
class TranslationInfo:
    enabled: bool
    engine: str | None  # "apertium" or None
    reason: str  # why it is on or off, for humans
    embedding_pivot: str | None  # "en": non-English passages were embedded via English
    translated_passages: int = 0
    untranslated_passages: int = 0  # en/es passages whose translation failed (timeouts)


@dataclass(frozen=True, slots=True)
class OnnxInfo:
    """The model's transformer exported to ONNX, for torch-free query encoding.

    Shared between generations under `models/<content sha256>/` in the index dir.
    When `exported` is false, `reason` says why and queries use sentence-transformers.
    """

    exported: bool
    reason: str  # what was exported, or why nothing was
    path: str | None = None  # the .onnx file, relative to the index dir
    sha256: str | None = None  # of that file
    precision: str | None = None  # fp32 | int8
    pooling: str | None = None  # sentence-transformers pooling mode(s), "+"-joined: "mean"
    normalize: bool = False  # unit-length output (a Normalize module)
    max_seq_length: int = 0  # tokens, special tokens included; longer input is truncated
    dimension: int = 0
    passage_backend: str = "sentence-transformers"  # what embedded this generation's passages
    # the export's file the passages were embedded with (fp32 | int8); later changes
    # (`indexer add`/`sync`, the write API) embed theirs with the same one
    passage_precision: str = "fp32"
    # `indexer.onnx_encoder.EXPORT_VERSION` of the export; 0: written before the
    # version was recorded (v2 or older). A change keeps its generation's export.
    export_version: int = 0


@dataclass(frozen=True, slots=True)
class Manifest:
    schema_version: int
    generation: str
    created_at: str  # ISO 8601 UTC
    build_seconds: float
    model: ModelInfo
    translation: TranslationInfo
    chunking: dict[str, int]
    articles: int
    passages: int
    passages_by_language: dict[str, int]
    sources: list[str]
    skipped_inputs: int
    warnings: int
    analyzers: dict[str, str] = field(default_factory=dict)
    # wall seconds per build stage; translation overlaps embedding (see build.py)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    onnx: OnnxInfo | None = None  # None: built before ONNX export existed
    rows: int = 0  # rows in the vectors file and the store's columns, dead ones included
    vector_index: dict[str, Any] | None = None  # `indexer.vector_index.VectorIndexInfo`
    # batch name -> tantivy's meta.json entry of its segment (`indexer.lexical_segments`)
    lexical_segments: dict[str, dict[str, Any]] = field(default_factory=dict)
    # what made this generation: "build", or a change ("add", "remove", "sync", "api")
    # with its counts: articles added/replaced/removed, passages encoded/rewritten
    change: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True)

    def write(self, path: Path) -> None:
        path.write_text(self.to_json() + "\n", encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> Manifest:
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            version = data.get("schema_version")
            if version != SCHEMA_VERSION:
                raise IndexCorruptError(
                    f"{path} has schema version {version!r}; this program reads version "
                    f"{SCHEMA_VERSION}. Rebuild with: python -m indexer build"
                )
            data["model"] = ModelInfo(**data["model"])
            data["translation"] = TranslationInfo(**data["translation"])
            if data.get("onnx") is not None:
                data["onnx"] = OnnxInfo(**data["onnx"])
            return cls(**data)
        except IndexCorruptError:
            raise
        except (OSError, ValueError, TypeError, KeyError) as error:
            raise IndexCorruptError(
                f"Cannot read the manifest {path}: {error}. Rebuild with: python -m indexer build"
            ) from error
