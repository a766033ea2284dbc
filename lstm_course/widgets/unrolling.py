"""An RNN unrolled in time: three steps by hand, one unit's memory, the drawings and a widget.

Lecture 1's recurrence, row-vector form, with the slides' names in brackets:

    h_t = tanh(x_t W_x + h_{t-1} W_h + b)      (1.2)   W_x [U], W_h [W]
    y_t = h_t W_y + b_y                        (1.3)   W_y [V]

``rnn_by_hand`` computes (1.2) one scalar at a time, as on paper, to check the package against.
With one unit (D = H = 1) the weights are numbers w_x, w_h and the state's memory can be read
off a plot: a pulse x_1 = 1 fades at least as fast as |w_h|^(t-1) (1.4) and is latched at the
fixed point h* = tanh(w_h h*) when w_h > 1 (1.5). ``state_trace`` runs that unit through
``lstm_course.scratch.rnn.rnn_forward``; ``draw_unrolled`` draws the unrolled graph (also the
four input-output patterns); ``unrolling_widget`` steps through it with sliders.
matplotlib and ipywidgets are imported inside the functions that draw.
"""

import math

import numpy as np

from lstm_course.scratch.rnn import rnn_forward

# One colour per shared weight matrix, the same at every step of every drawing.
COLORS = {"W_x": "tab:blue", "W_h": "tab:red", "W_y": "tab:green"}
SLIDE_NAMES = {"W_x": "U", "W_h": "W", "W_y": "V"}
INPUTS = ("one pulse", "pulse, then opposite pulse", "constant 0.3", "noise")


def rnn_by_hand(xs, h0, W_x, W_h, b):
    """Equation (1.2) with plain Python floats and loops, nothing vectorised: the worked example.

        a_t[j] = sum_d x_t[d] W_x[d][j] + sum_k h_{t-1}[k] W_h[k][j] + b[j];  h_t[j] = tanh(a_t[j])

    Args:
        xs: T inputs, each a list of D numbers (one sequence, no batch).
        h0: the initial state, H numbers.
        W_x: D rows of H numbers.  W_h: H rows of H numbers.  b: H numbers.
    Returns:
        a list of T dicts {"a": [H floats], "h": [H floats]}, the pre-activation and the state.
    """
    H = len(h0)
    h_prev, steps = [float(v) for v in h0], []
    for x_t in xs:
        a = [
            sum(x_t[d] * W_x[d][j] for d in range(len(x_t)))
            + sum(h_prev[k] * W_h[k][j] for k in range(H))
            + b[j]
            for j in range(H)
        ]
        h_prev = [math.tanh(a_j) for a_j in a]
        steps.append({"a": a, "h": h_prev})
    return steps


def input_sequence(kind, T, seed=0):
    """One of the widget's input sequences x_1..x_T (a NumPy (T,) float64 array).

    kind: "one pulse" (x_1 = 1), "pulse, then opposite pulse" (x_1 = 1, x_{T//2+1} = -1),
    "constant 0.3", or "noise" (Gaussian, std 0.5, from ``default_rng(seed)``).
    """
    if kind not in INPUTS:
        raise ValueError(f"kind must be one of {INPUTS}, got {kind!r}")
    x = np.zeros(T)
    if kind == "one pulse":
        x[0] = 1.0
    elif kind == "pulse, then opposite pulse":
        x[0], x[T // 2] = 1.0, -1.0
    elif kind == "constant 0.3":
        x[:] = 0.3
    else:
        x = 0.5 * np.random.default_rng(seed).standard_normal(T)
    return x


def state_trace(x, w_x, w_h, b=0.0, h0=0.0):
    """The state of a one-unit RNN, h_t = tanh(x_t w_x + h_{t-1} w_h + b), for t = 1..T.

    Runs ``rnn_forward`` with D = H = B = 1: the package's code, not a copy of it.

    Args:
        x: (T,) the inputs x_1..x_T.  w_x, w_h, b, h0: numbers.
    Returns:
        (T,) float64, h_1..h_T.
    """
    X = np.asarray(x, dtype=np.float64).reshape(-1, 1, 1)  # (T, B=1, D=1)
    p = {
        "W_x": np.array([[w_x]], float),
        "W_h": np.array([[w_h]], float),
        "b": np.array([b], float),
    }
    H_all, _, _ = rnn_forward(X, np.array([[h0]], float), p)
    return H_all[:, 0, 0]


def latch_value(w_h, tol=1e-12, max_iter=10_000):
    """The stable fixed point h* >= 0 of h = tanh(w_h h) with no input (eq. 1.5).

    For w_h <= 1 it is 0: the state forgets. For w_h > 1 zero is unstable and the state settles
    at +h* or -h*, whichever sign it had: a one-bit memory that lasts for ever.
    """
    if w_h <= 1.0:
        return 0.0
    h = 1.0
    for _ in range(max_iter):  # tanh(w_h h) is a contraction near h*, so iterating converges
        h_next = math.tanh(w_h * h)
        if abs(h_next - h) < tol:
            return h_next
        h = h_next
    return h


def _arrow(ax, p, q, key, alpha=1.0, rad=0.0):
    """An arrow in the colour of the weight matrix ``key`` it stands for."""
    from matplotlib.patches import FancyArrowPatch

    style = dict(arrowstyle="-|>", mutation_scale=12, lw=1.6, shrinkA=0, shrinkB=0)
    ax.add_patch(
        FancyArrowPatch(
            p, q, color=COLORS[key], alpha=alpha, connectionstyle=f"arc3,rad={rad}", **style
        )
    )


def _node(ax, xy, text, kind, alpha=1.0, fc="white", fontsize=10, dashed=False):
    """A state (kind "h": a circle) or an input/output (kind "x": a rounded box) with its text."""
    from matplotlib.patches import Circle, FancyBboxPatch

    ls = "--" if dashed else "-"
    if kind == "h":
        patch = Circle(xy, _R, fc=fc, ec="black", lw=1.2, ls=ls, alpha=alpha)
    else:
        corner = (xy[0] - 0.25, xy[1] - 0.2)
        patch = FancyBboxPatch(
            corner, 0.5, 0.4, boxstyle="round,pad=0.03", fc=fc, ec="black", alpha=alpha
        )
    ax.add_patch(patch)
    ax.text(*xy, text, ha="center", va="center", fontsize=fontsize, alpha=alpha)


def _label(ax, xy, key, alpha=1.0, slide_name=False):
    """The matrix's name in its colour; with ``slide_name``, also the slides' letter."""
    text = f"${key}$" + (f" ({SLIDE_NAMES[key]})" if slide_name else "")
    ax.text(*xy, text, color=COLORS[key], alpha=alpha, fontsize=9, ha="center", va="center")


_R = 0.34  # radius of a state node; steps are _DX apart
_DX = 1.5


def draw_unrolled(ax, T=4, inputs="all", outputs="all", values=None, upto=None, labels=True):
    """Draw the RNN unrolled over T steps: x_t below, h_t in the middle, y_t above.

    Every arrow of one colour is the same shared matrix (``COLORS``): W_x up from x_t, W_h
    along the chain of states, W_y up to y_t.

    Args:
        ax: a matplotlib Axes (its frame is turned off).
        T: number of steps drawn.
        inputs: "all" (x_t at every step) or "first" (x_1 only: one-to-many).
        outputs: "all" (y_t at every step), "last" (y_T only: many-to-one) or "none".
        values: optional (T,) states of a one-unit RNN, written in the h_t nodes and used as
            their colour (red positive, blue negative).
        upto: draw the steps after ``upto`` faded (the widget's current step); None: none.
        labels: write the matrix names next to the first arrows of each kind.
    """
    import matplotlib

    if inputs not in ("all", "first") or outputs not in ("all", "last", "none"):
        raise ValueError("inputs must be 'all' or 'first'; outputs 'all', 'last' or 'none'")
    cmap = matplotlib.colormaps["coolwarm"]
    _node(ax, (0, 1), "$h_0$", "h", fc="0.92", dashed=True)
    for t in range(1, T + 1):
        cx = t * _DX
        alpha = 1.0 if upto is None or t <= upto else 0.25
        shown = values is not None and alpha == 1.0
        fc = cmap(0.5 + 0.5 * float(np.clip(values[t - 1], -1, 1))) if shown else "white"
        text = f"{values[t - 1]:.2f}" if shown else f"$h_{{{t}}}$"
        _node(ax, (cx, 1), text, "h", alpha, fc, fontsize=8 if shown else 10)
        _arrow(ax, (cx - _DX + _R, 1), (cx - _R, 1), "W_h", alpha)
        if labels and t == 1:
            _label(ax, (cx - _DX / 2, 1.2), "W_h", alpha)
        if inputs == "all" or t == 1:
            _node(ax, (cx, 0), f"$x_{{{t}}}$", "x", alpha)
            _arrow(ax, (cx, 0.2), (cx, 1 - _R), "W_x", alpha)
            if labels and t == 1:
                _label(ax, (cx + 0.32, 0.45), "W_x", alpha)
        if outputs == "all" or (outputs == "last" and t == T):
            _node(ax, (cx, 2), f"$y_{{{t}}}$", "x", alpha)
            _arrow(ax, (cx, 1 + _R), (cx, 1.8), "W_y", alpha)
            if labels and (t == T or outputs == "all" and t == 1):
                _label(ax, (cx + 0.32, 1.55), "W_y", alpha)
    ax.set_xlim(-0.5, T * _DX + 0.6)
    ax.set_ylim(-0.35, 2.35 if outputs != "none" else 1.5)
    ax.set_aspect("equal")
    ax.axis("off")


def draw_folded(ax):
    """The same RNN folded: one cell whose self-loop is the shared W_h."""
    _node(ax, (0, 0), "$x_t$", "x")
    _node(ax, (0, 1), "$h_t$", "h")
    _node(ax, (0, 2), "$y_t$", "x")
    _arrow(ax, (0, 0.2), (0, 1 - _R), "W_x")
    _arrow(ax, (0, 1 + _R), (0, 1.8), "W_y")
    _arrow(ax, (0.24, 1.24), (0.24, 0.76), "W_h", rad=-2.0)
    # the slides' names beside ours: W_x = U^T, W_h = W^T, W_y = V^T
    _label(ax, (0.55, 0.45), "W_x", slide_name=True)
    _label(ax, (0.55, 1.55), "W_y", slide_name=True)
    _label(ax, (1.2, 1.0), "W_h", slide_name=True)
    ax.set_xlim(-0.6, 1.6)
    ax.set_ylim(-0.35, 2.35)
    ax.set_aspect("equal")
    ax.axis("off")


def draw_patterns(fig):
    """The four ways to wire an RNN (one-to-one, one-to-many, many-to-one, many-to-many).

    Args:
        fig: a matplotlib Figure, cleared first.
    Returns:
        the four axes.
    """
    fig.clear()
    axes = fig.subplots(1, 4, width_ratios=[1.6, 3, 3, 3])
    wiring = [
        ("one-to-one", 1, "all", "all"),
        ("one-to-many", 3, "first", "all"),
        ("many-to-one", 3, "all", "last"),
        ("many-to-many", 3, "all", "all"),
    ]
    for ax, (title, T, inputs, outputs) in zip(axes, wiring, strict=True):
        draw_unrolled(ax, T, inputs, outputs, labels=False)
        ax.set_title(title, fontsize=11)
    return list(axes)


def draw_pulse_memory(ax, w_h_values=(0.5, 0.9, 1.5, -0.9), w_x=1.0, T=15):
    """h_t after the pulse x_1 = 1, one line per w_h: fading (1.4), latched (1.5), alternating.

    Args:
        ax: a matplotlib Axes.  w_h_values: the recurrent weights drawn.  w_x: input weight.
        T: steps.
    Returns:
        {w_h: (T,) the states drawn}.
    """
    x, steps, traces = input_sequence("one pulse", T), np.arange(1, T + 1), {}
    for w_h in w_h_values:
        traces[w_h] = state_trace(x, w_x, w_h)
        ax.plot(steps, traces[w_h], "o-", ms=3, label=f"$w_h$ = {w_h:g}")
    ax.axhline(0, color="black", lw=0.5)
    ax.set(
        xlabel="time step t (pulse $x_1 = 1$, then $x_t = 0$)",
        ylabel="state $h_t$",
        title=f"what one unit remembers of a pulse ($w_x$ = {w_x:g})",
    )
    ax.legend(fontsize=8)
    return traces


def draw_step(fig, x, h, t, w_x, w_h):
    """The widget's picture: the unrolled graph up to step t, and x_t, h_t against t.

    Args:
        fig: a matplotlib Figure, cleared first.
        x, h: (T,) inputs and states (from ``state_trace``).  t: the current step, 1..T.
        w_x, w_h: the weights, for the titles.
    Returns:
        the two axes (graph, traces).
    """
    fig.clear()
    T = len(x)
    ax_graph, ax_trace = fig.subplots(2, 1, height_ratios=[1.1, 1])
    draw_unrolled(ax_graph, T, outputs="none", values=h, upto=t)
    ax_graph.set_title(
        f"$h_t = \\tanh(x_t\\,w_x + h_{{t-1}}\\,w_h)$ with $w_x$ = {w_x:.2f}, "
        f"$w_h$ = {w_h:.2f}: step {t} of {T}",
        fontsize=10,
    )
    steps = np.arange(1, T + 1)
    ax_trace.bar(steps, x, width=0.4, color=COLORS["W_x"], alpha=0.5, label="input $x_t$")
    ax_trace.plot(steps, h, color="0.7", lw=1)
    ax_trace.plot(steps[:t], h[:t], "o-", color=COLORS["W_h"], label="state $h_t$")
    latch = latch_value(w_h)
    if latch:
        ax_trace.axhline(latch, ls=":", color="0.4", label=f"$\\pm h^*$ = {latch:.3f}")
        ax_trace.axhline(-latch, ls=":", color="0.4")
    ax_trace.axhline(0, color="black", lw=0.5)
    ax_trace.set(xlabel="time step t", ylabel="value", ylim=(-1.1, 1.1), xticks=steps)
    ax_trace.legend(loc="lower left", fontsize=8, ncol=3)
    fig.tight_layout()
    return ax_graph, ax_trace


def unrolling_widget(T=12, w_x=1.0, w_h=0.9, figsize=(10, 5.2)):
    """Step through a one-unit RNN: sliders for w_h, w_x and t (with a play button), an input menu.

    Returns:
        an ipywidgets VBox (controls, then the plot). ``box.controls`` is a dict of the
        controls; ``box.h`` holds the states last drawn.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    style, wide = {"description_width": "110px"}, widgets.Layout(width="380px")
    controls = {
        "w_h": widgets.FloatSlider(
            value=w_h,
            min=-2.0,
            max=2.0,
            step=0.05,
            style=style,
            layout=wide,
            description="w_h (recurrent)",
            continuous_update=False,
        ),
        "w_x": widgets.FloatSlider(
            value=w_x,
            min=0.0,
            max=3.0,
            step=0.1,
            style=style,
            layout=wide,
            description="w_x (input)",
            continuous_update=False,
        ),
        "kind": widgets.Dropdown(
            options=INPUTS, value=INPUTS[0], style=style, layout=wide, description="input x_t"
        ),
        "t": widgets.IntSlider(
            value=T, min=1, max=T, style=style, layout=wide, description="step t"
        ),
    }
    play = widgets.Play(value=T, min=1, max=T, interval=600, description="play")
    widgets.jslink((play, "value"), (controls["t"], "value"))

    def draw(w_h, w_x, kind, t):
        x = input_sequence(kind, T)
        box.h = state_trace(x, w_x, w_h)
        fig = plt.figure(figsize=figsize)
        draw_step(fig, x, box.h, t, w_x, w_h)
        plt.show()

    box = widgets.VBox()
    out = widgets.interactive_output(draw, controls)
    left = widgets.VBox([controls["w_h"], controls["w_x"]])
    right = widgets.VBox([controls["kind"], widgets.HBox([controls["t"], play])])
    box.children = [widgets.HBox([left, right]), out]
    box.controls = controls
    return box
