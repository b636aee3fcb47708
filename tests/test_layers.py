"""The meter library stays a plain Python library: no Home Assistant anywhere in it."""

from __future__ import annotations

import ast
from pathlib import Path
import subprocess
import sys

ROOT = Path(__file__).parent.parent
METERLIB = ROOT / "custom_components" / "energy_gateway" / "meterlib"


def test_no_homeassistant_import_in_source() -> None:
    """No module of meterlib names homeassistant in an import statement."""
    offenders = []
    for path in METERLIB.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "homeassistant"]
    assert offenders == []
    assert len(list(METERLIB.rglob("*.py"))) > 10


def test_meterlib_runs_without_homeassistant() -> None:
    """Every meterlib module imports in a fresh interpreter where homeassistant cannot load."""
    modules = sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for path in METERLIB.rglob("*.py")
        if path.name != "__main__.py"
    )
    script = (
        "import sys\n"
        "sys.modules['homeassistant'] = None  # any import of it now raises ImportError\n"
        "import importlib\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = [m for m, mod in sys.modules.items() if m.startswith('homeassistant') and mod]\n"
        "print(sorted(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def _import_graph(package: Path) -> dict[str, set[str]]:
    """Module -> modules of the same package it imports (TYPE_CHECKING imports included)."""
    top = package.name
    modules: dict[str, Path] = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package_parts = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    kept = package_parts[: len(package_parts) - (node.level - 1)]
                    base = ".".join([*kept, *([node.module] if node.module else [])])
                # `from pkg import sub` imports the submodule when one exists.
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            for target in targets:
                # A package is always loaded before its modules: an edge to an ancestor
                # (`from . import lists`) closes no circle.
                if name.startswith(f"{target}."):
                    continue
                if target.split(".")[0] == top and target in modules and target != name:
                    graph[name].add(target)
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of two or more modules (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_circle() -> None:
    """No module of the integration imports, however indirectly, a module that imports it."""
    graph = _import_graph(ROOT / "custom_components" / "energy_gateway")
    assert len(graph) > 40
    assert _circles(graph) == []


def test_circle_finder_finds_a_circle() -> None:
    """The finder itself: a planted circle of three and a self-contained chain."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _circles(graph) == [["a", "b", "c"]]


def test_graph_sees_the_old_errors_circle(tmp_path: Path) -> None:
    """The circle this test was written for (errors -> dlms.decoder -> security -> errors),
    planted in a throw-away package, TYPE_CHECKING import included."""
    package = tmp_path / "pkg"
    (package / "dlms").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "dlms" / "__init__.py").write_text("")
    (package / "errors.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .dlms.decoder import X\n"
    )
    (package / "dlms" / "decoder.py").write_text("from .. import security\nfrom . import lists\n")
    (package / "dlms" / "lists.py").write_text("")
    (package / "security.py").write_text("from .errors import DecodeError\n")
    assert _circles(_import_graph(package)) == [["pkg.dlms.decoder", "pkg.errors", "pkg.security"]]


def test_frame_layer_loads_alone() -> None:
    """Importing the HDLC frame finder does not load the DLMS decoder or its ciphering."""
    script = (
        "import sys\n"
        "import custom_components.energy_gateway.meterlib.dlms.hdlc\n"
        "print(sorted(m for m in sys.modules if m.endswith(('dlms.decoder', 'ciphering'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
