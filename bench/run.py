"""`make bench`: run every scenario, print a table, write `bench/results.json` (one flat object).

Figures are measurements, not pass/fail: compare runs before and after a change to a hot path.
Run one scenario with `python -m bench.run dispatch`. Before writing, the existing results.json is
moved to `bench/results.previous.json` and this run's figures are printed against it; figures of
scenarios not run this time are carried over. `python -m bench.compare A.json B.json` compares any
two files. See bench/README.md.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench.compare import format_changes

RESULTS = Path(__file__).resolve().parent / "results.json"
PREVIOUS = RESULTS.with_name("results.previous.json")

# name -> "module:function"; the function returns {figure: number}, sync or async.
SCENARIOS: dict[str, str] = {
    "dispatch": "bench.dispatch:run_dispatch_bench",
    "answer": "bench.answer:run_answer_bench",
    "fanout": "bench.fanout:run_fanout_bench",
    "inbound": "bench.inbound:run_inbound_bench",
    "events": "bench.events:run_events_bench",
    "matching": "bench.matching:run_matching_bench",
}


def _load(target: str) -> Callable[[], dict[str, float] | Awaitable[dict[str, float]]]:
    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]


def main(argv: list[str]) -> int:
    chosen = argv or list(SCENARIOS)
    unknown = [name for name in chosen if name not in SCENARIOS]
    if unknown:
        print(f"unknown scenario(s) {unknown}; known: {sorted(SCENARIOS)}", file=sys.stderr)
        return 2
    figures: dict[str, float] = {}
    for name in chosen:
        started = time.perf_counter()
        try:
            result = _load(SCENARIOS[name])()
        except ModuleNotFoundError as error:
            print(f"{name}: skipped ({error})", file=sys.stderr)
            continue
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
        assert isinstance(result, dict)
        figures.update(result)
        print(f"{name}: done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    width = max((len(key) for key in figures), default=10)
    print(f"{'figure':<{width}}  value")
    for key, value in figures.items():
        print(f"{key:<{width}}  {value:.4g}" if isinstance(value, float) else f"{key:<{width}}  {value}")
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if RESULTS.exists():
        RESULTS.replace(PREVIOUS)
    RESULTS.write_text(json.dumps({**previous, **figures}, indent=2, sort_keys=True) + "\n")
    if previous:
        print(f"\nchange against {PREVIOUS.name}")
        print(format_changes(previous, figures, names=figures, headers=("previous", "now")))
    print(f"written to {RESULTS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
