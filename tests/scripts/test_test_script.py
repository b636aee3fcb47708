"""scripts/test never passes having run nothing: a release it cannot set up fails the run."""

from __future__ import annotations

from pathlib import Path
import subprocess

ROOT = Path(__file__).parents[2]


def _run(
    tmp_path: Path, *args: str, tool: Path, ci: bool = False
) -> subprocess.CompletedProcess[str]:
    # A PATH and HOME with no Python 3.14 anywhere, so the script must turn to the root builder.
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PY314_TOOL": str(tool),
        **({"CI": "true"} if ci else {}),
    }
    return subprocess.run(
        ["bash", "scripts/test", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def _failing_tool(tmp_path: Path) -> Path:
    tool = tmp_path / "py314"
    tool.write_text("#!/bin/sh\necho 'debootstrap: cannot reach the mirror' >&2\nexit 2\n")
    tool.chmod(0o755)
    return tool


def test_latest_fails_with_the_builders_reason(tmp_path: Path) -> None:
    """The Python 3.14 root cannot be built: the run says why, shows the tool's output, fails."""
    result = _run(tmp_path, "--latest", tool=_failing_tool(tmp_path))
    assert result.returncode != 0
    assert "building the Python 3.14 root failed" in result.stderr
    assert "cannot reach the mirror" in result.stderr


def test_latest_fails_without_a_builder(tmp_path: Path) -> None:
    """No builder at all: a clear reason and a failing exit status."""
    result = _run(tmp_path, "--latest", tool=tmp_path / "missing")
    assert result.returncode != 0
    assert "Cannot test Home Assistant" in result.stderr


def test_ci_refuses_a_single_release(tmp_path: Path) -> None:
    """Under CI both releases must run: asking for one fails before anything runs."""
    result = _run(tmp_path, "--floor", tool=_failing_tool(tmp_path), ci=True)
    assert result.returncode == 2
    assert "both Home Assistant releases" in result.stderr


def test_latest_fails_when_the_root_cannot_see_the_checkout(tmp_path: Path) -> None:
    """The root builds but shows no checkout at this path: the run names it and fails."""
    tool = tmp_path / "py314"
    tool.write_text(
        "#!/bin/sh\n"
        'case "$1" in\n'
        "  setup) exit 0 ;;\n"
        f"  path) echo {tmp_path / 'root'} ;;\n"
        "  run) exit 1 ;;\n"
        "esac\n"
    )
    tool.chmod(0o755)
    result = _run(tmp_path, "--latest", tool=tool)
    assert result.returncode != 0
    assert "does not show this checkout" in result.stderr
