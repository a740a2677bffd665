"""One direction of imports: `search` may use `indexer`, `indexer` never uses `search`.

Checked statically (every import statement in indexer/, including ones inside
functions and `TYPE_CHECKING` blocks) and at run time (importing every indexer
module loads no `search` module).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
INDEXER = REPO_ROOT / "indexer"
FORBIDDEN = "search"


def forbidden_imports(source: str, filename: str = "<string>") -> list[str]:
    """`line: statement` for each import of the `search` package in `source`."""
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level >= 2:  # beyond `indexer`: the top level, where `search` lives
                modules = [node.module or alias.name for alias in node.names]
            elif node.level == 0 and node.module:
                modules = [node.module]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            modules = [node.args[0].value]
        for module in modules:
            if module == FORBIDDEN or module.startswith(FORBIDDEN + "."):
                found.append(f"{getattr(node, 'lineno', '?')}: {ast.unparse(node)}")
    return found


def indexer_modules() -> list[Path]:
    return sorted(INDEXER.rglob("*.py"))


def test_there_are_modules_to_check() -> None:
    names = {p.name for p in indexer_modules()}
    assert {"build.py", "cli.py", "analysis.py", "encoder.py", "layout.py"} <= names


@pytest.mark.parametrize("path", indexer_modules(), ids=lambda p: p.name)
def test_indexer_module_does_not_import_search(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert forbidden_imports(source, str(path)) == []


@pytest.mark.parametrize(
    "statement",
    [
        "import search",
        "import search.retrieval as retrieval",
        "from search import app",
        "from search.fusion import fuse",
        "def f():\n    from search.api import create_app",
        "if TYPE_CHECKING:\n    from search.engine import Engine",
        "import importlib\nimportlib.import_module('search.engine')",
        "from .. import search",
    ],
)
def test_the_check_catches_every_form(statement: str) -> None:
    assert forbidden_imports(statement), statement


@pytest.mark.parametrize(
    "statement",
    [
        "import indexer.search_helpers",
        "from indexer.analysis import build_schema",
        "from . import searching",
        "import researcher",
        "from searchlight import x",
    ],
)
def test_the_check_allows_lookalikes(statement: str) -> None:
    assert forbidden_imports(statement) == []


def test_importing_every_indexer_module_loads_no_search_module() -> None:
    modules = [
        "indexer." + p.relative_to(INDEXER).with_suffix("").as_posix().replace("/", ".")
        for p in indexer_modules()
        if p.name not in ("__init__.py", "__main__.py")
    ]
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'search' or m.startswith('search.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip() == "[]"
