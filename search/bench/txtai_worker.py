"""txtai's hybrid search in-process, timed: the yardstick `make bench` compares with.

Runs inside the benchmark-only venv `.venv-txtai` (`make bench-txtai-venv`), never
in the project's: it imports nothing from this project, only the standard library
and txtai. `search.bench.txtai_side` starts it as a script and talks to it over pipes,
one JSON object per line:

    -> {"ready": true, "passages": N, "build_seconds": S}          after indexing
    <- {"queries": ["...", ...], "limit": 10}
    -> {"ms": [milliseconds per query, in order]}

The index is txtai's own hybrid one (dense vectors from the same model directory,
BM25 over the same passage texts, its default fusion), built once at start. Each
query is one `Embeddings.search(query, limit)` call, timed with perf_counter;
torch uses `--torch-threads` intra-op threads (default 1).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

__all__ = ["main"]


def _build(model: str, passages_file: str) -> Any:
    from txtai import Embeddings

    with open(passages_file, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    embeddings = Embeddings(path=model, hybrid=True, content=True)
    embeddings.index([(row["id"], row["text"], None) for row in rows])
    return embeddings, len(rows)


def _reply(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="sentence-transformers model directory")
    parser.add_argument("--passages", required=True, help="JSONL of {id, text}")
    parser.add_argument("--torch-threads", type=int, default=1, help="torch intra-op threads")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch

    torch.set_num_threads(args.torch_threads)
    started = time.perf_counter()
    embeddings, count = _build(args.model, args.passages)
    embeddings.search("warm up", 10)
    _reply({"ready": True, "passages": count, "build_seconds": time.perf_counter() - started})
    for line in sys.stdin:
        request = json.loads(line)
        timings = []
        for query in request["queries"]:
            begun = time.perf_counter()
            embeddings.search(query, int(request.get("limit", 10)))
            timings.append((time.perf_counter() - begun) * 1000)
        _reply({"ms": timings})
    return 0


if __name__ == "__main__":
    sys.exit(main())
