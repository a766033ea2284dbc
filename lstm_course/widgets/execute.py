"""Lecture 11's widgets: programs of any difficulty and what each trained model says they
print; and a binary addition bit by bit, with the adder's carry read off its hidden state.

``program_rows`` and ``adder_rows`` compute what the widgets show (the tests call them);
``program_explorer`` and ``adder_explorer`` put controls on them. ipywidgets and matplotlib
are imported inside the functions that draw.
"""

from typing import NamedTuple

import numpy as np

from lstm_course.analysis.carry import hidden_states
from lstm_course.data._checks import check_int
from lstm_course.data.programs import OPERATIONS, generate_program
from lstm_course.experiments.binary_addition import bit_table, operand_bits
from lstm_course.experiments.execute import predictions


class ProgramView(NamedTuple):
    """One program and every model's answer.

    Attributes:
        program: the ``Program``. answers: {strategy: greedy output str}.
    """

    program: object
    answers: dict


def program_view(runs, length, nesting, index, operations=None):
    """Program number ``index`` of difficulty (length, nesting), and each run's prediction.

    Programs are drawn from a generator seeded by (length, nesting, index), so the same
    controls always show the same program, and never one the models trained on (their pools
    use other seeds; a collision is possible only at the smallest difficulties).

    Args:
        runs: {strategy: ``ExecuteRun``}. length, nesting: the difficulty (>= 1).
        index: which program (>= 0). operations: the operations to draw from (default: the
            ones the runs were trained on).
    """
    if not runs:
        raise ValueError("runs must hold at least one trained ExecuteRun")
    length = check_int("length", length, minimum=1, maximum=9)
    nesting = check_int("nesting", nesting, minimum=1, maximum=12)
    index = check_int("index", index, minimum=0)
    setup = next(iter(runs.values())).setup
    operations = operations or setup.operations
    rng = np.random.default_rng([777, length, nesting, index])
    program = generate_program(rng, length, nesting, operations, setup.max_small)
    answers = {name: predictions(run, [program])[0] for name, run in runs.items()}
    return ProgramView(program, answers)


def format_view(view):
    """The program, its true output and each answer (marked right or wrong) as text."""
    p = view.program
    lines = [f"difficulty: length {p.length}, nesting {p.nesting}; operations {p.operations}", ""]
    lines += p.text.split("\n")
    lines += ["", f"{'true output':>12s}  {p.output}"]
    for name, answer in view.answers.items():
        mark = "right" if answer == p.output else "wrong"
        lines.append(f"{name:>12s}  {answer:<10s} {mark}")
    return "\n".join(lines)


def program_explorer(runs, max_length=4, max_nesting=4):
    """The widget: sliders for length, nesting and the program number; the programs shown
    with the true output and each model's answer.

    Args:
        runs: {strategy: ``ExecuteRun``}. max_length, max_nesting: the sliders' ends.
    Returns:
        an ipywidgets.VBox.
    """
    import ipywidgets as widgets

    if not runs:
        raise ValueError("runs must hold at least one trained ExecuteRun")
    setup = next(iter(runs.values())).setup
    style = {"description_width": "initial"}
    controls = {
        "length": widgets.IntSlider(
            value=setup.length, min=1, max=max_length, description="length (digits)", style=style
        ),
        "nesting": widgets.IntSlider(
            value=setup.nesting, min=1, max=max_nesting, description="nesting", style=style
        ),
        "index": widgets.IntSlider(value=0, min=0, max=99, description="program #", style=style),
        "all_ops": widgets.Checkbox(
            value=False, description="all operations (also those never trained on)", style=style
        ),
    }
    for control in controls.values():
        control.continuous_update = False

    def show(length, nesting, index, all_ops):
        view = program_view(runs, length, nesting, index, OPERATIONS if all_ops else None)
        print(format_view(view))

    out = widgets.interactive_output(show, controls)
    rows = [
        widgets.HBox([controls["length"], controls["nesting"], controls["index"]]),
        controls["all_ops"],
    ]
    return widgets.VBox([*rows, out])


# ----- the binary adder -----


class AdderView(NamedTuple):
    """One addition through an adder.

    Attributes:
        a, b, true: the operands and a + b. predicted: the model's sum.
        rows: ``bit_table`` rows (t, a_t, b_t, carry in, sum bit, carry out, P(s_t = 1)).
        carry_score: (T,) the state projected on the carry direction, (h_t - m) . w_c
            (eq. 11.5): positive means the model holds a carry.
    """

    a: int
    b: int
    true: int
    predicted: int
    rows: list
    carry_score: np.ndarray


def adder_view(model, a, b, direction):
    """Run one addition through ``model`` and read its carry along ``direction`` (11.5).

    Args:
        model: a trained adder (``SequenceModel``). a, b: non-negative ints below 2**62.
        direction: a ``CarryDirection`` from ``lstm_course.analysis.carry``.
    """
    a = check_int("a", a, minimum=0, maximum=2**62 - 1)
    b = check_int("b", b, minimum=0, maximum=2**62 - 1)
    n_bits = max(1, a.bit_length(), b.bit_length())
    x = operand_bits(a, b, n_bits)  # (T, 1, 2)
    states, p = hidden_states(model, x)  # (T, 1, H), (T, 1)
    score = (states[:, 0] - direction.m) @ direction.w  # (T,)
    predicted = int(sum(int(p_t > 0.5) << t for t, p_t in enumerate(p[:, 0])))
    return AdderView(a, b, a + b, predicted, bit_table(a, b, p[:, 0]), score)


def format_adder(view):
    """The addition as a table: one row per bit, least significant first."""
    lines = [f"{view.a} + {view.b} = {view.true};  the network says {view.predicted}"]
    lines.append(f"{'t':>3s} {'a_t':>4s} {'b_t':>4s} {'c_in':>5s} {'s_t':>4s} {'c_out':>6s}")
    lines[-1] += f" {'P(s_t=1)':>9s} {'carry score':>12s}"
    for (t, a_t, b_t, c_in, s_t, c_out, p), z in zip(view.rows, view.carry_score, strict=True):
        flag = "" if (p > 0.5) == bool(s_t) else "  <- wrong bit"
        row = f"{t:3d} {a_t:4d} {b_t:4d} {c_in:5d} {s_t:4d} {c_out:6d} {p:9.4f} {z:12.4f}"
        lines.append(row + flag)
    return "\n".join(lines)


def draw_carry(ax, view):
    """The carry score (11.5) at every step, with the true carry out shaded."""
    t = np.arange(len(view.rows))
    carry = np.array([row[5] for row in view.rows])
    ax.bar(t, carry, width=1.0, color="tab:orange", alpha=0.25, label="true carry out $c_t$")
    ax2 = ax.twinx()
    ax2.plot(t, view.carry_score, "o-", color="tab:blue", label="carry score of $h_t$")
    ax2.axhline(0, color="gray", lw=0.8)
    ax.set(xlabel="step t (bit, least significant first)", ylabel="$c_t$", ylim=(0, 1.05))
    ax2.set_ylabel("$(h_t - m) \\cdot w_c$")
    ax.legend(loc="upper left", fontsize=8)
    ax2.legend(loc="upper right", fontsize=8)
    return ax, ax2


def adder_explorer(model, direction, a=11, b=7):
    """The widget: type two numbers, see the adder's bits, its carry score and its answer."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    controls = {
        "a": widgets.BoundedIntText(value=a, min=0, max=2**62 - 1, description="a"),
        "b": widgets.BoundedIntText(value=b, min=0, max=2**62 - 1, description="b"),
    }

    def show(a, b):
        view = adder_view(model, a, b, direction)
        print(format_adder(view))
        fig, ax = plt.subplots(figsize=(8, 2.6))
        draw_carry(ax, view)
        plt.show()

    out = widgets.interactive_output(show, controls)
    return widgets.VBox([widgets.HBox(list(controls.values())), out])
