"""Notebook run times from the nbval run: the table behind the README's "CPU time" column.

nbval turns each notebook cell into a pytest item, so a notebook's run time is the sum of its
items' durations (set-up, which starts the kernel, call and tear-down). At the end of a run
that executed notebooks, this prints one row per notebook and writes the same table to
``build/notebook-times.md`` and the raw numbers to ``build/notebook-times.json``.
Unit-test runs (no notebooks) print and write nothing.
"""

import json
import os
from collections import defaultdict
from pathlib import Path

OUT_DIR = Path(__file__).resolve().parent / "build"
_seconds = defaultdict(float)  # notebook path -> seconds summed over its cells' phases
_failed = set()  # notebooks with a failing cell


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::", 1)[0]
    if not path.endswith(".ipynb"):
        return
    _seconds[path] += report.duration
    if report.failed:
        _failed.add(path)


def notebook_table(seconds, failed=()):
    """Markdown rows ``| notebook | seconds | status |``, in path order, and a total row."""
    lines = ["| notebook | run time (s) | status |", "|---|---:|---|"]
    for path in sorted(seconds):
        status = "failed" if path in failed else "passed"
        lines.append(f"| `{path}` | {seconds[path]:.0f} | {status} |")
    lines.append(f"| all {len(seconds)} notebooks | {sum(seconds.values()):.0f} | |")
    return "\n".join(lines)


def pytest_terminal_summary(terminalreporter):
    if not _seconds:
        return
    threads = os.environ.get("OMP_NUM_THREADS", "default")
    table = notebook_table(_seconds, _failed)
    terminalreporter.write_sep("=", f"notebook run times (OMP_NUM_THREADS={threads})")
    terminalreporter.write_line(table)
    OUT_DIR.mkdir(exist_ok=True)
    (OUT_DIR / "notebook-times.md").write_text(
        f"Notebook run times from the last nbval run (OMP_NUM_THREADS={threads}).\n\n"
        + table
        + "\n"
    )
    rows = {p: {"seconds": round(s, 2), "failed": p in _failed} for p, s in _seconds.items()}
    (OUT_DIR / "notebook-times.json").write_text(json.dumps(rows, indent=1, sort_keys=True))
