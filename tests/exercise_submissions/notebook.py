"""Run a master exercise notebook in-process, with answer cells replaced: which tests fail.

A light stand-in for the autograder, for the unit tests of the checks: the code cells run in
order in one namespace (the demo cells tagged ``uses-solution`` are skipped: they train
models); each test cell's CheckError or other exception is recorded, not raised.
"""

import contextlib
import io
import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = Path(__file__).resolve().parent
_SOLUTION = re.compile(r"( *)### BEGIN SOLUTION\n.*?### END SOLUTION", re.S)


def master(name):
    """solutions/<name>.ipynb, e.g. master("01_rnn_bptt")."""
    return nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)


def _nbgrader(cell):
    return cell.metadata.get("nbgrader", {})


def answers(nb):
    """{grade_id: source} of the answer cells."""
    return {_nbgrader(c)["grade_id"]: c.source for c in nb.cells if _nbgrader(c).get("solution")}


def tests(nb):
    """{grade_id: (source, points)} of the test cells."""
    return {
        _nbgrader(c)["grade_id"]: (c.source, _nbgrader(c)["points"])
        for c in nb.cells
        if _nbgrader(c).get("grade") and not _nbgrader(c).get("solution")
    }


def blank(source):
    """The answer cell as the student copy has it: each solution region becomes a stub."""
    return _SOLUTION.sub(r"\1# YOUR CODE HERE\n\1raise NotImplementedError()", source)


def run(nb, replace=None):
    """{test grade_id: None if it passed, else "ExceptionName: message"}.

    Args:
        replace: {answer grade_id: the source to run instead}.
    """
    replace = replace or {}
    namespace, results = {}, {}
    for cell in nb.cells:
        if cell.cell_type != "code" or "uses-solution" in cell.metadata.get("tags", []):
            continue
        meta = _nbgrader(cell)
        source = replace.get(meta.get("grade_id"), cell.source)
        if meta.get("grade") and not meta.get("solution"):
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    exec(compile(source, meta["grade_id"], "exec"), namespace)
                results[meta["grade_id"]] = None
            except Exception as error:  # a failing test cell is an outcome, not a crash
                results[meta["grade_id"]] = f"{type(error).__name__}: {error}"
        else:
            exec(compile(source, meta.get("grade_id", "cell"), "exec"), namespace)
    return results


def submissions(name):
    """[(path, answer grade_id, failing test ids, message regex, source)] for one exercise."""
    found = []
    for path in sorted((SUBMISSIONS / name).glob("*.py")):
        source = path.read_text()
        header = dict(re.findall(r"^# (answer|fails|message): (.*)$", source, re.M))
        found.append((path, header["answer"], header["fails"].split(), header["message"], source))
    return found
