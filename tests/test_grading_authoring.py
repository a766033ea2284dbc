"""Student copies from a synthetic master: nbgrader's stubs, cleaned metadata, nbval tags."""

import subprocess
import sys

import _grading_toy as toy
import nbformat
import pytest

from lstm_course.grading import authoring, markup


@pytest.fixture(scope="module")
def exercise():
    return authoring.generate_exercise(toy.master())


def cells(nb):
    return {markup.grade_id(c): c for c in nb.cells}


def test_solutions_become_stubs_and_hidden_tests_disappear(exercise):
    by_id = cells(exercise)
    assert by_id["square"].source == (
        'def square(x):\n    """x squared."""\n'
        "    # YOUR CODE HERE\n    raise NotImplementedError()"
    )
    assert by_id["test_square"].source == (
        "from lstm_course.checks._common import call, compare\n\n"
        'compare("square(3.0)", call(square, "square", 3.0), 9.0)'
    )
    text = authoring.notebook_text(exercise)
    for secret in ("BEGIN", "END", "x * x", "-2.0", "-1.5"):
        assert secret not in text
    assert [markup.grade_id(c) for c in exercise.cells] == [
        markup.grade_id(c) for c in toy.master().cells
    ]


def test_outputs_and_foreign_metadata_are_cleared_and_cells_locked(exercise):
    for cell in exercise.cells:
        assert set(cell.metadata) <= authoring.KEEP_CELL_METADATA
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
        locked = markup.role(cell) != markup.ANSWER
        assert cell.metadata.get("editable", True) is not locked
        assert cell.metadata["deletable"] is False
    assert set(exercise.metadata) == {"kernelspec", "language_info"}


def test_tests_and_demos_are_tagged_raises_exception(exercise):
    tagged = {
        markup.grade_id(c)
        for c in exercise.cells
        if markup.RAISES_EXCEPTION in c.metadata.get("tags", [])
    }
    assert tagged == {"test_square", "test_cube", "test_cube_hidden", "test_mean_square", "demo"}
    assert cells(exercise)["demo"].metadata["tags"] == ["uses-solution", "raises-exception"]


def test_generation_is_deterministic_and_leaves_the_master_alone(tmp_path):
    master = toy.master()
    before = nbformat.writes(master)
    first = authoring.notebook_text(authoring.generate_exercise(master))
    assert nbformat.writes(master) == before
    assert authoring.notebook_text(authoring.generate_exercise(toy.master())) == first
    # the files: written once, then left untouched while up to date
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    solutions.mkdir()
    toy.write(toy.master(), solutions / "01_toy.ipynb")
    [(_, target, changed)] = authoring.generate_all(solutions, exercises)
    assert changed and target.read_text() == first
    stamp = target.stat().st_mtime_ns
    assert authoring.generate_all(solutions, exercises) == [
        (solutions / "01_toy.ipynb", target, False)
    ]
    assert target.stat().st_mtime_ns == stamp
    target.write_text(first.replace("YOUR CODE HERE", "edited by hand"))
    [(_, _, stale)] = authoring.generate_all(solutions, exercises, check_only=True)
    assert stale and "edited by hand" in target.read_text()


def test_cells_without_ids_get_ids_from_their_place_not_random(tmp_path):
    master = toy.master()
    master.nbformat_minor = 4
    for cell in master.cells:
        del cell["id"]
    path = tmp_path / "old.ipynb"
    path.write_text(nbformat.writes(master, version=nbformat.NO_CONVERT))
    text = authoring.exercise_text(path)
    assert text == authoring.exercise_text(path)
    ids = [c.id for c in nbformat.reads(text, as_version=4).cells]
    assert ids[:3] == ["intro-0", "setup-1", "square-2"]


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda nb: toy.cell_with(nb, "setup").update(
                source="### BEGIN SOLUTION\nx = 1\n### END SOLUTION"
            ),
            "setup has a solution region but is not an answer cell",
        ),
        (
            lambda nb: toy.cell_with(nb, "square").update(
                source="### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS"
            ),
            "square has hidden tests but is not a test cell",
        ),
        (
            lambda nb: toy.cell_with(nb, "cube").metadata.nbgrader.update(grade_id="square"),
            "grade_id 'square' is used by more than one cell",
        ),
        (
            lambda nb: nb.update(cells=[c for c in nb.cells if markup.role(c) != markup.TEST]),
            "no test cell",
        ),
    ],
)
def test_malformed_masters_are_refused_with_a_clear_message(change, message):
    master = toy.master()
    change(master)
    with pytest.raises(ValueError, match=message):
        authoring.generate_exercise(master, "01_toy.ipynb")


def test_nbval_passes_on_the_blank_exercise_and_on_tagged_cells_that_do_not_raise(
    tmp_path, exercise
):
    """nbval's raises-exception: a tagged cell may raise (blank copy) or run cleanly (master)."""
    toy.write(exercise, tmp_path / "blank.ipynb")
    tagged_master = toy.master()
    for cell in tagged_master.cells:
        if markup.role(cell) == markup.TEST:
            cell.metadata["tags"] = [markup.RAISES_EXCEPTION]
    toy.write(tagged_master, tmp_path / "solved.ipynb")
    command = [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env"]
    command += ["-p", "no:cacheprovider", "-p", "no:xdist", "-q", "-rA"]
    run = subprocess.run(
        [*command, "blank.ipynb", "solved.ipynb"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:]
    code_cells = sum(c.cell_type == "code" for c in exercise.cells)
    for name in ("blank", "solved"):
        assert run.stdout.count(f"PASSED {name}.ipynb::Cell") == code_cells, run.stdout[-3000:]
    # the blank copy's test cells did raise: nbval let them, because of the tag
    assert authoring.notebook_text(exercise).count('"raises-exception"') == 5
