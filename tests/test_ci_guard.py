"""Under CI a missing required part stops the run loudly, never turning tests into skips."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.fast


def _pytest(
    tmp_path: Path, *, ci: str, extra: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir(exist_ok=True)
    env = {**os.environ, "CI": ci, "PATH": str(empty_bin)}  # no Apertium programs on PATH
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra,
         "tests/test_grouping.py"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_ci_without_apertium_fails_naming_it(tmp_path: Path) -> None:
    result = _pytest(tmp_path, ci="true")
    assert result.returncode == 3, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "CI=true and required parts are missing" in output
    assert "Apertium (apt-get install apertium apertium-eng-spa" in output


def test_outside_ci_the_same_run_goes_on(tmp_path: Path) -> None:
    result = _pytest(tmp_path, ci="")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed" in result.stdout
