"""A real index of a small corpus (the XQuAD paragraphs), built once, that synthetic
indexes copy from (`indexer.synthetic_index`).

Everything a synthetic index holds comes from here: the passages as the real
chunker cut them, their language labels, their Apertium translations (when
Apertium is installed; the manifest says whether), their vectors from the real
model's ONNX export, and that export itself, which the query side loads. It is a
plain `indexer.build` of the corpus with the default model, written to
`<work>/reference/` the first time (about a minute on 2 cores) and reused after.
It runs as `python -m indexer build` in a process of its own: the build users run,
and the model's memory goes with that process.

Questions are encoded once by the index's own query encoder (the ONNX export, as
the service encodes them) and cached beside it, named by a hash of the texts and
the export, so a changed question set or model never reuses stale vectors.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from indexer.errors import IndexerError
from indexer.layout import IndexLayout
from indexer.manifest import Manifest

__all__ = ["encoded_questions", "ensure_reference_index", "question_texts"]

REFERENCE_DIR = "reference"


def ensure_reference_index(work: Path, corpus: Path) -> Path:
    """The reference index directory under `work`, built from `corpus` (a JSONL file
    or a folder) if it holds no readable generation yet."""
    index_dir = work / REFERENCE_DIR
    try:
        Manifest.read(IndexLayout(index_dir).live_generation().manifest)
        return index_dir
    except IndexerError:
        pass
    print(f"building the reference index of {corpus} in {index_dir} (once)", flush=True)
    command = [sys.executable, "-m", "indexer", "build", "--source", str(corpus)]
    subprocess.run([*command, "--index", str(index_dir)], check=True)
    return index_dir


def question_texts(path: Path) -> list[str]:
    """The `text` of every line of a JSONL file (XQuAD's queries.jsonl), shuffled
    with a fixed seed, so English and Spanish questions mix in any slice and every
    run takes the same ones."""
    with path.open(encoding="utf-8") as lines:
        texts = [json.loads(line)["text"] for line in lines if line.strip()]
    random.Random(0).shuffle(texts)
    return texts


def encoded_questions(index_dir: Path, texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """(len(texts), dimension) unit vectors of `texts` by the index's query encoder,
    read from the cache when it holds them."""
    manifest = Manifest.read(IndexLayout(index_dir).live_generation().manifest)
    export = manifest.onnx.sha256 if manifest.onnx else None
    key = hashlib.sha256(
        json.dumps([manifest.model.ref, export, list(texts)], ensure_ascii=False).encode()
    ).hexdigest()[:16]
    cache = index_dir / f"questions-{key}.npy"
    if cache.is_file():
        return np.asarray(np.load(cache), dtype=np.float32)
    from indexer.query_encoder import open_query_encoder

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    encoder = open_query_encoder(index_dir, manifest, threads=cores or 1)
    vectors = np.asarray(encoder.encode(list(texts), batch_size=32), dtype=np.float32)
    np.save(cache, vectors)
    return vectors
