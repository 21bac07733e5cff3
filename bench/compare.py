"""`python -m bench.compare A.json B.json`: each figure in either file, its value in A and in B, the change.

The change is B - A, absolute and as a percentage of A; rows are sorted by figure name. A figure that
is in one file only shows `-` for the other value and for the change. `bench/run.py` prints the same
table against `bench/results.previous.json` after each run.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

Figures = Mapping[str, object]


def load(path: Path) -> dict[str, object]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a JSON object of figures")
    return data


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _shown(value: object) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def change_rows(before: Figures, after: Figures, names: Iterable[str] | None = None) -> list[list[str]]:
    """[figure, before, after, absolute change, % change] per figure, sorted by name."""
    rows = []
    for name in sorted(set(names) if names is not None else set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        absolute = percent = "-"
        old_number, new_number = _number(old), _number(new)
        if old_number is not None and new_number is not None:
            absolute = f"{new_number - old_number:+.4g}"
            if old_number != 0:
                percent = f"{(new_number - old_number) / abs(old_number) * 100:+.1f}%"
        rows.append([name, _shown(old), _shown(new), absolute, percent])
    return rows


def format_changes(
    before: Figures,
    after: Figures,
    names: Iterable[str] | None = None,
    headers: tuple[str, str] = ("A", "B"),
) -> str:
    """The change table as aligned text (first column left-aligned, numbers right-aligned)."""
    table = [["figure", headers[0], headers[1], "change", "%"], *change_rows(before, after, names)]
    widths = [max(len(row[column]) for row in table) for column in range(5)]
    lines = []
    for row in table:
        numbers = zip(row[1:], widths[1:], strict=True)
        cells = [row[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in numbers]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m bench.compare A.json B.json", file=sys.stderr)
        return 2
    try:
        before, after = load(Path(argv[0])), load(Path(argv[1]))
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(format_changes(before, after, headers=(Path(argv[0]).name, Path(argv[1]).name)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
