"""Run the benchmarks and print one JSON object per figure.

    python benchmarks/run.py [--rounds N] [NAME...]

Every `benchmarks/bench_*.py` module exposes

    def figures(wanted: Callable[[str], bool]) -> list[dict[str, object]]

returning one dict per measured figure with the keys `name`, `unit`, `ours`, `anchor` (what we
compare against) and `anchor_value`, plus optional `higher_is_better` (default False, as for
times). A module should skip figures for which `wanted(name)` is False, since measuring takes
time. This runner adds `ratio`: how many times better we are than the anchor (> 1 = ahead).

NAME selects figures by name (`p1_parse_dsmr5`) or whole modules (`bench_p1` or `p1`); shell
patterns work (`'p1_parse_*'`). Without NAME everything runs.

Each module runs `--rounds` times (default 3), one round after the other, and each figure
keeps its best result of the rounds, ours and the anchor's each: a figure is only inflated
when the machine was busy during every round, seconds apart (on a shared host, neighbours
come and go in bursts that can outlast a whole measurement).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fnmatch import fnmatchcase
import importlib
import json
from pathlib import Path
import sys
from typing import Any

HERE = Path(__file__).resolve().parent
OUTPUT_KEYS = ("name", "unit", "ours", "anchor", "anchor_value", "ratio")
ROUNDS = 3


def _matches(name: str, patterns: Sequence[str]) -> bool:
    """A pattern is a glob, and a plain word also selects every name it starts."""
    return any(fnmatchcase(name, pattern) or name.startswith(pattern) for pattern in patterns)


def _module_names() -> list[str]:
    return sorted(path.stem for path in HERE.glob("bench_*.py"))


def _ratio(figure: dict[str, Any]) -> float | None:
    """None when undefined: a count of 0 where lower is better (nothing lost) has no ratio."""
    ours, anchor = float(figure["ours"]), float(figure["anchor_value"])
    if figure.get("higher_is_better", False):
        return ours / anchor if anchor else None
    return anchor / ours if ours else None


def run(patterns: Sequence[str], rounds: int = ROUNDS) -> list[dict[str, Any]]:
    """Measure the selected figures, in module order, each the best of `rounds` rounds."""
    for path in (str(HERE), str(HERE.parent)):
        if path not in sys.path:
            sys.path.insert(0, path)
    results = []
    for module_name in _module_names():
        short = module_name.removeprefix("bench_")
        whole = not patterns or _matches(module_name, patterns) or _matches(short, patterns)
        wanted: Callable[[str], bool] = (
            (lambda _name: True) if whole else (lambda name: _matches(name, patterns))
        )
        module = importlib.import_module(module_name)
        if not hasattr(module, "figures"):
            print(f"{module_name}: no figures() function, skipped", file=sys.stderr)
            continue
        best: dict[str, dict[str, Any]] = {}
        for _ in range(rounds):
            for figure in module.figures(wanted):
                if wanted(str(figure["name"])):
                    _keep_best(best, figure)
        for figure in best.values():
            result = {key: figure[key] for key in OUTPUT_KEYS[:-1]}
            ratio = _ratio(figure)
            result["ratio"] = None if ratio is None else round(ratio, 2)
            results.append(result)
            print(json.dumps(result), flush=True)
    return results


def _keep_best(best: dict[str, dict[str, Any]], figure: dict[str, Any]) -> None:
    """Merge one round's figure into the best so far (ours and the anchor's separately)."""
    kept = best.get(str(figure["name"]))
    if kept is None:
        best[str(figure["name"])] = dict(figure)
        return
    pick = max if figure.get("higher_is_better", False) else min
    for key in ("ours", "anchor_value"):
        kept[key] = pick(kept[key], figure[key])


def main(argv: Sequence[str]) -> int:
    """Entry point: run, print, and fail when a NAME matched nothing."""
    patterns = list(argv)
    rounds = ROUNDS
    if "--rounds" in patterns:
        at = patterns.index("--rounds")
        rounds = int(patterns[at + 1])
        del patterns[at : at + 2]
    results = run(patterns, rounds)
    if patterns and not results:
        print(f"no benchmark figure matches {' '.join(patterns)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
