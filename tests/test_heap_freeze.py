"""`serve` freezes its loaded heap (`search.heap`), and a reload unfreezes it.

Each check runs in a fresh interpreter: `gc.freeze` acts on the whole process,
and the test worker's own heap must stay as it is.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.fast


def _run(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_only_a_server_freezes_and_a_reload_unfreezes_for_good() -> None:
    out = _run(
        """
        import gc
        from search.heap import freeze_loaded, freeze_startup, unfreeze_for_reload

        freeze_loaded()
        print("library", gc.get_freeze_count())
        freeze_startup()
        started = gc.get_freeze_count()
        print("startup", started > 0)
        later = [[n] for n in range(1000)]  # what a background load leaves
        freeze_loaded()
        print("loaded", gc.get_freeze_count() > started)
        unfreeze_for_reload()
        print("reload", gc.get_freeze_count())
        freeze_loaded()
        print("after", gc.get_freeze_count())
        """
    )
    assert out.split("\n")[:5] == [
        "library 0",
        "startup True",
        "loaded True",
        "reload 0",
        "after 0",
    ]


def test_a_reload_leaves_the_replaced_generation_collectable(tmp_path: Path) -> None:
    """The replaced generation has reference cycles: frozen, its metadata store's
    connections would stay open for good (8 of them; checked by disabling the
    unfreeze)."""
    out = _run(
        """
        import gc, os, sys
        from pathlib import Path
        from search.engine import SearchEngine
        from search.models import SearchRequest
        from tests.corpus import write_corpus
        from tests.fake_encoder import FakeEncoder, build_fake_index

        work = Path(sys.argv[1])
        corpus, index, encoder = write_corpus(work / "corpus"), work / "index", FakeEncoder()
        build_fake_index([corpus], index, encoder=encoder)
        engine = SearchEngine(index, encoder=encoder)
        engine.search(SearchRequest(query="hurricane"))
        old_store = str(engine._generation.current.snapshot.paths.root / "metadata.sqlite")
        engine.freeze_heap()
        (corpus / "en" / "volcano.txt").write_text("Volcano erupts\\n\\nLava flows.", "utf-8")
        build_fake_index([corpus], index, encoder=encoder)
        assert engine.reload_if_changed()
        engine.search(SearchRequest(query="volcano"))
        gc.collect()
        held = [fd for fd in os.listdir("/proc/self/fd")
                if os.path.realpath(f"/proc/self/fd/{fd}") == os.path.realpath(old_store)]
        print("frozen", gc.get_freeze_count(), "old store connections", len(held))
        """,
        str(tmp_path),
    )
    assert out.strip() == "frozen 0 old store connections 0"
