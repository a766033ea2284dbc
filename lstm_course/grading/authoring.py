"""Student copies from the masters: nbgrader's own preprocessors, then tags for nbval.

``exercises/NN_name.ipynb`` is generated from ``solutions/NN_name.ipynb`` (``make exercises``):

1. nbconvert's ``ClearMetadataPreprocessor`` drops cell metadata except nbgrader's, the tags
   and the lock flags (execution timestamps would otherwise survive; Markdown cells are
   cleaned the same way here), and notebook metadata except the kernel's;
2. nbgrader's ``ClearSolutions`` replaces each ``### BEGIN SOLUTION`` ... ``### END SOLUTION``
   region by ``# YOUR CODE HERE`` / ``raise NotImplementedError()``;
3. ``ClearHiddenTests`` deletes ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS``;
4. ``ClearOutput`` clears outputs and execution counts; ``LockCells`` makes tests and
   read-only cells non-editable and every graded cell non-deletable;
5. every test cell and every cell tagged ``uses-solution`` gets the tag ``raises-exception``,
   so ``pytest --nbval-lax`` passes on the blank copy (nbval accepts a tagged cell that raises
   and one that does not).

No database is involved (``enforce_metadata`` is off; ``check_markers`` does that job with
clearer messages). The output is a pure function of the master, so regenerating it is
byte-identical and a test can prove that ``exercises/`` is in sync with ``solutions/``.
"""

import copy
import re
from pathlib import Path

from lstm_course.grading import markup

SOLUTION_MARKERS = ("BEGIN SOLUTION", "END SOLUTION")
HIDDEN_MARKERS = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
# Cell metadata the student copy keeps (everything else, e.g. execution times, goes).
KEEP_CELL_METADATA = {"nbgrader", "tags", "editable", "deletable"}
KEEP_NOTEBOOK_METADATA = {"kernelspec", "language_info"}
_ID_CHARS = re.compile(r"[^A-Za-z0-9_-]")


def check_markers(nb, name="master"):
    """Raise ValueError if a solution or hidden-test region sits in the wrong kind of cell.

    nbgrader would silently blank a solution region in a cell without solution metadata; the
    autograder would then run the master's copy of that cell, which the student cannot change.
    """
    for index, cell in enumerate(nb.cells):
        source, kind = cell.get("source", ""), markup.role(cell)
        label = markup.grade_id(cell) or f"cell {index}"
        if any(m in source for m in SOLUTION_MARKERS) and kind != markup.ANSWER:
            raise ValueError(
                f"{name}: {label} has a solution region but is not an answer cell"
                ' (nbgrader metadata "solution": true)'
            )
        if any(m in source for m in HIDDEN_MARKERS) and kind != markup.TEST:
            raise ValueError(
                f"{name}: {label} has hidden tests but is not a test cell"
                ' (nbgrader metadata "grade": true, "solution": false)'
            )


def _ensure_ids(nb):
    """Give cells without an id (nbformat < 4.5) one derived from their place, not random."""
    for index, cell in enumerate(nb.cells):
        if not cell.get("id"):
            stem = _ID_CHARS.sub("-", markup.grade_id(cell) or "cell")[:50]
            cell["id"] = f"{stem}-{index}"
    nb["nbformat_minor"] = max(nb.get("nbformat_minor", 5), 5)


def _preprocessors():
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import ClearHiddenTests, ClearOutput, ClearSolutions, LockCells
    from traitlets.config import Config

    config = Config()
    config.ClearSolutions.enforce_metadata = False
    config.ClearHiddenTests.enforce_metadata = False
    config.ClearMetadataPreprocessor.preserve_cell_metadata_mask = KEEP_CELL_METADATA
    config.ClearMetadataPreprocessor.preserve_nb_metadata_mask = KEEP_NOTEBOOK_METADATA
    kinds = (ClearMetadataPreprocessor, ClearSolutions, ClearHiddenTests, ClearOutput, LockCells)
    return [kind(config=config) for kind in kinds]


def generate_exercise(master, name="master"):
    """The student copy of a master notebook (a new notebook; master is not modified).

    Args:
        master: the master notebook (nbformat v4 NotebookNode). name: its file name, for
            error messages.
    Returns:
        the exercise notebook.
    """
    import nbformat

    markup.check_master(master, name)
    check_markers(master, name)
    nb = copy.deepcopy(master)
    _ensure_ids(nb)
    resources = {}
    for preprocessor in _preprocessors():
        nb, resources = preprocessor.preprocess(nb, resources)
    for cell in nb.cells:
        # ClearMetadataPreprocessor only cleans code cells; Markdown gets the same treatment.
        meta = cell.get("metadata", {})
        cell["metadata"] = {key: meta[key] for key in sorted(meta) if key in KEEP_CELL_METADATA}
        if markup.role(cell) == markup.TEST or markup.USES_SOLUTION in markup.tags(cell):
            cell_tags = cell.setdefault("metadata", {}).setdefault("tags", [])
            if markup.RAISES_EXCEPTION not in cell_tags:
                cell_tags.append(markup.RAISES_EXCEPTION)
    return nbformat.from_dict(nb)


def notebook_text(nb):
    """nb as the exact text written to disk (nbformat's layout, one trailing newline)."""
    import nbformat

    return nbformat.writes(nb, version=4) + "\n"


def exercise_text(master_path):
    """The text of the exercise generated from the master at master_path."""
    master_path = Path(master_path)
    return notebook_text(generate_exercise(markup.read(master_path), master_path.name))


def generate_all(solutions_dir, exercises_dir, check_only=False):
    """Generate exercises_dir/NAME.ipynb from every solutions_dir/NAME.ipynb.

    Files already up to date are left untouched (same bytes, same modification time).

    Args:
        check_only: write nothing; just report which exercises are missing or stale.
    Returns:
        a list of (master path, exercise path, changed) with changed True when the exercise
        was (or, with check_only, would be) written.
    """
    solutions_dir, exercises_dir = Path(solutions_dir), Path(exercises_dir)
    if not solutions_dir.is_dir():
        raise FileNotFoundError(f"no solutions folder at {solutions_dir}")
    results = []
    for master in sorted(solutions_dir.glob("*.ipynb")):
        target = exercises_dir / master.name
        text = exercise_text(master)
        changed = not target.exists() or target.read_text(encoding="utf-8") != text
        if changed and not check_only:
            exercises_dir.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        results.append((master, target, changed))
    return results
