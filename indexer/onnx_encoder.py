"""Sentence embeddings with ONNX Runtime and the model's own fast tokenizer: no torch.

A model exported by `indexer.onnx_export` lives in one directory:

    model.onnx          the transformer, fp32: (input_ids, attention_mask[, token_type_ids])
                        -> token_embeddings (batch, sequence, hidden)
    model.int8.onnx     the same, weights dynamically quantised to int8 (optional)
    tokenizer.json      the model's fast tokenizer (`tokenizers` library)
    encoder.json        what sentence-transformers does around the transformer:
                        pooling, normalisation, truncation, lower-casing, prompt

Pooling and normalisation are reproduced here in numpy, following
sentence-transformers' `Pooling` and `Normalize` modules. Importing this module
loads neither torch nor transformers: a query process stays small and starts fast.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from indexer.errors import ModelLoadError
from indexer.model_stamp import file_sha256, sha256_matches

if TYPE_CHECKING:
    from tokenizers import Tokenizer

__all__ = [
    "CONFIG_FILE",
    "EXPORT_VERSION",
    "MODEL_FILE_BY_PRECISION",
    "OUTPUT_NAME",
    "POOLING_MODES",
    "SESSION_DISABLED_OPTIMIZERS",
    "TOKENIZER_FILE",
    "OnnxEncoder",
    "OnnxModelConfig",
    "file_sha256",
    "inference_session",
    "pool",
]

# How the files below are made (`indexer.onnx_export`), part of every key an export is
# found by: bumped when the export itself changes (2: eager attention, fused graph;
# 3: residual + LayerNorm left as two operators, see SESSION_DISABLED_OPTIMIZERS;
# 4: int8 weights in 7 bits, the same integer products on CPUs with and without VNNI).
EXPORT_VERSION = 4
# ONNX Runtime optimisations every session of an exported encoder runs without.
# SkipLayerNormFusion joins a residual Add and the LayerNormalization after it into
# one SkipLayerNormalization operator; on these machines (ONNX Runtime 1.32, one
# thread, AVX-512) that operator took 4.5-6.5x as long as the two it replaces:
# 12 of them 368 us against 81 us at 14 tokens, 3.19 ms against 0.49 ms at 128
# (`/tmp/lab/lnbench2.py`, not kept). Without it a 14-token int8 query ran 0.90x
# as long and a batch of 32 passages 0.87x; the fp32 graph's vectors agree with
# the fused operator's to cosine 0.9999998 (the same sums in another order).
SESSION_DISABLED_OPTIMIZERS = ("SkipLayerNormFusion",)
MODEL_FILE_BY_PRECISION = {"fp32": "model.onnx", "int8": "model.int8.onnx"}
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "encoder.json"
OUTPUT_NAME = "token_embeddings"
# sentence-transformers' pooling modes; several modes are concatenated in order
POOLING_MODES = ("cls", "max", "mean", "mean_sqrt_len_tokens", "weightedmean", "lasttoken")


@dataclass(frozen=True, slots=True)
class OnnxModelConfig:
    """What sentence-transformers does around the transformer, recorded at export."""

    input_names: tuple[str, ...]  # the ONNX graph's inputs, in order
    pooling_modes: tuple[str, ...]
    normalize: bool  # the model ends in Normalize; `OnnxEncoder` normalises either way
    max_seq_length: int  # tokens, special tokens included
    dimension: int
    pad_token_id: int = 0
    lowercase: bool = False  # the Transformer module's do_lower_case
    prompt: str = ""  # the model's default prompt, prepended to every text
    truncation_side: str = "right"

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n", "utf-8")

    @classmethod
    def read(cls, path: Path) -> OnnxModelConfig:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        data["input_names"] = tuple(data["input_names"])
        data["pooling_modes"] = tuple(data["pooling_modes"])
        return cls(**data)


def pool(
    token_embeddings: npt.NDArray[np.float32],
    attention_mask: npt.NDArray[np.int64],
    modes: Sequence[str],
) -> npt.NDArray[np.float32]:
    """sentence-transformers pooling over right-padded tokens: (batch, seq, hidden) to
    (batch, hidden * len(modes)). Padding (mask 0) never contributes."""
    mask = attention_mask.astype(np.float32)[:, :, None]
    counts = np.clip(mask.sum(axis=1), 1e-9, None)
    lengths = attention_mask.sum(axis=1)
    pieces: list[npt.NDArray[np.float32]] = []
    for mode in modes:
        if mode == "cls":
            pieces.append(token_embeddings[:, 0])
        elif mode == "max":
            pieces.append(np.where(mask > 0, token_embeddings, -np.inf).max(axis=1))
        elif mode == "mean":
            pieces.append((token_embeddings * mask).sum(axis=1) / counts)
        elif mode == "mean_sqrt_len_tokens":
            pieces.append((token_embeddings * mask).sum(axis=1) / np.sqrt(counts))
        elif mode == "weightedmean":
            positions = np.arange(1, token_embeddings.shape[1] + 1, dtype=np.float32)
            weights = mask * positions[None, :, None]
            total = np.clip(weights.sum(axis=1), 1e-9, None)
            pieces.append((token_embeddings * weights).sum(axis=1) / total)
        elif mode == "lasttoken":
            last = np.maximum(lengths - 1, 0)
            pieces.append(token_embeddings[np.arange(len(last)), last])
        else:
            raise ValueError(f"unknown pooling mode {mode!r}; known: {', '.join(POOLING_MODES)}")
    return np.concatenate(pieces, axis=1).astype(np.float32, copy=False)


def inference_session(model: str | bytes, options: Any) -> Any:
    """An ONNX Runtime CPU session of an exported encoder graph (its path, or the
    serialised model) with `options`, less `SESSION_DISABLED_OPTIMIZERS`. Every
    session that runs an export is opened here, the build's agreement check too, so
    none of them makes the slower fusion."""
    import onnxruntime

    return onnxruntime.InferenceSession(
        model,
        options,
        providers=["CPUExecutionProvider"],
        disabled_optimizers=list(SESSION_DISABLED_OPTIMIZERS),
    )


class OnnxEncoder:
    """Embeds texts like the sentence-transformers model it was exported from.

    Thread-safe without a lock: one InferenceSession is shared (its `run` may be
    called concurrently) and the tokenizer is configured once, then only read.
    `threads` is how many cores one `encode` call may use: 1 for queries (a short
    query gains nothing from more, and a second thread spinning against a busy
    core costs more than it gives); all cores for bulk passage encoding, where
    that many batches run at once, each on one core (ONNX Runtime's intra-op
    threads stay at 1: whole batches side by side need no synchronisation
    inside every operator, as splitting each batch across cores did).
    """

    def __init__(
        self,
        directory: Path,
        *,
        model_ref: str,
        precision: str = "fp32",
        threads: int = 1,
        expected_sha256: str | None = None,
    ) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        if precision not in MODEL_FILE_BY_PRECISION:
            raise ModelLoadError(f"Unknown ONNX precision {precision!r}; use fp32 or int8.")
        model_path = directory / MODEL_FILE_BY_PRECISION[precision]
        try:
            self.config = OnnxModelConfig.read(directory / CONFIG_FILE)
            if expected_sha256 is not None and not sha256_matches(model_path, expected_sha256):
                raise ModelLoadError(
                    f"{model_path} does not match the sha256 in the manifest; rebuild the "
                    "index with: python -m indexer build"
                )
            tokenizer = Tokenizer.from_file(str(directory / TOKENIZER_FILE))
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
            options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.log_severity_level = 3  # errors only
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._session = inference_session(str(model_path), options)
        except ModelLoadError:
            raise
        except Exception as error:  # onnxruntime and tokenizers raise their own kinds
            raise ModelLoadError(f"Cannot load the ONNX encoder in {directory}: {error}") from error
        tokenizer.no_padding()  # padding is done here, per length-sorted batch
        tokenizer.enable_truncation(
            self.config.max_seq_length, direction=self.config.truncation_side
        )
        self._tokenizer = tokenizer
        # Counting whole texts needs a second tokenizer (no truncation), and only
        # chunking counts: it is read on first use. Reading one holds the GIL for
        # ~50 ms, on `serve`'s start-up path, where no query ever counts.
        self._counter: Tokenizer | None = None
        self._counter_lock = threading.Lock()
        self.directory = directory
        self.model_ref = model_ref
        self.dimension = self.config.dimension
        self.max_seq_length = self.config.max_seq_length
        self.precision = precision
        self.threads = threads
        self.backend = f"onnx-{precision}"

    @property
    def max_passage_tokens(self) -> int:
        """Tokens a passage may have without truncation: [CLS] and [SEP] take two."""
        return self.max_seq_length - 2

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text without special tokens, like `Encoder.count_tokens`
        (the same tokenizer file): chunking sizes passages with it."""
        if not texts:
            return []
        encodings = self._counting_tokenizer().encode_batch(list(texts), add_special_tokens=False)
        return [len(encoding.ids) for encoding in encodings]

    def _counting_tokenizer(self) -> Tokenizer:
        with self._counter_lock:
            if self._counter is None:
                from tokenizers import Tokenizer

                counter = Tokenizer.from_file(str(self.directory / TOKENIZER_FILE))
                counter.no_padding()
                counter.no_truncation()
                self._counter = counter
            return self._counter

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> npt.NDArray[np.float32]:
        """Shape (len(texts), dimension), float32, unit-length rows, in input order.

        Texts are batched by token length (sorted, batched, order restored), so a
        batch is padded only to the length of its own longest text. With more than
        one thread, batches run side by side, longest first (so the last to finish
        are short ones and no core idles long at the end).
        """
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        config = self.config
        prepared = [config.prompt + (t.lower() if config.lowercase else t) for t in texts]
        # One text (a query) is tokenised by `encode`, which keeps the GIL for its
        # ~40 us: `encode_batch` lets go of it and must then win it back from the
        # threads beside (a query's translation), measured up to 0.2 ms at p90.
        if len(prepared) == 1:
            encodings = [self._tokenizer.encode(prepared[0])]
        else:
            encodings = self._tokenizer.encode_batch(prepared)
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)

        def embed(rows: npt.NDArray[np.intp]) -> None:
            vectors[rows] = self._embed([encodings[row] for row in rows])

        if self.threads == 1 or len(batches) == 1:
            for rows in batches:
                embed(rows)
        else:
            with ThreadPoolExecutor(self.threads, thread_name_prefix="onnx-batch") as workers:
                list(workers.map(embed, reversed(batches)))
        return vectors

    def _embed(self, encodings: Sequence[Any]) -> npt.NDArray[np.float32]:
        width = max(len(e.ids) for e in encodings)
        shape = (len(encodings), width)
        input_ids = np.full(shape, self.config.pad_token_id, dtype=np.int64)
        attention_mask = np.zeros(shape, dtype=np.int64)
        token_type_ids = np.zeros(shape, dtype=np.int64)
        for row, encoding in enumerate(encodings):
            length = len(encoding.ids)
            input_ids[row, :length] = encoding.ids
            attention_mask[row, :length] = 1
            token_type_ids[row, :length] = encoding.type_ids
        feeds = {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            "token_type_ids": token_type_ids,
        }
        (hidden,) = self._session.run(
            [OUTPUT_NAME], {name: feeds[name] for name in self.config.input_names}
        )
        pooled = pool(hidden, attention_mask, self.config.pooling_modes)
        # Unit rows always, like `Encoder` (normalize_embeddings=True): dot == cosine.
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled
