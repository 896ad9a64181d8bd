"""The rooms of the package stay honest: who may import what (DESIGN.md, Layout).

Every module's imports are read with ``ast`` (nothing is imported), at the top
level and inside functions; imports under ``if TYPE_CHECKING:`` are for
annotations and do not count. The rules:

- ``report/``, ``analyses/`` and ``alignment/`` never import torch, neither
  themselves nor through the attnprobe modules they import at the top level;
- ``capturing/`` imports no model family (``attnprobe.models.*``): models come
  to it through the model interface;
- only ``cli/`` (and ``pipeline/`` itself) imports ``attnprobe.pipeline``;
  ``attnprobe/__init__`` names it in its lazy table, as strings;
- the imports between attnprobe modules have no cycle: at the top level (an
  import-time cycle), nor counting the imports deferred into functions.

A case that fails because of code being rewritten elsewhere is marked
``xfail(strict=True)`` with the module's name: when it is fixed the test says so.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from conftest import ROOT

PACKAGE = ROOT / "attnprobe"


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def read_imports(path: Path, root: Path = ROOT) -> dict[str, set[str]]:
    """``{"top": {...}, "inner": {...}}``: the modules ``path`` imports, by where it imports them.

    ``from a.b import c`` counts as importing ``a.b``, and ``a.b.c`` too when
    that is a module of the package (``from attnprobe.capturing import edits``).
    """
    module = module_name(path, root)
    found: dict[str, set[str]] = {"top": set(), "inner": set()}

    def visit(node: ast.AST, where: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other, where)
                continue
            inside = "inner" if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else where
            if isinstance(child, ast.Import):
                found[inside].update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = _absolute(child, module, path.name == "__init__.py")
                found[inside].add(base)
                for alias in child.names:
                    if f"{base}.{alias.name}" in MODULES:
                        found[inside].add(f"{base}.{alias.name}")
            visit(child, inside)

    visit(ast.parse(path.read_text(encoding="utf-8")), "top")
    return found


MODULES: dict[str, Path] = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
IMPORTS = {name: read_imports(path) for name, path in MODULES.items()}


def in_room(name: str, room: str) -> bool:
    return name == room or name.startswith(room + ".")


def ours(names) -> set[str]:
    """The attnprobe modules among imported names (``attnprobe.x.y`` -> itself or a parent)."""
    out = set()
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if in_room(name, "attnprobe"):
            out.add(name)
    return out


def every_import(name: str) -> set[str]:
    return IMPORTS[name]["top"] | IMPORTS[name]["inner"]


def rooms(*prefixes: str) -> list[str]:
    return [m for m in MODULES if any(in_room(m, p) for p in prefixes)]


def xfail_for(names: list[str], known: dict[str, str]) -> list:
    """Parameters for ``names``, the ``known`` failures marked strict xfail with their reason."""
    return [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=known[n])) if n in known else n
        for n in names
    ]


def test_the_reader_sees_top_level_function_level_and_relative_imports(tmp_path):
    (tmp_path / "attnprobe" / "report").mkdir(parents=True)
    p = tmp_path / "attnprobe" / "report" / "x.py"
    p.write_text(
        "from typing import TYPE_CHECKING\n"
        "import numpy as np\n"
        "from . import html\n"
        "from ..results import Results\n"
        "if TYPE_CHECKING:\n"
        "    import torch\n"
        "def f():\n"
        "    from torch import nn\n"
        "    import attnprobe.models.wrap\n"
    )
    found = read_imports(p, root=tmp_path)
    assert found["top"] == {
        "typing",
        "numpy",
        "attnprobe.report",
        "attnprobe.report.html",
        "attnprobe.results",
    }
    assert found["inner"] == {"torch", "attnprobe.models.wrap"}


# ---------------------------------------------------------------- torch-free rooms

TORCH_FREE = rooms("attnprobe.report", "attnprobe.analyses", "attnprobe.alignment")


def imports_torch(names) -> bool:
    return any(in_room(n, "torch") or in_room(n, "captum") for n in names)


def top_level_closure(name: str) -> set[str]:
    """Every attnprobe module that importing ``name`` imports (top level, transitively)."""
    seen, todo = set(), [name]
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo.extend(ours(IMPORTS[m]["top"]))
    return seen


@pytest.mark.parametrize("name", TORCH_FREE)
def test_report_analyses_and_alignment_never_import_torch(name):
    assert not imports_torch(every_import(name)), f"{name} imports torch"
    through = [m for m in top_level_closure(name) if imports_torch(IMPORTS[m]["top"])]
    assert through == [], f"{name} imports torch through {through}"


# ---------------------------------------------------------------- capturing

#: capturing/ modules that still import model families (being rewritten around the interface)
CAPTURING_KNOWN: dict[str, str] = {}  # capture knows models only through the interface


@pytest.mark.parametrize("name", xfail_for(rooms("attnprobe.capturing"), CAPTURING_KNOWN))
def test_capturing_imports_no_model_family(name):
    families = sorted(m for m in ours(every_import(name)) if in_room(m, "attnprobe.models"))
    assert families == [], f"{name} imports {families}"


# ---------------------------------------------------------------- pipeline


@pytest.mark.parametrize(
    "name",
    [m for m in MODULES if not any(in_room(m, r) for r in ("attnprobe.cli", "attnprobe.pipeline"))],
)
def test_only_the_cli_imports_the_pipeline(name):
    found = sorted(m for m in ours(every_import(name)) if in_room(m, "attnprobe.pipeline"))
    assert found == [], f"{name} imports {found}"


def test_the_readme_needs_only_import_attnprobe():
    """Users reach everything through the public API: the README imports no internal module."""
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    internal = []
    for block in blocks:
        for node in ast.walk(ast.parse(block)):
            if isinstance(node, ast.Import):
                internal += [a.name for a in node.names if a.name.startswith("attnprobe.")]
            elif isinstance(node, ast.ImportFrom) and in_room(node.module or "", "attnprobe"):
                internal.append(node.module)
    assert blocks and internal == []


def test_every_public_name_resolves():
    import attnprobe

    for name in attnprobe.__all__:
        assert getattr(attnprobe, name) is not None, name
    assert attnprobe.edits.uniform and "edits" in dir(attnprobe)


def test_the_lazy_public_api_names_the_pipeline_without_importing_it():
    import attnprobe

    assert "attnprobe.pipeline.driver" in attnprobe._EXPORTS.values()
    assert not ours(every_import("attnprobe"))


# ---------------------------------------------------------------- cycles


def find_cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """The strongly connected components of two or more nodes (Tarjan's algorithm), sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            connect(v)
    return sorted(found)


def test_the_cycle_finder():
    graph = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a", "d"], "e": ["f"], "f": ["e"]}
    assert find_cycles(graph) == [["a", "b", "c"], ["e", "f"]]
    assert find_cycles({"a": ["b"], "b": [], "c": ["a", "b"]}) == []


def import_graph(levels: tuple[str, ...]) -> dict[str, list[str]]:
    return {m: sorted(ours(set().union(*(IMPORTS[m][k] for k in levels))) - {m}) for m in MODULES}


def test_no_import_cycle_at_top_level():
    assert find_cycles(import_graph(("top",))) == []


def test_no_import_cycle_through_function_level_imports_either():
    """Every arrow points one way, also where an import is deferred for speed
    (results.py renders itself through report/, so report/ may not import results.py)."""
    assert find_cycles(import_graph(("top", "inner"))) == []
