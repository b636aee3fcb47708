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
