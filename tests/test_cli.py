"""The lstm-course command line: help, exit statuses, exercises, a class grading run, bench,
train."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import _grading_toy as toy
import pytest

from lstm_course import bench, cli
from lstm_course.grading import authoring

RIGHT = {
    "square": "def square(x):\n    return x * x",
    "cube": "def cube(x):\n    return x ** 3",
    "mean_square": "def mean_square(xs):\n    return sum(square(x) for x in xs) / len(xs)",
}


@pytest.mark.parametrize(
    "argv, expected",
    [
        ([], ["exercises", "grade", "train", "slides", "figures", "bench"]),
        (["figures"], ["--lecture", "--only", "--out", "--jobs", "--list", "--gallery"]),
        (["exercises"], ["--solutions", "--exercises", "--check"]),
        (["grade"], ["--master", "--out", "--cell-timeout", "--timeout"]),
        (["bench"], ["usage: lstm-course bench", "--device", "--threads"]),
        (["slides"], ["--out"]),
        (["train"], ["ntm-copy", "lstm-copy", "--steps", "--seed", "--out", "--device"]),
    ],
)
def test_every_command_has_help(argv, expected, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([*argv, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert all(word in out for word in expected), out


def test_python_dash_m_and_the_installed_command_both_work():
    for command in (
        [sys.executable, "-m", "lstm_course"],
        [str(Path(sys.executable).parent / "lstm-course")],
    ):
        run = subprocess.run([*command, "--help"], capture_output=True, text=True, timeout=60)
        assert run.returncode == 0 and "usage: lstm-course" in run.stdout, run.stderr
    run = subprocess.run(
        [sys.executable, "-m", "lstm_course", "grade", "missing.ipynb"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert (
        run.stderr.strip() == "lstm-course grade: error: no such notebook or folder: missing.ipynb"
    )


def test_a_missing_or_unknown_command_is_a_usage_error(capsys):
    for argv in ([], ["teleport"], ["grade", "x.ipynb", "--frobnicate"]):
        with pytest.raises(SystemExit) as exit_:
            cli.main(argv)
        assert exit_.value.code == 2
    assert "usage: lstm-course" in capsys.readouterr().err


def test_bench_gets_its_arguments_unchanged(monkeypatch):
    seen = []
    monkeypatch.setattr(bench, "main", lambda argv: seen.append(argv) or 0)
    assert cli.main(["bench", "--device", "cpu", "--kinds", "gru", "--repeats", "1"]) == 0
    assert seen == [["--device", "cpu", "--kinds", "gru", "--repeats", "1"]]


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A course folder with solutions/01_toy.ipynb, as the current directory."""
    (tmp_path / "solutions").mkdir()
    toy.write(toy.master(), tmp_path / "solutions" / "01_toy.ipynb")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_exercises_writes_then_checks_the_student_copies(course, capsys):
    assert cli.main(["exercises"]) == 0
    assert "wrote: exercises/01_toy.ipynb" in capsys.readouterr().out
    assert cli.main(["exercises", "--check"]) == 0
    master = toy.master()
    toy.cell_with(master, "setup").source += "\nE = math.e"
    toy.write(master, course / "solutions" / "01_toy.ipynb")
    assert cli.main(["exercises", "--check"]) == 1
    captured = capsys.readouterr()
    assert "out of date: exercises/01_toy.ipynb" in captured.out
    assert (
        captured.err == "lstm-course exercises: 1 exercise(s) out of date: run `make exercises`\n"
    )
    assert cli.main(["exercises"]) == 0 and cli.main(["exercises", "--check"]) == 0


def test_exercises_reports_a_malformed_master_in_one_line(course, capsys):
    master = toy.master()
    toy.cell_with(master, "setup").source = "### BEGIN SOLUTION\nx = 1\n### END SOLUTION"
    toy.write(master, course / "solutions" / "01_toy.ipynb")
    assert cli.main(["exercises"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "setup has a solution region but is not an answer cell" in err
    assert cli.main(["exercises", "--solutions", "nowhere"]) == 2


@pytest.mark.parametrize(
    "argv, message",
    [
        (["grade", "submissions"], "no notebooks to grade in submissions"),
        (
            ["grade", "submissions/alice.ipynb"],
            "no master for submissions/alice.ipynb in solutions/",
        ),
        (
            ["grade", "submissions/alice_01_toy.ipynb", "--master", "nowhere"],
            "no master notebook or folder at nowhere",
        ),
        (
            ["grade", "submissions/alice_01_toy.ipynb", "--out", "grades.txt"],
            "--out grades.txt: the name must end in .csv or .json",
        ),
        (["grade", "submissions/alice_01_toy.ipynb", "--timeout", "0"], "must be positive"),
        (
            ["grade", "submissions/alice_01_toy.ipynb", "--master", "solutions/broken.ipynb"],
            "master solutions/broken.ipynb is not usable",
        ),
    ],
)
def test_grade_usage_errors_exit_2_with_one_line(argv, message, course, capsys):
    (course / "submissions").mkdir()
    (course / "solutions" / "broken.ipynb").write_text("{}")
    if argv[1] != "submissions":
        (course / "submissions" / Path(argv[1]).name).write_text("{}")
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert (
        err.count("\n") == 1 and err.startswith("lstm-course grade: error: ") and message in err
    ), err


def test_grading_a_class_writes_csv_and_json_and_survives_a_crash(course, capsys):
    exercise = authoring.generate_exercise(toy.master())
    subs = course / "submissions"
    subs.mkdir()
    toy.write(toy.with_answers(exercise, **RIGHT), subs / "alice_01_toy.ipynb")
    crash = {**RIGHT, "square": "import os\nos._exit(3)"}
    toy.write(toy.with_answers(exercise, **crash), subs / "bob_01_toy.ipynb")
    (subs / "carol_01_toy.ipynb").write_text("not a notebook")
    argv = [
        "grade",
        "submissions",
        "--out",
        "grades.csv",
        "--out",
        "grades.json",
        "--cell-timeout",
        "60",
    ]
    assert cli.main(argv) == 0
    captured = capsys.readouterr()
    assert "[1/3] alice 01_toy: 6/6 (100%)" in captured.err
    assert "[2/3] bob 01_toy: 3/6 (50%)" in captured.err  # cube's tests still pass
    assert "[3/3] carol 01_toy: 0/6 (0%)" in captured.err
    assert "bob 01_toy: 3/6 (50.0%)" in captured.out
    with open(course / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3 * (len(toy.POINTS) + 1)
    totals = {r["student"]: float(r["points"]) for r in rows if r["question"] == "TOTAL"}
    assert totals == {"alice": 6.0, "bob": 3.0, "carol": 0.0}
    bob = next(r for r in rows if r["student"] == "bob" and r["question"] == "test_square")
    assert "the kernel died" in bob["feedback"]
    data = json.loads((course / "grades.json").read_text())
    assert [s["student"] for s in data["submissions"]] == ["alice", "bob", "carol"]


def test_train_ntm_copy_writes_a_checkpoint_and_its_log(tmp_path, capsys):
    from lstm_course.ntm.train import load_copy_model

    assert cli.main(["train", "ntm-copy", "--steps", "5", "--out", str(tmp_path)]) == 0
    model, recipe, history = load_copy_model(tmp_path / "ntm_copy.pt", device="cpu")
    assert recipe.model == "ntm" and recipe.steps == 5 and history.steps == 5
    log = (tmp_path / "ntm_copy.log").read_text().splitlines()
    assert log[0] == "# lstm-course train ntm-copy --steps 5 --seed 0"
    assert log[3].startswith("step      5  loss ") and "5 steps done" in log[4]
    assert log[-2].startswith("# held-out bit errors per sequence: L=12 ")
    assert log[-1].endswith(f"wrote {tmp_path / 'ntm_copy.pt'}")
    assert "held-out bit errors" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "ntm-copy", "--steps", "0"], "--steps must be a positive int, got 0"),
        (["train", "lstm-copy", "--seed", "-1"], "--seed must be >= 0, got -1"),
        (["train", "ntm-copy", "--device", "nowhere"], "--device nowhere"),
    ],
)
def test_train_usage_errors_exit_2(argv, message, capsys):
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err


# figures --------------------------------------------------------------------------------------


def test_figures_lists_and_draws_one_figure(tmp_path, capsys):
    assert cli.main(["figures", "--lecture", "1", "--list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed and all(line.startswith("lecture01_") for line in listed)
    name = "lecture01_folded_and_unrolled"
    argv = ["figures", "--only", name, "--out", str(tmp_path), "--jobs", "1"]
    assert cli.main(argv) == 0
    assert name in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{name}.png", f"{name}.svg"]


def test_figures_gallery_rewrites_only_its_section(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("# x\n<!-- figures:start -->\nSTALE\n<!-- figures:end -->\ntail\n")
    assert cli.main(["figures", "--gallery", str(readme)]) == 0
    text = readme.read_text()
    assert "STALE" not in text and text.endswith("<!-- figures:end -->\ntail\n")
    assert '<img src="figures/lecture01_folded_and_unrolled.png"' in text
    assert cli.main(["figures", "--gallery", str(readme)]) == 0
    assert "gallery unchanged" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--only", "lecture99_nothing"], "no figure named lecture99_nothing"),
        (["--lecture", "99"], "no figures for lecture(s) [99]"),
        (["--jobs", "0"], "--jobs must be at least 1"),
        (["--gallery", "missing.md"], "missing.md"),
    ],
)
def test_figures_usage_errors_exit_2(argv, message, capsys):
    assert cli.main(["figures", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lstm-course figures: error:") and message in err, err
