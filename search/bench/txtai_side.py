"""txtai side by side: its hybrid search over our passages, in its own venv.

`make bench-txtai-venv` makes `.venv-txtai` (txtai and a CPU torch; a benchmark
tool, never a dependency of this project). When it exists, `make bench` starts
`search/bench/txtai_worker.py` there with the index's own passage texts and the
model directory the index was built with, and asks it to time the same queries
ours answer, in alternating rounds. txtai runs in-process in the worker (no
HTTP), with torch on one thread: on this shared 2-core machine two threads made
its query encoding slower, not faster (46 vs 75 ms p50 in one side-by-side run).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = ["TXTAI_PYTHON", "TxtaiWorker", "txtai_worker", "unavailable_reason"]

_REPO_ROOT = Path(__file__).resolve().parents[2]
TXTAI_PYTHON = _REPO_ROOT / ".venv-txtai" / "bin" / "python"
_WORKER = Path(__file__).with_name("txtai_worker.py")


def unavailable_reason(model_ref: str) -> str | None:
    """Why txtai cannot run side by side here, or None when it can."""
    if not TXTAI_PYTHON.exists() or not (TXTAI_PYTHON.parents[1] / ".installed").exists():
        return f"no {TXTAI_PYTHON.parents[1].name} (make bench-txtai-venv makes it)"
    if not Path(model_ref).is_dir():
        return f"the index's model {model_ref!r} is not a local directory txtai could load"
    return None


class TxtaiWorker:
    def __init__(self, process: subprocess.Popen[str], ready: dict[str, Any]) -> None:
        self._process = process
        self.passages = int(ready["passages"])
        self.build_seconds = float(ready["build_seconds"])

    def time_ms(self, queries: Sequence[str], *, limit: int = 10) -> list[float]:
        """Milliseconds of `Embeddings.search(query, limit)` per query, in order."""
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None and stdout is not None
        stdin.write(json.dumps({"queries": list(queries), "limit": limit}) + "\n")
        stdin.flush()
        return [float(ms) for ms in _answer(stdout)["ms"]]


def _answer(stdout: IO[str]) -> dict[str, Any]:
    line = stdout.readline()
    if not line:
        raise RuntimeError("the txtai worker stopped")
    answer: dict[str, Any] = json.loads(line)
    return answer


@contextmanager
def txtai_worker(passages: Sequence[str], *, model_ref: str) -> Iterator[TxtaiWorker]:
    """The worker with txtai's hybrid index of `passages` built, stopped afterwards."""
    with tempfile.TemporaryDirectory(prefix="bench-txtai-") as work:
        passages_file = Path(work) / "passages.jsonl"
        with passages_file.open("w", encoding="utf-8") as handle:
            for row, text in enumerate(passages):
                handle.write(json.dumps({"id": str(row), "text": text}) + "\n")
        log = Path(work) / "worker.log"
        with log.open("w", encoding="utf-8") as errors:
            command = [str(TXTAI_PYTHON), str(_WORKER), "--model", model_ref]
            process = subprocess.Popen(
                [*command, "--passages", str(passages_file), "--torch-threads", "1"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )
            try:
                assert process.stdout is not None
                try:
                    ready = _answer(process.stdout)
                except RuntimeError:
                    tail = log.read_text(encoding="utf-8")[-2000:]
                    raise RuntimeError(f"the txtai worker failed to start:\n{tail}") from None
                yield TxtaiWorker(process, ready)
            finally:
                if process.stdin is not None:
                    process.stdin.close()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                if process.stdout is not None:
                    process.stdout.close()
