"""Reading nbgrader's cell markup: which cell is an answer, a test, or the rest.

The masters in ``solutions/`` use nbgrader's own metadata (``schema_version`` 3)::

    answer cell: {"nbgrader": {"solution": true, "grade": false, "grade_id": "square", ...}}
    test cell:   {"nbgrader": {"grade": true, "solution": false, "points": 2,
                               "grade_id": "test_square", ...}}

Everything here reads notebooks; nothing writes them.
"""

from pathlib import Path

ANSWER, TEST, OTHER = "answer", "test", "other"
USES_SOLUTION = "uses-solution"  # a demo cell that calls the student's functions
RAISES_EXCEPTION = "raises-exception"  # tells nbval (and nbclient) the cell may fail


def nbgrader(cell):
    """The cell's nbgrader metadata (an empty dict when it has none)."""
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def grade_id(cell):
    """The cell's nbgrader grade_id, or None."""
    return nbgrader(cell).get("grade_id")


def role(cell):
    """ANSWER (solution=true), TEST (grade=true and solution=false) or OTHER."""
    meta = nbgrader(cell)
    if meta.get("solution"):
        return ANSWER
    if meta.get("grade"):
        return TEST
    return OTHER


def points(cell):
    """The points a test cell is worth (0 for any other cell)."""
    return float(nbgrader(cell).get("points", 0) or 0) if role(cell) == TEST else 0.0


def tags(cell):
    return list(cell.get("metadata", {}).get("tags", []))


def is_code(cell):
    return cell.get("cell_type") == "code"


def read(path):
    """The notebook at path, as nbformat version 4.

    Read without nbformat's upgrade within version 4: from 4.4 it would invent random cell ids,
    and a generated exercise must not change from one run to the next.
    """
    import nbformat  # imported here: `lstm-course --help` should not pay for it

    nb = nbformat.read(Path(path), as_version=nbformat.NO_CONVERT)
    return nb if nb.nbformat == 4 else nbformat.convert(nb, 4)


def by_grade_id(nb, wanted_role=None):
    """{grade_id: [cells with it, in notebook order]}, optionally of one role only."""
    found = {}
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid is not None and (wanted_role is None or role(cell) == wanted_role):
            found.setdefault(gid, []).append(cell)
    return found


def check_master(nb, name="master"):
    """Raise ValueError unless nb is a usable master: unique grade ids, tests in code cells.

    Args:
        nb: the master notebook. name: how to call it in the message (its file name).
    """
    seen = set()
    for index, cell in enumerate(nb.cells):
        gid = grade_id(cell)
        if role(cell) != OTHER and not gid:
            raise ValueError(f"{name}: cell {index} is an nbgrader {role(cell)} without grade_id")
        if gid in seen:
            raise ValueError(f"{name}: grade_id {gid!r} is used by more than one cell")
        if gid:
            seen.add(gid)
        if role(cell) == TEST and not is_code(cell):
            raise ValueError(
                f"{name}: test cell {gid!r} is a {cell.get('cell_type')} cell;"
                " the autograder runs code cells only"
            )
    if not any(role(cell) == TEST for cell in nb.cells):
        raise ValueError(f"{name}: no test cell (nbgrader grade=true, solution=false)")
