"""The autograder on a synthetic exercise: scores, feedback, and every way a notebook can break.

Each test grades one submission (one kernel, about a second): a module-wide fixture would run
once per xdist worker anyway. The submission's bytes are checked unchanged after every run.
"""

import copy

import _grading_toy as toy
import pytest

from lstm_course.grading import authoring, grader, kernel, tamper

RIGHT = {
    "square": "def square(x):\n    return x * x",
    "cube": "def cube(x):\n    return x ** 3",
    "mean_square": "def mean_square(xs):\n    return sum(square(x) for x in xs) / len(xs)",
}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    master = toy.write(toy.master(), root / "01_toy.ipynb")
    exercise = authoring.generate_exercise(toy.master())
    return root, master, exercise


def grade(course, name, nb, **kwargs):
    root, master, _ = course
    path = toy.write(nb, root / f"{name}_01_toy.ipynb")
    before = path.read_bytes()
    result = grader.grade_submission(path, master, **kwargs)
    assert path.read_bytes() == before, "the grader modified the submission"
    assert result.student == name and result.sha256 == grader.sha256(path)
    return result, {q.grade_id: q for q in result.questions}


def answers(course, **changes):
    return toy.with_answers(course[2], **{**RIGHT, **changes})


def test_the_master_scores_full_marks(course):
    result, q = grade(course, "master", toy.master())
    assert result.score == result.max_score == toy.TOTAL and result.percentage == 100
    assert result.issues == []  # the master's own test cells are not "edited"
    assert {g: (x.points, x.status, x.feedback) for g, x in q.items()} == {
        g: (p, grader.PASSED, "") for g, p in toy.POINTS.items()
    }
    assert result.kernel_starts == 1


def test_the_blank_exercise_scores_zero_with_a_not_implemented_message(course):
    result, q = grade(course, "blank", course[2])
    assert result.score == 0 and result.max_score == toy.TOTAL
    for question in q.values():
        assert question.status == grader.FAILED
        assert "is not implemented yet: replace `raise NotImplementedError()`" in question.feedback
    assert result.issues == []


def test_wrong_answers_earn_partial_marks_with_the_failing_check_as_feedback(course):
    nb = answers(
        course,
        cube="def cube(x):\n    return x * x * abs(x)",  # right for x > 0: only hidden tests fail
        mean_square="def mean_square(xs):\n    return sum(xs) / len(xs)",
    )
    result, q = grade(course, "wrong", nb)
    assert [(g, x.points) for g, x in q.items()] == [
        ("test_square", 2.0),
        ("test_cube", 2.0),
        ("test_cube_hidden", 0.0),
        ("test_mean_square", 0.0),
    ]
    assert result.score == 4 and round(result.percentage, 2) == round(100 * 4 / 6, 2)
    assert q["test_cube_hidden"].feedback.startswith("cube(-1.5) is wrong")
    assert "expected -3.375, got 3.375" in q["test_cube_hidden"].feedback
    assert q["test_mean_square"].feedback.startswith("mean_square([1.0, 3.0]) is wrong")
    assert "expected 5, got 2" in q["test_mean_square"].feedback
    assert q["test_cube"].answer == "cube" and q["test_mean_square"].answer == "mean_square"


def test_an_exception_in_an_answer_cell_fails_only_its_question(course):
    cube = "import numpy as np\n\nnp.ones(3) @ np.ones(4)\n\ndef cube(x):\n    return x ** 3"
    result, q = grade(course, "exception", answers(course, cube=cube))
    assert result.score == 3  # square (2) and mean_square (1)
    feedback = q["test_cube"].feedback
    assert feedback.startswith("NameError: name 'cube' is not defined")
    assert "[your answer cell 'cube': ValueError: matmul" in feedback


def test_an_infinite_loop_times_out_and_grading_goes_on_after_a_restart(course):
    cube = "def cube(x):\n    return x ** 3\n\nwhile True:\n    pass"
    result, q = grade(course, "loop", answers(course, cube=cube), cell_timeout=3)
    assert "[your answer cell 'cube': timed out after 3 s" in q["test_cube"].feedback
    # mean_square calls square, defined before the loop: earlier cells were replayed
    assert q["test_mean_square"].status == grader.PASSED
    assert result.score == 3 and result.kernel_starts == 2


def test_a_dead_kernel_is_restarted_and_grading_goes_on(course):
    cube = "import os\n\ndef cube(x):\n    return x ** 3\n\nos._exit(1)"
    result, q = grade(course, "dead", answers(course, cube=cube))
    assert "the kernel died" in q["test_cube"].feedback
    assert q["test_mean_square"].status == grader.PASSED
    assert result.score == 3 and result.kernel_starts == 2


def test_a_missing_answer_cell_is_graded_as_the_blank_stub(course):
    nb = answers(course)
    nb.cells.remove(toy.cell_with(nb, "cube"))
    result, q = grade(course, "missing", nb)
    assert "answer cell 'cube' is missing: graded as the blank stub" in result.issues
    assert q["test_cube"].feedback.startswith("cube is not implemented yet")
    assert result.score == 3


def test_reordered_cells_run_in_the_masters_order(course):
    nb = answers(course)
    late = [toy.cell_with(nb, g) for g in ("mean_square", "square", "test_square")]
    for cell in late:
        nb.cells.remove(cell)
    nb.cells = nb.cells + late  # mean_square's answer now comes before square's, at the end
    result, _ = grade(course, "reordered", nb)
    assert result.score == toy.TOTAL
    assert any("not in the exercise's order" in issue for issue in result.issues)


def test_deleted_or_edited_visible_tests_change_nothing(course):
    nb = answers(
        course, cube="def cube(x):\n    return 3 * x", square="def square(x):\n    return 2 * x"
    )
    nb.cells.remove(toy.cell_with(nb, "test_square"))
    toy.cell_with(nb, "test_cube").source = "pass  # all good"
    toy.cell_with(nb, "test_cube_hidden").source = "cube = lambda x: x ** 3"
    result, q = grade(course, "edited", nb)
    assert result.issues == [
        "test cell 'test_square' was deleted: the original ran",
        "test cell 'test_cube' was edited: the original ran",
        "test cell 'test_cube_hidden' was edited: the original ran",
    ]
    assert "square(3.0) is wrong" in q["test_square"].feedback
    assert "cube(2.0) is wrong" in q["test_cube"].feedback
    assert "cube(-1.5) is wrong" in q["test_cube_hidden"].feedback
    assert result.score == 0


def test_tampering_with_the_checks_earns_nothing_and_is_not_run(course):
    cube = (
        "import lstm_course.checks._common as m\n"
        "m.compare = lambda *a, **k: None\n\n"
        "def cube(x):\n    return 0.0"
    )
    wrong_mean = "def mean_square(xs):\n    return 0.0"
    result, q = grade(course, "tamper", answers(course, cube=cube, mean_square=wrong_mean))
    assert (q["test_cube"].status, q["test_cube_hidden"].status) == (grader.TAMPERED,) * 2
    assert "tampers with the grading" in q["test_cube"].feedback
    assert "line 1: imports lstm_course.checks" in q["test_cube"].feedback
    assert any("line 2: assigns to m.compare" in issue for issue in result.issues)
    # the patch never ran: mean_square's wrong answer is still caught
    assert q["test_mean_square"].feedback.startswith("mean_square([1.0, 3.0]) is wrong")
    assert result.score == 2


ESCAPE = """import lstm_course

package = [lstm_course][0]
getattr(package, "chec" + "ks")._common.compare = lambda *a, **k: None

def cube(x):
    return 0.0"""


def test_a_patch_the_static_analysis_misses_is_undone_before_each_test_cell(course, monkeypatch):
    assert tamper.find_tampering(ESCAPE, {"math"}, {"checks"}) == []
    nb = answers(course, cube=ESCAPE, mean_square="def mean_square(xs):\n    return 0.0")
    result, q = grade(course, "escape", nb)
    assert "cube(2.0) is wrong" in q["test_cube"].feedback
    assert result.score == 2
    # the same submission without the fresh import of the checks: the patch would work
    monkeypatch.setattr(grader, "FRESH_CHECKS", "pass")
    unprotected, _ = grade(course, "escape", copy.deepcopy(nb))
    assert unprotected.score == toy.TOTAL


DISGUISED_CUBE = """import numpy

m = [numpy][0]
m.isclose = lambda a, b, **k: m.ones(m.shape(a), bool)

def cube(x):
    return 0.0"""

DISGUISED_MEAN_SQUARE = """import numpy

def mean_square(xs):
    m = [numpy][0]
    m.isclose = lambda a, b, **k: m.ones(m.shape(a), bool)
    return 0.0"""


def test_numpy_functions_replaced_in_disguise_are_put_back(course):
    for source in (DISGUISED_CUBE, DISGUISED_MEAN_SQUARE):
        assert tamper.find_tampering(source, {"math"}, {"checks"}) == []
    nb = answers(course, cube=DISGUISED_CUBE, mean_square=DISGUISED_MEAN_SQUARE)
    result, q = grade(course, "disguise", nb)
    # replaced by an answer cell: put back before the test, which then sees the wrong cube
    assert "your code replaced numpy.isclose before 'test_cube' ran" in result.issues[0]
    assert q["test_cube"].feedback.startswith("cube(2.0) is wrong")
    # replaced while the check called mean_square: the test proves nothing, no points
    assert q["test_mean_square"].status == grader.TAMPERED
    assert "while this test ran, your code replaced numpy.isclose" in (
        q["test_mean_square"].feedback
    )
    assert result.score == 2


def test_the_whole_notebook_has_a_time_limit(course):
    cube = "import time\n\ntime.sleep(60)\n\ndef cube(x):\n    return x ** 3"
    result, q = grade(course, "slow", answers(course, cube=cube), timeout=3)
    assert result.seconds < 15
    assert q["test_mean_square"].status == grader.NOT_RUN
    assert "time limit of 3 s" in q["test_mean_square"].feedback
    assert result.score <= 2


def test_an_unreadable_notebook_scores_zero_without_running(course):
    root, master, _ = course
    path = root / "garbage_01_toy.ipynb"
    path.write_text("this is not a notebook")
    result = grader.grade_submission(path, master)
    assert result.score == 0 and result.max_score == toy.TOTAL and result.kernel_starts == 0
    assert result.issues[0].startswith("could not read the notebook")
    assert {q.status for q in result.questions} == {grader.NOT_RUN}
    assert path.read_text() == "this is not a notebook"


def test_describe_names_each_kind_of_failure():
    assert grader.describe(kernel.Outcome(kernel.ERROR, "AssertionError", "")) == (
        "a check failed (AssertionError)"
    )
    assert grader.describe(kernel.Outcome(kernel.ERROR, "KeyError", "'W_x'")) == "KeyError: 'W_x'"
    assert "not implemented yet" in grader.describe(
        kernel.Outcome(kernel.ERROR, "NotImplementedError", "")
    )


@pytest.mark.parametrize(
    "path, student",
    [
        ("subs/alice_01_toy.ipynb", "alice"),
        ("subs/01_toy-bob.ipynb", "bob"),
        ("subs/carol/01_toy.ipynb", "carol"),
        ("course/submitted/dave/ps1/01_toy.ipynb", "dave"),
    ],
)
def test_student_names_come_from_the_file_name_or_folder(path, student, tmp_path):
    assert grader.student_name(tmp_path / path, "01_toy") == student


def test_the_master_is_found_from_the_file_name(tmp_path):
    masters = [tmp_path / "01_rnn.ipynb", tmp_path / "01_rnn_extra.ipynb", tmp_path / "02.ipynb"]
    assert grader.find_master("x/01_rnn.ipynb", masters) == masters[0]
    assert grader.find_master("x/alice_01_rnn_extra.ipynb", masters) == masters[1]
    assert grader.find_master("x/alice-01_rnn-Copy1.ipynb", masters) == masters[0]
    assert grader.find_master("x/alice.ipynb", masters) is None
