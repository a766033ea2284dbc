"""The repository contract: dependencies agree everywhere, CI runs the README's command, layout."""

import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import tomllib
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"pytorch": "torch"}  # conda-forge's names for PyPI packages


def _name(text):
    return Requirement(text).name.lower().replace("_", "-")


def pyproject_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["dev"]
    return {_name(r): Requirement(r) for r in reqs}


def constraint_pins():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", f"constraints.txt must pin exactly: {line}"
            pins[_name(line)] = Version(spec.version)
    return pins


def environment_requirements():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = {}, {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for line in dep["pip"]:
                if not line.startswith("-e"):
                    pip[_name(line)] = Requirement(line)
        else:
            # conda's single "=" means "this version or its patch releases": compare as ==.
            text = re.sub(r"(?<![<>=!])=(?!=)", "==", dep)
            name = CONDA_NAMES.get(_name(text), _name(text))
            conda[name] = Requirement(text.replace(_name(text), name, 1))
    return env, conda, pip


def test_environment_yml_lists_the_same_set_as_pyproject():
    ours = pyproject_requirements()
    env, conda, pip = environment_requirements()
    listed = {**conda, **pip}
    listed.pop("python"), listed.pop("pip")
    assert set(listed) == set(ours), "environment.yml and pyproject.toml list different packages"
    pins = constraint_pins()
    for name, req in listed.items():
        if name in pip:  # pip-installed: the pinned version, which pyproject must allow
            (spec,) = req.specifier
            assert Version(spec.version) == pins[name], name
            assert pins[name] in ours[name].specifier, name
        else:
            assert req.specifier == ours[name].specifier, f"{name}: {req} vs {ours[name]}"
    assert "-e ." in env["dependencies"][-1]["pip"], "environment.yml must install the package"
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert Version(python.split("=")[-1]) in Requirement(f"python{requires}").specifier


def test_constraints_pin_every_dependency_within_pyproject_ranges():
    ours, pins = pyproject_requirements(), constraint_pins()
    assert set(pins) == set(ours)
    for name, pin in pins.items():
        assert pin in ours[name].specifier, f"{name}=={pin} is outside pyproject's {ours[name]}"
    assert pins["torch"] == Version("2.13.0")


def test_the_pinned_set_is_what_is_installed():
    for name, pin in constraint_pins().items():
        installed = Version(version(name))
        assert Version(installed.public.split("+")[0]) == pin, f"{name} {installed} != {pin}"


def test_ci_runs_exactly_the_readme_test_command():
    commands = [
        line.strip()
        for line in (ROOT / ".ci/run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    commands = [c for c in commands if not c.startswith(("set ", "cd "))]
    assert commands == ["make test"]
    quick_start = (ROOT / "README.md").read_text().split("## Quick start")[1]
    first_block = quick_start.split("```bash")[1].split("```")[0]
    assert [line.split("#")[0].strip() for line in first_block.strip().splitlines()] == [
        "make test",
        "make lab",
    ]


def test_make_test_runs_lint_unit_tests_and_nbval_over_every_notebook_folder():
    dry = subprocess.run(
        ["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "ruff check ." in dry
    # two workers, one thread each; a lecture's figure tests share one, a notebook's cells too
    assert "OMP_NUM_THREADS=1" in dry and "pytest -n 2 --dist loadgroup tests" in dry
    assert "pytest -n 2 --dist loadfile --nbval-lax" in dry or "nbval: no notebooks" in dry
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^NOTEBOOK_DIRS := lectures solutions exercises$", makefile, re.M)
    assert "torch==2.13.0" in (ROOT / "constraints.txt").read_text()


@pytest.mark.parametrize("folder", ["lectures", "exercises", "solutions"])
def test_notebook_folders_exist_and_say_what_they_hold(folder):
    path = ROOT / folder
    assert path.is_dir()
    if not list(path.glob("*.ipynb")):
        assert len((path / "README.md").read_text()) > 200


def test_import_has_no_side_effects():
    code = """
import random, sys
import numpy as np
np_state, py_state = np.random.get_state()[1].copy(), random.getstate()
import lstm_course
from lstm_course import scratch
assert scratch.lstm.lstm_forward and scratch.attention.additive_attention_forward
assert (np.random.get_state()[1] == np_state).all(), "NumPy's global generator was touched"
assert random.getstate() == py_state, "Python's generator was touched"
heavy = sorted(m for m in ("torch", "matplotlib", "ipywidgets", "tqdm") if m in sys.modules)
assert not heavy, f"importing lstm_course imported {heavy}"
"""
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
