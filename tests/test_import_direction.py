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

pytestmark = pytest.mark.fast

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


# -- inside `search`: the core knows nothing of HTTP, interfaces go through the engine --

SEARCH = REPO_ROOT / "search"
# Modules that face people or programs: they parse input, call the engine, render.
INTERFACES = frozenset(
    {"api", "app", "web", "params", "http_errors", "rendering", "schemas", "cli", "bench",
     "change_bench",
     "background_server", "__main__", "search_page", "article_page", "result_view",
     "page_urls", "i18n", "export", "docs", "write_api", "scale_bench", "scale_figures",
     "server_process", "sibling_processes", "http_protocol", "json_body", "lean_route"}
)  # fmt: skip
# What an interface may import from the core: `writer` is the surface of its writes.
CORE_SURFACE = frozenset({"engine", "models", "errors", "settings", "wiring", "writer"})
# (interface, core module): pure core functions the benchmark times on their own,
# as the tests do (`make bench`: fusion of 2 x 100 candidates).
MEASURED_ALONE = frozenset({("bench", "fusion")})
WEB_FRAMEWORKS = ("fastapi", "starlette", "jinja2", "markupsafe", "uvicorn", "httpx")


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in the file (functions included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def search_modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(SEARCH.rglob("*.py"))}


def _short(module: str) -> str:
    return module.removeprefix("search.").split(".")[0]


def test_interfaces_reach_the_core_only_through_its_surface() -> None:
    wrong = []
    for name, path in search_modules().items():
        layer = _short(name)
        if layer not in INTERFACES and layer != "evaluation":
            continue
        for module in _imports(path):
            if not module.startswith("search.") or module.startswith("search.evaluation"):
                continue
            target = _short(module)
            if target in INTERFACES or target in CORE_SURFACE:
                continue
            if (layer, target) not in MEASURED_ALONE:
                wrong.append(f"{name} imports {module}")
    assert wrong == []


def test_the_core_imports_no_web_framework_and_no_interface() -> None:
    wrong = []
    for name, path in search_modules().items():
        if _short(name) in INTERFACES or _short(name) == "evaluation" or name == "search":
            continue
        for module in _imports(path):
            if module.split(".")[0] in WEB_FRAMEWORKS:
                wrong.append(f"{name} imports {module}")
            if module.startswith("search.") and _short(module) in INTERFACES:
                wrong.append(f"{name} imports the interface {module}")
    assert wrong == []


def test_no_import_cycles_in_search() -> None:
    modules = search_modules()
    graph = {
        name: {m for m in _imports(path) if m in modules and m != name}
        for name, path in modules.items()
    }
    cycles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_the_rules_would_catch_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from fastapi import FastAPI\nimport search.lexical\n")
    assert _imports(bad) == {"fastapi", "search.lexical"}


def test_the_package_exports_exactly_its_public_names() -> None:
    import search

    assert search.__all__ == [
        "ArticleView", "EngineOptions", "Health", "SearchEngine", "SearchError",
        "SearchRequest", "SearchResponse", "SearchResult", "ServiceSettings",
        "build_engine", "create_app",
    ]  # fmt: skip
    for name in search.__all__:
        assert getattr(search, name).__name__ == name
    with pytest.raises(AttributeError):
        _ = search.LexicalRetriever  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(search_modules()), ids=str)
def test_every_search_module_declares_its_public_names(name: str) -> None:
    path = search_modules()[name]
    if path.name == "__main__.py":
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assigned = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert "__all__" in assigned, f"{name} has no __all__"
