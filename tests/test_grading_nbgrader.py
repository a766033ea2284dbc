"""Interoperability with real nbgrader, and keeping its instructor tools out of students' Lab."""

import os
import subprocess
import sys
from pathlib import Path

import _grading_toy as toy
import nbformat
import pytest

from lstm_course.grading import authoring, markup

BIN = Path(sys.executable).parent


def nbgrader(*args, cwd):
    # nbgrader runs `alembic` (to create its gradebook database) from PATH: the venv's bin first.
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    run = subprocess.run(
        [str(BIN / "nbgrader"), *args, f"--CourseDirectory.root={cwd}"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    return run


def test_nbgrader_generates_and_autogrades_our_master_and_our_student_copy(tmp_path):
    """An instructor drops solutions/NN.ipynb into nbgrader's source/ folder: it just works."""
    course = tmp_path / "course"
    source = course / "source" / "toy"
    source.mkdir(parents=True)
    toy.write(toy.master(), source / "01_toy.ipynb")
    nbgrader("generate_assignment", "toy", "--force", cwd=course)

    # nbgrader's student copy has exactly the cells of ours (same stubs, same visible tests)
    ours = authoring.generate_exercise(toy.master())
    theirs = nbformat.read(course / "release" / "toy" / "01_toy.ipynb", as_version=4)
    assert [(markup.grade_id(c), c.source) for c in theirs.cells] == [
        (markup.grade_id(c), c.source) for c in ours.cells
    ]

    # alice hands in our exercises/ copy, solved in part; nbgrader grades it
    handed_in = toy.with_answers(
        ours,
        square="def square(x):\n    return x * x",
        cube="def cube(x):\n    return x * x * abs(x)",  # fails the hidden test only
    )
    submitted = course / "submitted" / "alice" / "toy"
    submitted.mkdir(parents=True)
    toy.write(handed_in, submitted / "01_toy.ipynb")
    nbgrader("autograde", "toy", "--create", "--force", cwd=course)

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        notebook = gradebook.find_submission_notebook("01_toy", "toy", "alice")
        scores = {grade.name: grade.score for grade in notebook.grades}
    # the same points lstm-course grade gives (tests/test_grading_grader.py)
    assert scores == {
        "test_square": 2.0,
        "test_cube": 2.0,
        "test_cube_hidden": 0.0,
        "test_mean_square": 0.0,
    }


def _venv_config():
    """What the venv's Jupyter configuration enables (without starting a server)."""
    from jupyter_core.paths import jupyter_config_path
    from jupyter_server.extension.config import ExtensionConfigManager
    from jupyterlab_server.config import get_static_page_config

    servers = ExtensionConfigManager(read_config_path=jupyter_config_path())
    return servers.get_jpserver_extensions(), get_static_page_config(level="sys_prefix")


@pytest.mark.skipif(sys.prefix == sys.base_prefix, reason="only meaningful in the course venv")
def test_nbgrader_menus_are_disabled_in_the_students_lab():
    """`make install` disables nbgrader's Lab and server extensions in .venv (see Makefile)."""
    servers, page = _venv_config()
    nbgrader_servers = {name: on for name, on in servers.items() if name.startswith("nbgrader")}
    assert nbgrader_servers and not any(nbgrader_servers.values()), nbgrader_servers
    assert page.get("disabledExtensions", {}).get("@jupyter/nbgrader") is True, page
