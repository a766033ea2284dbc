"""Lecture 11's program generator and interpreter: seeded, within its knobs, and exact."""

import contextlib
import io
import re

import numpy as np
import pytest

from lstm_course.data import programs as pg


def python_output(text):
    """What CPython prints for a program (the reference the interpreter must match)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(text, {"__builtins__": {"print": print, "range": range}})  # noqa: S102
    return out.getvalue().rstrip("\n")


def test_generator_is_deterministic_under_its_seed():
    first = pg.generate_programs(50, 2, 3, seed=7)
    assert first == pg.generate_programs(50, 2, 3, seed=7)
    assert first != pg.generate_programs(50, 2, 3, seed=8)
    rng = np.random.default_rng(7)
    assert pg.generate_program(rng, 2, 3) == first[0]


@pytest.mark.parametrize(("length", "nesting"), [(1, 1), (2, 2), (3, 1), (4, 3), (1, 5)])
def test_programs_respect_length_and_nesting(length, nesting):
    programs = pg.generate_programs(300, length, nesting, seed=length * 10 + nesting)
    digits = [len(lit) for p in programs for lit in pg.literals(p.text)]
    assert max(digits) == length  # the knob is reached, never exceeded
    for p in programs:
        assert (p.length, p.nesting) == (length, nesting)
        assert len(p.operations) == nesting and set(p.operations) <= set(pg.OPERATIONS)
        lines = p.text.split("\n")
        assert lines[-1].startswith("print(") and lines[-1].endswith(")")
        # each assignment adds one line, each loop two (the counter and the loop)
        assert len(lines) == 1 + p.operations.count("assign") + 2 * p.operations.count("for")
        assert p.text.count(" if ") == p.operations.count("if")
        small = re.findall(r"(?:range\(|\*)(\d+)", p.text)
        assert all(2 <= int(k) <= 9 for k in small)
        assert set(p.text) <= set(pg.PROGRAM_CHARS) and set(p.output) <= set(pg.OUTPUT_CHARS)


def test_every_operation_appears_and_nesting_grows_the_programs():
    ops = [op for p in pg.generate_programs(400, 2, 2, seed=1) for op in p.operations]
    assert set(ops) == set(pg.OPERATIONS)
    mean_len = [np.mean([len(p.text) for p in pg.generate_programs(200, 2, n)]) for n in (1, 3)]
    assert mean_len[1] > 1.5 * mean_len[0]


def test_operations_can_be_restricted():
    programs = pg.generate_programs(100, 2, 3, seed=0, operations=("+", "assign"))
    assert {op for p in programs for op in p.operations} == {"+", "assign"}


@pytest.mark.parametrize("seed", range(4))
def test_interpreter_agrees_with_python_on_generated_programs(seed):
    for nesting in (1, 2, 3, 5):
        for p in pg.generate_programs(100, 1 + seed % 3, nesting, seed=seed + 100 * nesting):
            assert p.output == python_output(p.text) == pg.run_program(p.text), p.text


def test_interpreter_runs_the_slides_example_with_an_indented_loop():
    text = "j=8584\nfor x in range(8):\n    j+=920\nb=(1500+j)\nprint((b+7567))"
    assert pg.run_program(text) == python_output(text) == "25011"
    assert pg.run_program("print(2+3*4)\nprint((2+3)*4)") == "14\n20"  # precedence
    assert pg.run_program("a=5\nprint(a if 1>2 else a-9 if 3<4 else 0)") == "-4"
    assert pg.run_program("s=0\nfor x in range(4):s+=x\nprint(s)") == "6"  # the loop variable


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("print(y)", "'y' is not defined"),
        ("a=1\nprint(a/2)", "cannot read"),
        ("import os", "expected"),
        ("a=1\nb+=a", "'b' is not defined"),
        ("for x in range(1000):a=1", "MAX_RANGE"),
        ("for x in range(3):", "no body"),
        ("print((1+2)", "expected \\)"),
        ("  a=1", "indentation"),
        ("print(1 if 2==2 else 3)", "line 1"),
    ],
)
def test_interpreter_rejects_anything_outside_the_language(text, message):
    with pytest.raises(ValueError, match=message):
        pg.run_program(text)


def test_bad_arguments_raise_clear_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="length"):
        pg.generate_program(rng, 0, 1)
    with pytest.raises(ValueError, match="nesting"):
        pg.generate_program(rng, 1, 0)
    with pytest.raises(TypeError, match="nesting"):
        pg.generate_program(rng, 1, 1.5)
    with pytest.raises(ValueError, match="operations"):
        pg.generate_program(rng, 1, 1, operations=("+", "/"))
    with pytest.raises(ValueError, match="operations"):
        pg.generate_program(rng, 1, 1, operations="+")
    with pytest.raises(TypeError, match="rng"):
        pg.generate_program(0, 1, 1)
    with pytest.raises(TypeError, match="text"):
        pg.run_program(12)
    with pytest.raises(ValueError, match="seed"):
        pg.generate_programs(3, 1, 1, seed=-1)


def test_program_pairs_are_text_and_output():
    programs = pg.generate_programs(5, 1, 2, seed=3)
    assert pg.program_pairs(programs) == [(p.text, p.output) for p in programs]
