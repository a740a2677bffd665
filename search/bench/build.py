"""Build throughput as a user meets it: `python -m indexer build` of a corpus into a
fresh index directory, from launch to exit, each a fresh interpreter.

    python -m search.bench.build [--corpus DIR] [--against OTHER_CHECKOUT] [--rounds N]

The corpus defaults to the XQuAD retrieval set beside the checkout (480
paragraphs, 826 passages), written as the indexer's JSONL articles; translation
is on, as in the "Fast queries" goal. Every build starts from an empty index
directory, so the index's own cache of encodings and translations never helps.

The ONNX export cache (`indexer.export_cache`) is measured both ways: "cold" is
a build with an empty cache (the first build on a machine, or after a model
change: it loads the model with torch and exports it), "warm" a build that finds
its export there, as every later build does. With `--against`, a second checkout
(the commit before the work, say) builds in turns with this one, so a busy spell
slows both alike; it is given the same cache setting, which a checkout without
the cache ignores.

Prints passages per second (the manifest's passages over the wall time of the
whole command) and the median seconds of each stage the manifests record.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["BuildRuns", "main", "measure_builds", "write_corpus_articles"]

_REPO_ROOT = Path(__file__).resolve().parents[2]
_XQUAD = _REPO_ROOT.parent / "shared" / "eval" / "xquad" / "bilingual"


@dataclass(slots=True)
class BuildRuns:
    """Per build: wall seconds, passages, the manifest's stage seconds."""

    walls: list[float] = field(default_factory=list)
    passages: list[int] = field(default_factory=list)
    stages: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    @property
    def rates(self) -> list[float]:
        """Passages per wall second, per build."""
        return [p / w for p, w in zip(self.passages, self.walls, strict=True)]

    @property
    def per_second(self) -> float:
        """Median passages per wall second."""
        return statistics.median(self.rates)

    def describe(self) -> str:
        each = ", ".join(f"{rate:.1f}" for rate in self.rates)
        walls = ", ".join(f"{w:.1f}" for w in self.walls)
        return f"{self.per_second:5.1f} passages/s ({each}); wall {walls} s"

    def stage_medians(self) -> str:
        return ", ".join(
            f"{name} {statistics.median(values):.1f}"
            for name, values in sorted(self.stages.items())
        )


def build_once(
    articles: Path, work: Path, *, checkout: Path, export_cache: Path
) -> tuple[float, dict[str, Any]]:
    """One `python -m indexer build` of `checkout` into a new directory under `work`:
    wall seconds and its manifest, as JSON (an older checkout's schema may differ)."""
    index_dir = Path(tempfile.mkdtemp(prefix="index-", dir=work))
    environment = {
        **os.environ,
        "PYTHONPATH": str(checkout),
        "SEARCH_EXPORT_CACHE": str(export_cache),
        "SEARCH_TRANSLATION": "on",
    }
    command = [sys.executable, "-m", "indexer", "build", "--source", str(articles)]
    started = time.perf_counter()
    subprocess.run(
        [*command, "--index", str(index_dir)],
        env=environment,
        cwd=checkout,  # `-m` puts the working directory first on sys.path, before PYTHONPATH
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=True,
    )
    wall = time.perf_counter() - started
    (manifest,) = index_dir.glob("generations/*/manifest.json")
    return wall, dict(json.loads(manifest.read_text(encoding="utf-8")))


def measure_builds(
    articles: Path, *, rounds: int, checkouts: tuple[Path, ...]
) -> dict[tuple[Path, str], BuildRuns]:
    """(checkout, "cold" | "warm") -> its runs; the checkouts take turns each round."""
    results: dict[tuple[Path, str], BuildRuns] = defaultdict(BuildRuns)
    with tempfile.TemporaryDirectory(prefix="build-bench-") as scratch:
        work = Path(scratch)
        for round_number in range(rounds):
            order = checkouts if round_number % 2 == 0 else checkouts[::-1]
            for checkout in order:
                cache = Path(tempfile.mkdtemp(prefix="export-cache-", dir=work))
                for state in ("cold", "warm"):  # the cold build fills the empty cache
                    wall, manifest = build_once(
                        articles, work, checkout=checkout, export_cache=cache
                    )
                    runs = results[checkout, state]
                    runs.walls.append(wall)
                    runs.passages.append(int(manifest["passages"]))
                    for name, seconds in manifest.get("stage_seconds", {}).items():
                        runs.stages[name].append(seconds)
    return dict(results)


def write_corpus_articles(corpus: Path, target: Path) -> Path:
    """A BEIR-style `corpus.jsonl` (`_id`, `text`, optional `title`) as the indexer's
    JSONL articles. Read here, not through `search.evaluation`, which the product
    never imports."""
    with (
        (corpus / "corpus.jsonl").open(encoding="utf-8") as source,
        target.open("w", encoding="utf-8") as articles,
    ):
        for line in source:
            if line.strip():
                doc = json.loads(line)
                article = {"id": doc["_id"], "text": doc["text"]}
                if doc.get("title"):
                    article["title"] = doc["title"]
                articles.write(json.dumps(article, ensure_ascii=False) + "\n")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m search.bench.build", description=__doc__)
    parser.add_argument("--corpus", type=Path, default=_XQUAD, help="a BEIR-style directory")
    parser.add_argument("--against", type=Path, help="another checkout, building in turns")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    other = None if args.against is None else args.against.resolve()
    checkouts = (_REPO_ROOT,) if other is None else (_REPO_ROOT, other)
    with tempfile.TemporaryDirectory(prefix="build-bench-corpus-") as scratch:
        articles = write_corpus_articles(args.corpus, Path(scratch) / "articles.jsonl")
        results = measure_builds(articles, rounds=args.rounds, checkouts=checkouts)
    for (checkout, state), runs in results.items():
        print(f"{checkout} ({state} export cache): {runs.describe()}")
        print(f"    stage medians, s: {runs.stage_medians()}")
    if other is not None:
        base = statistics.median(rate for s in ("cold", "warm") for rate in results[other, s].rates)
        print(f"the other checkout, every build: {base:.1f} passages/s (median)")
        for state in ("cold", "warm"):
            ratio = results[_REPO_ROOT, state].per_second / base
            print(f"this checkout, {state} export cache / the other: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
