"""What each LSTM gate does to the cell, computed, drawn and explored with sliders (lecture 4).

The cell update and the read-out, elementwise, with the lecture's symbols:

    c_t = f_t * c_{t-1} + i_t * g_t        (4.1)  kept + written
    h_t = o_t * tanh(c_t)                  (4.6)  read

``gate_flow`` computes every term of one step; ``hold_gates`` repeats a step with the gates
held fixed, which shows the memory time scale the forget gate sets; ``gate_explorer`` puts
sliders on them. ``marked_unit`` and ``draw_gate_traces`` look at the gates a trained LSTM
recorded (``lstm_course.modules.LSTM.record_gates``). matplotlib and ipywidgets are imported
inside the functions that draw.
"""

import math
from typing import NamedTuple

import numpy as np

# Slider ranges: gates are sigmoids in (0, 1), the candidate a tanh in (-1, 1).
RANGES = {
    "c_prev": (-2.0, 2.0),
    "f": (0.0, 1.0),
    "i": (0.0, 1.0),
    "g": (-1.0, 1.0),
    "o": (0.0, 1.0),
}
DEFAULTS = {"c_prev": 1.0, "f": 0.9, "i": 0.5, "g": 0.8, "o": 0.7}
LABELS = {
    "c_prev": "$c_{t-1}$ old cell",
    "f": "$f_t$ forget gate",
    "i": "$i_t$ input gate",
    "g": "$g_t$ candidate",
    "o": "$o_t$ output gate",
}


class GateFlow(NamedTuple):
    """Every term of one cell update; arrays (or floats) of one common broadcast shape."""

    c_prev: np.ndarray
    f: np.ndarray
    i: np.ndarray
    g: np.ndarray
    o: np.ndarray
    kept: np.ndarray  # f * c_prev, what survives of the old cell
    written: np.ndarray  # i * g, what is added
    c: np.ndarray  # kept + written
    tanh_c: np.ndarray  # the cell squashed to (-1, 1), what the output gate may read
    h: np.ndarray  # o * tanh(c), what the rest of the network sees


def _check_gates(f, i, o):
    for name, value in (("f", f), ("i", i), ("o", o)):
        if np.any(np.asarray(value) < 0) or np.any(np.asarray(value) > 1):
            raise ValueError(f"gate {name} must lie in [0, 1] (a sigmoid), got {value!r}")


def gate_flow(c_prev, f, i, g, o):
    """One cell update with given gate values, eqs. (4.1) and (4.6).

    Args:
        c_prev: the old cell c_{t-1}. f, i, o: gate values in [0, 1]. g: the candidate, usually
            in (-1, 1). Floats or arrays that broadcast together, e.g. (B, H).
    Returns:
        GateFlow with kept = f * c_prev, written = i * g, c = kept + written,
        tanh_c = tanh(c) and h = o * tanh(c), all of the broadcast shape.
    """
    _check_gates(f, i, o)
    c_prev, f, i, g, o = (np.asarray(v, dtype=np.float64) for v in (c_prev, f, i, g, o))
    kept, written = f * c_prev, i * g
    c = kept + written
    tanh_c = np.tanh(c)
    return GateFlow(c_prev, f, i, g, o, kept, written, c, tanh_c, o * tanh_c)


def hold_gates(c0, f, i, g, o, T):
    """Apply the same gate values for T steps from c_0: the cell's memory with fixed gates.

        c_t = f c_{t-1} + i g = f^t c_0 + i g (1 - f^t) / (1 - f)   (f < 1),   h_t = o tanh(c_t)

    Args:
        c0: the cell at t = 0. f, i, g, o: floats, held for every step. T: number of steps.
    Returns:
        c, h: (T + 1,) arrays, index t = 0..T (h[0] = o tanh(c_0)).
    """
    if isinstance(T, bool) or not isinstance(T, int) or T < 0:
        raise ValueError(f"T must be a non-negative int, got {T!r}")
    c = np.empty(T + 1)
    c[0] = c0
    for t in range(1, T + 1):
        c[t] = gate_flow(c[t - 1], f, i, g, o).c
    return c, o * np.tanh(c)


def fixed_point(f, i, g):
    """Where the cell settles when the gates are held: c* = i g / (1 - f); inf-signed if f = 1."""
    _check_gates(f, i, 0.0)
    if f == 1.0:
        return 0.0 if i * g == 0 else math.copysign(math.inf, i * g)
    return i * g / (1.0 - f)


def half_life(f):
    """Steps until a held forget gate f has halved what the cell held: ln(1/2) / ln(f).

    0 for f = 0 (erased at once), inf for f = 1 (kept for ever). f = 0.5 gives 1, f = 0.9 about
    6.6, f = 0.99 about 69: the memory time scale grows like 1 / (1 - f).
    """
    _check_gates(f, 0.0, 0.0)
    if f == 0.0:
        return 0.0
    if f == 1.0:
        return math.inf
    return math.log(0.5) / math.log(f)


def draw_gate_flow(fig, flow, T=30):
    """Draw one step's terms as bars and, beside them, T steps with the same gates held.

    Args:
        fig: a matplotlib Figure, cleared first. flow: a GateFlow of scalars. T: steps to hold.
    Returns:
        the two axes.
    """
    fig.clear()
    ax_step, ax_hold = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1]})
    names = [
        "$c_{t-1}$",
        "kept\n$f\\,c_{t-1}$",
        "written\n$i\\,g$",
        "$c_t$",
        "read\n$h_t = o \\tanh c_t$",
    ]
    values = [flow.c_prev, flow.kept, flow.written, flow.c, flow.h]
    colors = ["tab:gray", "tab:blue", "tab:orange", "tab:green", "tab:purple"]
    bars = ax_step.bar(range(5), [float(v) for v in values], color=colors)
    for bar, value in zip(bars, values, strict=True):
        y = float(value)
        ax_step.annotate(
            f"{y:+.2f}",
            (bar.get_x() + bar.get_width() / 2, y),
            ha="center",
            va="bottom" if y >= 0 else "top",
            fontsize=9,
        )
    ax_step.axhline(0, color="black", lw=0.8)
    ax_step.set_xticks(range(5), names, fontsize=9)
    ax_step.set(ylim=(-3.3, 3.3), ylabel="value", title="one step: what is kept, written, read")

    c, h = hold_gates(
        float(flow.c_prev), float(flow.f), float(flow.i), float(flow.g), float(flow.o), T
    )
    t = np.arange(T + 1)
    ax_hold.plot(t, c, color="tab:green", marker=".", label="$c_t$")
    ax_hold.plot(t, h, color="tab:purple", marker=".", label="$h_t$")
    ax_hold.plot(
        t,
        float(flow.c_prev) * float(flow.f) ** t,
        "--",
        color="tab:blue",
        lw=1,
        label="$f^t c_0$ (what is left of $c_0$)",
    )
    target = fixed_point(float(flow.f), float(flow.i), float(flow.g))
    if math.isfinite(target) and abs(target) < 10:
        ax_hold.axhline(target, ls=":", color="tab:orange", label="$c^* = i g / (1-f)$")
    ax_hold.axhline(0, color="black", lw=0.8)
    bound = max(3.3, 1.1 * float(np.abs(c).max()))  # a cell that keeps growing stays in view
    life = half_life(float(flow.f))
    ax_hold.set(
        xlabel="step t (gates held fixed)",
        ylabel="value",
        ylim=(-bound, bound),
        title=f"held for {T} steps: half-life of $c_0$ = {life:.3g} steps",
    )
    ax_hold.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return ax_step, ax_hold


def gate_explorer(sliders=("c_prev", "f", "i", "g", "o"), T=30, figsize=(11, 3.6), **values):
    """Sliders for some of c_{t-1}, f, i, g, o and the plot of ``draw_gate_flow``.

    Args:
        sliders: the names that get a slider, from ("c_prev", "f", "i", "g", "o").
        T: steps for the held-gates panel.
        **values: starting values; a name without a slider stays fixed at its value
            (default from DEFAULTS), e.g. ``gate_explorer(("c_prev", "f"), i=0.0)``.
    Returns:
        an ipywidgets VBox (sliders, then the plot). Its attribute ``flow`` is the GateFlow
        last drawn, ``sliders`` a dict name -> slider.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    unknown = set(sliders) - set(RANGES) | set(values) - set(RANGES)
    if unknown:
        raise ValueError(f"unknown names {sorted(unknown)}; use {list(RANGES)}")
    start = {**DEFAULTS, **values}
    controls = {
        name: widgets.FloatSlider(
            value=start[name],
            min=RANGES[name][0],
            max=RANGES[name][1],
            step=0.01,
            description=LABELS[name],
            continuous_update=False,
            style={"description_width": "130px"},
            layout=widgets.Layout(width="420px"),
        )
        for name in sliders
    }

    def draw(**chosen):
        flow = gate_flow(**{**start, **chosen})
        box.flow = flow
        fig = plt.figure(figsize=figsize)
        draw_gate_flow(fig, flow, T)
        plt.show()

    box = widgets.VBox()
    out = widgets.interactive_output(draw, controls)
    box.children = [widgets.VBox(list(controls.values())), out]
    box.sliders = controls
    return box


def marked_unit(i, markers):
    """The unit whose input gate best tells marked steps from the rest, and its gate means.

    Args:
        i: (T, B, H) input-gate values recorded over a batch. markers: (T, B) 0/1, 1 where a
            step is marked (e.g. the adding problem's second input channel).
    Returns:
        (unit, i_marked, i_unmarked): the unit index and its mean input gate at marked and at
        unmarked steps.
    """
    i, markers = np.asarray(i, dtype=np.float64), np.asarray(markers, dtype=bool)
    if i.ndim != 3 or markers.shape != i.shape[:2]:
        raise ValueError(f"need i (T, B, H) and markers (T, B), got {i.shape}, {markers.shape}")
    if markers.all() or not markers.any():
        raise ValueError("markers must mark some steps and leave others unmarked")
    on, off = i[markers].mean(axis=0), i[~markers].mean(axis=0)  # (H,) each
    unit = int(np.argmax(on - off))
    return unit, float(on[unit]), float(off[unit])


def draw_gate_traces(fig, x, gates, unit, names=("i", "f", "o", "c")):
    """Heat maps of recorded gates over time for one sequence, and one unit's traces.

    Args:
        fig: a matplotlib Figure, cleared first.
        x: (T, 2) the sequence's inputs (adding problem: value, marker).
        gates: {name: (T, H)} recorded for that sequence (i, f, o in [0, 1]; c any sign).
        unit: the unit drawn as lines in the last panel (and outlined in the heat maps).
    Returns:
        the list of axes.
    """
    x = np.asarray(x)
    T = x.shape[0]
    axes = fig.subplots(
        len(names) + 2,
        1,
        sharex=True,
        gridspec_kw={"height_ratios": [0.7] + [1] * len(names) + [1.2]},
    )
    marks = np.flatnonzero(x[:, 1] > 0.5)
    axes[0].bar(
        range(T), x[:, 0], color=["tab:red" if t in marks else "tab:gray" for t in range(T)]
    )
    axes[0].set(ylabel="$x_t$ value", title="input (red: marked steps)")
    for ax, name in zip(axes[1:-1], names, strict=False):
        values = np.asarray(gates[name]).T  # (H, T)
        if name == "c":
            bound = float(np.abs(values).max()) or 1.0
            image = ax.imshow(
                values,
                aspect="auto",
                cmap="RdBu_r",
                vmin=-bound,
                vmax=bound,
                interpolation="nearest",
            )
        else:
            image = ax.imshow(
                values, aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest"
            )
        ax.axhline(unit - 0.5, color="white", lw=0.8)
        ax.axhline(unit + 0.5, color="white", lw=0.8)
        ax.set(ylabel=f"${name}$: unit")
        fig.colorbar(image, ax=ax, pad=0.01, fraction=0.03)
    ax = axes[-1]
    for name, color in zip(
        names, ("tab:orange", "tab:blue", "tab:purple", "tab:green"), strict=False
    ):
        ax.plot(np.asarray(gates[name])[:, unit], color=color, label=f"${name}$")
    for t in marks:
        for other in axes[1:]:
            other.axvline(t, color="tab:red", lw=0.8, ls=":")
    ax.set(xlabel="step t", ylabel=f"unit {unit}")
    ax.legend(ncol=len(names), fontsize=8, loc="center left")
    for panel in (axes[0], ax):  # an invisible colorbar keeps every panel's width, and t, aligned
        fig.colorbar(image, ax=panel, pad=0.01, fraction=0.03).ax.set_visible(False)
    return list(axes)
