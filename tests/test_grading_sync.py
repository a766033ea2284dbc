"""exercises/ is exactly what `make exercises` generates from solutions/ (regenerated here)."""

from pathlib import Path

import _grading_toy as toy
import pytest

from lstm_course.grading import authoring

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS, EXERCISES = ROOT / "solutions", ROOT / "exercises"
MASTERS = sorted(SOLUTIONS.glob("*.ipynb"))


def out_of_sync(master, exercises):
    """Why exercises/<master's name> is not what the generator makes of master (None if it is)."""
    target = exercises / master.name
    if not target.exists():
        return f"{target.name} is missing from {exercises.name}/: run `make exercises`"
    if target.read_text(encoding="utf-8") != authoring.exercise_text(master):
        return f"{exercises.name}/{target.name} is out of date: run `make exercises`"
    return None


@pytest.mark.parametrize("master", MASTERS, ids=[m.name for m in MASTERS])
def test_each_exercise_is_generated_from_its_master(master):
    problem = out_of_sync(master, EXERCISES)
    assert problem is None, problem


def test_every_exercise_has_a_master():
    orphans = sorted(p.name for p in EXERCISES.glob("*.ipynb") if not (SOLUTIONS / p.name).exists())
    assert orphans == [], f"exercises without a master in solutions/: {orphans}"


def test_the_sync_check_sees_missing_stale_and_fresh_exercises(tmp_path):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    solutions.mkdir()
    master = toy.write(toy.master(), solutions / "01_toy.ipynb")
    assert "missing" in out_of_sync(master, exercises)
    authoring.generate_all(solutions, exercises)
    assert out_of_sync(master, exercises) is None
    changed = toy.master()
    toy.cell_with(changed, "test_square").source += "\nassert True"
    toy.write(changed, master)
    assert "out of date" in out_of_sync(master, exercises)
