"""A small synthetic master notebook for the grading tests, and student versions of it.

Three questions (``square``: 2 points; ``cube``: 3 points, split over a visible and a hidden
test cell; ``mean_square``, which calls ``square``: 1 point) checked
with the course's own ``lstm_course.checks._common`` (so feedback is a real ``CheckError``),
a demo cell tagged ``uses-solution``, and no torch: a kernel runs it in about a second.
"""

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

SQUARE = '''def square(x):
    """x squared."""
    ### BEGIN SOLUTION
    return x * x
    ### END SOLUTION'''

CUBE = '''def cube(x):
    """x to the third power."""
    ### BEGIN SOLUTION
    return x * x * x
    ### END SOLUTION'''

TEST_SQUARE = """from lstm_course.checks._common import call, compare

compare("square(3.0)", call(square, "square", 3.0), 9.0)
### BEGIN HIDDEN TESTS
compare("square(-2.0)", call(square, "square", -2.0), 4.0)
### END HIDDEN TESTS"""

TEST_CUBE = """from lstm_course.checks._common import call, compare

compare("cube(2.0)", call(cube, "cube", 2.0), 8.0)"""

MEAN_SQUARE = '''def mean_square(xs):
    """The mean of square(x) over the list xs."""
    ### BEGIN SOLUTION
    return sum(square(x) for x in xs) / len(xs)
    ### END SOLUTION'''

TEST_MEAN_SQUARE = """from lstm_course.checks._common import call, compare

compare("mean_square([1.0, 3.0])", call(mean_square, "mean_square", [1.0, 3.0]), 5.0)"""

TEST_CUBE_HIDDEN = """from lstm_course.checks._common import call, compare

### BEGIN HIDDEN TESTS
compare("cube(-1.5)", call(cube, "cube", -1.5), -3.375)
### END HIDDEN TESTS"""

POINTS = {"test_square": 2.0, "test_cube": 2.0, "test_cube_hidden": 1.0, "test_mean_square": 1.0}
TOTAL = sum(POINTS.values())


def _meta(grade_id, *, solution=False, grade=False, points=None, locked=True):
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def answer(grade_id, source):
    return new_code_cell(source, metadata=_meta(grade_id, solution=True, locked=False))


def test(grade_id, source):
    return new_code_cell(source, metadata=_meta(grade_id, grade=True, points=POINTS[grade_id]))


def master():
    """The toy master notebook (a fresh object every call)."""
    demo = new_code_cell("print(square(4.0) + cube(1.0))", metadata=_meta("demo"))
    demo.metadata["tags"] = ["uses-solution"]
    cells = [
        new_markdown_cell("# A toy exercise\n\nTwo functions.", metadata=_meta("intro")),
        new_code_cell("import math\n\nTAU = 2 * math.pi", metadata=_meta("setup")),
        answer("square", SQUARE),
        test("test_square", TEST_SQUARE),
        answer("cube", CUBE),
        test("test_cube", TEST_CUBE),
        test("test_cube_hidden", TEST_CUBE_HIDDEN),
        demo,
        answer("mean_square", MEAN_SQUARE),
        test("test_mean_square", TEST_MEAN_SQUARE),
    ]
    for index, cell in enumerate(cells):
        cell["id"] = f"toy-{index}"
        cell.metadata["execution"] = {"iopub.status.busy": "2025-01-01T00:00:00"}  # cleared
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["jupytext"] = {"formats": "ipynb"}  # not copied to the exercise
    return nb


def write(nb, path):
    nbformat.write(nb, path)
    return path


def with_answers(exercise, **sources):
    """A copy of the exercise with the given answer cells' sources, e.g. square="def ...".

    Note that a copy of a notebook keeps each cell's nbgrader metadata, as Jupyter does.
    """
    nb = nbformat.from_dict(exercise)
    nb = nbformat.reads(nbformat.writes(nb), as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in sources:
            cell.source = sources[gid]
    return nb


def cell_with(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
